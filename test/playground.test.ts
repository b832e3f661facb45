import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decode } from 'fast-png';
import { carousel } from './util/cli.js';

/**
 * The playground (web/) as a person uses it, in Debian's Chromium driven by playwright-core: Vite
 * builds it, its preview server serves it cross-origin isolated; the page trains a character
 * model in its worker on the wasm backend for a few seconds (the loss must fall and a sample
 * appear), the screenshot must show the drawn loss curve; the model downloads as a Carousel model
 * directory that the `carousel` command reads, and loads back (and as ONNX, exported by the
 * command); a CSV forecast trains and plots. Skips without Chromium or playwright-core.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const SMOOTH = [0x1f, 0x5f, 0xa8]; // the smoothed loss curve's colour (web/main.ts)

type Chromium = typeof import('playwright-core')['chromium'];
type Page = Awaited<ReturnType<Awaited<ReturnType<Chromium['launch']>>['newPage']>>;

async function withPlayground(t: TestContext, fn: (page: Page, errors: string[]) => Promise<void>): Promise<void> {
  if (!existsSync(CHROMIUM)) { t.skip(`${CHROMIUM} is missing (Debian: apt-get install -y chromium)`); return; }
  let chromium: Chromium;
  try { chromium = (await import('playwright-core')).chromium; } catch (e) { t.skip(`playwright-core is missing: ${(e as Error).message}`); return; }
  const vite = await import('vite');
  const configFile = join(root, 'web', 'vite.config.mjs');
  await vite.build({ configFile, logLevel: 'error' });
  // The built page is a static folder any server can host: index.html names only files in it.
  const html = readFileSync(join(root, 'web', 'dist', 'index.html'), 'utf8');
  for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    if (!m[1].startsWith('data:')) assert.ok(existsSync(join(root, 'web', 'dist', m[1])), `index.html refers to ${m[1]}, not in web/dist`);
  }
  const server = await vite.preview({ configFile, logLevel: 'error', preview: { port: 0, host: '127.0.0.1', strictPort: false } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, timeout: 30000, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.resolvedUrls!.local[0]);
    await page.waitForSelector('body[data-state=ready]', { timeout: 60000 });
    await fn(page, errors);
  } finally {
    await browser.close();
    await new Promise<void>((r) => server.httpServer.close(() => r()));
  }
}

/** The numbers after "loss A -> B" in the status line. */
function lossesOf(status: string): [number, number] {
  const m = /loss (\d+\.\d+) -> (\d+\.\d+)/.exec(status);
  assert.ok(m, `no 'loss A -> B' in the status: ${status}`);
  return [Number(m[1]), Number(m[2])];
}

