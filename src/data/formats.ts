/**
 * The input formats, described once: `carousel train --help`, `predict --help` and `evaluate
 * --help` print this text, and README.md holds it verbatim (a test compares them), so the
 * parsers (csv.ts, series.ts, sequences.ts, text.ts) and what users read cannot drift apart.
 */
export const DATA_FORMATS = `Data formats (the same for train, evaluate and predict):
  forecast   CSV (RFC 4180: comma-separated, "quoted" fields may hold commas, quotes as "")
             with a header row; one row per time step, oldest first. --column picks the input
             columns (default: the first numeric one), --target the predicted ones. Numbers are
             plain decimals (1, -0.5, 2.5e-3); hex, Infinity, NaN, empty cells and values beyond
             the 32-bit float range are refused, naming the line and column.
               time,temperature,humidity
               2024-01-01T00:00,4.1,0.81
             --time-column names a column of dates, increasing: 2024-01-31, 2024-01-31T13:00:00
             (a Z or +01:00 suffix is applied; otherwise read as UTC), 2024/01/31 13:00, Jan 31
             2024, or a year. Several series in one file: --series-column ID groups the rows by
             their ID (each series oldest first; a series may start and end anywhere), or
             --series-columns A,B makes each named column a series (sharing the time column).
               site,time,temperature
               north,2024-01-01T00:00,4.1
  classify   CSV with a 'label' column and a 'sequence' column: steps separated by ';', the
             features of a step by spaces ("0.1 2; 0.3 1" is 2 steps of 2 features); with one
             feature per step, values separated by spaces ("0.1 0.3 0.2" is 3 steps). Without a
             'sequence' column every other column is one step of one feature.
               label,sequence
               up,0.1 2; 0.3 1; 0.5 0
             Or JSON Lines (.jsonl or .json, or a file starting with '{'), one object per line:
               {"sequence": [[0.1, 2], [0.3, 1]], "label": "up"}
             ("sequence": [0.1, 0.3] is one feature per step). Labels are text: 1 and "1" in
             one file are refused, since the model could not tell them apart. predict reads the
             same formats with the label optional.
  charlm     any UTF-8 text file. Characters outside a trained model's vocabulary read as its
             unknown-character entry (--strict-vocab refuses them instead).`;
