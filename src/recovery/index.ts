/**
 * Recovery: snapshotting keyed state into SQLite partition files and resuming from them.
 *
 * @module
 */
export { RecoveryConfig } from './config.js';
export { initDbDir } from './initDbDir.js';
export {
  DuplicatePartitionsError,
  InconsistentPartitionsError,
  MissingPartitionsError,
  MixedPartitionCountsError,
  NoPartitionsError,
  NotAPartitionError,
  RecoveryDirectoryError,
  RecoveryError,
  UnsupportedSchemaVersionError,
  type PartitionWatermark,
} from './errors.js';
export { RecoveryStore, type SnapshotRecord } from './store.js';
export { v8Serde, type Serde } from './serde.js';
export { partitionFor, stableHash64 } from './hash.js';
export { inspectStore, type PartitionSummary, type StoredState } from './inspect.js';
