import type { QuantizedModel } from './model.js';

/** `carousel info`'s lines for a quantized model: the scheme and each quantized matrix. */
export function printQuantized(m: QuantizedModel): void {
  const ws = m.quantizedWeights(), values = ws.reduce((s, [, w]) => s + w.rows * w.cols, 0);
  const how = m.scheme === 'int8' ? 'int8 per output row with f32 scales, int8 activations, int32 sums' : `${m.scheme}, widened to f32 in the kernel`;
  console.log(`quantized: ${m.scheme} weights (${how}); ${values} quantized values, ${(m.weightBytes / 1e6).toFixed(2)} MB of weights`);
  for (const [n, w] of ws) console.log(`  ${n}  [${w.rows}, ${w.cols}] ${w.scheme}`);
}
