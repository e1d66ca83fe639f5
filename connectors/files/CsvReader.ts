import { closeSync, openSync } from 'node:fs';
import { type CsvError, type InfoRecord, type Options, Parser } from 'csv-parse';
import { readChunk } from './readChunk.js';

/** A parsed CSV record with where it lies in the file. @internal */
export interface CsvRecordAt {
  fields: string[];
  /** Byte offset just after the record (and its line ending). */
  end: number;
  /** Lines consumed up to `end`, counted from the start of the file. */
  endLine: number;
  /** The 1-based line the record starts on. */
  line: number;
}

/**
 * Feeds a file to csv-parse chunk by chunk, from a byte offset that starts a record, and queues
 * the records with the byte offset just after each: the position to resume from. Only one chunk
 * and the records parsed from it are held in memory.
 *
 * Line numbers are csv-parse's (a `\r\n` inside a quoted field counts as two lines).
 * @internal
 */
export class CsvReader {
  private fd: number | undefined;
  private readonly parser: Parser;
  private readonly queue: CsvRecordAt[] = [];
  private head = 0;
  /** File position of the next chunk to read. */
  private pos: number;
  private ended = false;
  private prevEnd: number;
  private prevSkipped = 0;

  /**
   * @param path the file
   * @param start a byte offset at the start of a record
   * @param startLine the number of lines before `start`
   * @param options csv-parse options (field delimiter, quote...), without callbacks
   */
  constructor(
    private readonly path: string,
    private readonly start: number,
    private readonly startLine: number,
    options: Options,
    private readonly chunkSize: number,
  ) {
    this.pos = start;
    this.prevEnd = startLine;
    this.parser = new Parser({
      ...options,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: false,
      encoding: 'utf8',
      on_record: (fields: string[], info: InfoRecord) => {
        const skipped = info.empty_lines + info.comment_lines;
        const endLine = this.startLine + info.lines;
        this.queue.push({ fields, end: this.start + info.bytes, endLine, line: this.prevEnd + 1 + skipped - this.prevSkipped });
        this.prevEnd = endLine;
        this.prevSkipped = skipped;
        return null;
      },
    });
  }

  /** The next queued record, or `undefined` when the queue is empty (call {@link fill}). */
  shift(): CsvRecordAt | undefined {
    const q = this.queue;
    if (this.head < q.length) return q[this.head++];
    if (this.head > 0) {
      q.length = 0;
      this.head = 0;
    }
    return undefined;
  }

  /** The 1-based line the parser is at, for error messages. */
  get line(): number {
    return this.startLine + this.parser.info.lines;
  }

  /**
   * Reads and parses the next chunk. At the end of the file it flushes the parser, which queues
   * a last record that has no line ending.
   * @returns false once the whole file has been parsed
   */
  async fill(): Promise<boolean> {
    if (this.ended) return false;
    this.fd ??= openSync(this.path, 'r');
    // A fresh buffer per chunk: the parser keeps a view of an unfinished record's bytes.
    const buf = Buffer.allocUnsafe(this.chunkSize);
    const n = await readChunk(this.fd, buf, 0, buf.length, this.pos);
    this.pos += n;
    let error: CsvError | Error | undefined | null;
    const done = (err?: Error | null) => {
      error = err;
    };
    if (n > 0) {
      this.parser._transform(buf.subarray(0, n), 'buffer' as BufferEncoding, done);
    } else {
      this.ended = true;
      this.parser._flush(done);
      this.close();
    }
    if (error) throw error;
    return true;
  }

  /** Closes the file. */
  close(): void {
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      closeSync(fd);
    }
  }
}
