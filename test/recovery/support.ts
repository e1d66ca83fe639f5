// Helpers for the recovery tests: temp directories, records, and raw looks into partition files.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { v8Serde, type SnapshotRecord } from 'weir/recovery';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under os.tmpdir(), removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'weir-recovery-'));
  dirs.push(d);
  return d;
}

/** A snapshot record of `value`; `undefined` makes a tombstone. */
export function rec(stepId: string, stateKey: string, value: unknown): SnapshotRecord {
  return { stepId, stateKey, ser: value === undefined ? null : v8Serde.serialize(value) };
}

/** loadSnapshots() output decoded into plain objects: { stepId: { key: value } }. */
export function decode(snaps: Map<string, Map<string, Uint8Array>>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [step, states] of snaps) {
    out[step] = {};
    for (const [key, ser] of states) out[step][key] = v8Serde.deserialize(ser);
  }
  return out;
}

/** The partition files of a directory, sorted. */
export function partFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sqlite3'))
    .sort()
    .map((f) => join(dir, f));
}

/** Runs `fn` on a separate connection to one file and closes it. */
export function withDb<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** How many snaps rows the whole directory holds. */
export function snapRows(dir: string): number {
  let n = 0;
  for (const f of partFiles(dir)) n += withDb(f, (db) => db.prepare('SELECT COUNT(*) FROM snaps').pluck().get() as number);
  return n;
}

/** Copies a partition file with its -wal/-shm companions (removing stale ones at the target). */
export function copyPartition(from: string, to: string): void {
  for (const suffix of ['', '-wal', '-shm']) {
    rmSync(to + suffix, { force: true });
    if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
  }
}
