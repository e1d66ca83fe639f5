import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Batched, MAX_BATCH, repeat, runKeyList } from '../../src/recovery/batch.js';

function table(): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (g TEXT NOT NULL, k TEXT NOT NULL, v INTEGER, PRIMARY KEY (g, k)) WITHOUT ROWID');
  return db;
}

describe('Batched', () => {
  it('writes exactly the n items given, for every count up to MAX_BATCH, padding tails with the last item', () => {
    const db = table();
    const prepared: number[] = [];
    const insert = new Batched(
      db,
      (n) => {
        prepared.push(n);
        return `INSERT OR REPLACE INTO t (g, k, v) VALUES ${repeat('(@g, ?, ?)', n)}`;
      },
      2,
    );
    const args = new Array<unknown>(2 * MAX_BATCH);
    for (let n = 1; n <= MAX_BATCH; n++) {
      for (let i = 0; i < n; i++) {
        args[2 * i] = `k${i}`;
        args[2 * i + 1] = n * 1000 + i;
      }
      insert.run({ g: `n${n}` }, args, n);
      const rows = db.prepare('SELECT k, v FROM t WHERE g = ? ORDER BY v').raw().all(`n${n}`);
      expect(rows, `n = ${n}`).toEqual(Array.from({ length: n }, (_, i) => [`k${i}`, n * 1000 + i]));
    }
    // Only the three statement sizes are ever prepared.
    expect(prepared.sort((a, b) => a - b)).toEqual([16, 64, MAX_BATCH]);
  });

  it('deletes exactly the listed keys through an IN list, for lists longer than one statement', () => {
    const db = table();
    const keys = Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(4, '0')}`);
    const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?)');
    for (const k of keys) ins.run('g', k, 1);
    const del = new Batched(db, (n) => `DELETE FROM t WHERE g = @g AND k IN (${repeat('?', n)})`, 1);
    const gone = keys.filter((_, i) => i % 3 !== 0); // 666 keys: 2 full statements and a padded tail
    runKeyList(del, { g: 'g' }, gone, new Array<unknown>(MAX_BATCH));
    expect(db.prepare('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(keys.filter((_, i) => i % 3 === 0));
  });
});
