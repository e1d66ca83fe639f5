/**
 * The partition file schema and its versioned migrations.
 *
 * `PRAGMA user_version` holds the schema version. A file at version v is brought to
 * {@link SCHEMA_VERSION} by running `MIGRATIONS[v + 1]`, `MIGRATIONS[v + 2]`, ... each in its own
 * transaction. Never edit a released migration: add the next one.
 *
 * @internal
 * @module
 */
import type Database from 'better-sqlite3';
import { blobOf, lengthsBlob, segmentLimits, segmentsOf, splitSegment } from './segment.js';
import { SnapshotPacker } from './SnapshotPacker.js';

type Db = Database.Database;

/** The newest schema version this code writes and reads. */
export const SCHEMA_VERSION = 2;

const V1 = `
CREATE TABLE parts (
  part_index INTEGER NOT NULL,
  part_count INTEGER NOT NULL
) STRICT;
CREATE TABLE exs (
  ex_num INTEGER PRIMARY KEY,
  worker_count INTEGER NOT NULL,
  resume_epoch INTEGER NOT NULL
) STRICT;
CREATE TABLE fronts (
  ex_num INTEGER NOT NULL,
  worker_index INTEGER NOT NULL,
  worker_frontier INTEGER NOT NULL,
  PRIMARY KEY (ex_num, worker_index)
) STRICT, WITHOUT ROWID;
CREATE TABLE commits (
  part_index INTEGER PRIMARY KEY,
  commit_epoch INTEGER NOT NULL
) STRICT;
CREATE TABLE snaps (
  step_id TEXT NOT NULL,
  state_key TEXT NOT NULL,
  snap_epoch INTEGER NOT NULL,
  ser_change BLOB,
  PRIMARY KEY (step_id, state_key, snap_epoch)
) STRICT, WITHOUT ROWID;
-- The keys each write transaction stored above the GC watermark: one JSON array per epoch and step.
-- GC and the stale-snapshot cleanup look keys up here, so they cost what was written since, not the
-- store size, without an index on snaps.
CREATE TABLE pending_gc (
  snap_epoch INTEGER NOT NULL,
  step_id TEXT NOT NULL,
  state_keys TEXT NOT NULL
) STRICT;
CREATE INDEX pending_gc_by_epoch ON pending_gc (snap_epoch);
`;

/**
 * Version 2 keeps snapshots as segments (see `segment.ts`): one row per step per epoch, its
 * snapshots packed, instead of one row per key. Writing an epoch then costs SQLite a few rows
 * whatever the number of keys.
 */
const V2 = `
CREATE TABLE snaps_v2 (
  snap_epoch INTEGER NOT NULL,
  step_id TEXT NOT NULL,
  state_count INTEGER NOT NULL,
  full INTEGER NOT NULL,
  key_lens BLOB NOT NULL,
  state_keys BLOB NOT NULL,
  ser_lens BLOB NOT NULL,
  ser_changes BLOB NOT NULL
) STRICT;
`;

/** Moves version 1's rows into segments, one per epoch and step, then replaces the table. */
function toV2(db: Db): void {
  db.exec(V2);
  const insert = db.prepare(
    'INSERT INTO snaps_v2 (snap_epoch, step_id, state_count, full, key_lens, state_keys, ser_lens, ser_changes) VALUES (?, ?, ?, 0, ?, ?, ?, ?)',
  );
  let packer = new SnapshotPacker();
  let at: [number, string] | undefined;
  const flush = () => {
    if (at === undefined) return;
    for (const whole of segmentsOf(packer.view())) {
      for (const seg of splitSegment(whole, segmentLimits.segmentBytes)) {
        insert.run(at[0], seg.stepId, seg.lens.length, lengthsBlob(seg.keyLens), blobOf(seg.keyBytes), lengthsBlob(seg.lens), blobOf(seg.bytes));
      }
    }
    packer = new SnapshotPacker();
  };
  const rows = db.prepare('SELECT snap_epoch, step_id, state_key, ser_change FROM snaps ORDER BY snap_epoch, step_id, state_key').raw();
  // Read first: the connection cannot write while a statement iterates.
  for (const [epoch, stepId, key, ser] of rows.all() as [number, string, string, Buffer | null][]) {
    if (at === undefined || at[0] !== epoch || at[1] !== stepId) {
      flush();
      at = [epoch, stepId];
    }
    packer.addBytes(stepId, key, ser);
  }
  flush();
  db.exec(`
DROP TABLE snaps;
DROP TABLE pending_gc;
ALTER TABLE snaps_v2 RENAME TO snaps;
CREATE INDEX snaps_by_epoch ON snaps (snap_epoch);
`);
}

/** Migration to version `n`, keyed by `n`. */
const MIGRATIONS: Readonly<Record<number, (db: Db) => void>> = {
  1: (db) => db.exec(V1),
  2: toV2,
};

/**
 * The version 1 schema, for tests of the migration from it.
 * @internal
 */
export const SCHEMA_V1 = V1;

/** The file's `user_version`. Throws SQLite's error when the file is not a database. */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Whether the file has a table of that name. */
export function hasTable(db: Db, name: string): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !== undefined
  );
}

/**
 * Brings a partition file (or an empty database) up to {@link SCHEMA_VERSION}. The caller has
 * checked that the version is not newer than that.
 */
export function migrate(db: Db): void {
  for (let next = schemaVersion(db) + 1; next <= SCHEMA_VERSION; next++) {
    const step = MIGRATIONS[next];
    if (step === undefined) throw new Error(`weir: no recovery schema migration to version ${next}`);
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${next}`);
    }).immediate();
  }
}

/** Sets the connection options every partition file is used with. */
export function configureConnection(db: Db): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // A large epoch grows the WAL to its size; once checkpointed, give the space back past 64 MiB.
  db.pragma('journal_size_limit = 67108864');
}
