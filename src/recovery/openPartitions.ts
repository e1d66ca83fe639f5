/**
 * Finding, validating and opening the partition files of a recovery directory.
 *
 * @internal
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  DuplicatePartitionsError,
  MissingPartitionsError,
  MixedPartitionCountsError,
  NoPartitionsError,
  NotAPartitionError,
  RecoveryDirectoryError,
  UnsupportedSchemaVersionError,
} from './errors.js';
import { configureConnection, hasTable, migrate, schemaVersion, SCHEMA_VERSION } from './schema.js';

/** One validated, open partition file. */
export interface OpenedPartition {
  readonly path: string;
  readonly db: Database.Database;
  readonly partIndex: number;
  readonly partCount: number;
}

/**
 * Opens every `*.sqlite3` file in `dbDir` after checking that together they form one complete
 * store. Returns them ordered by partition index, migrated to the current schema, in WAL mode.
 */
export function openPartitions(dbDir: string): OpenedPartition[] {
  const paths = listPartitionFiles(dbDir);
  const opened: OpenedPartition[] = [];
  try {
    for (const path of paths) opened.push(inspect(path));
    checkComplete(dbDir, opened);
    for (const p of opened) {
      configureConnection(p.db);
      migrate(p.db);
    }
  } catch (err) {
    for (const p of opened) p.db.close();
    throw err;
  }
  return opened.sort((a, b) => a.partIndex - b.partIndex);
}

function listPartitionFiles(dbDir: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(dbDir).isDirectory();
  } catch (err) {
    throw new RecoveryDirectoryError(dbDir, 'missing', { cause: err });
  }
  if (!isDir) throw new RecoveryDirectoryError(dbDir, 'not-a-directory');
  const names = readdirSync(dbDir).filter((name) => name.endsWith('.sqlite3')).sort();
  if (names.length === 0) throw new NoPartitionsError(dbDir);
  return names.map((name) => join(dbDir, name));
}

/** Opens one file and reads its `parts` row, without writing to it. */
function inspect(path: string): OpenedPartition {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (err) {
    throw new NotAPartitionError(path, `cannot open it: ${(err as Error).message}`, { cause: err });
  }
  try {
    let version: number;
    try {
      version = schemaVersion(db);
    } catch (err) {
      throw new NotAPartitionError(path, `not an SQLite database: ${(err as Error).message}`, { cause: err });
    }
    if (version > SCHEMA_VERSION) throw new UnsupportedSchemaVersionError(path, version, SCHEMA_VERSION);
    if (!hasTable(db, 'parts')) throw new NotAPartitionError(path, 'it has no parts table');
    if (version < 1) throw new NotAPartitionError(path, 'it has no weir schema version');
    const rows = db.prepare('SELECT part_index, part_count FROM parts').raw().all() as unknown[][];
    const [partIndex, partCount] = (rows[0] ?? []) as [unknown, unknown];
    if (
      rows.length !== 1 ||
      !Number.isSafeInteger(partCount) ||
      !Number.isSafeInteger(partIndex) ||
      (partCount as number) < 1 ||
      (partIndex as number) < 0 ||
      (partIndex as number) >= (partCount as number)
    ) {
      throw new NotAPartitionError(path, `its parts table must hold one valid row, found ${JSON.stringify(rows)}`);
    }
    return { path, db, partIndex: partIndex as number, partCount: partCount as number };
  } catch (err) {
    db.close();
    throw err;
  }
}

function checkComplete(dbDir: string, parts: readonly OpenedPartition[]): void {
  const partCount = parts[0]!.partCount;
  if (parts.some((p) => p.partCount !== partCount)) {
    throw new MixedPartitionCountsError(
      dbDir,
      parts.map((p) => ({ path: p.path, partCount: p.partCount })),
    );
  }
  const byIndex = new Map<number, string[]>();
  for (const p of parts) byIndex.set(p.partIndex, [...(byIndex.get(p.partIndex) ?? []), p.path]);
  for (const [partIndex, paths] of byIndex) {
    if (paths.length > 1) throw new DuplicatePartitionsError(partIndex, paths);
  }
  const missing: number[] = [];
  for (let i = 0; i < partCount; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) throw new MissingPartitionsError(dbDir, partCount, missing);
}
