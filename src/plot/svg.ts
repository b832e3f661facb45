/**
 * Small hand-written SVG line charts (no dependency): the training loss curve and a forecast
 * against the truth. Each series is a polyline; axes carry a few round tick labels.
 */
export interface Series {
  name: string;
  /** [x, y] points; non-finite y values break the line. */
  points: [number, number][];
  color?: string;
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Log-scale y axis (loss curves spanning orders of magnitude). */
  logY?: boolean;
  /** Legend corner (top-left or top-right, default right): where the lines are not. */
  legend?: 'left' | 'right';
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About n "nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  // d3's rule: the 1-2-5 step nearest (geometrically) to the raw step.
  const raw = (hi - lo) / n, mag = 10 ** Math.floor(Math.log10(raw)), r = raw / mag;
  const step = mag * (r >= Math.sqrt(50) ? 10 : r >= Math.sqrt(10) ? 5 : r >= Math.sqrt(2) ? 2 : 1);
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Ticks for a log10 axis spanning [lo, hi] (in log10 units): 1-2-5 decades, or round values within one. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of [1, 2, 5]) { const v = Math.log10(m) + k; if (v >= lo && v <= hi) out.push(v); }
  }
  if (out.length >= 3) return out;
  return niceTicks(10 ** lo, 10 ** hi, 4).filter((v) => v > 0).map(Math.log10);
}

function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

export function lineChart(series: readonly Series[], o: ChartOptions): string {
  const W = o.width ?? 720, H = o.height ?? 400, L = 70, R = 20, T = 40, B = 50;
  const tf = (y: number) => (o.logY ? Math.log10(y) : y);
  const pts = series.flatMap((s) => s.points.filter(([, y]) => Number.isFinite(tf(y))));
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = Math.min(...pts.map((p) => tf(p[1]))), y1 = Math.max(...pts.map((p) => tf(p[1])));
  if (!pts.length) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= 1; y1 += 1; }
  const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad;
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => T + (1 - (tf(y) - y0) / (y1 - y0)) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`);
  // Axes and ticks.
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`);
  for (const xt of niceTicks(x0, x1, 6)) {
    const x = sx(xt).toFixed(1);
    parts.push(`<line x1="${x}" y1="${H - B}" x2="${x}" y2="${H - B + 5}" stroke="#333"/><text x="${x}" y="${H - B + 18}" text-anchor="middle">${fmtNum(xt)}</text>`);
  }
  for (const yt of o.logY ? logTicks(y0, y1) : niceTicks(y0, y1, 5)) {
    const y = (T + (1 - (yt - y0) / (y1 - y0)) * (H - T - B)).toFixed(1);
    const label = o.logY ? fmtNum(10 ** yt) : fmtNum(yt);
    parts.push(`<line x1="${L - 5}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#eee"/><text x="${L - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${label}</text>`);
  }
  if (o.xLabel) parts.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    // Split at non-finite values so gaps stay gaps.
    let seg: string[] = [];
    const flush = () => {
      if (seg.length) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${seg.join(' ')}"/>`);
      seg = [];
    };
    for (const [x, y] of s.points) {
      if (Number.isFinite(tf(y))) seg.push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`); else flush();
    }
    flush();
    const ly = T + 8 + i * 18, lx = o.legend === 'left' ? L + 15 : W - R - 150;
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 25}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/><text x="${lx + 32}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Loss per epoch (training and, when present, validation). */
export function lossCurveSvg(history: readonly { epoch: number; loss: number; val: { loss: number } | null }[], title = 'Training loss'): string {
  const series: Series[] = [{ name: 'train', points: history.map((h) => [h.epoch, h.loss]) }];
  if (history.some((h) => h.val)) series.push({ name: 'validation', points: history.map((h) => [h.epoch, h.val ? h.val.loss : NaN]) });
  const logY = history.every((h) => h.loss > 0 && (!h.val || h.val.loss > 0));
  return lineChart(series, { title, xLabel: 'epoch', yLabel: logY ? 'loss (log scale)' : 'loss', logY });
}

/** A forecast against the truth, after some history. x values are row indices (or months). */
export function forecastSvg(o: { title: string; history: [number, number][]; truth: [number, number][]; forecast: [number, number][]; baseline?: [number, number][]; yLabel?: string; xLabel?: string }): string {
  const series: Series[] = [
    { name: 'history', points: o.history, color: '#777' },
    { name: 'truth', points: o.truth, color: '#111' },
    { name: 'forecast', points: o.forecast, color: '#d62728' },
  ];
  if (o.baseline) series.push({ name: 'seasonal naive', points: o.baseline, color: '#1f77b4', dashed: true });
  return lineChart(series, { title: o.title, xLabel: o.xLabel ?? 'time step', yLabel: o.yLabel, legend: 'left' });
}
