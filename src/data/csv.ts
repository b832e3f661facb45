import { DataError } from './errors.js';
import { isDecimal, parseNumber } from './number.js';
import { printable } from './printable.js';

/** A parsed CSV file: the header and the data rows, with each row's line number for messages. */
export interface CsvTable {
  source: string;
  header: string[];
  rows: string[][];
  /** 1-based line number (in the file) where each row starts. */
  lines: number[];
}

/**
 * RFC 4180 CSV: comma-separated, fields optionally in double quotes ("" is a quote inside), CRLF
 * or LF line ends, quoted fields may span lines. The first row is the header. Blank lines are
 * skipped. Every row must have as many fields as the header; errors name the line and column.
 */
export function parseCsv(text: string, source = 'CSV'): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte order mark
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1, rowLine = 1;
  let i = 0;
  const n = text.length;
  let atFieldStart = true, sawAny = false;
  const endField = () => { fields.push(field); field = ''; atFieldStart = true; };
  const endRow = () => {
    endField();
    // A line holding nothing at all is blank, not a row with one empty field.
    if (!(fields.length === 1 && fields[0] === '' && !sawAny)) records.push({ fields, line: rowLine });
    fields = []; sawAny = false;
  };
  while (i < n) {
    const c = text[i];
    if (atFieldStart && c === '"') {
      // Quoted field: read to the closing quote.
      const startLine = line;
      i++;
      sawAny = true;
      for (;;) {
        if (i >= n) throw new DataError(`${source} line ${startLine}, column ${fields.length + 1}: quoted field is never closed (missing '"')`);
        const d = text[i];
        if (d === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        if (d === '\n') line++;
        field += d;
        i++;
      }
      atFieldStart = false;
      const e = text[i];
      if (i < n && e !== ',' && e !== '\n' && e !== '\r') {
        throw new DataError(`${source} line ${line}, column ${fields.length + 1}: unexpected character '${printable(e)}' after a closing quote (expected ',' or end of line)`);
      }
      continue;
    }
    if (c === ',') { sawAny = true; endField(); i++; continue; }
    if (c === '\r' || c === '\n') {
      endRow();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++; rowLine = line;
      continue;
    }
    if (c === '"') throw new DataError(`${source} line ${line}, column ${fields.length + 1}: stray '"' inside an unquoted field (quote the whole field and double inner quotes)`);
    field += c; sawAny = true; atFieldStart = false; i++;
  }
  if (sawAny || field !== '' || fields.length) endRow();

  if (records.length === 0) throw new DataError(`${source}: the file is empty (expected a header line and data rows)`);
  const header = records[0].fields.map((h) => h.trim());
  header.forEach((h, k) => {
    if (h === '') throw new DataError(`${source} line ${records[0].line}, column ${k + 1}: empty column name in the header`);
    const first = header.indexOf(h);
    if (first !== k) throw new DataError(`${source} line ${records[0].line}: column name '${printable(h, 40)}' appears twice (columns ${first + 1} and ${k + 1})`);
  });
  const rows: string[][] = [], lines: number[] = [];
  for (const r of records.slice(1)) {
    if (r.fields.length !== header.length) {
      throw new DataError(`${source} line ${r.line}: expected ${header.length} fields (as in the header), got ${r.fields.length}`);
    }
    rows.push(r.fields); lines.push(r.line);
  }
  return { source, header, rows, lines };
}

/** Index of a column by name, or a message listing the columns there are. */
export function columnIndex(t: CsvTable, name: string): number {
  const k = t.header.indexOf(name);
  if (k < 0) throw new DataError(`${t.source}: no column '${printable(name, 40)}' (the columns are: ${printable(t.header.join(', '), 200)})`);
  return k;
}

/** Parse one field as a finite number, naming the place and the text when it is not one. */
export function numberAt(t: CsvTable, row: number, col: number): number {
  return parseNumber(t.rows[row][col], `${t.source} line ${t.lines[row]}, column ${col + 1} ('${printable(t.header[col], 40)}')`);
}

/** The named columns as numbers: values[c][row]. */
export function numericColumns(t: CsvTable, names: readonly string[]): Float64Array[] {
  const idx = names.map((n) => columnIndex(t, n));
  return idx.map((k) => {
    const out = new Float64Array(t.rows.length);
    for (let r = 0; r < t.rows.length; r++) out[r] = numberAt(t, r, k);
    return out;
  });
}

/** The first column whose first data value is a number (the default series to forecast). */
export function firstNumericColumn(t: CsvTable): string {
  if (t.rows.length === 0) throw new DataError(`${t.source}: no data rows after the header`);
  for (let k = 0; k < t.header.length; k++) {
    const s = t.rows[0][k].trim();
    if (isDecimal(s)) return t.header[k];
  }
  throw new DataError(`${t.source}: no numeric column (first data row, line ${t.lines[0]}, has no number); name one with --column`);
}
