import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forecastSvg, lineChart, lossCurveSvg, niceTicks } from '../src/plot/svg.js';
import { formatSeconds, Progress } from '../src/train/progress.js';

test('svg: nice ticks, escaping, gaps at non-finite values, log axis', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3, 47, 4), [10, 20, 30, 40]);
  const svg = lineChart([{ name: 'a<b', points: [[0, 1], [1, 2], [2, NaN], [3, 4], [4, 5]] }], { title: 'T & "q"' });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /T &amp; &quot;q&quot;/);
  assert.match(svg, /a&lt;b/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2, 'the NaN splits the line in two');
  const loss = lossCurveSvg([{ epoch: 1, loss: 2, val: { loss: 3 } }, { epoch: 2, loss: 0.02, val: { loss: 0.5 } }]);
  assert.match(loss, /loss \(log scale\)/);
  assert.equal((loss.match(/<polyline/g) ?? []).length, 2);
  const f = forecastSvg({ title: 'f', history: [[0, 1], [1, 2]], truth: [[1, 2], [2, 3]], forecast: [[1, 2], [2, 2.5]], baseline: [[1, 2], [2, 1]] });
  assert.match(f, /seasonal naive/);
  assert.match(f, /stroke-dasharray/);
});

test('progress: a redrawn bar with loss, throughput and ETA on a terminal; one line per epoch otherwise', () => {
  let tty = '';
  const p = new Progress({ write: (s: string) => { tty += s; }, isTTY: true });
  p.epochStart(0, 3, 10);
  p.batch(10, 0.5, 1234);
  p.epochEnd('epoch 1/3  loss 0.5');
  assert.match(tty, /\r\x1b\[2Kepoch 1\/3 \[#{24}\] 10\/10 loss 0\.5000 1234 items\/s ETA 0s/);
  assert.ok(tty.endsWith('\r\x1b[2Kepoch 1/3  loss 0.5\n'));
  let plain = '';
  const q = new Progress({ write: (s: string) => { plain += s; }, isTTY: false });
  q.epochStart(0, 3, 10);
  q.batch(5, 0.5, 10);
  q.epochEnd('epoch 1/3  loss 0.5');
  assert.equal(plain, 'epoch 1/3  loss 0.5\n');
  assert.equal(formatSeconds(75), '1m15s');
  assert.equal(formatSeconds(7300), '2h01m');
});
