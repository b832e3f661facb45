/** Reject option names a constructor does not know: a typo must never be silently ignored. */
export function checkOptions(what: string, given: object, known: readonly string[]): void {
  const extra = Object.keys(given).filter((k) => !known.includes(k));
  if (extra.length) throw new Error(`${what}: unknown option(s) ${extra.join(', ')}; expected some of ${known.join(', ')}`);
}

export function checkPositiveInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${what}: expected a positive integer, got ${JSON.stringify(v)}`);
  return v;
}
