/**
 * Creating the partition files of a new recovery store.
 *
 * @module
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RecoveryDirectoryError, RecoveryError } from './errors.js';
import { configureConnection, migrate } from './schema.js';

/** partitionFor is exact only below this many partitions. */
const MAX_PARTS = 1 << 20;

/**
 * Creates a recovery directory with `count` empty partition files.
 *
 * Makes `dbDir` (and its parents) if needed, then `part-0.sqlite3` ... `part-{count-1}.sqlite3`.
 * It refuses to touch a directory that already holds any `*.sqlite3` file. This is what
 * `weir recovery init DIR COUNT` runs.
 *
 * ## Example
 * ```ts
 * import { initDbDir, RecoveryConfig } from 'weir/recovery';
 *
 * initDbDir('db_dir', 3);
 * await runMain(flow, { recovery: new RecoveryConfig('db_dir') });
 * ```
 * @param dbDir the directory to create the partitions in
 * @param count how many partitions, an integer >= 1; more partitions spread snapshot writes
 * @throws {RecoveryError} on a bad count or when a partition file already exists
 */
export function initDbDir(dbDir: string, count: number): void {
  if (typeof dbDir !== 'string' || dbDir.length === 0) {
    throw new RecoveryError(`initDbDir: dbDir must be a non-empty string, got ${JSON.stringify(dbDir)}`);
  }
  if (!Number.isInteger(count) || count < 1 || count >= MAX_PARTS) {
    throw new RecoveryError(
      `initDbDir: count must be an integer from 1 to ${MAX_PARTS - 1}, got ${String(count)}`,
    );
  }
  try {
    mkdirSync(dbDir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new RecoveryDirectoryError(dbDir, 'not-a-directory', { cause: err });
    }
    throw err;
  }
  if (!statSync(dbDir).isDirectory()) throw new RecoveryDirectoryError(dbDir, 'not-a-directory');
  const existing = readdirSync(dbDir).filter((f) => f.endsWith('.sqlite3'));
  if (existing.length > 0) {
    throw new RecoveryError(
      `initDbDir: ${join(dbDir, existing.sort()[0]!)} already exists; refusing to overwrite a ` +
        'recovery store: delete the old part-*.sqlite3 files (and their -wal/-shm files) first, ' +
        'or choose another directory',
    );
  }
  for (let i = 0; i < count; i++) createPartition(join(dbDir, `part-${i}.sqlite3`), i, count);
}

/**
 * The page size of new partition files. A segment is a few large BLOBs, so larger pages than
 * SQLite's 4 KiB mean fewer pages to write, log and copy back: with 100,000 keys an epoch's commit
 * and the close that copies it into the file took 3–7 and 5–8 ms with 4 KiB pages, 2–4 and 3–4 ms
 * with these. A commit of a few keys writes a few pages, some 100 KiB to the log.
 * @internal
 */
export const PAGE_SIZE = 32768;

function createPartition(path: string, partIndex: number, partCount: number): void {
  const db = new Database(path);
  try {
    // Before anything is written: a file keeps the page size it is made with.
    db.pragma(`page_size = ${PAGE_SIZE}`);
    configureConnection(db);
    migrate(db);
    db.transaction(() => {
      db.prepare('INSERT INTO parts (part_index, part_count) VALUES (?, ?)').run(partIndex, partCount);
      db.prepare('INSERT INTO commits (part_index, commit_epoch) VALUES (?, 0)').run(partIndex);
    }).immediate();
  } finally {
    db.close();
  }
}
