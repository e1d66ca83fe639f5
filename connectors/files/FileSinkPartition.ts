import { closeSync, fdatasync, fstatSync, ftruncateSync, openSync, write } from 'node:fs';
import type { StatefulSinkPartition } from '../../src/outputs.js';
import { FileConnectorError, fsReason } from './errors.js';

function writeAt(fd: number, buf: Buffer, from: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, buf, from, buf.length - from, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/**
 * One output file. Lines are buffered and written at `length`, the byte length of the output so
 * far; `snapshot` writes what is buffered, fsyncs and returns `length`. A fresh start empties the
 * file; a resume truncates it to the stored length, dropping what an unfinished epoch wrote.
 * @internal
 */
export class FileSinkPartition<T> implements StatefulSinkPartition<T, number> {
  private fd: number | undefined;
  private length: number;
  private pending = '';

  constructor(
    private readonly stepId: string,
    private readonly path: string,
    resume: number | undefined,
    private readonly line: (item: T) => string,
    /** Text kept before a write, in UTF-16 code units; 0 writes every batch. */
    private readonly bufferSize: number,
  ) {
    if (resume !== undefined && (typeof resume !== 'number' || !Number.isSafeInteger(resume) || resume < 0)) {
      throw new FileConnectorError(stepId, path, `the stored length of '${path}' is not a byte count (got ${JSON.stringify(resume)}); start with a fresh recovery directory`);
    }
    this.length = resume ?? 0;
    try {
      this.fd = resume ? openSync(path, 'r+') : openSync(path, 'w');
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw new FileConnectorError(
        stepId,
        path,
        missing
          ? `'${path}' is gone, but the last snapshot says ${resume} bytes had been written to it; restore it, or start with a fresh recovery directory`
          : `cannot write '${path}': ${fsReason(err)}`,
        { cause: err },
      );
    }
    const size = fstatSync(this.fd).size;
    if (size < this.length) {
      closeSync(this.fd);
      throw new FileConnectorError(
        stepId,
        path,
        `'${path}' is ${size} bytes long, but the last snapshot stored ${this.length}: it was truncated or replaced since. ` +
          'Restore it, or start with a fresh recovery directory',
      );
    }
    if (size > this.length) ftruncateSync(this.fd, this.length);
  }

  writeBatch(items: T[]): void | Promise<void> {
    const line = this.line;
    let text = this.pending;
    for (let i = 0; i < items.length; i++) text += line(items[i]!) + '\n';
    this.pending = text;
    if (text.length >= this.bufferSize) return this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending === '') return;
    const buf = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    const fd = this.open();
    try {
      for (let done = 0; done < buf.length; ) done += await writeAt(fd, buf, done, this.length + done);
    } catch (err) {
      throw new FileConnectorError(this.stepId, this.path, `writing '${this.path}' failed: ${fsReason(err)}`, { cause: err });
    }
    this.length += buf.length;
  }

  private open(): number {
    if (this.fd === undefined) throw new FileConnectorError(this.stepId, this.path, `'${this.path}' was written to after close()`);
    return this.fd;
  }

  async snapshot(): Promise<number> {
    await this.flush();
    await datasync(this.open());
    return this.length;
  }

  async close(): Promise<void> {
    if (this.fd === undefined) return;
    await this.flush();
    await datasync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The default line of an item: a string as it is, anything else as JSON. @internal */
export function defaultLine(item: unknown): string {
  return typeof item === 'string' ? item : String(JSON.stringify(item));
}
