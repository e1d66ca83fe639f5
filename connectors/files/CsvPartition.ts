import type { Options } from 'csv-parse';
import { EOF, type StatefulSourcePartition } from '../../src/inputs.js';
import { FileConnectorError, checkReadableFile, fsReason } from './errors.js';
import { CsvReader, type CsvRecordAt } from './CsvReader.js';
import { startOffset } from './position.js';

/**
 * Where a {@link CSVSource} partition resumes: the byte offset of the next record, and the number
 * of lines before it (for line numbers in messages).
 *
 * ## Example
 * ```ts
 * import type { CsvPosition } from 'weir/connectors/files';
 * const atStart: CsvPosition = { offset: 0, line: 0 };
 * ```
 */
export interface CsvPosition {
  /** Byte offset of the next record. */
  offset: number;
  /** Lines before `offset`. */
  line: number;
}

/**
 * A row that {@link CSVSource} skipped with `onError: 'skip-and-report'`, as its input step's
 * `.errors` stream carries it.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * import { CSVSource, FileSink, type CsvBadRow } from 'weir/connectors/files';
 * const rows = flow.pipe(op.input('rows', new CSVSource('data.csv', { onError: 'skip-and-report' })));
 * rows.errors.pipe(
 *   op.map('describe', (row: CsvBadRow) => `${row.path}:${row.line}: ${row.message}`),
 *   op.output('bad_rows', new FileSink('bad_rows.txt')),
 * );
 * ```
 */
export interface CsvBadRow {
  /** The full id of the input step. */
  readonly stepId: string;
  /** The file. */
  readonly path: string;
  /** The 1-based line the row starts on. */
  readonly line: number;
  /** The row's fields as parsed. */
  readonly fields: string[];
  /** What is wrong with it. */
  readonly message: string;
}

/** How a {@link CsvPartition} reads. @internal */
export interface CsvReadOptions {
  readonly batchSize: number;
  readonly chunkSize: number;
  readonly columns: string[] | undefined;
  readonly onError: 'fail' | 'skip-and-report';
  readonly parse: Options;
}

/**
 * One CSV file read record by record; its snapshot is the position just after the last record
 * handed out, which is always a record boundary.
 * @internal
 */
export class CsvPartition implements StatefulSourcePartition<Record<string, string>, CsvPosition, CsvBadRow> {
  private offset: number;
  private errors: CsvBadRow[] = [];
  private line: number;
  private done = false;

  private constructor(
    private readonly stepId: string,
    private readonly path: string,
    private readonly o: CsvReadOptions,
    private readonly columns: string[],
    private readonly reader: CsvReader,
    start: CsvPosition,
  ) {
    this.offset = start.offset;
    this.line = start.line;
  }

  /**
   * Checks the file, reads its header (from the start of the file, also on resume) and places the
   * reader at the resume position.
   */
  static async open(stepId: string, path: string, o: CsvReadOptions, resume: CsvPosition | undefined): Promise<CsvPartition> {
    const size = checkReadableFile(stepId, path);
    if (resume !== undefined && (typeof resume !== 'object' || resume === null || !Number.isSafeInteger(resume.line))) {
      throw new FileConnectorError(stepId, path, `the stored position for '${path}' is not a CSV position (got ${JSON.stringify(resume)}); start with a fresh recovery directory`);
    }
    const first = startOffset(stepId, path, size, undefined, 'record');
    let columns = o.columns;
    let reader = new CsvReader(path, first, 0, o.parse, o.chunkSize);
    let start: CsvPosition = { offset: first, line: 0 };
    if (columns === undefined) {
      const header = await readOne(stepId, path, reader);
      if (header === undefined) columns = [];
      else {
        columns = checkHeader(stepId, path, header.fields);
        start = { offset: header.end, line: header.endLine };
      }
    }
    if (resume !== undefined) {
      const offset = startOffset(stepId, path, size, resume.offset, 'record');
      if (offset < start.offset) {
        throw new FileConnectorError(stepId, path, `the stored byte offset ${offset} in '${path}' lies inside its header: the file was changed since the last snapshot`);
      }
      reader.close();
      start = { offset, line: resume.line };
      reader = new CsvReader(path, offset, resume.line, o.parse, o.chunkSize);
    }
    return new CsvPartition(stepId, path, o, columns, reader, start);
  }

  nextBatch(): Promise<Record<string, string>[] | typeof EOF> | typeof EOF {
    if (this.done) return EOF;
    return this.read();
  }

  private async read(): Promise<Record<string, string>[] | typeof EOF> {
    const out: Record<string, string>[] = [];
    const max = this.o.batchSize;
    const cols = this.columns;
    while (out.length < max) {
      const rec = this.reader.shift();
      if (rec === undefined) {
        if (!(await this.fill())) break;
        continue;
      }
      this.offset = rec.end;
      this.line = rec.endLine;
      const f = rec.fields;
      if (f.length !== cols.length) {
        this.badRow(rec);
        continue;
      }
      const obj: Record<string, string> = {};
      for (let i = 0; i < f.length; i++) obj[cols[i]!] = f[i]!;
      out.push(obj);
    }
    if (out.length === 0 && this.done) return EOF;
    return out;
  }

  private async fill(): Promise<boolean> {
    let more: boolean;
    try {
      more = await this.reader.fill();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code && !(err as { code: string }).code.startsWith('CSV_')) {
        throw new FileConnectorError(this.stepId, this.path, `reading '${this.path}' failed: ${fsReason(err)}`, { cause: err });
      }
      throw new FileConnectorError(this.stepId, this.path, `'${this.path}' is not valid CSV near line ${this.reader.line}: ${(err as Error).message}`, {
        line: this.reader.line,
        cause: err,
      });
    }
    if (!more) this.done = true;
    return more;
  }

  private badRow(rec: CsvRecordAt): void {
    const message = `expected ${this.columns.length} fields (as in the header), got ${rec.fields.length}`;
    if (this.o.onError === 'fail') {
      throw new FileConnectorError(
        this.stepId,
        this.path,
        `'${this.path}' line ${rec.line}: ${message}. Fix the row, or pass onError: 'skip-and-report' to skip such rows`,
        { line: rec.line },
      );
    }
    this.errors.push({ stepId: this.stepId, path: this.path, line: rec.line, fields: rec.fields, message });
  }

  takeErrors(): CsvBadRow[] {
    if (this.errors.length === 0) return NONE;
    const taken = this.errors;
    this.errors = [];
    return taken;
  }

  snapshot(): CsvPosition {
    return { offset: this.offset, line: this.line };
  }

  close(): void {
    this.reader.close();
  }
}

const NONE: CsvBadRow[] = [];

async function readOne(stepId: string, path: string, reader: CsvReader): Promise<CsvRecordAt | undefined> {
  for (;;) {
    const rec = reader.shift();
    if (rec !== undefined) return rec;
    let more: boolean;
    try {
      more = await reader.fill();
    } catch (err) {
      reader.close();
      throw new FileConnectorError(stepId, path, `cannot read the header of '${path}': ${(err as Error).message}`, { line: 1, cause: err });
    }
    if (!more) return undefined;
  }
}

function checkHeader(stepId: string, path: string, names: string[]): string[] {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) {
      throw new FileConnectorError(stepId, path, `the header of '${path}' names the column ${JSON.stringify(n)} twice; pass columns: [...] to name them yourself`, { line: 1 });
    }
    seen.add(n);
  }
  return names;
}
