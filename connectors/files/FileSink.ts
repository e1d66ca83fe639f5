import { WeirError } from '../../src/errors.js';
import { FixedPartitionedSink, type StatefulSinkPartition } from '../../src/outputs.js';
import { checkWritablePath } from './errors.js';
import { FileSinkPartition, defaultLine } from './FileSinkPartition.js';

/**
 * Options of {@link FileSink}.
 *
 * ## Example
 * ```ts
 * import { FileSink, type FileSinkOptions } from 'weir/connectors/files';
 * const options: FileSinkOptions<[string, number]> = { format: ([k, n]) => `${k}\t${n}` };
 * const sink = new FileSink('counts.tsv', options);
 * ```
 */
export interface FileSinkOptions<T> {
  /** Turns an item into its line (without the newline). Default: strings as they are, anything else as JSON. */
  format?: (item: T) => string;
  /**
   * How much text to gather before writing, in characters; everything is written and fsynced
   * when the epoch closes anyway. 0 writes every batch as it comes. Default 1 MiB.
   */
  bufferSize?: number;
}

/** Fills in and checks the sink options. @internal */
export function sinkOptions<T>(who: string, o: FileSinkOptions<T>): { line: (item: T) => string; bufferSize: number } {
  const bufferSize = o.bufferSize ?? 1 << 20;
  if (typeof bufferSize !== 'number' || !Number.isInteger(bufferSize) || bufferSize < 0) {
    throw new WeirError(`${who}: bufferSize must be an integer >= 0, got ${JSON.stringify(o.bufferSize)}`);
  }
  return { line: o.format ?? (defaultLine as (item: T) => string), bufferSize };
}

/**
 * Writes each item as one line of a file, exactly once when recovery is on.
 *
 * Lines are appended as epochs pass; when an epoch closes the file is flushed and fsynced, and
 * its byte length is the partition's snapshot. A fresh start (no stored snapshot) empties the
 * file. The one partition is named by the path; the file's directory must exist.
 *
 * Delivery: exactly-once with recovery. On resume the file is truncated to the length stored with
 * the last complete epoch, which drops whatever an interrupted epoch had written, and the replayed
 * epochs write it again: the file ends byte for byte as an uninterrupted run leaves it (given a
 * flow whose output does not depend on timing). A file found shorter than the stored length is
 * reported, never written to.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { FileSource, FileSink } from 'weir/connectors/files';
 *
 * const flow = new Dataflow('copy');
 * flow.pipe(op.input('in', new FileSource('in.txt')), op.output('out', new FileSink('out.txt')));
 * ```
 */
export class FileSink<T = unknown> extends FixedPartitionedSink<T, number> {
  private readonly o: { line: (item: T) => string; bufferSize: number };

  /**
   * @param path the output file
   * @param options the line format and buffer size
   */
  constructor(
    readonly path: string,
    options: FileSinkOptions<T> = {},
  ) {
    super();
    this.o = sinkOptions('FileSink', options);
  }

  /**
   * The one partition, named by the path.
   * @returns `[path]`
   */
  listParts(): string[] {
    return [this.path];
  }

  /**
   * Opens the file: empties it on a fresh start, truncates it to `resumeState` on resume.
   * @param stepId the output step's id, for error messages
   * @param _forPart the path
   * @param resumeState the byte length stored with the last complete epoch, or `undefined`
   * @returns the partition
   */
  buildPart(stepId: string, _forPart: string, resumeState: number | undefined): StatefulSinkPartition<T, number> {
    checkWritablePath(stepId, this.path);
    return new FileSinkPartition<T>(stepId, this.path, resumeState, this.o.line, this.o.bufferSize);
  }
}
