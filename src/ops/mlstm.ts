import type { Storage } from '../backend/backend.js';
import { needsGrad, record } from '../autograd/tape.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkForgetGate, type ForgetGate } from './slstm.js';
import { emptyLike, sameDevice } from './util.js';
import { kernels } from './kernels.js';

/**
 * mLSTM (xLSTM's matrix LSTM, Beck et al. 2024) cell over a whole sequence as ONE op with a
 * hand-written backward: from the projected queries, keys, values and gate pre-activations to
 * h~ (before the output gate) and the final stabilized states. Equations: EXTENDED.md `mlstm`.
 *
 * Three forms of the same function (they agree to float32 rounding; see test/xlstm-mlstm.test.ts):
 * - 'recurrent': step by step, C_t = f' C_{t-1} + i' v k^T (stores every step's state for BPTT:
 *   T*B*NH*DH*DH values).
 * - 'parallel': attention-like, the whole [T, T] decay matrix per head at once (T^2 memory, no
 *   sequential dependency). Implemented as the chunkwise kernel with a single chunk of T steps
 *   and no incoming state, which is exactly the parallel form of the paper (EXTENDED.md).
 * - 'chunkwise': chunks of `chunkSize` steps, parallel inside a chunk and recurrent between
 *   chunks (memory T*L + (T/L)*DH^2 per head: for long sequences).
 * Every form produces the final states (C_n, n_n, m_n) itself: the recurrent form as its last
 * step, the parallel/chunkwise forms from the last row of the last chunk.
 *
 * Shapes: q, k, v [T, B, H] (head j owns units j*DH ..), ig (ĩ), fg (f̃) [T, B, NH].
 * k is used as given (the MLSTM module applies the 1/sqrt(DH) scaling of the paper).
 * Outputs: h [T, B, H], CN [B, NH, DH, DH], nN [B, NH, DH], mN [B, NH].
 */
export type MlstmForm = 'recurrent' | 'parallel' | 'chunkwise';

export interface MlstmOptions {
  numHeads: number;
  forgetGate: ForgetGate;
  form?: MlstmForm;
  /** Steps per chunk for the chunkwise form (default 64). */
  chunkSize?: number;
}

export interface MlstmResult { h: Tensor; CN: Tensor; nN: Tensor; mN: Tensor }

/**
 * A stabilized mLSTM state (C [B, NH, DH, DH], n [B, NH, DH], m [B, NH]): the final state of one
 * call is the initial state of the next (a long sequence in pieces, generation step by step).
 */
export interface MlstmState { C: Tensor; n: Tensor; m: Tensor }

export function checkMlstmForm(op: string, form: unknown, chunkSize: unknown): void {
  if (form !== 'recurrent' && form !== 'parallel' && form !== 'chunkwise') {
    throw new Error(`${op}: form must be 'recurrent', 'parallel' or 'chunkwise', got ${JSON.stringify(form)}`);
  }
  if (chunkSize !== undefined && (typeof chunkSize !== 'number' || !Number.isInteger(chunkSize) || chunkSize < 1)) {
    throw new Error(`${op}: chunkSize must be a positive integer, got ${JSON.stringify(chunkSize)}`);
  }
}

/**
 * `initial`: the state before step 1 (default C_0 = n_0 = 0, m_0 = -inf as in EXTENDED.md);
 * differentiable like any input. Running [0, T) then [T, T') from the returned state equals
 * running [0, T') at once.
 */
