import { statSync } from 'node:fs';
import { EOF, type StatefulSourcePartition } from '../../src/inputs.js';
import { FileConnectorError, checkReadableFile, fsReason } from './errors.js';
import { LineReader } from './LineReader.js';
import { startOffset } from './position.js';

/** How a {@link FilePartition} reads. @internal */
export interface LineReadOptions {
  readonly batchSize: number;
  readonly tail: boolean;
  readonly pollInterval: number;
  readonly chunkSize: number;
}

/**
 * One file read line by line; its snapshot is the byte offset of the next line.
 *
 * Every batch holds exactly `batchSize` lines except at the end of the file, so a resumed run
 * cuts its batches where an uninterrupted run does.
 * @internal
 */
export class FilePartition implements StatefulSourcePartition<string, number> {
  private readonly reader: LineReader;
  private awake: number | undefined;
  private done = false;

  /**
   * Checks the file and the resume offset now, so that a bad path fails when the flow is built.
   * The file is opened at the first read and closed at its end.
   */
  constructor(
    private readonly stepId: string,
    private readonly path: string,
    private readonly o: LineReadOptions,
    resume: number | undefined,
  ) {
    const size = checkReadableFile(stepId, path);
    this.reader = new LineReader(path, startOffset(stepId, path, size, resume, 'line'), o.chunkSize);
  }

  nextBatch(): string[] | typeof EOF | Promise<string[] | typeof EOF> {
    if (this.done) return EOF;
    this.awake = undefined;
    const out: string[] = [];
    if (this.reader.take(out, this.o.batchSize) === this.o.batchSize) return out;
    return this.readMore(out);
  }

  private async readMore(out: string[]): Promise<string[] | typeof EOF> {
    const max = this.o.batchSize;
    while (out.length < max) {
      let n: number;
      try {
        n = await this.reader.fill();
      } catch (err) {
        throw new FileConnectorError(this.stepId, this.path, `reading '${this.path}' failed: ${fsReason(err)}`, { cause: err });
      }
      if (n === 0) return this.atEnd(out);
      this.reader.take(out, max - out.length);
    }
    return out;
  }

  private atEnd(out: string[]): string[] | typeof EOF {
    if (this.o.tail) {
      this.checkNotTruncated();
      // A partial last line waits for its newline.
      this.awake = Date.now() + this.o.pollInterval;
      return out;
    }
    this.reader.takeRest(out);
    this.reader.close();
    this.done = true;
    return out.length > 0 ? out : EOF;
  }

  private checkNotTruncated(): void {
    let size: number;
    try {
      size = statSync(this.path).size;
    } catch (err) {
      throw new FileConnectorError(this.stepId, this.path, `following '${this.path}' failed: ${fsReason(err)}`, { cause: err });
    }
    const end = this.reader.offset + this.reader.buffered;
    if (size < end) {
      throw new FileConnectorError(
        this.stepId,
        this.path,
        `'${this.path}' shrank to ${size} bytes while it was followed at byte ${end}; a followed file may only grow`,
      );
    }
  }

  nextAwake(): number | undefined {
    return this.awake;
  }

  snapshot(): number {
    return this.reader.offset;
  }

  close(): void {
    this.reader.close();
  }
}
