import { GraphBuilder } from '../src/onnx/builder.js';
import { DataType, encodeModel, type OnnxTensorProto } from '../src/onnx/proto.js';

/**
 * ONNX Runtime's dynamically quantized LSTM (com.microsoft.DynamicQuantizeLSTM, a contrib operator
 * of its CPU provider) as a one-node model, fed the very int8 weights and per-row scales Carousel's
 * int8 LSTM holds (src/quant/scheme.ts: symmetric, zero point 0), so the two differ only in how
 * activations are quantized (ONNX Runtime: uint8 per tensor with a zero point; Carousel: int8 per row).
 */

/** An int8 LSTM's weights in PyTorch layout (gate rows i, f, g, o). */
export interface Int8LstmWeights {
  wIh: Int8Array; sIh: Float32Array; // [4H, I], [4H]
  wHh: Int8Array; sHh: Float32Array; // [4H, H], [4H]
  bIh: Float32Array; bHh: Float32Array; // [4H]
}

const ORDER = [0, 3, 1, 2]; // ONNX gate k (i, o, f, c) takes PyTorch gate ORDER[k]

function int8Tensor(name: string, dims: number[], v: Int8Array): OnnxTensorProto {
  return { name, dims, data_type: DataType.INT8, raw_data: new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) };
}

/** W [4H, K] (PyTorch rows) as DynamicQuantizeLSTM's [1, K, 4H] (ONNX gate columns), with its scales [1, 4H]. */
function transposed(H: number, K: number, w: Int8Array, s: Float32Array): { w: Int8Array; s: Float32Array } {
  const out = new Int8Array(K * 4 * H), sc = new Float32Array(4 * H);
  for (let k = 0; k < 4; k++) {
    for (let u = 0; u < H; u++) {
      const row = ORDER[k] * H + u, col = k * H + u;
      sc[col] = s[row];
      for (let i = 0; i < K; i++) out[i * 4 * H + col] = w[row * K + i];
    }
  }
  return { w: out, s: sc };
}

/**
 * The model, opset 14 plus com.microsoft 1.
 *   withState: inputs X [T,B,I], h0 [1,B,H], c0 [1,B,H]; outputs Y_h, Y_c (streaming)
 *   otherwise: input X; output Y [T,1,B,H] (batched inference, zero initial state)
 */
export function dynamicQuantLstmModel(T: number, Bn: number, I: number, H: number, q: Int8LstmWeights, withState: boolean): Uint8Array {
  const g = new GraphBuilder('carousel_bench_dynquant_lstm');
  g.input('X', 'float', [T, Bn, I]);
  const W = transposed(H, I, q.wIh, q.sIh), R = transposed(H, H, q.wHh, q.sHh);
  const B = new Float32Array(8 * H);
  for (let k = 0; k < 4; k++) {
    B.set(q.bIh.subarray(ORDER[k] * H, (ORDER[k] + 1) * H), k * H);
    B.set(q.bHh.subarray(ORDER[k] * H, (ORDER[k] + 1) * H), 4 * H + k * H);
  }
  g.initializer('B', [1, 8 * H], B);
  g.initializer('W_scale', [1, 4 * H], W.s);
  g.initializer('R_scale', [1, 4 * H], R.s);
  const ins = ['X', 'W', 'R', 'B', '', withState ? 'h0' : '', withState ? 'c0' : '', '', 'W_scale', 'W_zero_point', 'R_scale', 'R_zero_point'];
  if (withState) {
    g.input('h0', 'float', [1, Bn, H]);
    g.input('c0', 'float', [1, Bn, H]);
    g.node('DynamicQuantizeLSTM', ins, ['', 'Y_h', 'Y_c'], { hidden_size: H }, 'lstm');
    g.output('Y_h', 'float', [1, Bn, H]);
    g.output('Y_c', 'float', [1, Bn, H]);
  } else {
    g.node('DynamicQuantizeLSTM', ins, ['Y'], { hidden_size: H }, 'lstm');
    g.output('Y', 'float', [T, 1, Bn, H]);
  }
  const m = g.model(14, 'carousel-bench');
  const graph = m.graph!;
  graph.node![0].domain = 'com.microsoft';
  graph.initializer!.push(int8Tensor('W', [1, I, 4 * H], W.w), int8Tensor('R', [1, H, 4 * H], R.w),
    int8Tensor('W_zero_point', [1, 4 * H], new Int8Array(4 * H)), int8Tensor('R_zero_point', [1, 4 * H], new Int8Array(4 * H)));
  m.opset_import!.push({ domain: 'com.microsoft', version: 1 });
  return encodeModel(m);
}