export function mlstm(q: Tensor, k: Tensor, v: Tensor, ig: Tensor, fg: Tensor, opts: MlstmOptions,
  initial: MlstmState | null = null): MlstmResult {
  const form = opts.form ?? 'recurrent';
  checkMlstmForm('mlstm', form, opts.chunkSize);
  const expForget = checkForgetGate('mlstm', opts.forgetGate) === 'exp';
  if (q.rank !== 3) throw new Error(`mlstm: expected q of shape [T, B, H], got ${fmt(q.shape)}`);
  const [T, B, H] = q.shape;
  const NH = opts.numHeads;
  if (!Number.isInteger(NH) || NH < 1 || H % NH !== 0) throw new Error(`mlstm: numHeads must be a positive integer dividing ${H} (the width of q), got ${NH}`);
  if (T < 1) throw new Error(`mlstm: expected at least one time step, got q of shape ${fmt(q.shape)}`);
  for (const [name, t] of [['k', k], ['v', v]] as const) {
    if (!sameShape(t.shape, q.shape)) throw new Error(`mlstm: expected ${name} of shape ${fmt(q.shape)} (like q), got ${fmt(t.shape)}`);
  }
  for (const [name, t] of [['ig', ig], ['fg', fg]] as const) {
    if (!sameShape(t.shape, [T, B, NH])) throw new Error(`mlstm: expected ${name} (gate pre-activations) of shape [${T}, ${B}, ${NH}], got ${fmt(t.shape)}`);
  }
  const DH = H / NH, be = kernels(q.backend), dt = q.dtype;
  if (initial) {
    for (const [name, t, shape] of [['C', initial.C, [B, NH, DH, DH]], ['n', initial.n, [B, NH, DH]], ['m', initial.m, [B, NH]]] as const) {
      if (!sameShape(t.shape, shape)) throw new Error(`mlstm: expected initial state ${name} of shape ${fmt(shape)}, got ${fmt(t.shape)}`);
    }
  }
  const inputs = initial ? [q, k, v, ig, fg, initial.C, initial.n, initial.m] : [q, k, v, ig, fg];
  sameDevice('mlstm', ...inputs);
  // chunk 0 = recurrent kernel; the parallel form is one chunk spanning the sequence.
  const chunk = form === 'recurrent' ? 0 : form === 'parallel' ? T : Math.min(opts.chunkSize ?? 64, T);
  const S = chunk === 0 ? T : Math.ceil(T / chunk); // saved state slots
  const BS = B * NH;
  const C = be.alloc(dt, S * BS * DH * DH), n = be.alloc(dt, S * BS * DH), m = be.alloc(dt, S * BS);
  const h = emptyLike(q, [T, B, H]);
  const C0 = initial?.C.storage ?? null, n0 = initial?.n.storage ?? null, m0 = initial?.m.storage ?? null;
  be.mlstmForward(T, B, NH, DH, chunk, expForget, q.storage, k.storage, v.storage, ig.storage, fg.storage, h.storage, C, n, m, C0, n0, m0);
  const lastOf = (s: Storage, shape: number[], per: number) => {
    const o = emptyLike(q, shape);
    be.copyStrided([BS * per], s, (S - 1) * BS * per, [1], o.storage, 0, [1], false);
    return o;
  };
  const CN = lastOf(C, [B, NH, DH, DH], DH * DH), nN = lastOf(n, [B, NH, DH], DH), mN = lastOf(m, [B, NH], 1);

  if (needsGrad(inputs)) {
    record({
      name: `mlstm(${form})`, inputs, outputs: [h, CN, nN, mN],
      backward([gh, gC, gn, gm]) {
        const orZero = (g: Storage | null, len: number) => g ?? be.alloc(dt, len);
        const dq = be.alloc(dt, T * B * H), dk = be.alloc(dt, T * B * H), dv = be.alloc(dt, T * B * H);
        const dig = be.alloc(dt, T * BS), dfg = be.alloc(dt, T * BS);
        // The kernel only reads the given gradients (never writes them).
        const wantInit = initial && (initial.C.requiresGrad || initial.n.requiresGrad || initial.m.requiresGrad);
        const dC0 = wantInit ? be.alloc(dt, BS * DH * DH) : null, dn0 = wantInit ? be.alloc(dt, BS * DH) : null;
        const dm0 = wantInit ? be.alloc(dt, BS) : null;
        be.mlstmBackward(T, B, NH, DH, chunk, expForget, q.storage, k.storage, v.storage, ig.storage, fg.storage, C, n, m,
          orZero(gh, T * B * H), orZero(gC, BS * DH * DH), orZero(gn, BS * DH), orZero(gm, BS), dq, dk, dv, dig, dfg,
          C0, n0, m0, dC0, dn0, dm0);
        return initial ? [dq, dk, dv, dig, dfg, dC0, dn0, dm0] : [dq, dk, dv, dig, dfg];
      },
    }, [h, CN, nN, mN]);
  }
  return { h, CN, nN, mN };
}
