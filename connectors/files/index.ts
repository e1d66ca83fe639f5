/**
 * File connectors: resumable line, directory and CSV sources, and exactly-once file sinks.
 *
 * Sources resume by byte offset; sinks truncate to their stored length on resume, so with
 * recovery on a flow's output files end byte for byte as an uninterrupted run leaves them.
 *
 * ## Example
 * ```ts
 * import { CSVSource, DirSink, DirSource, FileSink, FileSource } from 'weir/connectors/files';
 * ```
 * @module
 */
export { FileSource } from './FileSource.js';
export { DirSource } from './DirSource.js';
export { CSVSource, type CSVSourceOptions } from './CSVSource.js';
export type { CsvBadRow, CsvPosition } from './CsvPartition.js';
export type { FileSourceOptions } from './options.js';
export { FileSink, type FileSinkOptions } from './FileSink.js';
export { DirSink, type DirSinkOptions } from './DirSink.js';
export { FileConnectorError } from './errors.js';
