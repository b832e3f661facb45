// ESP (src/evolve/esp.ts), the peephole cell of the Evolino net (src/evolve/lstmNet.ts) against
// Carousel's nn.LSTM({ peepholes: true }), Evolino's per-cell blocks, and an ESP Evolino run that
// is the same for 1 and 2 workers.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadBackend } from '../src/backend/registry.js';
import { Esp } from '../src/evolve/esp.js';
import { evolinoBlocks, evolinoLayout, type EvolinoTask } from '../src/evolve/evolino.js';
import { runEvolino } from '../src/evolve/evolinoRun.js';
import { genomeLayout, readGenome, writeGenome } from '../src/evolve/genome.js';
import { LstmNet } from '../src/evolve/lstmNet.js';
import { LSTM } from '../src/nn/lstm.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/tensor/random.js';
import { carousel, userError } from './util/cli.js';

const randomGenome = (n: number, seed: number, scale = 1) => { const r = new Rng(seed); return Float64Array.from({ length: n }, () => r.uniform(-scale, scale)); };

describe('evolve: ESP', () => {
  it('solves a separable quadratic split into interleaved blocks to 1e-6', () => {
    // 12 genes, 3 blocks of 4 interleaved indices (block b holds b, b + 3, b + 6, b + 9).
    const dim = 12, target = Float64Array.from({ length: dim }, (_, i) => Math.sin(i + 1));
    const blocks = [0, 1, 2].map((b) => [b, b + 3, b + 6, b + 9]);
    const cost = (g: Float64Array) => g.reduce((s, v, i) => s + (v - target[i]) ** 2, 0);
    const esp = new Esp({ dim, blocks, size: 12, trials: 3, burstPatience: 5, decay: 0.3, init: 1, rng: new Rng(7) });
    let best = Infinity, bestGenome = esp.mean;
    while (esp.generation < 2000 && best > 1e-12) {
      const gs = esp.ask(), cs = gs.map(cost);
      cs.forEach((c, i) => { if (c < best) { best = c; bestGenome = gs[i]; } });
      esp.tell(cs);
    }
    const worst = Math.max(...bestGenome.map((v, i) => Math.abs(v - target[i])));
    assert.ok(worst < 1e-6, `max |x - x*| ${worst} after ${esp.generation} generations, ${esp.bursts} bursts`);
    assert.ok(esp.bursts > 0, 'burst mutation never ran');
    assert.deepEqual([...esp.mean], [...bestGenome]); // mean is the best network found
  });

  it('assembles every individual into exactly `trials` networks per generation', () => {
    const esp = new Esp({ dim: 6, blocks: [[0, 1], [2, 3], [4, 5]], size: 5, trials: 4, rng: new Rng(3) });
    const gs = esp.ask();
    assert.equal(gs.length, 20);
    for (let b = 0; b < 3; b++) {
      const uses = new Map<string, number>();
      for (const g of gs) { const k = `${g[2 * b]},${g[2 * b + 1]}`; uses.set(k, (uses.get(k) ?? 0) + 1); }
      assert.deepEqual([...uses.values()], [4, 4, 4, 4, 4], `block ${b}`);
    }
  });

  it('refuses blocks that do not cover the genome once, by name', () => {
    assert.throws(() => new Esp({ dim: 4, blocks: [[0, 1], [1, 2, 3]], rng: new Rng(1) }), /Esp: expected blocks covering 0..3 once each, got index 1 twice/);
    assert.throws(() => new Esp({ dim: 4, blocks: [[0, 1], [2]], rng: new Rng(1) }), /Esp: expected blocks covering 0..3 once each, got index 3 in none/);
    assert.throws(() => new Esp({ dim: 2, blocks: [[0], [1]], size: 3, rng: new Rng(1) }), /Esp: expected a subpopulation size an integer >= 4, got 3/);
  });
});

