/**
 * The user-facing recovery settings.
 *
 * @module
 */
import { RecoveryError } from './errors.js';
import { v8Serde, type Serde } from './serde.js';

/**
 * Where and how a dataflow keeps its recovery state.
 *
 * Pass it to `runMain` to snapshot keyed state and source positions into the partition files in
 * `dbDir`, and to resume from them after a crash. Create the files first with {@link initDbDir} or
 * `weir recovery init DIR N`.
 *
 * ## Example
 * ```ts
 * import { runMain } from 'weir';
 * import { RecoveryConfig } from 'weir/recovery';
 *
 * await runMain(flow, {
 *   epochInterval: 10_000,
 *   recovery: new RecoveryConfig('db_dir', { backupInterval: 60_000 }),
 * });
 * ```
 */
export class RecoveryConfig {
  /** The directory that holds the `part-<i>.sqlite3` files. */
  readonly dbDir: string;
  /**
   * How long, in milliseconds, old snapshots are kept after a newer one replaces them. Set it to at
   * least the time between backups of the partition files, so that files backed up at different
   * moments can still be restored together. Defaults to 0.
   */
  readonly backupInterval: number;
  /** How state values are turned into bytes. Defaults to {@link v8Serde}. */
  readonly serde: Serde;
  /**
   * From how many state changes in one epoch commits move to a background thread. From then on,
   * the flow goes on with the next epoch while SQLite writes the last one, and an epoch closes once
   * its interval has passed and the previous commit is done. Defaults to 10 000; 0 always writes
   * in the background, `Infinity` never.
   */
  readonly backgroundCommitFrom: number;

  /**
   * @param dbDir the recovery directory; must be a non-empty string
   * @param options `backupInterval` in milliseconds (finite, >= 0, default 0); `serde` (default
   *   {@link v8Serde}); `backgroundCommitFrom` (>= 0, default 10 000)
   * @throws {RecoveryError} when an argument is invalid
   */
  constructor(dbDir: string, options: { backupInterval?: number; serde?: Serde; backgroundCommitFrom?: number } = {}) {
    if (typeof dbDir !== 'string' || dbDir.length === 0) {
      throw new RecoveryError(
        `RecoveryConfig: dbDir must be a non-empty string, got ${JSON.stringify(dbDir)}; ` +
          'pass the directory made by `weir recovery init DIR N`',
      );
    }
    const backupInterval = options.backupInterval ?? 0;
    if (typeof backupInterval !== 'number' || !Number.isFinite(backupInterval) || backupInterval < 0) {
      throw new RecoveryError(
        `RecoveryConfig: backupInterval must be a finite number of milliseconds >= 0, got ${String(backupInterval)}`,
      );
    }
    const serde = options.serde ?? v8Serde;
    if (typeof serde?.serialize !== 'function' || typeof serde?.deserialize !== 'function') {
      throw new RecoveryError('RecoveryConfig: serde must have serialize() and deserialize() methods');
    }
    const backgroundCommitFrom = options.backgroundCommitFrom ?? 10_000;
    if (typeof backgroundCommitFrom !== 'number' || !(backgroundCommitFrom >= 0)) {
      throw new RecoveryError(
        `RecoveryConfig: backgroundCommitFrom must be a number of state changes >= 0 (or Infinity), got ${String(backgroundCommitFrom)}`,
      );
    }
    this.backgroundCommitFrom = backgroundCommitFrom;
    this.dbDir = dbDir;
    this.backupInterval = backupInterval;
    this.serde = serde;
  }
}
