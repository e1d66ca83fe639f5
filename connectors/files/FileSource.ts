import { FixedPartitionedSource, type StatefulSourcePartition } from '../../src/inputs.js';
import { FilePartition, type LineReadOptions } from './FilePartition.js';
import { type FileSourceOptions, lineOptions } from './options.js';

/**
 * Reads a text file line by line, resumable by byte offset.
 *
 * Each item is one line without its line ending (`\n` or `\r\n`); a last line with no newline is
 * read too, and a UTF-8 byte order mark at the start is skipped. The file is read in chunks, so
 * memory stays bounded whatever its size. With `tail`, the source never ends: at the end of the
 * file it polls every `pollInterval` ms (without busy waiting) for appended lines, and holds back
 * a last line until its newline arrives.
 *
 * The one partition is named by the path. Its snapshot is the byte offset of the next line.
 *
 * Delivery: exactly-once state with recovery. On resume, reading restarts at the offset stored
 * with the last complete epoch, so the lines after it are read again and none is skipped. A
 * stored offset past the end of the file, or not at the start of a line, means the file changed:
 * it is reported with an error naming the step and the path, never read from.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { FileSource, FileSink } from 'weir/connectors/files';
 *
 * const flow = new Dataflow('upper');
 * flow.pipe(
 *   op.input('lines', new FileSource('input.txt', { batchSize: 1000 })),
 *   op.map('upper', (line: string) => line.toUpperCase()),
 *   op.output('out', new FileSink('output.txt')),
 * );
 * ```
 */
export class FileSource extends FixedPartitionedSource<string, number> {
  private readonly o: LineReadOptions;

  /**
   * @param path the file to read
   * @param options batch size, `tail`, poll interval and chunk size
   */
  constructor(
    readonly path: string,
    options: FileSourceOptions = {},
  ) {
    super();
    this.o = lineOptions('FileSource', options);
  }

  /**
   * The one partition, named by the path.
   * @returns `[path]`
   */
  listParts(): string[] {
    return [this.path];
  }

  /**
   * Opens the file, checks it and the resume offset.
   * @param stepId the input step's id, for error messages
   * @param _forPart the path
   * @param resumeState the byte offset to resume at, or `undefined` to start at the beginning
   * @returns the partition
   */
  buildPart(stepId: string, _forPart: string, resumeState: number | undefined): StatefulSourcePartition<string, number> {
    return new FilePartition(stepId, this.path, this.o, resumeState);
  }
}