describe('the playground', () => {
  it('trains in its worker, draws the curve, samples, downloads a model the CLI reads, and loads it back (and as ONNX)', { timeout: 240000 }, async (t) => {
    await withPlayground(t, async (page, errors) => {
      assert.equal(await page.$eval('#backend', (s) => (s as HTMLSelectElement).value), 'wasm', 'the isolated page picks the wasm backend');
      await page.fill('#seconds', '5');
      await page.fill('#hidden', '48');
      await page.click('#train');
      await page.waitForSelector('body[data-state=trained]', { timeout: 90000 });
      const status = (await page.textContent('#status'))!;
      const [first, last] = lossesOf(status);
      assert.ok(last < first - 0.5, `the loss fell by less than 0.5 nats: ${status}`);
      await page.waitForFunction(() => (document.querySelector('#sample')?.textContent ?? '').length > 100, null, { timeout: 30000 });
      assert.match((await page.textContent('#sample'))!, /^Shall I compare thee/);

      // The screenshot: the smoothed curve's colour, drawn across most of the chart's width (the legend's swatch is 20 px).
      const box = (await page.$eval('#curve svg', (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })).map(Math.round);
      const png = decode(await page.screenshot());
      const xs = new Set<number>(), ys = new Set<number>();
      for (let y = box[1]; y < box[1] + box[3]; y++) {
        for (let x = box[0]; x < box[0] + box[2]; x++) {
          const o = (y * png.width + x) * png.channels;
          if (SMOOTH.every((c, k) => Math.abs(png.data[o + k] - c) < 24)) { xs.add(x); ys.add(y); }
        }
      }
      // The plot area is about 85% of the chart's width; a falling curve also spans many rows.
      assert.ok(xs.size > box[2] * 0.4, `the curve's colour covers ${xs.size} of ${box[2]} pixel columns`);
      assert.ok(ys.size > box[3] * 0.25, `the curve's colour covers ${ys.size} of ${box[3]} pixel rows: not a falling curve`);

      // Download: model.json + its weights, a directory the command line generates from.
      const dir = mkdtempSync(join(tmpdir(), 'carousel-playground-'));
      const saved: Promise<void>[] = [];
      const both = new Promise<void>((resolve) => page.on('download', (d) => {
        saved.push(d.saveAs(join(dir, d.suggestedFilename())));
        if (saved.length === 2) resolve();
      }));
      await page.click('#download');
      await both;
      await Promise.all(saved);
      assert.deepEqual(readdirSync(dir).sort().map((f) => f.replace(/[0-9a-f]{16}/, 'H')), ['model.json', 'weights-H.safetensors']);
      const gen = carousel(['generate', '--model', dir, '--seed-text', 'Thou', '--length', '40']);
      assert.equal(gen.code, 0, gen.err);
      assert.match(gen.out, /^Thou/);

      // Load it back, then the same model as ONNX (exported by the command).
      await page.setInputFiles('#load', readdirSync(dir).map((f) => join(dir, f)));
      await page.waitForFunction(() => /^loaded /.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 30000 });
      assert.match((await page.textContent('#status'))!, /loaded Carousel model model\.json \+ weights-[0-9a-f]{16}\.safetensors: charlm LSTM 1x48/);
      const onnx = join(dir, 'model.onnx');
      const ex = carousel(['export', dir, '--format', 'onnx', '--out', onnx]);
      assert.equal(ex.code, 0, ex.err);
      await page.setInputFiles('#load', [onnx]);
      await page.waitForFunction(() => /^loaded ONNX/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 30000 });
      assert.match((await page.textContent('#status'))!, /loaded ONNX model\.onnx .*charlm LSTM 1x48/);
      assert.equal(await page.textContent('#error'), '');
      assert.deepEqual(errors, []);
    });
  });

  it('trains a forecaster on the CO2 CSV and plots its forecast', { timeout: 180000 }, async (t) => {
    await withPlayground(t, async (page, errors) => {
      await page.check('input[name=task][value=forecast]');
      assert.match(await page.inputValue('#data'), /^Date,CO2/);
      await page.fill('#seconds', '4');
      await page.fill('#hidden', '16');
      await page.click('#train');
      await page.waitForSelector('#forecast svg', { timeout: 90000 });
      const status = (await page.textContent('#status'))!;
      const [first, last] = lossesOf(status);
      assert.ok(last < first, status);
      assert.match(status, /last held-out window: MAE [\d.]+ over 24 steps/);
      assert.match((await page.innerHTML('#forecast'))!, /CO2: 24-step forecast/);
      assert.equal(await page.textContent('#error'), '');

      // A TF.js Layers forecaster (saved by @tensorflow/tfjs itself) loads and forecasts the same window.
      const dir = mkdtempSync(join(tmpdir(), 'carousel-playground-tfjs-'));
      const tf = await import('@tensorflow/tfjs');
      const m = tf.sequential();
      m.add(tf.layers.lstm({ units: 8, recurrentActivation: 'sigmoid', inputShape: [null, 1] }));
      m.add(tf.layers.dense({ units: 24 }));
      await m.save(tf.io.withSaveHandler(async (a) => {
        writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(a.weightData as ArrayBuffer));
        writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }] }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }));
      await page.evaluate(() => { document.querySelector('#forecast')!.innerHTML = ''; });
      await page.setInputFiles('#load', [join(dir, 'model.json'), join(dir, 'group1-shard1of1.bin')]);
      await page.waitForSelector('#forecast svg', { timeout: 30000 });
      assert.match((await page.textContent('#status'))!, /loaded TF\.js Layers model model\.json \(1 weight file\(s\)\): forecast LSTM 1x8/);
      assert.equal(await page.textContent('#error'), '');
      assert.deepEqual(errors, []);
    });
  });
});
