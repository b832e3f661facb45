/**
 * Text that came from a file or an argument, made safe to print on a terminal and short enough
 * for a one-line message: control characters (C0, DEL, C1, ESC) are shown as \xHH, invisible
 * direction and line-separator characters and lone surrogates as \uHHHH, and text longer than
 * `max` characters is cut with a marker saying how long it was. Used wherever a message or
 * output line quotes a cell, a label, a tensor name, a vocabulary character or a path.
 */
export function printable(s: string, max = 200): string {
  let out = '', shown = 0;
  for (const c of s) {
    if (shown >= max) return `${out}... (${s.length} characters)`;
    out += escapeChar(c, false);
    shown++;
  }
  return out;
}

/**
 * Longer text meant to be read as text (generated samples): the same escapes, except that line
 * breaks and tabs stay as they are; nothing is cut.
 */
export function printableText(s: string): string {
  let out = '';
  for (const c of s) out += escapeChar(c, true);
  return out;
}

function escapeChar(c: string, keepLayout: boolean): string {
  const u = c.codePointAt(0)!;
  if (keepLayout && (c === '\n' || c === '\t' || c === '\r')) return c;
  if (u < 0x20 || (u >= 0x7f && u <= 0x9f)) return `\\x${u.toString(16).padStart(2, '0')}`;
  // Bidirectional overrides and isolates can make a terminal show text in another order
  // ("Trojan source"); line/paragraph separators and lone surrogates break lines or output.
  if ((u >= 0x200e && u <= 0x200f) || (u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069) || u === 0x2028 || u === 0x2029 || (u >= 0xd800 && u <= 0xdfff)) {
    return `\\u${u.toString(16).padStart(4, '0')}`;
  }
  return c;
}
