import { closeSync, openSync } from 'node:fs';
import { readChunk } from './readChunk.js';

const NL = 10;
const CR = 13;

/**
 * Reads lines from a file in chunks, keeping only one chunk (and any line longer than it) in
 * memory. Lines are split on the byte `\n`, which never occurs inside a multi-byte UTF-8
 * sequence, and decoded whole, so characters split across chunks come out intact. A `\r` before
 * the `\n` is dropped.
 *
 * `offset` is the file position of the first byte not yet returned: always the start of a line.
 * @internal
 */
export class LineReader {
  private fd: number | undefined;
  private buf: Buffer;
  /** `buf` cut to its valid bytes, so that `indexOf` never sees stale ones. */
  private view: Buffer;
  /** File position of `buf[0]`. */
  private base: number;
  /** First byte of `view` not yet returned. */
  private start = 0;

  constructor(
    private readonly path: string,
    offset: number,
    chunkSize: number,
  ) {
    this.base = offset;
    this.buf = Buffer.allocUnsafe(chunkSize);
    this.view = this.buf.subarray(0, 0);
  }

  /** File position of the next line. */
  get offset(): number {
    return this.base + this.start;
  }

  /** Bytes read but not yet returned: a partial last line after {@link fill} returned 0. */
  get buffered(): number {
    return this.view.length - this.start;
  }

  /**
   * Moves up to `max` complete lines from the buffer into `out`. Synchronous: it never reads.
   * @returns how many lines it moved
   */
  take(out: string[], max: number): number {
    const view = this.view;
    let s = this.start;
    let n = 0;
    while (n < max) {
      const nl = view.indexOf(NL, s);
      if (nl === -1) break;
      const e = nl > s && view[nl - 1] === CR ? nl - 1 : nl;
      out.push(view.toString('utf8', s, e));
      s = nl + 1;
      n++;
    }
    this.start = s;
    return n;
  }

  /** Moves the partial last line (a file that does not end in a newline) into `out`. */
  takeRest(out: string[]): void {
    const view = this.view;
    const s = this.start;
    if (s >= view.length) return;
    const e = view[view.length - 1] === CR ? view.length - 1 : view.length;
    out.push(view.toString('utf8', s, e));
    this.start = view.length;
  }

  /**
   * Reads the next chunk after the buffered bytes, keeping the unreturned ones.
   * @returns the number of bytes read; 0 at the current end of the file
   */
  async fill(): Promise<number> {
    this.fd ??= openSync(this.path, 'r');
    const rest = this.view.length - this.start;
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.view.length);
      this.base += this.start;
      this.start = 0;
    }
    if (rest === this.buf.length) {
      // A line longer than the buffer: grow it.
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, rest);
      this.buf = bigger;
    }
    const n = await readChunk(this.fd, this.buf, rest, this.buf.length - rest, this.base + rest);
    this.view = this.buf.subarray(0, rest + n);
    return n;
  }

  /** Closes the file; a later {@link fill} opens it again. */
  close(): void {
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      closeSync(fd);
    }
  }
}
