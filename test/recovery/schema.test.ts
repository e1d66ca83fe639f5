import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { initDbDir, inspectStore, RecoveryError, RecoveryStore, v8Serde } from 'weir/recovery';
import { SCHEMA_V1, SCHEMA_VERSION } from '../../src/recovery/schema.js';
import { decode, storedRows, tempDir, withDb } from './support.js';

/** A partition file as weir's schema version 1 wrote it: one `snaps` row per key and epoch. */
function v1Partition(path: string, rows: [epoch: number, stepId: string, key: string, value: unknown][]): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(SCHEMA_V1);
  db.pragma('user_version = 1');
  db.prepare('INSERT INTO parts VALUES (0, 1)').run();
  db.prepare('INSERT INTO exs VALUES (1, 1, 1)').run();
  db.prepare('INSERT INTO fronts VALUES (1, 0, 4)').run();
  db.prepare('INSERT INTO commits VALUES (0, 1)').run();
  const insert = db.prepare('INSERT INTO snaps VALUES (?, ?, ?, ?)');
  const pending = db.prepare('INSERT INTO pending_gc VALUES (?, ?, ?)');
  for (const [epoch, stepId, key, value] of rows) {
    insert.run(stepId, key, epoch, value === undefined ? null : v8Serde.serialize(value));
    if (epoch > 1) pending.run(epoch, stepId, JSON.stringify([key]));
  }
  db.close();
}

describe('the recovery schema', () => {
  it('migrates a version 1 file to segments, keeping every version of every key', () => {
    const dir = tempDir();
    const path = join(dir, 'part-0.sqlite3');
    const rows: [number, string, string, unknown][] = [
      [1, 'f.a', 'k1', 1],
      [1, 'f.a', 'é', { x: [1] }],
      [1, 'f.b', 'k1', 'b1'],
      [2, 'f.a', 'k1', 2],
      [2, 'f.a', 'é', undefined],
      [3, 'f.b', 'k2', 'b2'],
    ];
    v1Partition(path, rows);
    const store = RecoveryStore.open(dir);
    expect(store.resumeEpoch).toBe(4);
    expect(decode(store.loadSnapshots())).toEqual({ 'f.a': { k1: 2 }, 'f.b': { k1: 'b1', k2: 'b2' } });
    store.close();
    withDb(path, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare("SELECT name FROM sqlite_schema WHERE name = 'pending_gc'").get()).toBeUndefined();
      const stored = storedRows(db).map((r) => [r.epoch, r.stepId, r.stateKey, r.ser === null ? undefined : v8Serde.deserialize(r.ser)]);
      expect(stored.sort()).toEqual([...rows].sort());
      // One segment per epoch and step.
      expect(db.prepare('SELECT COUNT(*) FROM snaps').pluck().get()).toBe(4);
    });
  });
});

describe('inspectStore on an older schema', () => {
  it('says to migrate the file first, rather than misreading it', () => {
    const dir = tempDir();
    v1Partition(join(dir, 'part-0.sqlite3'), [[1, 'f.a', 'k1', 1]]);
    expect(() => inspectStore(dir)).toThrow(/schema version 1, written by an older weir: run the flow once/);
    RecoveryStore.open(dir).close();
    expect(inspectStore(dir).states.map((s) => [s.stepId, s.stateKey, s.state])).toEqual([['f.a', 'k1', 1]]);
  });
});

describe('a damaged segment', () => {
  it('fails the load with a RecoveryError naming the step and the file', () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const store = RecoveryStore.open(dir);
    store.beginExecution();
    store.commitEpoch(1, [{ stepId: 'f.a', stateKey: 'k', ser: v8Serde.serialize(1) }], 0);
    store.close();
    const path = join(dir, 'part-0.sqlite3');
    withDb(path, (db) => db.prepare("UPDATE snaps SET ser_lens = x'8080'").run());
    const again = RecoveryStore.open(dir);
    expect(() => again.loadSnapshots()).toThrow(RecoveryError);
    expect(() => again.loadSnapshots()).toThrow(/cut length array: step 'f.a' in .*part-0.sqlite3. Restore the partition from a backup/);
    again.close();
  });
});
