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

  /** Fit on columns[c][row] for rows [0, end). Constant columns get std 1 (they carry no scale). */
  static fit(columns: readonly ArrayLike<number>[], end?: number): Normalizer {
    const mean: number[] = [], std: number[] = [];
    for (const col of columns) {
      const n = end ?? col.length;
      if (n < 1) throw new Error('Normalizer.fit: no rows to fit on');
      let s = 0;
      for (let i = 0; i < n; i++) s += col[i];
      const m = s / n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (col[i] - m) ** 2;
      const sd = Math.sqrt(v / n);
      mean.push(m); std.push(sd > 1e-12 ? sd : 1);
    }
    return new Normalizer(mean, std);
  }

  get features(): number { return this.mean.length; }
  forward(v: number, f: number): number { return (v - this.mean[f]) / this.std[f]; }
  inverse(v: number, f: number): number { return v * this.std[f] + this.mean[f]; }
  toJSON(): NormalizerJSON { return { mean: [...this.mean], std: [...this.std] }; }
  static fromJSON(j: NormalizerJSON): Normalizer {
    if (!j || !Array.isArray(j.mean) || !Array.isArray(j.std)) throw new Error('normalization: expected { mean: number[], std: number[] }');
    return new Normalizer(j.mean, j.std);
  }
}
