/** Run jobs `width` at a time; the first failure stops new ones and is thrown once the running ones end. */
export async function pool<T>(items: readonly T[], width: number, run: (t: T) => Promise<void>, done?: (n: number) => void): Promise<void> {
  let next = 0, finished = 0, failure: unknown = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const t = items[next++];
      try { await run(t); } catch (e) { failure ??= e; }
      done?.(++finished);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (failure !== null) throw failure;
}
