/**
 * The errors the recovery store raises. Each message says what went wrong and what to do.
 *
 * @module
 */
import { WeirError } from '../errors.js';

const RESTORE_HINT =
  'restore all part-* files from the same backup, together with their -wal/-shm files';

/**
 * The base class of every recovery store error.
 *
 * Catch it to handle any problem with the recovery directory or its partition files.
 *
 * ## Example
 * ```ts
 * import { RecoveryError } from 'weir/recovery';
 * try {
 *   await runMain(flow, { recovery });
 * } catch (err) {
 *   if (err instanceof RecoveryError) console.error(`recovery: ${err.message}`);
 * }
 * ```
 * @param message what went wrong and what to do about it
 * @param options `cause`, `retriable`
 */
export class RecoveryError extends WeirError {
  override name = 'RecoveryError';
}

/**
 * The recovery directory does not exist, or is not a directory.
 *
 * Raised when opening the store; `initDbDir` raises it when the path is a file.
 *
 * ## Example
 * ```ts
 * import { RecoveryDirectoryError } from 'weir/recovery';
 * // err.dbDir is the path that was given
 * if (err instanceof RecoveryDirectoryError) console.error(err.dbDir);
 * ```
 * @param dbDir the path given as recovery directory
 * @param problem `missing` or `not-a-directory`
 */
export class RecoveryDirectoryError extends RecoveryError {
  override name = 'RecoveryDirectoryError';
  /** The path given as recovery directory. */
  readonly dbDir: string;

  constructor(dbDir: string, problem: 'missing' | 'not-a-directory', options: { cause?: unknown } = {}) {
    super(
      problem === 'missing'
        ? `recovery directory ${dbDir} does not exist: create it and its partitions with ` +
            `\`weir recovery init ${dbDir} N\` (or initDbDir), or fix the path`
        : `recovery directory ${dbDir} is not a directory: point the recovery directory at the ` +
            `folder made by \`weir recovery init DIR N\``,
      options,
    );
    this.dbDir = dbDir;
  }
}

/**
 * The recovery directory holds no `*.sqlite3` partition files.
 *
 * ## Example
 * ```ts
 * import { initDbDir, NoPartitionsError } from 'weir/recovery';
 * // on NoPartitionsError, create the partitions and run again:
 * initDbDir('db_dir', 1);
 * ```
 * @param dbDir the recovery directory
 */
export class NoPartitionsError extends RecoveryError {
  override name = 'NoPartitionsError';
  /** The recovery directory. */
  readonly dbDir: string;

  constructor(dbDir: string) {
    super(
      `no recovery partitions (*.sqlite3 files) in ${dbDir}: run \`weir recovery init ${dbDir} N\` ` +
        '(or initDbDir) to create N partitions, or restore the part-* files from a backup',
    );
    this.dbDir = dbDir;
  }
}

/**
 * A `*.sqlite3` file in the recovery directory is not a weir partition: not SQLite at all, SQLite
 * without weir's tables, or with a broken `parts` row.
 *
 * ## Example
 * ```ts
 * import { NotAPartitionError } from 'weir/recovery';
 * if (err instanceof NotAPartitionError) console.error(`move ${err.path} out of the way`);
 * ```
 * @param path the offending file
 * @param reason why it is not a partition
 */
export class NotAPartitionError extends RecoveryError {
  override name = 'NotAPartitionError';
  /** The offending file. */
  readonly path: string;

  constructor(path: string, reason: string, options: { cause?: unknown } = {}) {
    super(
      `${path} is not a weir recovery partition (${reason}): move it out of the recovery ` +
        `directory, or ${RESTORE_HINT}`,
      options,
    );
    this.path = path;
  }
}

/**
 * A partition file was written by a newer weir whose schema this version does not know.
 *
 * ## Example
 * ```ts
 * import { UnsupportedSchemaVersionError } from 'weir/recovery';
 * if (err instanceof UnsupportedSchemaVersionError) console.error(err.version, err.supported);
 * ```
 * @param path the partition file
 * @param version the schema version found in the file
 * @param supported the newest version this code knows
 */
export class UnsupportedSchemaVersionError extends RecoveryError {
  override name = 'UnsupportedSchemaVersionError';
  /** The partition file. */
  readonly path: string;
  /** The schema version found in the file. */
  readonly version: number;
  /** The newest schema version this code knows. */
  readonly supported: number;

  constructor(path: string, version: number, supported: number) {
    super(
      `${path} has recovery schema version ${version}, but this weir only knows versions up to ` +
        `${supported}: upgrade weir to the version that wrote it; do not open it with an older one`,
    );
    this.path = path;
    this.version = version;
    this.supported = supported;
  }
}

/**
 * The partition files disagree on how many partitions there are.
 *
 * ## Example
 * ```ts
 * import { MixedPartitionCountsError } from 'weir/recovery';
 * if (err instanceof MixedPartitionCountsError) console.error(err.counts);
 * ```
 * @param dbDir the recovery directory
 * @param counts each file and the partition count it claims
 */
