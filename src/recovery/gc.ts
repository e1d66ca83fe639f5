/**
 * Garbage collection of one partition's superseded snapshots, by compacting its segments.
 *
 * Collecting up to epoch g makes g the partition's watermark (`commits.commit_epoch`): from then on
 * a resume may need each key's latest snapshot at or below g, but nothing older. A step's segments
 * at or below the watermark can therefore be merged into one, which keeps each key's latest state
 * and drops tombstones (nothing older remains for them to hide). Segments above the watermark are
 * kept as they are: they are the resume points a backup interval keeps alive.
 *
 * Merging costs a pass over the step's state, so it is done when it pays: once the segments added
 * since the oldest one are {@link MERGE_RATIO} times as large as it, or more than
 * {@link MAX_SEGMENTS} segments wait. The work per snapshot written then stays constant (about
 * (1 + 1/MERGE_RATIO) passes), and the store stays within about 1 + MERGE_RATIO times the live
 * state plus the segments above the watermark, however many epochs: a log-structured merge of one
 * level. A full segment (a step's whole state, see `Segment.full`) supersedes the step's older
 * segments outright: they are deleted without being read. A commit can skip merging (the last one
 * of a run does, so that a run ends as soon as its state is safe); the next commit catches up.
 *
 * @internal
 * @module
 */
import type Database from 'better-sqlite3';
import { mergeSegments, readSegment, type ReadSegment, type Segment } from './segment.js';

/** A step's segments at or below the watermark are merged once there are more than this many... */
export const MAX_SEGMENTS = 16;
/** ...or once those added after the oldest are this many times its size. */
export const MERGE_RATIO = 3;

type SegmentStat = [rowid: number, stepId: string, epoch: number, size: number, full: number];
type SegmentRow = [full: number, keyLens: Buffer, keyBytes: Buffer, lens: Buffer, bytes: Buffer];

/** Collects one partition file. Its methods other than {@link PartitionGc.collect} run inside the caller's transaction. */
export class PartitionGc {
  private readonly stats: Database.Statement;
  private readonly readRow: Database.Statement;
  private readonly deleteRow: Database.Statement;
  private readonly deleteFrom: Database.Statement;
  private readonly markStmt: Database.Statement;
  private readonly collectTx: (gcEpoch: number, merge: boolean) => void;
  private watermark: number;

  /**
   * @param db the partition's connection
   * @param partIndex the partition's index, the key of its `commits` row
   * @param insert writes a segment at an epoch, in the caller's transaction
   */
  constructor(
    db: Database.Database,
    private readonly partIndex: number,
    private readonly insert: (epoch: number, seg: Segment) => void,
  ) {
    const read = db.prepare('SELECT commit_epoch FROM commits WHERE part_index = ?').pluck();
    this.watermark = (read.get(partIndex) as number | undefined) ?? 0;
    this.stats = db
      .prepare(
        'SELECT rowid, step_id, snap_epoch, 8 * state_count + length(state_keys) + length(ser_changes), full FROM snaps ' +
          'WHERE snap_epoch <= ? ORDER BY step_id, snap_epoch, rowid',
      )
      .raw();
    this.readRow = db.prepare('SELECT full, key_lens, state_keys, ser_lens, ser_changes FROM snaps WHERE rowid = ?').raw();
    this.deleteRow = db.prepare('DELETE FROM snaps WHERE rowid = ?');
    this.deleteFrom = db.prepare('DELETE FROM snaps WHERE snap_epoch >= ?');
    this.markStmt = db.prepare('INSERT OR REPLACE INTO commits (part_index, commit_epoch) VALUES (?, ?)');
    this.collectTx = db.transaction((gcEpoch: number, merge: boolean) => this.collectPending(gcEpoch, merge));
  }

  /** The epoch up to which this partition has been collected (`commits.commit_epoch`). */
  get commitEpoch(): number {
    return this.watermark;
  }

  /** Collects up to `gcEpoch` in a transaction of its own, without merging. Does nothing unless it is above the watermark. */
  collect(gcEpoch: number): void {
    if (gcEpoch <= this.watermark) return;
    const before = this.watermark;
    try {
      this.collectTx(gcEpoch, false);
    } catch (err) {
      this.rollback(before);
      throw err;
    }
  }

  /**
   * In the caller's transaction: raises the watermark to `gcEpoch` if it is above it, and with
   * `merge`, merges the segments at or below the watermark of each step where that pays. If the
   * transaction fails, the caller must restore {@link PartitionGc.commitEpoch} with
   * {@link PartitionGc.rollback}.
   */
  collectPending(gcEpoch: number, merge: boolean): void {
    if (gcEpoch > this.watermark) {
      this.markStmt.run(this.partIndex, gcEpoch);
      this.watermark = gcEpoch;
    }
    if (merge && this.watermark > 0) this.mergeUpTo(this.watermark);
  }

  /** In the caller's transaction: deletes every snapshot at or after `epoch`. They are all above the watermark. */
  dropFrom(epoch: number): void {
    this.deleteFrom.run(epoch);
  }

  /** Restores the state from before a failed transaction. */
  rollback(watermark: number): void {
    this.watermark = watermark;
  }

  private mergeUpTo(epoch: number): void {
    const stats = this.stats.all(epoch) as SegmentStat[];
    for (let i = 0; i < stats.length; ) {
      const stepId = stats[i]![1];
      let end = i + 1;
      while (end < stats.length && stats[end]![1] === stepId) end++;
      // Segments older than the newest full one are superseded: they go unread.
      let full = end - 1;
      while (full > i && stats[full]![4] !== 1) full--;
      for (; i < full; i++) this.deleteRow.run(stats[i]![0]);
      // The oldest segment and the ones added since, by epoch: a segment too large for one row is
      // stored as several rows of its epoch.
      let base = 0;
      let j = i;
      while (j < end && stats[j]![2] === stats[i]![2]) base += stats[j++]![3];
      let added = 0;
      let segments = 1;
      for (; j < end; j++) {
        added += stats[j]![3];
        if (stats[j]![2] !== stats[j - 1]![2]) segments++;
      }
      if (segments > MAX_SEGMENTS || (segments > 1 && added >= MERGE_RATIO * base)) this.merge(stepId, stats.slice(i, end));
      i = end;
    }
  }

  /** Replaces a step's segments, the oldest first, by one holding each key's latest state. */
  private merge(stepId: string, segs: SegmentStat[]): void {
    const read: ReadSegment[] = [];
    for (const [rowid] of segs) {
      const [full, keyLens, keyBytes, lens, bytes] = this.readRow.get(rowid) as SegmentRow;
      read.push(readSegment(stepId, full === 1, keyLens, keyBytes, lens, bytes));
    }
    const segment = mergeSegments(stepId, read);
    for (const [rowid] of segs) this.deleteRow.run(rowid);
    if (segment.lens.length > 0) this.insert(segs[segs.length - 1]![2], segment);
  }
}
