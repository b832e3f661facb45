import { BLANK, type Alphabet } from './alphabet.js';
import type { Posteriors } from './decode.js';
import type { Features } from './features.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f1 = (v: number) => v.toFixed(1);

export interface AlignPlotInput {
  kind: 'audio' | 'strokes';
  /** The utterance's features as the front end made them: log-mel [frames, bands], or (dx, dy, pen-up) steps. */
  features: Features;
  posteriors: Posteriors;
  alphabet: Alphabet;
  /** Input frames per output frame. */
  subsample: number;
  title: string;
}

/**
 * The CTC alignment of one utterance as SVG: above, the input (the log-mel spectrogram, time
 * left to right, low bands at the bottom; or the pen trace, each character the network emits
 * written where the pen was at that frame); below, on the same time axis, each output frame's
 * probability of every character that reaches 0.2 somewhere (labelled at its peak) and of the
 * blank (grey, dashed). CTC's peaky alignments show as spikes between long blanks.
 */
export function alignmentSvg(o: AlignPlotInput): string {
  const W = 960, left = 50, right = 20, plotW = W - left - right;
  const topH = 220, botH = 200, gap = 40, top0 = 40, bot0 = top0 + topH + gap, H = bot0 + botH + 40;
  const { T, C, data } = o.posteriors, F = o.features.frames, k = o.subsample;
  const xOfFrame = (f: number) => left + (f / Math.max(F, 1)) * plotW; // input frame -> x
  const xOfOut = (t: number) => xOfFrame(Math.min((t + 0.5) * k, F));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`);
  // Per output frame: the best non-blank class and whether it beats the blank (an emission).
  const prob = (t: number, c: number) => Math.exp(data[t * C + c]);
  if (o.kind === 'audio') parts.push(spectrogram(o.features, left, top0, plotW, topH));
  else parts.push(penTrace(o, left, top0, plotW, topH, prob));
  // Probabilities.
  const yOf = (p: number) => bot0 + botH - p * botH;
  parts.push(`<rect x="${left}" y="${bot0}" width="${plotW}" height="${botH}" fill="none" stroke="#999"/>`);
  for (const p of [0, 0.5, 1]) parts.push(`<text x="${left - 6}" y="${f1(yOf(p) + 4)}" text-anchor="end">${p}</text>`);
  parts.push(`<text x="${left + plotW / 2}" y="${H - 10}" text-anchor="middle">time (${o.kind === 'audio' ? '10 ms frames' : 'pen points'}); below: per-frame label probabilities, blank dashed</text>`);
  const line = (c: number) => Array.from({ length: T }, (_, t) => `${f1(xOfOut(t))},${f1(yOf(prob(t, c)))}`).join(' ');
  parts.push(`<polyline points="${line(BLANK)}" fill="none" stroke="#aaa" stroke-dasharray="4 3"/>`);
  let shown = 0;
  for (let c = 1; c < C; c++) {
    let peak = 0, at = 0;
    for (let t = 0; t < T; t++) if (prob(t, c) > peak) { peak = prob(t, c); at = t; }
    if (peak < 0.2) continue;
    const color = PALETTE[shown++ % PALETTE.length];
    parts.push(`<polyline points="${line(c)}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    // Each local peak above 0.5 gets the character, so repeated letters show each time.
    for (let t = 0; t < T; t++) {
      const p = prob(t, c);
      if (p >= 0.5 && (t === 0 || prob(t - 1, c) < p) && (t === T - 1 || prob(t + 1, c) <= p)) {
        parts.push(`<text x="${f1(xOfOut(t))}" y="${f1(yOf(p) - 4)}" text-anchor="middle" fill="${color}" font-weight="bold">${esc(label(o.alphabet, c))}</text>`);
      }
    }
    if (peak < 0.5) parts.push(`<text x="${f1(xOfOut(at))}" y="${f1(yOf(peak) - 4)}" text-anchor="middle" fill="${color}">${esc(label(o.alphabet, c))}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

const label = (a: Alphabet, c: number) => (a.chars[c - 1] === ' ' ? '␣' : a.chars[c - 1]);

/** Log-mel frames as grey cells (darker = more energy), at most 480 columns (frames averaged). */
function spectrogram(f: Features, x0: number, y0: number, w: number, h: number): string {
  const cols = Math.min(f.frames, 480), per = f.frames / cols;
  let lo = Infinity, hi = -Infinity;
  for (const v of f.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const cw = w / cols, ch = h / f.dim, out: string[] = [];
  for (let c = 0; c < cols; c++) {
    const a = Math.floor(c * per), b = Math.max(a + 1, Math.floor((c + 1) * per));
    for (let d = 0; d < f.dim; d++) {
      let s = 0;
      for (let t = a; t < b; t++) s += f.data[t * f.dim + d];
      const v = (s / (b - a) - lo) / Math.max(hi - lo, 1e-9);
      const g = Math.round(255 * (1 - v));
      out.push(`<rect x="${f1(x0 + c * cw)}" y="${f1(y0 + h - (d + 1) * ch)}" width="${f1(cw + 0.5)}" height="${f1(ch + 0.5)}" fill="rgb(${g},${g},${g})"/>`);
    }
  }
  return `<g>${out.join('')}</g><text x="${x0 - 6}" y="${y0 + 12}" text-anchor="end">mel</text>`;
}

/**
 * The pen trace rebuilt from (dx, dy, pen-up), drawn left to right over the time axis's width,
 * and each emitted character written at the point the pen was at when the network emitted it.
 */
function penTrace(o: AlignPlotInput, x0: number, y0: number, w: number, h: number, prob: (t: number, c: number) => number): string {
  const f = o.features, xs: number[] = [], ys: number[] = [];
  let x = 0, y = 0;
  for (let t = 0; t < f.frames; t++) { x += f.data[t * 3]; y += f.data[t * 3 + 1]; xs.push(x); ys.push(y); }
  const [ax, bx, ay, by] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const s = Math.min((w - 20) / Math.max(bx - ax, 1e-9), (h - 20) / Math.max(by - ay, 1e-9));
  const px = (i: number) => x0 + 10 + (xs[i] - ax) * s, py = (i: number) => y0 + 10 + (ys[i] - ay) * s;
  const out: string[] = [`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#ddd"/>`];
  let pts: string[] = [];
  for (let t = 0; t < f.frames; t++) {
    pts.push(`${f1(px(t))},${f1(py(t))}`);
    if (f.data[t * 3 + 2] > 0.5 || t === f.frames - 1) { out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#333" stroke-width="1.5"/>`); pts = []; }
  }
  const { T, C } = o.posteriors;
  let prev = -1;
  for (let t = 0; t < T; t++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (prob(t, c) > prob(t, best)) best = c;
    if (best !== BLANK && best !== prev) {
      const i = Math.min(f.frames - 1, t * o.subsample);
      out.push(`<circle cx="${f1(px(i))}" cy="${f1(py(i))}" r="3" fill="#d62728"/><text x="${f1(px(i))}" y="${f1(py(i) - 6)}" text-anchor="middle" fill="#d62728" font-weight="bold">${esc(label(o.alphabet, best))}</text>`);
    }
    prev = best;
  }
  return out.join('\n');
}
