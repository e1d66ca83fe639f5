// Helpers for the recovery tests: temp directories, records, and raw looks into partition files.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { v8Serde, type SnapshotRecord } from 'weir/recovery';
import { blobOf, keysOf, lengthsBlob, readSegment, segmentsOf } from '../../src/recovery/segment.js';
import { SnapshotPacker } from '../../src/recovery/SnapshotPacker.js';

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

/** How many snapshots the whole directory stores, every version counted. */
export function snapRows(dir: string): number {
  let n = 0;
  for (const f of partFiles(dir)) n += withDb(f, (db) => storedRows(db).length);
  return n;
}

/** Copies a partition file with its -wal/-shm companions (removing stale ones at the target). */
export function copyPartition(from: string, to: string): void {
  for (const suffix of ['', '-wal', '-shm']) {
    rmSync(to + suffix, { force: true });
    if (existsSync(from + suffix)) copyFileSync(from + suffix, to + suffix);
  }
}

/** One stored snapshot, as the segments of a partition file hold it. */
export interface StoredRow {
  stepId: string;
  stateKey: string;
  epoch: number;
  /** The serialized state, `null` for a tombstone. */
  ser: Buffer | null;
}

/** Every snapshot one partition file stores, every version, in segment order. */
export function storedRows(db: Database.Database): StoredRow[] {
  const out: StoredRow[] = [];
  const sql = 'SELECT step_id, snap_epoch, key_lens, state_keys, ser_lens, ser_changes FROM snaps ORDER BY step_id, snap_epoch, rowid';
  for (const [stepId, epoch, keyLens, keys, lens, bytes] of db.prepare(sql).raw().all() as [string, number, Buffer, Buffer, Buffer, Buffer][]) {
    const seg = readSegment(stepId, false, keyLens, keys, lens, bytes);
    const names = keysOf(seg);
    for (let i = 0, off = 0; i < names.length; i++) {
      const len = seg.lens[i]!;
      out.push({ stepId, stateKey: names[i]!, epoch, ser: len < 0 ? null : Buffer.from(seg.bytes.subarray(off, (off += len))) });
    }
  }
  return out;
}

/** Replaces the stored bytes of every version of one key's state, in place: to damage a state on purpose. */
export function overwriteState(db: Database.Database, stepId: string, stateKey: string, ser: Uint8Array): void {
  const sql = 'SELECT rowid, key_lens, state_keys, ser_lens, ser_changes FROM snaps WHERE step_id = ?';
  const update = db.prepare('UPDATE snaps SET key_lens = ?, state_keys = ?, ser_lens = ?, ser_changes = ? WHERE rowid = ?');
  for (const [rowid, keyLens, keys, lens, bytes] of db.prepare(sql).raw().all(stepId) as [number, Buffer, Buffer, Buffer, Buffer][]) {
    const seg = readSegment(stepId, false, keyLens, keys, lens, bytes);
    const names = keysOf(seg);
    const packer = new SnapshotPacker();
    for (let i = 0, off = 0; i < names.length; i++) {
      const len = seg.lens[i]!;
      const own = len < 0 ? null : seg.bytes.subarray(off, (off += len));
      packer.addBytes(stepId, names[i]!, names[i] === stateKey && own !== null ? ser : own);
    }
    const [out] = segmentsOf(packer.view());
    update.run(lengthsBlob(out!.keyLens), blobOf(out!.keyBytes), lengthsBlob(out!.lens), blobOf(out!.bytes), rowid);
  }
}
