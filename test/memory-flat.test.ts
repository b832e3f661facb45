import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cpuSuiteSkip, sized, testBackends } from './backends.js';
import type { ChildReport, Growth } from './util/memoryChild.js';

/**
 * Flat memory by default (issue 18): plain loops, without tidy() and without ever yielding, of
 * 10^5 StreamingModel.push() steps and of 2,000 importStateDict() calls, on every backend. Each
 * backend runs in a child process (test/util/memoryChild.ts, --expose-gc) that measures after a
 * warm-up, so what is left is what the loop kept.
 *
 * Bounds:
 * - wasm heap (exact accounting of live linear-memory blocks): no growth at all and no block
 *   taken from fresh memory. A loop that frees what it allocates is handed the same blocks again
 *   from the free lists; the smallest leak, one 64-byte block per step, would be 6.4 MB.
 * - JS heap + ArrayBuffers after gc() (the reference backend's storages are typed arrays): under
 *   1 MiB. The smallest object a step could keep (24 bytes on 64-bit V8) over 10^5 steps is
 *   2.4 MB; code compiled during the measure stays well under the bound.
 */
const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, 'util', 'memoryChild.js');
const JS_BOUND = 2 ** 20;

for (const tb of testBackends()) {
  describe(`flat memory: plain streaming loops and repeated loads [${tb.name}]`, { skip: cpuSuiteSkip(tb.name) ?? false }, () => {
    const steps = sized(tb.name, 100_000, 6000), loads = sized(tb.name, 2000, 300);
    let report: ChildReport | null = null;
    const run = (): ChildReport => {
      if (report) return report;
      const dir = mkdtempSync(join(tmpdir(), 'carousel-mem-'));
      try {
        const r = spawnSync(process.execPath, ['--expose-gc', child, tb.name, String(steps), String(loads), dir], { encoding: 'utf8', timeout: 120_000 });
        assert.equal(r.error, undefined, `child did not finish: ${r.error?.message}`);
        assert.equal(r.status, 0, `child failed: ${r.stderr}`);
        return (report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildReport);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    const flat = (key: string) => () => {
      const g = run()[key];
      assert.ok(g && !('error' in g), `${key}: ${g && 'error' in g ? g.error : 'not run'}`);
      const m = g as Growth, what = `${key}, ${m.steps} steps (${m.ms} ms): `;
      assert.equal(m.device, 0, `${what}the wasm heap grew by ${m.device} bytes`);
      assert.equal(m.fresh, 0, `${what}${m.fresh} blocks taken from fresh memory`);
      assert.ok(m.js < JS_BOUND, `${what}JS memory grew by ${m.js} bytes (bound ${JS_BOUND})`);
    };
    it(`${steps} push() of LSTM forecast values: flat`, flat('lstm, values'));
    it(`${steps / 5} push() of the user's own tensor (GRU): flat`, flat('gru, own tensor'));
    it(`${steps / 5} push() of token ids with the logits read (charlm LSTM): flat`, flat('charlm lstm, ids'));
    it(`${steps / 300 | 0} push() on a core without a streaming step (xLSTM): flat`, flat('xlstm, values'));
    it(`${loads} importStateDict() into one model: flat`, flat('importStateDict'));
  });
}
