/**
 * Garbage collection of one partition's superseded snapshots.
 *
 * GC at epoch g deletes, for every key, the rows at or below g except the key's latest at or below
 * g; that latest goes too when it is a tombstone (nothing older remains for it to hide). It then
 * records g as the partition's watermark in `commits`.
 *
 * Only keys that got a row above the previous watermark can have anything to delete. A write that
 * may collect its own epoch at once (one partition, no backup lag) deletes each written key's older
 * rows right before inserting the new one, by primary key, in the same transaction. Any other write
 * records the keys it wrote, per step, as one `pending_gc` row holding a JSON array. Collecting up
 * to g takes every `pending_gc` row of an epoch x <= g and deletes its keys' rows below x, and their
 * row at x if it is a tombstone. That is exact: a key's latest row at or below g was written at
 * some such x, so it is listed there, and rows below it are superseded. Either way GC costs one
 * primary-key lookup per written key and never scans the store.
 *
 * Invariant: every `snaps` row above the watermark is listed by a `pending_gc` row of its epoch.
 *
 * @internal
 * @module
 */
import type Database from 'better-sqlite3';
import { Batched, MAX_BATCH, repeat, runKeyList } from './batch.js';

type PendingRow = [rowid: number, epoch: number, stepId: string, keys: string];

const deleteSql = (condition: string) => (n: number) =>
  `DELETE FROM snaps WHERE step_id = @s AND state_key IN (${repeat('?', n)}) AND ${condition}`;

/** Collects one partition file. Its methods other than {@link PartitionGc.collect} run inside the caller's transaction. */
export class PartitionGc {
  /** Deletes the listed keys' rows below `@e`, and their tombstones at `@e`. */
  private readonly collectKeysStmt: Batched;
  /** Deletes the listed keys' rows at or below `@e`: the write that follows replaces them. */
  private readonly replaceKeysStmt: Batched;
  /** Deletes the listed keys' rows at or after `@e`. */
  private readonly dropKeysStmt: Batched;
  private readonly pendingUpTo: Database.Statement;
  private readonly pendingFrom: Database.Statement;
  private readonly deletePendingUpTo: Database.Statement;
  private readonly deletePendingFrom: Database.Statement;
  private readonly insertPending: Database.Statement;
  private readonly markStmt: Database.Statement;
  private readonly partIndex: number;
  private readonly named = { s: '', e: 0 };
  private readonly args = new Array<unknown>(MAX_BATCH);
  private readonly collectTx: (gcEpoch: number) => void;
  /** The key lists this connection deferred, by `pending_gc` rowid, so collecting them parses no JSON. */
  private readonly deferred = new Map<number, readonly string[]>();
  private watermark: number;

  /**
   * @param db the partition's connection
   * @param partIndex the partition's index, the key of its `commits` row
   */
  constructor(db: Database.Database, partIndex: number) {
    this.partIndex = partIndex;
    const read = db.prepare('SELECT commit_epoch FROM commits WHERE part_index = ?').pluck();
    this.watermark = (read.get(partIndex) as number | undefined) ?? 0;
    this.collectKeysStmt = new Batched(db, deleteSql('snap_epoch <= @e AND (snap_epoch < @e OR ser_change IS NULL)'), 1);
    this.replaceKeysStmt = new Batched(db, deleteSql('snap_epoch <= @e'), 1);
    this.dropKeysStmt = new Batched(db, deleteSql('snap_epoch >= @e'), 1);
    this.pendingUpTo = db.prepare('SELECT rowid, snap_epoch, step_id, state_keys FROM pending_gc WHERE snap_epoch <= ?').raw();
    this.pendingFrom = db.prepare('SELECT rowid, snap_epoch, step_id, state_keys FROM pending_gc WHERE snap_epoch >= ?').raw();
    this.deletePendingUpTo = db.prepare('DELETE FROM pending_gc WHERE snap_epoch <= ?');
    this.deletePendingFrom = db.prepare('DELETE FROM pending_gc WHERE snap_epoch >= ?');
    this.insertPending = db.prepare('INSERT INTO pending_gc (snap_epoch, step_id, state_keys) VALUES (?, ?, ?)');
    this.markStmt = db.prepare('INSERT OR REPLACE INTO commits (part_index, commit_epoch) VALUES (?, ?)');
    this.collectTx = db.transaction((gcEpoch: number) => this.collectPending(gcEpoch));
  }

