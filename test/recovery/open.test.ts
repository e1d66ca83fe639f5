import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  DuplicatePartitionsError,
  initDbDir,
  MissingPartitionsError,
  MixedPartitionCountsError,
  NoPartitionsError,
  NotAPartitionError,
  RecoveryDirectoryError,
  RecoveryError,
  RecoveryStore,
  UnsupportedSchemaVersionError,
} from 'weir/recovery';
import { copyPartition, tempDir, withDb } from './support.js';

function openError(dir: string): RecoveryError {
  try {
    RecoveryStore.open(dir).close();
  } catch (err) {
    expect(err).toBeInstanceOf(RecoveryError);
    return err as RecoveryError;
  }
  throw new Error('expected RecoveryStore.open to throw');
}

describe('RecoveryStore.open validation', () => {
  it('rejects a missing directory', () => {
    const dir = join(tempDir(), 'nope');
    const err = openError(dir);
    expect(err).toBeInstanceOf(RecoveryDirectoryError);
    expect(err.message).toContain('does not exist');
    expect(err.message).toContain('weir recovery init');
  });

  it('rejects a file given as the directory', () => {
    const file = join(tempDir(), 'file.txt');
    writeFileSync(file, 'x');
    const err = openError(file);
    expect(err).toBeInstanceOf(RecoveryDirectoryError);
    expect(err.message).toContain('is not a directory');
  });

  it('rejects an empty directory with NoPartitionsError', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'part-0.sqlite3-wal'), ''); // companions alone are not partitions
    const err = openError(dir);
    expect(err).toBeInstanceOf(NoPartitionsError);
    expect(err.message).toContain(`weir recovery init ${dir}`);
  });

  it('reports a gap with MissingPartitionsError listing the missing indices', () => {
    const dir = tempDir();
    initDbDir(dir, 4);
    rmSync(join(dir, 'part-1.sqlite3'));
    rmSync(join(dir, 'part-3.sqlite3'));
    const err = openError(dir);
    expect(err).toBeInstanceOf(MissingPartitionsError);
    expect((err as MissingPartitionsError).missing).toEqual([1, 3]);
    expect(err.message).toContain('restore all part-* files from the same backup');
  });

  it('reports two files claiming the same partition', () => {
    const dir = tempDir();
    initDbDir(dir, 2);
    copyPartition(join(dir, 'part-0.sqlite3'), join(dir, 'copy-of-0.sqlite3'));
    const err = openError(dir);
    expect(err).toBeInstanceOf(DuplicatePartitionsError);
    expect((err as DuplicatePartitionsError).partIndex).toBe(0);
  });

  it('reports mixed partition counts', () => {
    const dir = tempDir();
    const a = tempDir();
    const b = tempDir();
    initDbDir(a, 2);
    initDbDir(b, 3);
    copyPartition(join(a, 'part-0.sqlite3'), join(dir, 'a-0.sqlite3'));
    copyPartition(join(a, 'part-1.sqlite3'), join(dir, 'a-1.sqlite3'));
    copyPartition(join(b, 'part-2.sqlite3'), join(dir, 'b-2.sqlite3'));
    const err = openError(dir);
    expect(err).toBeInstanceOf(MixedPartitionCountsError);
    expect(err.message).toMatch(/different sizes/);
  });

  it('rejects a .sqlite3 file of garbage bytes', () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const junk = join(dir, 'junk.sqlite3');
    writeFileSync(junk, Buffer.alloc(8192, 0x5a));
    const err = openError(dir);
    expect(err).toBeInstanceOf(NotAPartitionError);
    expect((err as NotAPartitionError).path).toBe(junk);
    expect(err.message).toContain('move it out of the recovery directory');
  });

  it('rejects a valid SQLite file without weir tables, and does not modify it', () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const other = join(dir, 'other.sqlite3');
    withDb(other, (db) => db.exec('CREATE TABLE t (x INTEGER)'));
    const err = openError(dir);
    expect(err).toBeInstanceOf(NotAPartitionError);
    expect(err.message).toContain('no parts table');
    withDb(other, (db) => expect(db.pragma('journal_mode', { simple: true })).toBe('delete'));
  });

  it('rejects a partition written by a newer schema version', () => {
    const dir = tempDir();
    initDbDir(dir, 2);
    withDb(join(dir, 'part-1.sqlite3'), (db) => db.pragma('user_version = 99'));
    const err = openError(dir);
    expect(err).toBeInstanceOf(UnsupportedSchemaVersionError);
    expect((err as UnsupportedSchemaVersionError).version).toBe(99);
    expect(err.message).toContain('upgrade weir');
  });

  it('ignores file names: each file names itself through its parts row', () => {
    const dir = tempDir();
    initDbDir(dir, 2);
    renameSync(join(dir, 'part-0.sqlite3'), join(dir, 'zzz.sqlite3'));
    renameSync(join(dir, 'part-1.sqlite3'), join(dir, 'aaa.sqlite3'));
    const store = RecoveryStore.open(dir);
    expect(store.partCount).toBe(2);
    store.close();
  });

  it('releases every file it opened when validation fails', () => {
    const dir = tempDir();
    initDbDir(dir, 3);
    rmSync(join(dir, 'part-2.sqlite3'));
    expect(() => RecoveryStore.open(dir)).toThrow(MissingPartitionsError);
    // No connection left behind: an exclusive lock can be taken on the others.
    const db = new Database(join(dir, 'part-0.sqlite3'));
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    db.close();
  });
});
