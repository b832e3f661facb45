import { lineChart } from '../plot/svg.js';
import type { UpdateLog } from './pg.js';

/** The learning curve: each update's success rate and its moving average over 10 updates, against episodes. */
export function learningCurveSvg(history: readonly UpdateLog[], title: string): string {
  const raw: [number, number][] = history.map((u) => [u.episodes, u.successRate]);
  const avg: [number, number][] = raw.map(([x], i) => {
    const w = raw.slice(Math.max(0, i - 9), i + 1);
    return [x, w.reduce((s, [, y]) => s + y, 0) / w.length];
  });
  return lineChart([
    { name: 'success rate (batch)', points: raw, color: '#9ecae1' },
    { name: 'moving average (10 batches)', points: avg, color: '#1f77b4' },
  ], { title, xLabel: 'episodes', yLabel: 'success rate', legend: 'left' });
}
