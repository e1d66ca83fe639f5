import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initDbDir, RecoveryDirectoryError, RecoveryError, RecoveryStore } from 'weir/recovery';
import { partFiles, tempDir, withDb } from './support.js';
import { SCHEMA_VERSION } from '../../src/recovery/schema.js';
import { PAGE_SIZE } from '../../src/recovery/initDbDir.js';

describe('initDbDir', () => {
  it('creates the directory and one file per partition, each naming itself', () => {
    const dir = join(tempDir(), 'nested', 'db');
    initDbDir(dir, 3);
    expect(partFiles(dir).map((f) => f.slice(dir.length + 1))).toEqual([
      'part-0.sqlite3',
      'part-1.sqlite3',
      'part-2.sqlite3',
    ]);
    for (let i = 0; i < 3; i++) {
      withDb(join(dir, `part-${i}.sqlite3`), (db) => {
        expect(db.prepare('SELECT part_index, part_count FROM parts').raw().all()).toEqual([[i, 3]]);
        expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
        expect(db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
      });
    }
    const store = RecoveryStore.open(dir);
    expect(store.partCount).toBe(3);
    expect(store.resumeEpoch).toBe(1);
    store.close();
  });

  it('refuses to overwrite an existing store, naming the file', () => {
    const dir = tempDir();
    initDbDir(dir, 2);
    expect(() => initDbDir(dir, 2)).toThrow(/part-0\.sqlite3 already exists/);
    const other = tempDir();
    writeFileSync(join(other, 'mine.sqlite3'), '');
    expect(() => initDbDir(other, 1)).toThrow(RecoveryError);
    expect(existsSync(join(other, 'part-0.sqlite3'))).toBe(false);
  });

  it('rejects a count that is not an integer >= 1', () => {
    const dir = tempDir();
    for (const bad of [0, -1, 1.5, NaN, '2' as unknown as number]) {
      expect(() => initDbDir(dir, bad)).toThrow(/count must be an integer/);
    }
    expect(partFiles(dir)).toEqual([]);
  });

  it('rejects a path that is a file', () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    expect(() => initDbDir(file, 1)).toThrow(RecoveryDirectoryError);
  });
});
