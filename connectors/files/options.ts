import { WeirError } from '../../src/errors.js';
import type { LineReadOptions } from './FilePartition.js';

/**
 * Options of {@link FileSource} and {@link DirSource}.
 *
 * ## Example
 * ```ts
 * import { FileSource, type FileSourceOptions } from 'weir/connectors/files';
 * const options: FileSourceOptions = { batchSize: 500, tail: true, pollInterval: 250 };
 * const src = new FileSource('app.log', options);
 * ```
 */
export interface FileSourceOptions {
  /** The most lines per batch. Default 1000. */
  batchSize?: number;
  /** Follow the file as it grows instead of ending at its end, as `tail -f` does. Default false. */
  tail?: boolean;
  /** With `tail`, how long to wait before looking for new lines again, in ms. Default 200. */
  pollInterval?: number;
  /** How many bytes to read at a time; a longer line grows the buffer. Default 256 KiB. */
  chunkSize?: number;
}

/** Checks a positive integer option. @internal */
export function positiveInt(who: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new WeirError(`${who}: ${name} must be an integer >= 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Fills in and checks the options of a line source. @internal */
export function lineOptions(who: string, o: FileSourceOptions): LineReadOptions {
  const pollInterval = o.pollInterval ?? 200;
  if (typeof pollInterval !== 'number' || !(pollInterval >= 0) || !Number.isFinite(pollInterval)) {
    throw new WeirError(`${who}: pollInterval must be a number of ms >= 0, got ${JSON.stringify(o.pollInterval)}`);
  }
  return {
    batchSize: positiveInt(who, 'batchSize', o.batchSize, 1000),
    tail: o.tail === true,
    pollInterval,
    chunkSize: positiveInt(who, 'chunkSize', o.chunkSize, 256 * 1024),
  };
}
