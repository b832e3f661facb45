import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, relative, sep } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserReport } from './browser/harness.js';
import type { WebGpuReport } from './browser/webgpu-harness.js';

/**
 * The browser entry in a real browser: Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core) loads the plain tsc output (dist/) from a local server, and the checks in
 * test/browser/harness.ts run on a cross-origin isolated page's main thread and inside a module
 * Web Worker: the wasm backend with 2 threads (kernel workers as nested module Web Workers), a
 * GEMM split over them, an LSTM against the reference backend. A page without COOP/COEP must fall
 * back to the reference backend with the reason. And WebGPU in the page (navigator.gpu; on
 * SwiftShader where there is no GPU): a few Adam steps of an LSTM regressor on `webgpu` match the
 * reference backend's. Skips (with the reason) without Chromium or playwright-core; .ci/run
 * installs Chromium.
 */
const dist = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';

const MIME: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.map': 'application/json',
  '.html': 'text/html; charset=utf-8',
};
const PAGE = '<!doctype html><meta charset="utf-8"><title>carousel browser test</title>';

/**
 * dist/ under /iso/ (cross-origin isolated: COOP same-origin + COEP require-corp) and under
 * /plain/ (no isolation headers); "/iso/" and "/plain/" themselves are an empty page.
 */
function serveDist(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/(iso|plain)(\/.*)$/.exec(url.pathname);
    if (!m) { res.writeHead(404).end(); return; }
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    if (m[1] === 'iso') {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    if (m[2] === '/') { res.writeHead(200, { ...headers, 'Content-Type': MIME['.html'] }).end(PAGE); return; }
    const file = normalize(join(dist, decodeURIComponent(m[2])));
    const rel = relative(dist, file);
    if (rel.startsWith('..') || rel.startsWith(sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, headers).end(); return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

type Chromium = typeof import('playwright-core')['chromium'];
async function loadChromium(t: TestContext): Promise<Chromium | null> {
  if (!existsSync(CHROMIUM)) { t.skip(`${CHROMIUM} is missing (Debian: apt-get install -y chromium)`); return null; }
  try { return (await import('playwright-core')).chromium; } catch (e) {
    t.skip(`playwright-core is missing (npm install): ${(e as Error).message}`); return null;
  }
}

type Page = Awaited<ReturnType<Awaited<ReturnType<Chromium['launch']>>['newPage']>>;

/**
 * Serve dist/ (serveDist), launch Debian's Chromium with `args` beside --no-sandbox, and run `fn`
 * on a new page with the server's origin and a list collecting the page's uncaught errors. The
 * browser and the server go afterwards, whatever failed. Skips the test where Chromium is missing.
 */
async function inChromium(t: TestContext, args: string[], fn: (page: Page, origin: string, errors: string[]) => Promise<void>): Promise<void> {
  const chromium = await loadChromium(t);
  if (!chromium) return;
  const server = await serveDist();
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let browser: Awaited<ReturnType<Chromium['launch']>> | null = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...args], timeout: 30000 });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await fn(page, origin, errors);
  } finally {
    await browser?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Relative import specifiers of a compiled module (static, re-export and literal dynamic imports). */
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /(?:^|[;\s])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of src.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

describe('the browser entry', () => {
  it('reaches no node:* module and no bare specifier (its module graph and the kernel worker\'s)', () => {
    const seen = new Set<string>(), bad: string[] = [];
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('./') && !spec.startsWith('../')) { bad.push(`${relative(dist, file)} imports '${spec}'`); continue; }
        visit(join(dirname(file), spec));
      }
    };
    visit(join(dist, 'src', 'browser.js'));
    visit(join(dist, 'src', 'backend', 'wasm', 'worker.js'));
    assert.deepEqual(bad, []);
    assert.ok(seen.size > 50, `only ${seen.size} modules traced`);
    for (const f of ['io/atomic.js', 'io/checkpoint.js', 'train/fit.js', 'cli/main.js']) {
      assert.ok(!seen.has(join(dist, 'src', f)), `${f} is reachable from the browser entry`);
    }
  });

  it('runs the wasm backend in Chromium (main thread and Web Worker) and falls back without isolation', { timeout: 90000 }, async (t) => {
    await inChromium(t, [], async (page, origin, errors) => {

      // Cross-origin isolated: inside a module Web Worker, then on the main thread.
      await page.goto(`${origin}/iso/`);
      const iso = await page.evaluate(async () => {
        const worker = await new Promise<unknown>((resolve, reject) => {
          const w = new Worker('/iso/test/browser/worker-entry.js', { type: 'module' });
          w.onmessage = (e) => { w.terminate(); resolve(e.data); };
          w.onerror = (e) => { w.terminate(); reject(new Error(`worker-entry.js failed: ${e.message}`)); };
          w.postMessage('run');
        });
        const harness = '/iso/test/browser/harness.js'; // a URL on the test server, not a module tsc resolves
        const h = await import(harness) as typeof import('./browser/harness.js');
        return { worker, main: await h.runChecks('main') };
      }) as { worker: BrowserReport & { error?: string }; main: BrowserReport };
      assert.equal(iso.worker.error, undefined, iso.worker.error);
      for (const r of [iso.worker, iso.main]) {
        const at = `(${r.where}: ${JSON.stringify(r)})`;
        assert.equal(r.platform, 'browser', at);
        assert.equal(r.isolated, true, at);
        assert.equal(r.reason, null, at);
        assert.equal(r.backend, 'wasm', at);
        assert.equal(r.threads, 2, at);
        assert.equal(r.workersRunning, 1, at);
        assert.ok(r.gemmMacs! >= r.parallelMinMacs!, `the GEMM is too small to be split ${at}`);
        assert.ok(r.gemmMaxErr! < 1e-3, `GEMM differs from the JS triple loop by ${r.gemmMaxErr} ${at}`);
        assert.equal(r.peakOnWorker, true, at);
        assert.ok(r.lstmMaxDiff! < 1e-5, `LSTM on wasm differs from reference by ${r.lstmMaxDiff} ${at}`);
      }
      assert.equal(iso.worker.canBlock, true, 'a Web Worker may block in Atomics.wait');
      assert.equal(iso.main.canBlock, false, 'a page\'s main thread may not block: the pool must spin there');

      // No COOP/COEP: no SharedArrayBuffer, so the reference backend, with the reason said.
      await page.goto(`${origin}/plain/`);
      const plain = await page.evaluate(async () => {
        const harness = '/plain/test/browser/harness.js';
        const h = await import(harness) as typeof import('./browser/harness.js');
        return h.runChecks('main (not isolated)');
      }) as BrowserReport;
      const at = JSON.stringify(plain);
      assert.equal(plain.isolated, false, at);
      assert.equal(plain.backend, 'reference', at);
      assert.match(plain.reason ?? '', /not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/, at);
      assert.equal(plain.warnings.length, 1, at);
      assert.match(plain.warnings[0], /not cross-origin isolated.*using the reference backend instead/, at);
      assert.equal(plain.fallbackLstmOk, true, at);
      assert.deepEqual(errors, []);
      t.diagnostic(`worker ${iso.worker.ms.toFixed(0)} ms, main ${iso.main.ms.toFixed(0)} ms, not isolated ${plain.ms.toFixed(0)} ms; ` +
        `GEMM err ${iso.main.gemmMaxErr!.toExponential(1)}, LSTM diff ${iso.main.lstmMaxDiff!.toExponential(1)}`);
    });
  });
  it('trains on WebGPU in Chromium (navigator.gpu, SwiftShader without a GPU) as on the reference backend', { timeout: 120000 }, async (t) => {
    // Chromium exposes WebGPU on SwiftShader (its software Vulkan) with these flags where there is no GPU.
    await inChromium(t, ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'], async (page, origin, errors) => {
      await page.goto(`${origin}/plain/`);
      const r = await page.evaluate(async () => {
        const harness = '/plain/test/browser/webgpu-harness.js'; // a URL on the test server, not a module tsc resolves
        const h = await import(harness) as typeof import('./browser/webgpu-harness.js');
        return h.runWebGpu(4);
      }) as WebGpuReport;
      const at = JSON.stringify(r);
      assert.equal(r.error, null, at);
      assert.equal(r.losses.length, 4, at);
      r.losses.forEach((l, s) => assert.ok(Math.abs(l - r.refLosses[s]) <= 1e-4 * Math.abs(r.refLosses[s]), `loss at step ${s + 1} ${at}`));
      assert.ok(r.losses[3] < r.losses[0], `the steps learn ${at}`);
      assert.ok(r.maxParamRel <= 1e-4, `parameters differ from the reference by ${r.maxParamRel} of their scale ${at}`);
      assert.deepEqual(errors, []);
      t.diagnostic(`adapter ${r.adapter}, ${r.ms.toFixed(0)} ms, losses ${r.losses.map((l) => l.toPrecision(4)).join(' ')}`);
    });
  });
});
