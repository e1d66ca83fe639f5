import { statSync } from 'node:fs';
import { join } from 'node:path';
import { FixedPartitionedSource, type StatefulSourcePartition } from '../../src/inputs.js';
import { fsReason } from './errors.js';
import { FilePartition, type LineReadOptions } from './FilePartition.js';
import { listMatching } from './glob.js';
import { type FileSourceOptions, lineOptions } from './options.js';

/**
 * Reads every file of a directory that matches a glob, line by line: one partition per file.
 *
 * Partitions are named by the file's path relative to `dir` (with `/` separators), so with
 * several workers the files spread over them, and each file resumes from its own offset. Files
 * are listed when the flow starts; a file added later is read by the next run, from its start.
 * Each file is read as {@link FileSource} reads one, and is open only while it is being read.
 *
 * Delivery: exactly-once state with recovery. On resume each file restarts at the byte offset
 * stored with the last complete epoch; a file that shrank since is reported, never read from a
 * wrong position.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { DirSource } from 'weir/connectors/files';
 *
 * const flow = new Dataflow('logs');
 * const lines = flow.pipe(op.input('logs', new DirSource('logs', '*.log')));
 * ```
 */
export class DirSource extends FixedPartitionedSource<string, number> {
  private readonly o: LineReadOptions;

  /**
   * @param dir the directory
   * @param glob which files, relative to `dir`: `*` within a directory, `**` across them,
   *   `?`, `[abc]` and `{a,b}`. Default `**` (every file, recursively)
   * @param options as {@link FileSource}'s, for each file
   */
  constructor(
    readonly dir: string,
    readonly glob = '**',
    options: FileSourceOptions = {},
  ) {
    super();
    this.o = lineOptions('DirSource', options);
  }

  /**
   * Lists the matching files.
   * @returns their paths relative to `dir`, sorted
   */
  listParts(): string[] {
    let isDir: boolean;
    try {
      isDir = statSync(this.dir).isDirectory();
    } catch (err) {
      throw new Error(`cannot read the directory '${this.dir}': ${fsReason(err)}`, { cause: err });
    }
    if (!isDir) throw new Error(`'${this.dir}' is not a directory; use FileSource for a single file`);
    const files = listMatching(this.dir, this.glob);
    if (files.length === 0) throw new Error(`no file in '${this.dir}' matches '${this.glob}'`);
    return files;
  }

  /**
   * Checks one file and its resume offset.
   * @param stepId the input step's id, for error messages
   * @param forPart the file's path relative to `dir`
   * @param resumeState the byte offset to resume at, or `undefined` to start at the beginning
   * @returns the partition
   */
  buildPart(stepId: string, forPart: string, resumeState: number | undefined): StatefulSourcePartition<string, number> {
    return new FilePartition(stepId, join(this.dir, forPart), this.o, resumeState);
  }
}
