import type { Kernels, LstmCellOptions, PreparedB, Storage } from '../../backend/backend.js';
import { lstmCellLayout } from '../../backend/lstm-cell.js';
import { Blocks, type Block } from './util.js';

const STANDARD: LstmCellOptions = {
  inputGate: true, forgetGate: 'gate', outputGate: true, inputActivation: true, outputActivation: true,
  peepholes: null, peepOff: 0, gateRecurrence: false,
};

/**
 * The LSTM cell (standard, peepholes, Greff et al.'s variants: LstmCellOptions) from core kernels.
 *   gates [rows, G*H] at gOff: pre-activations in, activations out; cPrev, cOut [rows, H]; hOut row stride ldh
 *   i = σ(a_i + w_ci c_{t-1}), f = σ(a_f + w_cf c_{t-1}) (or 1, or 1 - i), g = tanh(a_g) (or a_g)
 *   c = f c_{t-1} + i g,  o = σ(a_o + w_co c),  h = o tanh(c) (or o c)
 */
export function lstmCellForward(k: Kernels, rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
  cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number, cell?: LstmCellOptions): void {
  if (rows <= 0 || H <= 0) return;
  const o = cell ?? STANDARD, L = lstmCellLayout(o), GH = L.G * H;
  const B = new Blocks(k, rows, H, gates.dtype);
  const gate = (j: number): Block => ({ s: gates, off: gOff + j * H, ld: GH });
  const peep = (j: number): Block | null => (o.peepholes ? { s: o.peepholes, off: o.peepOff + j * H, ld: 0 } : null);
  const cp: Block = { s: cPrev, off: cpOff, ld: H };
  // A gate's activation σ(a + w ⊙ x), written back into its block of `gates`.
  const sig = (j: number, w: Block | null, x: Block): Block => {
    const a = w ? B.bin('add', gate(j), B.bin('mul', x, w)) : gate(j);
    return B.un('sigmoid', a, gate(j));
  };
  const i = L.i >= 0 ? sig(L.i, peep(0), cp) : B.const(1);
  const f = L.f >= 0 ? sig(L.f, peep(1), cp) : o.forgetGate === 'coupled' ? B.oneMinus(i) : B.const(1);
  const g = o.inputActivation ? B.un('tanh', gate(L.g), gate(L.g)) : gate(L.g);
  const c = B.bin('add', B.bin('mul', f, cp), B.bin('mul', i, g)); // scratch first: cOut may be cPrev
  const og = L.o >= 0 ? sig(L.o, peep(2), c) : null;
  B.copy(c, { s: cOut, off: cOff, ld: H });
  const sc = o.outputActivation ? B.un('tanh', c) : c;
  const h: Block = { s: hOut, off: hOff, ld: ldh };
  if (og) B.bin('mul', og, sc, h); else B.copy(sc, h);
  B.free();
}

/**
 * Backward of lstmCellForward: dh [rows, H] (row stride ldh) = dL/dh_t; dc = dL/dc_t in,
 * dL/dc_{t-1} out; dGates [rows, G*H] = pre-activation gradients (with gate recurrence the i, f,
 * o blocks hold incoming activation gradients on entry). As lstmCellBackwardGeneralRef.
 */
export function lstmCellBackward(k: Kernels, rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
  c: Storage, cOff: number, dh: Storage, dhOff: number, ldh: number, dc: Storage, dcOff: number,
  dGates: Storage, dgOff: number, cell?: LstmCellOptions): void {
  if (rows <= 0 || H <= 0) return;
  const o = cell ?? STANDARD, L = lstmCellLayout(o), GH = L.G * H, rec = o.gateRecurrence;
  const coupled = o.forgetGate === 'coupled';
  const B = new Blocks(k, rows, H, gates.dtype);
  const gate = (j: number): Block => ({ s: gates, off: gOff + j * H, ld: GH });
  const dgate = (j: number): Block => ({ s: dGates, off: dgOff + j * H, ld: GH });
  const peep = (j: number): Block | null => (o.peepholes ? { s: o.peepholes, off: o.peepOff + j * H, ld: 0 } : null);
  const cp: Block = { s: cPrev, off: cpOff, ld: H }, cc: Block = { s: c, off: cOff, ld: H };
  const dhb: Block = { s: dh, off: dhOff, ld: ldh }, dcb: Block = { s: dc, off: dcOff, ld: H };
  const i = L.i >= 0 ? gate(L.i) : B.const(1);
  const f = L.f >= 0 ? gate(L.f) : coupled ? B.oneMinus(i) : B.const(1);
  const g = gate(L.g);
  const og = L.o >= 0 ? gate(L.o) : B.const(1);
  const sc = o.outputActivation ? B.un('tanh', cc) : cc;
  // Every read of dGates (gate recurrence) happens before the writes at the end.
  const withRec = (x: Block, j: number): Block => (rec ? B.bin('add', x, dgate(j)) : x);
  const dAo = L.o >= 0 ? B.bin('mul', withRec(B.bin('mul', dhb, sc), L.o), B.dsig(og)) : null;
  let dcj = B.bin('mul', dhb, og);
  if (o.outputActivation) dcj = B.bin('mul', dcj, B.dtanh(sc));
  dcj = B.bin('add', dcb, dcj);
  if (dAo && peep(2)) dcj = B.bin('add', dcj, B.bin('mul', dAo, peep(2)!));
  const dAi = L.i >= 0 ? B.bin('mul', withRec(B.bin('mul', dcj, coupled ? B.bin('sub', g, cp) : g), L.i), B.dsig(i)) : null;
  const dAf = L.f >= 0 ? B.bin('mul', withRec(B.bin('mul', dcj, cp), L.f), B.dsig(f)) : null;
  let dAg = B.bin('mul', dcj, i);
  if (o.inputActivation) dAg = B.bin('mul', dAg, B.dtanh(g));
  let dcp = B.bin('mul', dcj, f);
  if (dAi && peep(0)) dcp = B.bin('add', dcp, B.bin('mul', dAi, peep(0)!));
  if (dAf && peep(1)) dcp = B.bin('add', dcp, B.bin('mul', dAf, peep(1)!));
  if (dAi) B.copy(dAi, dgate(L.i));
  if (dAf) B.copy(dAf, dgate(L.f));
  B.copy(dAg, dgate(L.g));
  if (dAo) B.copy(dAo, dgate(L.o));
  B.copy(dcp, dcb);
  B.free();
}

/** gates += h W_hh^T, then the standard cell: a GEMM and lstmCellForward. */
export function lstmStep(k: Kernels, rows: number, H: number, hIn: Storage, hInOff: number, ldhIn: number, wHh: PreparedB,
  gates: Storage, gOff: number, cPrev: Storage, cpOff: number, cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number): void {
  k.gemmPrepared(rows, 1, hIn, hInOff, ldhIn, wHh, 1, gates, gOff, 4 * H);
  k.lstmCellForward(rows, H, gates, gOff, cPrev, cpOff, cOut, cOff, hOut, hOff, ldh);
}

/** lstmCellBackward, then dh = dGates W_hh (dL/dh_{t-1}). */
export function lstmStepBackward(k: Kernels, rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
  c: Storage, cOff: number, dh: Storage, dhOff: number, ldh: number, dc: Storage, dcOff: number, dGates: Storage, dgOff: number,
  wHh: PreparedB): void {
  k.lstmCellBackward(rows, H, gates, gOff, cPrev, cpOff, c, cOff, dh, dhOff, ldh, dc, dcOff, dGates, dgOff);
  k.gemmPrepared(rows, 1, dGates, dgOff, 4 * H, wHh, 0, dh, dhOff, ldh);
}

