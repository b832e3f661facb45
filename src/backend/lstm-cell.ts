import type { LstmCellOptions } from './backend.js';

/** Where each gate block sits in the gate buffer (in units of H; -1 = absent), and G = the count. */
export interface LstmCellLayout { i: number; f: number; g: number; o: number; G: number }

export function lstmCellLayout(o: LstmCellOptions | undefined): LstmCellLayout {
  if (!o) return { i: 0, f: 1, g: 2, o: 3, G: 4 };
  let n = 0;
  const i = o.inputGate ? n++ : -1;
  const f = o.forgetGate === 'gate' ? n++ : -1;
  const g = n++;
  const out = o.outputGate ? n++ : -1;
  return { i, f, g, o: out, G: n };
}

/** True when the options describe exactly the standard cell (backends may take their fast path). */
export function isStandardLstmCell(o: LstmCellOptions | undefined): boolean {
  return !o || (o.inputGate && o.forgetGate === 'gate' && o.outputGate && o.inputActivation && o.outputActivation
    && o.peepholes === null && !o.gateRecurrence);
}
