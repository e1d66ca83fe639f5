import { WeirError } from '../../src/errors.js';
import { FixedPartitionedSource, type StatefulSourcePartition } from '../../src/inputs.js';
import { type CsvBadRow, CsvPartition, type CsvPosition, type CsvReadOptions } from './CsvPartition.js';
import { positiveInt } from './options.js';

/**
 * Options of {@link CSVSource}.
 *
 * ## Example
 * ```ts
 * import { CSVSource, type CSVSourceOptions } from 'weir/connectors/files';
 * const options: CSVSourceOptions = { delimiter: ';', onError: 'skip-and-report' };
 * const src = new CSVSource('data.csv', options);
 * ```
 */
export interface CSVSourceOptions {
  /** The most records per batch. Default 1000. */
  batchSize?: number;
  /** The field delimiter. Default `,`. */
  delimiter?: string;
  /** The quote character. Default `"`. */
  quote?: string;
  /** The escape character inside quotes. Default `"` (a doubled quote). */
  escape?: string;
  /** Lines starting with this character are comments and skipped. Default: none. */
  comment?: string;
  /** Trim white space around fields. Default false. */
  trim?: boolean;
  /** Column names for a file without a header row; its first row is then data. Default: read the header. */
  columns?: string[];
  /**
   * What to do with a row whose field count differs from the header's: `'fail'` (the default)
   * stops the run with an error giving the line number; `'skip-and-report'` skips the row and
   * sends it, as a {@link CsvBadRow}, down the input step's `.errors` stream. Malformed quoting
   * always fails.
   */
  onError?: 'fail' | 'skip-and-report';
  /** How many bytes to read at a time. Default 64 KiB. */
  chunkSize?: number;
}

/**
 * Reads a CSV file as records: one object per row, keyed by the header's column names.
 *
 * Parsing is csv-parse's, so quoted fields may hold delimiters, quotes and line breaks, and
 * `\n` and `\r\n` line endings both work; empty lines are skipped and a UTF-8 byte order mark at
 * the start is dropped. The file is read in chunks with bounded memory. Values are strings.
 *
 * The one partition is named by the path. Its snapshot is a {@link CsvPosition}: the byte offset
 * just after the last record handed out, always a record boundary. With
 * `onError: 'skip-and-report'`, rows with the wrong number of fields go down the input step's
 * `.errors` stream as {@link CsvBadRow}s instead of stopping the run.
 *
 * Delivery: exactly-once state with recovery. On resume the header is read again from the start
 * of the file, then reading continues at the stored record boundary. A stored offset past the end
 * of the file, or not at a line start, means the file changed: it is reported, never read from.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { CSVSource, FileSink } from 'weir/connectors/files';
 *
 * const flow = new Dataflow('totals');
 * flow.pipe(
 *   op.input('rows', new CSVSource('sales.csv')),
 *   op.map('line', (row: Record<string, string>) => `${row.region},${row.amount}`),
 *   op.output('out', new FileSink('totals.csv')),
 * );
 * ```
 */
export class CSVSource extends FixedPartitionedSource<Record<string, string>, CsvPosition, CsvBadRow> {
  private readonly o: CsvReadOptions;

  /**
   * @param path the CSV file
   * @param options delimiter, quote, header, error handling, batch size
   */
  constructor(
    readonly path: string,
    options: CSVSourceOptions = {},
  ) {
    super();
    const onError = options.onError ?? 'fail';
    if (onError !== 'fail' && onError !== 'skip-and-report') {
      throw new WeirError(`CSVSource: onError must be 'fail' or 'skip-and-report', got ${JSON.stringify(options.onError)}`);
    }
    if (options.columns !== undefined && (!Array.isArray(options.columns) || options.columns.some((c) => typeof c !== 'string'))) {
      throw new WeirError('CSVSource: columns must be an array of strings');
    }
    this.o = {
      batchSize: positiveInt('CSVSource', 'batchSize', options.batchSize, 1000),
      chunkSize: positiveInt('CSVSource', 'chunkSize', options.chunkSize, 64 * 1024),
      columns: options.columns,
      onError,
      parse: {
        delimiter: options.delimiter ?? ',',
        quote: options.quote ?? '"',
        escape: options.escape ?? '"',
        comment: options.comment,
        trim: options.trim ?? false,
      },
    };
  }

  /**
   * The one partition, named by the path.
   * @returns `[path]`
   */
  listParts(): string[] {
    return [this.path];
  }

  /**
   * Checks the file, reads its header and places the reader at the resume position.
   * @param stepId the input step's id, for error messages
   * @param _forPart the path
   * @param resumeState where to resume, or `undefined` to start after the header
   * @returns the partition
   */
  buildPart(
    stepId: string,
    _forPart: string,
    resumeState: CsvPosition | undefined,
  ): Promise<StatefulSourcePartition<Record<string, string>, CsvPosition, CsvBadRow>> {
    return CsvPartition.open(stepId, this.path, this.o, resumeState);
  }
}