export class MixedPartitionCountsError extends RecoveryError {
  override name = 'MixedPartitionCountsError';
  /** The recovery directory. */
  readonly dbDir: string;
  /** Each file and the partition count it claims. */
  readonly counts: ReadonlyArray<{ path: string; partCount: number }>;

  constructor(dbDir: string, counts: ReadonlyArray<{ path: string; partCount: number }>) {
    const list = counts.map((c) => `${c.path}: ${c.partCount}`).join(', ');
    super(
      `the partitions in ${dbDir} belong to stores of different sizes (${list}): keep only the ` +
        `files of one store in the directory; ${RESTORE_HINT}`,
    );
    this.dbDir = dbDir;
    this.counts = counts;
  }
}

/**
 * Some partition indices of the store have no file: a gap in `0 .. count-1`.
 *
 * ## Example
 * ```ts
 * import { MissingPartitionsError } from 'weir/recovery';
 * if (err instanceof MissingPartitionsError) console.error(`missing ${err.missing.join(', ')}`);
 * ```
 * @param dbDir the recovery directory
 * @param partCount the store's partition count
 * @param missing the indices with no file
 */
export class MissingPartitionsError extends RecoveryError {
  override name = 'MissingPartitionsError';
  /** The recovery directory. */
  readonly dbDir: string;
  /** The store's partition count. */
  readonly partCount: number;
  /** The partition indices that have no file. */
  readonly missing: readonly number[];

  constructor(dbDir: string, partCount: number, missing: readonly number[]) {
    super(
      `${dbDir} is missing recovery partition(s) ${missing.join(', ')} of ${partCount}: ` +
        `${RESTORE_HINT}; state in the missing partitions cannot be recovered otherwise`,
    );
    this.dbDir = dbDir;
    this.partCount = partCount;
    this.missing = missing;
  }
}

/**
 * Two or more files in the recovery directory claim the same partition index.
 *
 * ## Example
 * ```ts
 * import { DuplicatePartitionsError } from 'weir/recovery';
 * if (err instanceof DuplicatePartitionsError) console.error(err.paths);
 * ```
 * @param partIndex the index claimed more than once
 * @param paths the files that claim it
 */
export class DuplicatePartitionsError extends RecoveryError {
  override name = 'DuplicatePartitionsError';
  /** The partition index claimed more than once. */
  readonly partIndex: number;
  /** The files that claim it. */
  readonly paths: readonly string[];

  constructor(partIndex: number, paths: readonly string[]) {
    super(
      `files ${paths.join(' and ')} are all partition ${partIndex}: keep exactly one file per ` +
        `partition in the recovery directory; ${RESTORE_HINT}`,
    );
    this.partIndex = partIndex;
    this.paths = paths;
  }
}

/**
 * One partition's GC watermark, as reported by {@link InconsistentPartitionsError}.
 *
 * The watermark is the epoch up to which the partition's old snapshots have been deleted.
 *
 * ## Example
 * ```ts
 * import { InconsistentPartitionsError, type PartitionWatermark } from 'weir/recovery';
 * if (err instanceof InconsistentPartitionsError) {
 *   const newest: PartitionWatermark[] = [...err.partitions];
 *   for (const p of newest) console.error(`${p.path} collected up to epoch ${p.commitEpoch}`);
 * }
 * ```
 */
export interface PartitionWatermark {
  /** The partition's index. */
  partIndex: number;
  /** Its file. */
  path: string;
  /** Its GC watermark (`commits.commit_epoch`). */
  commitEpoch: number;
}

/**
 * A partition has already garbage-collected snapshots that the resume epoch needs.
 *
 * This happens when one partition file was restored from an older backup than the others, and the
 * others were collected beyond that backup's epoch.
 *
 * ## Example
 * ```ts
 * import { InconsistentPartitionsError } from 'weir/recovery';
 * if (err instanceof InconsistentPartitionsError) {
 *   console.error(err.resumeEpoch, err.partitions.map((p) => p.path));
 * }
 * ```
 * @param resumeEpoch the epoch the store would resume from
 * @param partitions the partitions whose watermark is at or beyond it
 * @param laggards the partitions whose frontier set the resume epoch
 */
export class InconsistentPartitionsError extends RecoveryError {
  override name = 'InconsistentPartitionsError';
  /** The epoch the store would resume from. */
  readonly resumeEpoch: number;
  /** The partitions whose GC watermark is at or beyond the resume epoch. */
  readonly partitions: readonly PartitionWatermark[];

  constructor(resumeEpoch: number, partitions: readonly PartitionWatermark[], laggards: readonly string[]) {
    const list = partitions
      .map((p) => `partition ${p.partIndex} (${p.path}) has GC watermark ${p.commitEpoch}`)
      .join('; ');
    super(
      `recovery partitions are inconsistent: the store must resume at epoch ${resumeEpoch} ` +
        `(set by ${laggards.join(', ')}), but ${list}, so snapshots that epoch needs are gone. ` +
        `One partition file comes from an older backup than the others: ${RESTORE_HINT}, ` +
        'or run with a backup interval at least as long as the time between backups',
    );
    this.resumeEpoch = resumeEpoch;
    this.partitions = partitions;
  }
}
