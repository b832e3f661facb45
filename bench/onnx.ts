import { GraphBuilder } from '../src/onnx/builder.js';

/**
 * The one-node LSTM models the ONNX Runtime suite runs, written with Carousel's ONNX writer
 * (src/onnx/builder.ts: protobufjs with onnx.proto's messages), the same one exportOnnx uses.
 */

export interface OnnxLstmWeights {
  W: Float32Array; // [1, 4H, I], gates in ONNX order i, o, f, c
  R: Float32Array; // [1, 4H, H]
  B: Float32Array; // [1, 8H]: Wb then Rb
}

/**
 * A model with one ONNX LSTM node (opset 14), weights as initializers.
 *   withState: inputs X [T,B,I], initial_h [1,B,H], initial_c [1,B,H]; outputs Y_h, Y_c (streaming)
 *   otherwise: input X; output Y [T,1,B,H] (batched inference, zero initial state)
 */
export function lstmModel(T: number, Bn: number, I: number, H: number, w: OnnxLstmWeights, withState: boolean): Uint8Array {
  const g = new GraphBuilder('carousel_bench_lstm');
  g.input('X', 'float', [T, Bn, I]);
  const W = g.initializer('W', [1, 4 * H, I], w.W);
  const R = g.initializer('R', [1, 4 * H, H], w.R);
  const B = g.initializer('B', [1, 8 * H], w.B);
  if (withState) {
    g.input('h0', 'float', [1, Bn, H]);
    g.input('c0', 'float', [1, Bn, H]);
    g.node('LSTM', ['X', W, R, B, '', 'h0', 'c0'], ['', 'Y_h', 'Y_c'], { hidden_size: H }, 'lstm');
    g.output('Y_h', 'float', [1, Bn, H]);
    g.output('Y_c', 'float', [1, Bn, H]);
  } else {
    g.node('LSTM', ['X', W, R, B], ['Y'], { hidden_size: H }, 'lstm');
    g.output('Y', 'float', [T, 1, Bn, H]);
  }
  return g.bytes(14, 'carousel-bench');
}

/**
 * PyTorch-layout LSTM weights (gate rows i, f, g, o; separate b_ih, b_hh) in ONNX's layout
 * (gate rows i, o, f, c; B = [Wb, Rb]), so both runtimes compute the same function.
 */
export function torchToOnnx(H: number, I: number, wIh: Float32Array, wHh: Float32Array, bIh: Float32Array, bHh: Float32Array): OnnxLstmWeights {
  const order = [0, 3, 1, 2]; // ONNX gate k takes PyTorch gate order[k]
  const W = new Float32Array(4 * H * I), R = new Float32Array(4 * H * H), B = new Float32Array(8 * H);
  for (let k = 0; k < 4; k++) {
    const g = order[k];
    W.set(wIh.subarray(g * H * I, (g + 1) * H * I), k * H * I);
    R.set(wHh.subarray(g * H * H, (g + 1) * H * H), k * H * H);
    B.set(bIh.subarray(g * H, (g + 1) * H), k * H);
    B.set(bHh.subarray(g * H, (g + 1) * H), 4 * H + k * H);
  }
  return { W, R, B };
}
