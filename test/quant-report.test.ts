import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { report } from '../bench/report.js';
import type { Result } from '../bench/types.js';
import { dynamicQuantLstmModel } from '../bench/onnx-quant.js';
import { decodeModel } from '../src/onnx/proto.js';

/** Issue 11: the quantized rows in the bench's markdown report, beside ONNX Runtime fp32 and its DynamicQuantizeLSTM. */

const row = (bench: string, lib: string, backend: string, threads: number, metric: string, value: number | null, unit = 'ms'): Result =>
  ({ bench, lib, backend, threads, metric, value, unit });

describe('bench report: the quantized section', () => {
  const rows: Result[] = [
    row('B3', 'carousel', 'wasm-relaxed', 2, 'time', 70), row('B3-int8', 'carousel', 'wasm-relaxed', 2, 'time', 12),
    row('B3-int8', 'carousel', 'wasm-simd128', 2, 'time', 15),
    row('B3', 'onnxruntime', 'cpu', 2, 'time', 14), row('B3-int8', 'onnxruntime', 'cpu-DynamicQuantizeLSTM', 2, 'time', 10),
    row('B2-1024', 'onnxruntime', 'cpu', 2, 'time', 300, 'us'), row('B2-1024-int8', 'carousel', 'wasm-relaxed', 2, 'time', 120, 'us'),
    row('B2-1024-int8', 'onnxruntime', 'cpu-DynamicQuantizeLSTM', 2, 'time', 200, 'us'),
    row('B2-1024-bf16', 'carousel', 'wasm-relaxed', 2, 'skipped', null, 'failed: out of memory'),
    row('B2-1024-int8', 'onnxruntime', 'cpu-DynamicQuantizeLSTM', 2, 'max_abs_diff_vs_carousel_int8', 0.0014, 'abs'),
    row('B3-int8', 'carousel', 'wasm-relaxed', 2, 'floor_simd_peak', 7), row('B3-int8', 'carousel', 'wasm-simd128', 2, 'floor_simd_peak', 10.5),
  ];
  const md = report(rows, ['# t']);

  it('lists each quantized row beside ONNX Runtime fp32 on the bench it quantizes', () => {
    assert.match(md, /### Quantized inference/);
    assert.match(md, /\| B3-int8 \| ms\/call \| 12\.0 \| 15\.0 \| 10\.0 \| 14\.0 \|/);
    assert.match(md, /\| B2-1024-int8 \| us\/step \| 120 \| {2}\| 200 \| 300 \|/);
  });

  it('gives Carousel\'s best quantized time over each ONNX Runtime time at the same thread count, against the targets', () => {
    assert.match(md, /\| B3-int8 \| t2 \| 12\.0 \(carousel wasm-relaxed t2\) \| 0\.857 \| 1\.20 \| <= 1\.0x ORT fp32 \| fp32: yes; floor here 7\.00 ms\/call = 0\.500x ORT fp32 \(its multiply-adds at carousel wasm-relaxed t2's int8 peak\) \|/);
    assert.match(md, /\| B2-1024-int8 \| t2 \| 120 \(carousel wasm-relaxed t2\) \| 0\.400 \| 0\.600 \| [^|]+ \| fp32: yes; DynamicQuantizeLSTM: yes \|/);
    assert.match(md, /B2-1024-int8, onnxruntime cpu-DynamicQuantizeLSTM t2: max \|output - Carousel int8 output\|/);
    assert.match(md, /B2-1024-bf16, carousel wasm-relaxed t2: failed: out of memory/);
  });

  it('has no quantized section without quantized rows', () => {
    assert.doesNotMatch(report(rows.filter((r) => !r.bench.includes('-int8') && !r.bench.includes('-bf16')), ['# t']), /Quantized inference/);
  });
});

describe('the DynamicQuantizeLSTM model (bench/onnx-quant.ts)', () => {
  it('is one com.microsoft node fed Carousel\'s int8 weights transposed to [1, K, 4H] in ONNX gate order, zero points 0', () => {
    const H = 2, I = 3;
    // PyTorch rows: gate g (i, f, g, o), unit u, input i holds 10 g + 3 u + i; row scales 1 + row.
    const wIh = Int8Array.from({ length: 4 * H * I }, (_, n) => 10 * Math.floor(n / (H * I)) + 3 * (Math.floor(n / I) % H) + (n % I));
    const wHh = new Int8Array(4 * H * H), sIh = Float32Array.from({ length: 4 * H }, (_, r) => 1 + r), sHh = new Float32Array(4 * H).fill(1);
    const m = decodeModel(dynamicQuantLstmModel(5, 1, I, H, { wIh, sIh, wHh, sHh, bIh: new Float32Array(4 * H), bHh: new Float32Array(4 * H) }, false));
    assert.deepEqual(m.opset_import!.map((o) => o.domain ?? ''), ['', 'com.microsoft']);
    const node = m.graph!.node![0];
    assert.equal(node.op_type, 'DynamicQuantizeLSTM');
    assert.equal(node.domain, 'com.microsoft');
    const init = new Map(m.graph!.initializer!.map((t) => [t.name, t]));
    const W = init.get('W')!, w = new Int8Array(W.raw_data!.buffer, W.raw_data!.byteOffset, W.raw_data!.length);
    assert.deepEqual(W.dims!.map(Number), [1, I, 4 * H]);
    // Column k H + u (ONNX gate k of i, o, f, c) at input i holds PyTorch gate [0, 3, 1, 2][k]'s row u.
    for (let i = 0; i < I; i++) for (let k = 0; k < 4; k++) for (let u = 0; u < H; u++) {
      assert.equal(w[i * 4 * H + k * H + u], 10 * [0, 3, 1, 2][k] + 3 * u + i, `W[${i}, ${k * H + u}]`);
    }
    const zp = init.get('W_zero_point')!;
    assert.ok(zp.raw_data!.every((v) => v === 0));
  });
});
