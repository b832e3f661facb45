import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backward, noGrad } from '../autograd/tape.js';
import type { Backend } from '../backend/backend.js';
import { add, mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import type { DType } from '../backend/dtype.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { loadFixture, type Fixture, type FixtureTensor } from './fixture.js';
import { kindHandler } from './kinds.js';
import './kinds/index.js';

export interface CaseResult {
  file: string;
  name: string;
  kind: string;
  status: 'pass' | 'fail' | 'skip';
  /** Worst |got - want| / (atol + rtol |want|) over every compared value (<= 1 passes). */
  worst: number;
  worstWhere: string;
  message?: string;
}

/** All .json files under the given files or folders, sorted, recursively. */
export function collectFixtureFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else if (p.endsWith('.json')) out.push(p);
  };
  for (const p of paths) {
    try { statSync(p); } catch { throw new Error(`conformance: no such file or folder: ${p}`); }
    walk(p);
  }
  return out;
}

interface Comparison { worst: number; where: string }

function compare(what: string, got: ArrayLike<number>, gotShape: readonly number[], want: FixtureTensor,
  tol: { atol: number; rtol: number }, acc: Comparison): void {
  if (fmt(gotShape) !== fmt(want.shape)) throw new Error(`${what}: expected shape ${fmt(want.shape)}, got ${fmt(gotShape)}`);
  for (let i = 0; i < want.data.length; i++) {
    const w = want.data[i], g = got[i];
    let r: number;
    if (!Number.isFinite(w) || !Number.isFinite(g)) r = Object.is(w, g) || (Number.isNaN(w) && Number.isNaN(g)) || w === g ? 0 : Infinity;
    else r = Math.abs(g - w) / (tol.atol + tol.rtol * Math.abs(w));
    if (r > acc.worst || Number.isNaN(r)) { acc.worst = Number.isNaN(r) ? Infinity : r; acc.where = `${what}[${i}] got ${g} want ${w}`; }
  }
}

/** Run one fixture: forward, L = sum_k sum(out_k * w_k), backward, compare. */
export async function runFixture(fx: Fixture, backend: Backend, dtype: DType): Promise<CaseResult> {
  const base = { file: fx.file, name: fx.name, kind: fx.kind };
  const handler = kindHandler(fx.kind);
  if (!handler) return { ...base, status: 'skip', worst: 0, worstWhere: '', message: `kind '${fx.kind}' is not supported yet` };
  try {
    const { outputs, leaves } = handler(fx, { backend, dtype });
    const acc: Comparison = { worst: 0, where: '' };
    for (const [name, want] of Object.entries(fx.outputs)) {
      const t = outputs[name];
      if (!t) throw new Error(`the module produced no output '${name}'`);
      compare(`output ${name}`, await t.data(), t.shape, want, fx.tolerance, acc);
    }
    if (Object.keys(fx.grads).length > 0) {
      let loss: Tensor | null = null;
      for (const [name, w] of Object.entries(fx.lossWeights)) {
        const t = outputs[name];
        if (!t) throw new Error(`lossWeights names '${name}', which the module does not output`);
        if (fmt(t.shape) !== fmt(w.shape)) throw new Error(`lossWeights.${name}: expected shape ${fmt(t.shape)}, got ${fmt(w.shape)}`);
        const wt = noGrad(() => new Tensor(backend.upload(dtype, w.data), w.shape));
        const term = sum(mul(t, wt));
        loss = loss ? add(loss, term) : term;
      }
      if (!loss) throw new Error('the file lists gradients but no lossWeights');
      backward(loss);
      for (const [name, want] of Object.entries(fx.grads)) {
        const leaf = leaves[name];
        if (!leaf) throw new Error(`no parameter or input named '${name}' to take a gradient of`);
        // No gradient at all is a failure, never zeros: the fixture expects one, whatever its values.
        if (!leaf.grad) throw new Error(`grad ${name}: the backward pass gave no gradient for '${name}' (the fixture lists one)`);
        const g = await leaf.grad.data();
        compare(`grad ${name}`, g, leaf.shape, want, fx.tolerance, acc);
      }
    }
    const ok = acc.worst <= 1;
    return { ...base, status: ok ? 'pass' : 'fail', worst: acc.worst, worstWhere: acc.where };
  } catch (e) {
    return { ...base, status: 'fail', worst: Infinity, worstWhere: '', message: (e as Error).message };
  }
}

export interface ConformanceSummary { results: CaseResult[]; passed: number; failed: number; skipped: number }

/** Run every fixture under `paths`, reporting each case through `log` as it finishes. */
export async function runConformance(paths: readonly string[], backend: Backend, dtype: DType,
  log: (line: string) => void = () => {}): Promise<ConformanceSummary> {
  const results: CaseResult[] = [];
  for (const file of collectFixtureFiles(paths)) {
    let fx: Fixture;
    try { fx = loadFixture(file); } catch (e) {
      const r: CaseResult = { file, name: file, kind: '?', status: 'fail', worst: Infinity, worstWhere: '', message: (e as Error).message };
      results.push(r); log(formatResult(r)); continue;
    }
    const r = await runFixture(fx, backend, dtype);
    results.push(r);
    log(formatResult(r));
  }
  const count = (s: CaseResult['status']) => results.filter((r) => r.status === s).length;
  return { results, passed: count('pass'), failed: count('fail'), skipped: count('skip') };
}

export function formatResult(r: CaseResult): string {
  const tag = r.status.toUpperCase().padEnd(4);
  if (r.status === 'skip') return `${tag} ${r.name} (${r.kind}): ${r.message}`;
  if (r.message) return `${tag} ${r.name} (${r.kind}): ${r.message}`;
  return `${tag} ${r.name} (${r.kind}): worst error ${r.worst.toFixed(4)} of tolerance${r.worst > 0.5 ? ` at ${r.worstWhere}` : ''}`;
}
