import type { Progress } from '../runtime/runMain.js';

/** A one-line progress display on a terminal, redrawn at most every 250 ms. */
export class ProgressLine {
  private readonly start = Date.now();
  private last = 0;
  private shown = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  update(p: Progress): void {
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    const secs = (now - this.start) / 1000;
    const rate = secs > 0 ? Math.round(p.items / secs) : 0;
    const line = `epoch ${p.epoch} · ${p.items.toLocaleString('en')} items · ${rate.toLocaleString('en')} items/s`;
    this.out.write(this.out.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
    this.shown = true;
  }

  done(): void {
    if (this.shown && this.out.isTTY) this.out.write('\n');
  }
}
