/**
 * Training progress. On a terminal: one line redrawn in place with a bar, loss, throughput and
 * ETA. Otherwise (logs, pipes, CI, and a terminal with TERM=dumb, which cannot erase a line):
 * nothing per batch, one plain line per epoch, no carriage returns or escape codes. There are no
 * colors, so NO_COLOR has nothing to turn off.
 */
export interface ProgressSink {
  epochStart(epoch: number, epochs: number, batches: number): void;
  batch(done: number, loss: number, itemsPerSec: number): void;
  epochEnd(line: string): void;
  message(line: string): void;
}

export class Progress implements ProgressSink {
  private epoch = 0; private epochs = 0; private batches = 0; private start = 0; private lastDraw = 0;
  private readonly tty: boolean;
  constructor(private readonly out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean } = process.stderr,
    env: NodeJS.ProcessEnv = process.env) {
    this.tty = Boolean((out as { isTTY?: boolean }).isTTY) && env.TERM !== 'dumb';
  }

  epochStart(epoch: number, epochs: number, batches: number): void {
    this.epoch = epoch; this.epochs = epochs; this.batches = batches; this.start = Date.now(); this.lastDraw = 0;
  }

  batch(done: number, loss: number, itemsPerSec: number): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < this.batches) return; // redraw at most 10 times a second
    this.lastDraw = now;
    const frac = this.batches ? done / this.batches : 1;
    const width = 24, fill = Math.round(frac * width);
    const elapsed = (now - this.start) / 1000;
    const perBatch = done > 0 ? elapsed / done : 0;
    const eta = perBatch * (this.batches - done);
    const etaRun = eta + perBatch * this.batches * (this.epochs - this.epoch - 1);
    const bar = '#'.repeat(fill) + '-'.repeat(width - fill);
    const run = this.epoch + 1 < this.epochs ? ` (all epochs ${formatSeconds(etaRun)})` : '';
    this.out.write(`\r\x1b[2Kepoch ${this.epoch + 1}/${this.epochs} [${bar}] ${done}/${this.batches} loss ${loss.toFixed(4)} ${formatRate(itemsPerSec)} ETA ${formatSeconds(eta)}${run}`);
  }

  epochEnd(line: string): void { this.out.write(`${this.tty ? '\r\x1b[2K' : ''}${line}\n`); }
  message(line: string): void { this.out.write(`${this.tty ? '\r\x1b[2K' : ''}${line}\n`); }
}

/** A sink that prints nothing (library use, tests). */
export const silentProgress: ProgressSink = { epochStart() {}, batch() {}, epochEnd() {}, message() {} };

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatRate(r: number): string {
  return r >= 1e4 ? `${(r / 1e3).toFixed(1)}k items/s` : `${r.toFixed(0)} items/s`;
}
