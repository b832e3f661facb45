import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import { add, mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';
import { GraphBuilder, type AttrValue } from '../src/onnx/builder.js';
import { loadOnnxBytes } from '../src/onnx/model.js';
import { randArray, rng } from './util/random.js';
import { ortRun, maxDiff, type Feed } from './util/onnx.js';

/**
 * Each supported ONNX operator on small hand-built graphs, against ONNX Runtime (onnxruntime-node)
 * on the same file and inputs: the recurrent operators with the options PyTorch never emits
 * (activations with alpha/beta, clip, input_forget, peepholes, layout 1, reverse, sequence_lens,
 * GRU linear_before_reset 0), and the tensor and shape operators exporters surround them with.
 */
const rand = rng(1616);

/** Carousel on `bytes` equals ONNX Runtime on `reference` (the same file unless ORT lacks a feature). */
async function agree(bytes: Uint8Array, feed: Feed, tol = 1e-5, reference = bytes): Promise<void> {
  const want = await ortRun(reference, feed);
  const got = loadOnnxBytes(bytes).forward(feed);
  for (const [name, w] of Object.entries(want)) {
    assert.deepEqual(got[name].shape, w.dims, `output ${name}: shape`);
    const d = maxDiff(got[name].dataSync(), w.data);
    assert.ok(d <= tol, `output ${name} differs from ONNX Runtime by ${d}`);
  }
}

interface RecurrentCase {
  op: 'LSTM' | 'GRU' | 'RNN';
  T: number; B: number; I: number; H: number;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  layout?: 0 | 1;
  lens?: number[];
  bias?: boolean;
  initial?: boolean;
  peepholes?: boolean;
  attrs?: Record<string, AttrValue>;
}

/**
 * A one-node recurrent graph with random weights, every output a graph output; and a feed for it.
 * ONNX Runtime's CPU kernels refuse layout 1, so for layout 1 `reference` is the same node with
 * layout 0 between Transposes: the function layout 1 must compute.
 */
function recurrentGraph(c: RecurrentCase): { bytes: Uint8Array; feed: Feed; reference: Uint8Array } {
  const seed = Math.floor(rand() * 2 ** 31);
  const bytes = recurrentBytes(c, seed, false);
  return { bytes, feed: recurrentFeed(c, seed), reference: c.layout ? recurrentBytes(c, seed, true) : bytes };
}

function recurrentFeed(c: RecurrentCase, seed: number): Feed {
  const r = rng(seed + 1), D = c.direction === 'bidirectional' ? 2 : 1;
  const { T, B, I, H } = c, layout = c.layout ?? 0;
  const feed: Feed = { X: { data: randArray(r, T * B * I), shape: layout ? [B, T, I] : [T, B, I] } };
  if (c.lens) feed.L = { data: c.lens, shape: [B] };
  if (c.initial) for (const s of c.op === 'LSTM' ? ['h0', 'c0'] : ['h0']) feed[s] = { data: randArray(r, D * B * H), shape: layout ? [B, D, H] : [D, B, H] };
  return feed;
}

function recurrentBytes(c: RecurrentCase, seed: number, viaTranspose: boolean): Uint8Array {
  const r = rng(seed);
  const D = c.direction === 'bidirectional' ? 2 : 1, G = { LSTM: 4, GRU: 3, RNN: 1 }[c.op];
  const { T, B, I, H } = c, layout = c.layout ?? 0;
  const g = new GraphBuilder(`${c.op} case`);
  const xDims = layout ? [B, T, I] : [T, B, I];
  const sDims = layout ? [B, D, H] : [D, B, H];
  const viaT = (name: string, perm: number[]) => (viaTranspose ? g.node('Transpose', [name], 1, { perm })[0] : name);
  g.input('X', 'float', xDims);
  const W = g.initializer('W', [D, G * H, I], randArray(r, D * G * H * I, 0.6));
  const R = g.initializer('R', [D, G * H, H], randArray(r, D * G * H * H, 0.6));
  const bias = randArray(r, 2 * D * G * H, 0.5), peep = randArray(r, D * 3 * H, 0.5);
  const inputs = [viaT('X', [1, 0, 2]), W, R, c.bias === false ? '' : g.initializer('B', [D, 2 * G * H], bias)];
  if (c.lens) { g.input('L', 'int32', [B]); inputs.push('L'); } else inputs.push('');
  for (const s of c.op === 'LSTM' ? ['h0', 'c0'] : ['h0']) {
    if (c.initial) { g.input(s, 'float', sDims); inputs.push(viaT(s, [1, 0, 2])); } else inputs.push('');
  }
  if (c.peepholes) inputs.push(g.initializer('P', [D, 3 * H], peep));
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const outs = c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h'];
  const raw = viaTranspose ? outs.map((o) => `${o}_layout0`) : outs;
  g.node(c.op, inputs, raw, { hidden_size: H, direction: c.direction ?? 'forward', ...(layout && !viaTranspose ? { layout } : {}), ...c.attrs });
  if (viaTranspose) {
    g.node('Transpose', [raw[0]], ['Y'], { perm: [2, 0, 1, 3] }); // [T, D, B, H] -> [B, T, D, H]
    for (let k = 1; k < outs.length; k++) g.node('Transpose', [raw[k]], [outs[k]], { perm: [1, 0, 2] });
  }
  g.output('Y', 'float', layout ? [B, T, D, H] : [T, D, B, H]);
  for (const o of outs.slice(1)) g.output(o, 'float', sDims);
  return g.bytes(14);
}

describe('ONNX recurrent operators against ONNX Runtime', () => {
  const cases: [string, RecurrentCase][] = [
    ['LSTM forward with bias and initial states (fused path)', { op: 'LSTM', T: 5, B: 3, I: 4, H: 6, initial: true }],
    ['LSTM bidirectional with sequence_lens (fused path)', { op: 'LSTM', T: 6, B: 4, I: 3, H: 5, direction: 'bidirectional', lens: [6, 2, 4, 1], initial: true }],
    ['LSTM layout=1 bidirectional (fused path)', { op: 'LSTM', T: 4, B: 2, I: 3, H: 4, direction: 'bidirectional', layout: 1, initial: true }],
    ['LSTM reverse without bias', { op: 'LSTM', T: 5, B: 2, I: 3, H: 4, direction: 'reverse', bias: false, initial: true }],
    ['LSTM with activations, alpha/beta, clip, peepholes', {
      op: 'LSTM', T: 5, B: 2, I: 3, H: 4, direction: 'bidirectional', initial: true, peepholes: true,
      attrs: { activations: ['HardSigmoid', 'LeakyRelu', 'Softsign', 'Sigmoid', 'ScaledTanh', 'Tanh'],
        activation_alpha: { floats: [0.3, 0.05, 0.9] }, activation_beta: { floats: [0.4, 1.3] }, clip: { float: 0.8 } },
    }],
    ['LSTM input_forget, layout=1, sequence_lens', { op: 'LSTM', T: 5, B: 3, I: 2, H: 3, layout: 1, lens: [2, 5, 3], initial: true, attrs: { input_forget: 1 } }],
    ['LSTM Elu, Softplus, Affine, Relu activations reverse with sequence_lens', {
      op: 'LSTM', T: 4, B: 2, I: 3, H: 3, direction: 'reverse', lens: [3, 4], initial: true,
      attrs: { activations: ['Sigmoid', 'Elu', 'Softplus'], activation_alpha: { floats: [0.7] } },
    }],
    ['GRU linear_before_reset=1 bidirectional (fused path)', { op: 'GRU', T: 5, B: 3, I: 4, H: 5, direction: 'bidirectional', initial: true, attrs: { linear_before_reset: 1 } }],
    ['GRU linear_before_reset=0 (ONNX default) with sequence_lens', { op: 'GRU', T: 5, B: 3, I: 4, H: 5, direction: 'bidirectional', lens: [5, 1, 3], initial: true }],
    ['GRU reverse, layout=1, activations and clip', {
      op: 'GRU', T: 4, B: 2, I: 3, H: 4, direction: 'reverse', layout: 1, initial: true,
      attrs: { activations: ['HardSigmoid', 'Affine'], activation_alpha: { floats: [0.25, 0.6] }, activation_beta: { floats: [0.45, 0.1] }, clip: { float: 1.1 } },
    }],
    ['GRU without bias or initial state', { op: 'GRU', T: 3, B: 2, I: 2, H: 3, bias: false }],
    ['RNN bidirectional Relu/Tanh with clip and sequence_lens', {
      op: 'RNN', T: 5, B: 3, I: 3, H: 4, direction: 'bidirectional', lens: [4, 5, 2], initial: true, attrs: { activations: ['Relu', 'Tanh'], clip: { float: 2 } },
    }],
    ['RNN forward default', { op: 'RNN', T: 4, B: 2, I: 3, H: 3 }],
  ];
  for (const [name, c] of cases) {
    it(name, async () => { const { bytes, feed, reference } = recurrentGraph(c); await agree(bytes, feed, 1e-5, reference); });
  }
});

describe('ONNX tensor and shape operators against ONNX Runtime', () => {
  it('Gemm with transA, transB, alpha and beta; MatMul; Add, Sub, Mul, Div with broadcasting; Tanh, Sigmoid, Relu', async () => {
    const g = new GraphBuilder('arith');
    g.input('a', 'float', [4, 3]); g.input('x', 'float', [2, 5, 3]);
    const b = g.initializer('b', [2, 4], randArray(rand, 8)), c = g.initializer('c', [2], randArray(rand, 2));
    const [gemm] = g.node('Gemm', ['a', b, c], 1, { transA: 1, transB: 1, alpha: { float: 0.7 }, beta: { float: 1.5 } }); // [3, 2]
    const [mm] = g.node('MatMul', ['x', gemm]); // [2, 5, 2]
    const [ad] = g.node('Add', [mm, c]);
    const [sb] = g.node('Sub', [ad, g.initializer('s', [5, 1], randArray(rand, 5))]);
    const [ml] = g.node('Mul', [g.node('Tanh', [sb])[0], g.node('Sigmoid', [ad])[0]]);
    const [dv] = g.node('Div', [g.node('Relu', [ml])[0], g.initializer('d', [1], [0.5])]);
    g.node('Identity', [dv], ['y']);
    g.output('y', 'float', [2, 5, 2]);
    await agree(g.bytes(14), { a: { data: randArray(rand, 12), shape: [4, 3] }, x: { data: randArray(rand, 30), shape: [2, 5, 3] } });
  });

  it('Transpose, Reshape (0 and -1), Squeeze/Unsqueeze (opset 13 inputs), Concat, Slice with steps, Gather on axes, Shape arithmetic, Softmax/LogSoftmax', async () => {
    const g = new GraphBuilder('shapes');
    g.input('x', 'float', ['B', 4, 6]);
    const [tr] = g.node('Transpose', ['x'], 1, { perm: [1, 0, 2] }); // [4, B, 6]
    const [sh] = g.node('Shape', [tr]);
    const [b] = g.node('Gather', [sh, g.ints([1], [])], 1, { axis: 0 }); // scalar B
    const [b2] = g.node('Mul', [b, g.ints([2], [])]);
    const [shape] = g.node('Concat', [g.ints([4]), g.node('Unsqueeze', [b2, g.ints([0])])[0], g.ints([-1])], 1, { axis: 0 }); // [4, 2B, -1]
    const [rs] = g.node('Reshape', [tr, shape]); // [4, 2B, 3]
    const [rs0] = g.node('Reshape', [rs, g.ints([0, -1])]); // [4, 6B]
    const [sl] = g.node('Slice', [rs0, g.ints([-1, 1]), g.ints([-100, 100]), g.ints([0, 1]), g.ints([-2, 3])]); // rows 3,1; cols 1,4,...
    const [ga] = g.node('Gather', [rs, g.ints([-1, 0, 1], [3])], 1, { axis: 1 }); // [4, 3, 3]
    const [un] = g.node('Unsqueeze', [ga, g.ints([0])]); // [1, 4, 3, 3]
    const [sq] = g.node('Squeeze', [un, g.ints([0])]);
    const [k] = g.node('Constant', [], 1, { value_floats: { floats: [0.5, -1, 2] } });
    const [cat] = g.node('Concat', [sq, g.node('Add', [sq, k])[0]], 1, { axis: 2 }); // [4, 3, 6]
    g.node('Softmax', [cat], ['soft'], { axis: 1 });
    g.node('LogSoftmax', [sl], ['logsoft']);
    g.output('soft', 'float', [4, 3, 6]); g.output('logsoft', 'float', [2, 'n']);
    await agree(g.bytes(14), { x: { data: randArray(rand, 2 * 24), shape: [2, 4, 6] } });
  });

  it('opset 9 styles: Squeeze/Unsqueeze axes and Slice as attributes, Softmax over the 2-D coercion', async () => {
    const g = new GraphBuilder('opset9');
    g.input('x', 'float', [2, 3, 4]);
    const [un] = g.node('Unsqueeze', ['x'], 1, { axes: [0, 4] }); // [1, 2, 3, 4, 1]
    const [sq] = g.node('Squeeze', [un], 1, { axes: [0, 4] });
    const [sl] = g.node('Slice', [sq], 1, { starts: [1, 0], ends: [3, 2], axes: [1, 2] }); // [2, 2, 2]
    g.node('Softmax', [sl], ['y'], { axis: 1 }); // normalises over the last two axes together
    g.output('y', 'float', [2, 2, 2]);
    await agree(g.bytes(9), { x: { data: randArray(rand, 24), shape: [2, 3, 4] } });
  });

  it('an embedding: Gather of a float table by int64 ids, ConstantOfShape, Cast', async () => {
    const g = new GraphBuilder('embed');
    g.input('ids', 'int', ['T', 'B']);
    const table = g.initializer('table', [7, 3], randArray(rand, 21));
    const [e] = g.node('Gather', [table, 'ids']); // [T, B, 3]
    const [sh] = g.node('Shape', [e]);
    const [z] = g.node('ConstantOfShape', [sh], 1, { value: { tensor: { dims: [1], data_type: 1, float_data: [0.25] } } });
    const [c] = g.node('Cast', ['ids'], 1, { to: 1 });
    const [u] = g.node('Unsqueeze', [c, g.ints([2])]);
    g.node('Add', [g.node('Add', [e, z])[0], u], ['y']);
    g.output('y', 'float', ['T', 'B', 3]);
    await agree(g.bytes(14), { ids: { data: [0, 6, 3, 2, 5, 1], shape: [3, 2] } });
  });
});

describe('what loadOnnx refuses at load time', () => {
  it('an operator it does not run, naming the operator and the node', () => {
    const g = new GraphBuilder('bad');
    g.input('x', 'float', [2]);
    g.node('Relu', ['x'], ['r'], {}, 'fine');
    g.node('Cos', ['r'], ['y'], {}, 'the_cosine');
    g.output('y', 'float', [2]);
    assert.throws(() => loadOnnxBytes(g.bytes()), /operator Cos \(Cos node 'the_cosine'\) is not supported; supported: .*LSTM/);
  });

  it('an attribute that would change the result, an unknown activation, a node reading an undefined value', () => {
    const g1 = new GraphBuilder('attr');
    g1.input('x', 'float', [2, 2]);
    g1.node('Gemm', ['x', 'x'], ['y'], { transC: 1 }, 'g');
    g1.output('y', 'float', [2, 2]);
    assert.throws(() => loadOnnxBytes(g1.bytes()), /Gemm node 'g': attribute 'transC' is not supported \(expected alpha, beta, transA, transB\)/);
    const { bytes } = recurrentGraph({ op: 'RNN', T: 2, B: 1, I: 1, H: 1, attrs: { activations: ['ThresholdedRelu'] } });
    assert.throws(() => loadOnnxBytes(bytes), /RNN node .*: activation 'ThresholdedRelu' is not supported/);
    const g2 = new GraphBuilder('order');
    g2.input('x', 'float', [2]);
    g2.node('Relu', ['later'], ['y'], {}, 'early');
    g2.node('Relu', ['x'], ['later'], {}, 'late');
    g2.output('y', 'float', [2]);
    assert.throws(() => loadOnnxBytes(g2.bytes()), /Relu node 'early' reads 'later', which no earlier node, input or initializer defines/);
  });

  it('bytes that are not an ONNX model', () => {
    assert.throws(() => loadOnnxBytes(new Uint8Array([0x0a, 0xff, 0xff, 0xff])), /expected an ONNX model \(a protobuf ModelProto\)/);
  });

  it('inputs of the wrong name, shape or type at forward', () => {
    const g = new GraphBuilder('in');
    g.input('x', 'float', ['B', 3]); g.input('ids', 'int', [2]);
    g.node('Identity', ['x'], ['y']); g.output('y', 'float', ['B', 3]);
    const m = loadOnnxBytes(g.bytes());
    assert.throws(() => m.forward({ x: { data: [1, 2, 3], shape: [1, 3] } }), /missing input 'ids'/);
    assert.throws(() => m.forward({ x: { data: [1, 2, 3, 4], shape: [1, 4] }, ids: { data: [1, 2], shape: [2] } }), /input 'x': expected shape \[B, 3\], got \[1, 4\]/);
    assert.throws(() => m.forward({ x: { data: [1, 2, 3], shape: [1, 3] }, ids: { data: [1, 2.5], shape: [2] } }), /input 'ids' takes integers, got 2.5 at index 1/);
    assert.throws(() => m.forward({ x: { data: [1, 2, 3], shape: [1, 3] }, ids: { data: [1, 2], shape: [2] }, z: { data: [], shape: [0] } }), /unknown input\(s\) z/);
  });
});

describe('gradients through the recurrent operators', () => {
  // The same weights and inputs through the fused path (PyTorch's options) and the step-by-step
  // path (forced by a clip too large to bind): values and every gradient agree.
  for (const op of ['LSTM', 'GRU'] as const) {
    it(`${op}: the step-by-step path's gradients equal the fused layer's`, () => {
      const c: RecurrentCase = { op, T: 4, B: 3, I: 2, H: 3, direction: 'bidirectional', lens: [4, 2, 3], initial: true, attrs: op === 'GRU' ? { linear_before_reset: 1 } : {} };
      const seed = 77;
      const feed = recurrentFeed(c, seed);
      const results = [recurrentBytes(c, seed, false), recurrentBytes({ ...c, attrs: { ...c.attrs, clip: { float: 1e6 } } }, seed, false)].map((bytes) => {
        const m = loadOnnxBytes(bytes);
        const out = m.forward(feed);
        backward(sum(add(mul(out.Y, out.Y), out.Y_h)));
        return { y: out.Y.dataSync(), grads: m.namedParameters().map(([n, p]) => [n, p.grad!.dataSync()] as const) };
      });
      assert.ok(maxDiff(results[0].y, results[1].y) <= 1e-6);
      results[0].grads.forEach(([n, g], k) => {
        assert.ok(g.some((v) => v !== 0), `${op} ${n}: zero gradient`);
        const d = maxDiff(g, results[1].grads[k][1]);
        assert.ok(d <= 1e-5, `${op} ${n}: gradients differ by ${d}`);
      });
    });
  }
});
