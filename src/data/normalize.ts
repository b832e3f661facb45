/**
 * Per-feature standardization (x - mean) / std. The statistics are fitted on training data only
 * and saved with the model (model.json), so prediction uses exactly the training transform.
 */
export interface NormalizerJSON { mean: number[]; std: number[] }

export class Normalizer {
  constructor(readonly mean: number[], readonly std: number[]) {
    if (mean.length !== std.length) throw new Error(`Normalizer: ${mean.length} means but ${std.length} standard deviations`);
    std.forEach((s, i) => { if (!(s > 0) || !Number.isFinite(s)) throw new Error(`Normalizer: std of feature ${i} must be positive and finite, got ${s}`); });
  }

  /**
   * Fit on columns[c][row] for rows [0, end). Scale-invariant: the spread is measured relative to
   * the column's largest magnitude, so a series at 1e-13 (or 1e30) scale is standardized exactly
   * like the same series at scale 1. Only a column that is constant up to rounding (spread below
   * 1e-12 of its magnitude) gets std 1: it carries no scale to learn.
   */
  static fit(columns: readonly ArrayLike<number>[], end?: number): Normalizer {
    const mean: number[] = [], std: number[] = [];
    for (const col of columns) {
      const n = end ?? col.length;
      if (n < 1) throw new Error('Normalizer.fit: no rows to fit on');
      let top = 0;
      for (let i = 0; i < n; i++) top = Math.max(top, Math.abs(col[i]));
      if (!Number.isFinite(top)) throw new Error(`Normalizer.fit: column ${mean.length} holds a non-finite value`);
      // Sums of values divided by a power of two near their magnitude (exact, so data at scale 1
      // gives the same bits as without it): no overflow near 1e308, no underflow near 1e-300.
      const scale = top > 0 ? 2 ** Math.floor(Math.log2(top)) : 0;
      let s = 0;
      for (let i = 0; i < n; i++) s += scale > 0 ? col[i] / scale : 0;
      const m = s / n;
      let v = 0;
      for (let i = 0; i < n; i++) v += scale > 0 ? (col[i] / scale - m) ** 2 : 0;
      const sd = Math.sqrt(v / n);
      mean.push(m * scale); std.push(sd > 1e-12 ? sd * scale : 1);
    }
    return new Normalizer(mean, std);
  }

  get features(): number { return this.mean.length; }
  forward(v: number, f: number): number { return (v - this.mean[f]) / this.std[f]; }
  inverse(v: number, f: number): number { return v * this.std[f] + this.mean[f]; }
  toJSON(): NormalizerJSON { return { mean: [...this.mean], std: [...this.std] }; }
  /** A saved normalization (model.json); a malformed one is refused with what was found. */
  static fromJSON(j: NormalizerJSON): Normalizer {
    const ok = (a: unknown): a is number[] => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!j || typeof j !== 'object' || !ok(j.mean) || !ok(j.std)) {
      throw new Error(`normalization: expected { "mean": [finite numbers], "std": [finite numbers] }, got ${JSON.stringify(j)?.slice(0, 80)}`);
    }
    return new Normalizer(j.mean, j.std);
  }
}