  /** The epoch up to which this partition has been collected (`commits.commit_epoch`). */
  get commitEpoch(): number {
    return this.watermark;
  }

  /** Collects up to `gcEpoch` in a transaction of its own. Does nothing unless it is above the watermark. */
  collect(gcEpoch: number): void {
    if (gcEpoch <= this.watermark) return;
    const before = this.watermark;
    try {
      this.collectTx(gcEpoch);
    } catch (err) {
      this.rollback(before);
      throw err;
    }
  }

  /**
   * In the caller's transaction: collects every pending row up to `gcEpoch` and raises the
   * watermark to it. Does nothing unless `gcEpoch` is above the watermark. If the transaction
   * fails, the caller must restore {@link PartitionGc.commitEpoch} with {@link PartitionGc.rollback}.
   */
  collectPending(gcEpoch: number): void {
    if (gcEpoch <= this.watermark) return;
    const rows = this.pendingUpTo.all(gcEpoch) as PendingRow[];
    for (let i = 0; i < rows.length; i++) {
      const [rowid, epoch, stepId, keys] = rows[i]!;
      this.runKeys(this.collectKeysStmt, stepId, this.keysOf(rowid, keys), epoch);
    }
    if (rows.length > 0) this.deletePendingUpTo.run(gcEpoch);
    this.markStmt.run(this.partIndex, gcEpoch);
    this.watermark = gcEpoch;
  }

  /**
   * In the caller's transaction, for a write at an epoch at or below the watermark: deletes the
   * rows at or below `epoch` of `keys[0, n)`, which `args` also holds, as the write that follows
   * replaces them (or, for a tombstone, leaves nothing).
   */
  replaceKeys(stepId: string, args: unknown[], n: number, epoch: number): void {
    const named = this.named;
    named.s = stepId;
    named.e = epoch;
    this.replaceKeysStmt.run(named, args, n);
  }

  /** In the caller's transaction: records the keys written at `epoch`, for a later collection. */
  defer(stepId: string, keys: readonly string[], epoch: number): void {
    const { lastInsertRowid } = this.insertPending.run(epoch, stepId, JSON.stringify(keys));
    this.deferred.set(Number(lastInsertRowid), keys);
  }

  /** In the caller's transaction: deletes every snapshot at or after `epoch`. They are all above the watermark. */
  dropFrom(epoch: number): void {
    const rows = this.pendingFrom.all(epoch) as PendingRow[];
    if (rows.length === 0) return;
    for (let i = 0; i < rows.length; i++) {
      const [rowid, , stepId, keys] = rows[i]!;
      this.runKeys(this.dropKeysStmt, stepId, this.keysOf(rowid, keys), epoch);
    }
    this.deletePendingFrom.run(epoch);
  }

  /** Restores the state from before a failed transaction, whose `pending_gc` rowids may be reused. */
  rollback(watermark: number): void {
    this.watermark = watermark;
    this.deferred.clear();
  }

  /** A pending row's keys: remembered if this connection wrote it, else parsed. Forgets them: the row is being deleted. */
  private keysOf(rowid: number, json: string): readonly string[] {
    const keys = this.deferred.get(rowid);
    if (keys === undefined) return JSON.parse(json) as string[];
    this.deferred.delete(rowid);
    return keys;
  }

  private runKeys(stmt: Batched, stepId: string, keys: readonly string[], epoch: number): void {
    const named = this.named;
    named.s = stepId;
    named.e = epoch;
    runKeyList(stmt, named, keys, this.args);
  }
}
