import { join } from 'node:path';
import { WeirError } from '../../src/errors.js';
import { FixedPartitionedSink, type StatefulSinkPartition } from '../../src/outputs.js';
import { stableHash64 } from '../../src/recovery/hash.js';
import { checkWritablePath } from './errors.js';
import { type FileSinkOptions, sinkOptions } from './FileSink.js';
import { FileSinkPartition } from './FileSinkPartition.js';

/**
 * Options of {@link DirSink}.
 *
 * ## Example
 * ```ts
 * import { DirSink, type DirSinkOptions } from 'weir/connectors/files';
 * const options: DirSinkOptions<number> = {
 *   fileNamer: (i, n) => `counts-${i}-of-${n}.txt`,
 *   assignFile: (key) => (key < 'n' ? 0 : 1),
 * };
 * const sink = new DirSink('out', 2, options);
 * ```
 */
export interface DirSinkOptions<V> {
  /** The name of file `index` of `count`. Default `part_<index>`. */
  fileNamer?: (index: number, count: number) => string;
  /** Which file (0 to fileCount - 1) a key's values go to. Default: a stable hash of the key. */
  assignFile?: (key: string) => number;
  /** Turns a value into its line. Default: strings as they are, anything else as JSON. */
  format?: (value: V) => string;
  /** As {@link FileSinkOptions.bufferSize}, per file. Default 1 MiB. */
  bufferSize?: number;
}

/**
 * Writes a keyed stream's values into a fixed number of files in a directory, exactly once when
 * recovery is on: the partitioned version of {@link FileSink}.
 *
 * Each `[key, value]` item goes to the file `assignFile(key)` picks, as one line of its value. The
 * files are the sink's partitions, named by `fileNamer`, each written and resumed as a
 * {@link FileSink} does. The directory must exist.
 *
 * Delivery: exactly-once with recovery. On resume each file is truncated to the byte length stored
 * with the last complete epoch, and the replayed epochs write it again.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * import { DirSink } from 'weir/connectors/files';
 * counts.pipe(op.output('out', new DirSink<number>('out', 4)));
 * ```
 */
export class DirSink<V = unknown> extends FixedPartitionedSink<[string, V], number> {
  private readonly names: string[];
  private readonly assign: (key: string) => number;
  private readonly line: (item: [string, V]) => string;
  private readonly bufferSize: number;

  /**
   * @param dir the output directory
   * @param fileCount how many files
   * @param options file names, key-to-file assignment and line format
   */
  constructor(
    readonly dir: string,
    readonly fileCount: number,
    options: DirSinkOptions<V> = {},
  ) {
    super();
    if (!Number.isInteger(fileCount) || fileCount < 1) throw new WeirError(`DirSink: fileCount must be an integer >= 1, got ${String(fileCount)}`);
    const namer = options.fileNamer ?? ((i: number) => `part_${i}`);
    this.names = Array.from({ length: fileCount }, (_, i) => namer(i, fileCount));
    if (this.names.some((n) => typeof n !== 'string' || n === '') || new Set(this.names).size !== fileCount) {
      throw new WeirError(`DirSink: fileNamer must give ${fileCount} distinct non-empty names, got ${JSON.stringify(this.names)}`);
    }
    this.assign = options.assignFile ?? ((key) => Number(stableHash64(key) % BigInt(fileCount)));
    const { line, bufferSize } = sinkOptions<V>('DirSink', options);
    this.line = (item) => line(item[1]);
    this.bufferSize = bufferSize;
  }

  /**
   * The file names.
   * @returns `fileNamer(i, fileCount)` for each file
   */
  listParts(): string[] {
    return this.names;
  }

  /**
   * The file an item goes to.
   * @param item a `[key, value]` pair
   * @returns `assignFile(key)`
   */
  override partFn(item: [string, V]): number {
    const key = Array.isArray(item) ? item[0] : undefined;
    if (typeof key !== 'string') throw new TypeError(`DirSink needs [key, value] items with a string key, got ${JSON.stringify(item)}`);
    const i = this.assign(key);
    if (!Number.isInteger(i) || i < 0 || i >= this.fileCount) {
      throw new TypeError(`DirSink: assignFile(${JSON.stringify(key)}) must return an integer from 0 to ${this.fileCount - 1}, got ${String(i)}`);
    }
    return i;
  }

  /**
   * Opens one file: empties it on a fresh start, truncates it to `resumeState` on resume.
   * @param stepId the output step's id, for error messages
   * @param forPart the file name
   * @param resumeState the byte length stored with the last complete epoch, or `undefined`
   * @returns the partition
   */
  buildPart(stepId: string, forPart: string, resumeState: number | undefined): StatefulSinkPartition<[string, V], number> {
    const path = join(this.dir, forPart);
    checkWritablePath(stepId, path);
    return new FileSinkPartition<[string, V]>(stepId, path, resumeState, this.line, this.bufferSize);
  }
}