describe('evolve: the Evolino peephole cell', () => {
  it("equals nn.LSTM({ peepholes: true })'s forward with the same weights to 1e-12 (reference backend, f64)", async () => {
    const backend = await loadBackend('reference');
    const H = 6, T = 40;
    const lstm = new LSTM({ inputSize: 1, hiddenSize: H, peepholes: true }, { backend, dtype: 'f64', rng: new Rng(1) });
    const layout = genomeLayout(lstm);
    assert.deepEqual(evolinoLayout(H, true), layout); // the Evolino genome is that module's parameters, in order
    const genome = randomGenome(layout.size, 2, 1.5);
    writeGenome(lstm, genome);
    assert.deepEqual([...await readGenome(lstm)], [...genome]);
    const xs = randomGenome(T, 3, 2);
    const y = lstm.forward(new Tensor(backend.upload('f64', xs), [T, 1, 1])).y.dataSync();
    const net = new LstmNet(genome, layout, { lstm: '' });
    let worst = 0;
    for (let t = 0; t < T; t++) {
      const h = net.step(xs.subarray(t, t + 1));
      for (let j = 0; j < H; j++) worst = Math.max(worst, Math.abs(h[j] - y[t * H + j]));
    }
    assert.ok(worst < 1e-12, `max |difference| ${worst}`);
    // The peepholes matter: the same weights without them give another output.
    const plain = new LstmNet(genome.subarray(0, evolinoLayout(H).size), evolinoLayout(H), { lstm: '' });
    let diff = 0;
    for (let t = 0; t < T; t++) { const h = plain.step(xs.subarray(t, t + 1)); diff = Math.max(diff, Math.abs(h[0] - y[t * H])); }
    assert.ok(diff > 1e-3, `peepholes changed nothing (${diff})`);
  });

  it("ESP's blocks are the cells: block j holds the rows j of every gate and cell j's peepholes", () => {
    const H = 4, layout = evolinoLayout(H, true), blocks = evolinoBlocks(H, true);
    assert.equal(blocks.length, H);
    assert.equal(blocks.flat().length, layout.size);
    assert.equal(new Set(blocks.flat()).size, layout.size);
    blocks.forEach((idx, j) => {
      assert.equal(idx.length, 4 * H + 15);
      for (const g of idx) {
        const s = layout.slices.find((x) => g >= x.offset && g < x.offset + x.size)!;
        const row = s.shape.length === 2 ? Math.floor((g - s.offset) / s.shape[1]) : g - s.offset;
        assert.equal(row % H, j, `${s.name}[${g - s.offset}] in block ${j}`);
      }
    });
  });
});

describe('evolve: Evolino with ESP', () => {
  it('runs the same for 1 and 2 workers', async () => {
    const task: EvolinoTask = { kind: 'sines', waves: 2, hidden: 3, washout: 10, train: 60, freeRun: 20, test: 20, peepholes: true };
    const run = (workers: number) => runEvolino({ task, optimizer: 'esp', esp: { size: 6, trials: 2, burstPatience: 2 }, maxEvaluations: 72, sigma: 0.3, seed: 5, workers });
    const [a, b] = [await run(1), await run(2)];
    assert.equal(a.evaluations, 72);
    assert.deepEqual(a.history, b.history);
    assert.deepEqual([...a.genome], [...b.genome]);
    assert.equal(a.result.testNrmse, b.result.testNrmse);
    assert.ok(a.history[a.history.length - 1].bestSoFar < a.history[0].best, 'no progress in 6 generations');
  });
});

describe('carousel evolve --optimizer esp', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-esp-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs Evolino by ESP with peephole cells and records it', () => {
    const out = join(dir, 'esp');
    const r = carousel(['evolve', '--task', 'evolino-sines', '--optimizer', 'esp', '--peepholes', '--hidden', '2', '--subpop', '4', '--trials', '2', '--max-evals', '16', '--workers', '1', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /nn\.LSTM\(1, 2, peepholes\) weights by ESP \(2 subpopulations of 4, 2 trials each\)/);
    const res = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(res.optimizer, 'esp'); assert.deepEqual(res.esp, { size: 4, trials: 2 });
    assert.equal(res.config.peepholes, true);
    assert.equal(res.genome.length, evolinoLayout(2, true).size);
  });

  it('bad flags are one-line user errors', () => {
    userError(carousel(['evolve', '--task', 'evolino-sines', '--subpop', '10']), /--subpop is for --optimizer esp/);
    userError(carousel(['evolve', '--task', 'evolino-sines', '--optimizer', 'esp', '--subpop', '3']), /--subpop: expected an integer >= 4, got '3'/);
    userError(carousel(['evolve', '--task', 'evolino-sines', '--optimizer', 'esp', '--lambda', '10']), /--lambda is for CMA-ES/);
    userError(carousel(['evolve', '--env', 'cart-pole', '--peepholes']), /--peepholes is for --task, not --env/);
  });
});
