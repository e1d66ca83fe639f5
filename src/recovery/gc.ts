/**
 * Garbage collection of one partition's superseded snapshots, by compacting its segments.
 *
 * Collecting up to epoch g makes g the partition's watermark (`commits.commit_epoch`): from then on
 * a resume may need each key's latest snapshot at or below g, but nothing older. A step's segments
 * at or below the watermark can therefore be merged into one, which keeps each key's latest state
 * and drops tombstones (nothing older remains for them to hide). Segments above the watermark are
 * kept as they are: they are the resume points a backup interval keeps alive.
 *
 * Merging costs a pass over what it merges, so it is done when it pays. The oldest segment of a
 * step (the base) and all the others are merged once those others are {@link MERGE_RATIO} times as
 * large as the base; until then, the newest two others are merged together (keeping their
 * tombstones) while the older is at most twice the newer. The others then halve in size from old
 * to new, so there are few of them, and a snapshot is merged a few times at most before it reaches
 * the base: the work per snapshot written stays small and constant, and the store stays within
 * about 1 + MERGE_RATIO times the live state plus the segments above the watermark, however many
 * epochs. A full segment (a step's whole state, see `Segment.full`) supersedes the step's older
 * segments outright: they are deleted without being read, by the commit that writes it when it
 * collects up to its epoch, before it writes it. A commit can skip merging (the last one of a run
 * does, so that a run ends as soon as its state is safe); the next commit catches up.
 *
 * @internal
 * @module
 */
import type Database from 'better-sqlite3';
import { mergeSegments, readSegment, type ReadSegment, type Segment } from './segment.js';

/** A step's segments at or below the watermark are all merged once those added after the oldest are this many times its size. */
export const MERGE_RATIO = 1;

type SegmentStat = [rowid: number, stepId: string, epoch: number, size: number, full: number];
type SegmentRow = [full: number, keyLens: Buffer, keyBytes: Buffer, lens: Buffer, bytes: Buffer];

/** Collects one partition file. Its methods other than {@link PartitionGc.collect} run inside the caller's transaction. */
export class PartitionGc {
  private readonly stats: Database.Statement;
  private readonly readRow: Database.Statement;
  private readonly deleteRow: Database.Statement;
  private readonly deleteFrom: Database.Statement;
  private readonly deleteOlder: Database.Statement;
  private readonly sameShape: Database.Statement;
  private readonly markStmt: Database.Statement;
  private readonly collectTx: (gcEpoch: number, merge: boolean) => void;
  private watermark: number;

  /**
   * @param db the partition's connection
   * @param partIndex the partition's index, the key of its `commits` row
   * @param insert writes a segment at an epoch, in the caller's transaction, and returns its rowids
   */
  constructor(
    db: Database.Database,
    private readonly partIndex: number,
    private readonly insert: (epoch: number, seg: Segment) => number[],
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
    this.deleteOlder = db.prepare('DELETE FROM snaps WHERE step_id = ? AND snap_epoch < ? AND rowid <> ?');
    // length() of a BLOB column reads the row's header, not the BLOB.
    this.sameShape = db
      .prepare(
        'SELECT rowid, snap_epoch FROM snaps WHERE step_id = ? AND snap_epoch < ? AND full = ? AND state_count = ? ' +
          'AND length(key_lens) = ? AND length(state_keys) = ? AND length(ser_lens) = ? AND length(ser_changes) = ? ORDER BY snap_epoch DESC, rowid',
      )
      .raw();
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

  /**
   * In the caller's transaction, before it writes a full segment of `stepId` at `epoch`, which
   * must be at or below the GC epoch of that transaction: deletes the step's older segments, which
   * the new one supersedes. SQLite then writes the new segment into their pages rather than growing
   * the file (with 100,000 keys, a commit and the close after it took some 4 ms instead of 2.5).
   *
   * When one of their rows has the very shape of the new segment's first row (`shape`: the same
   * `full`, `state_count` and column lengths, and an epoch stored in as many bytes), that row is
   * kept and its rowid returned, for the caller to write the new row over it with an `UPDATE`. As
   * the record is then exactly as large, SQLite overwrites it in place and writes only the pages
   * whose bytes changed: a step whose keys stay the same and whose states keep their sizes (a
   * running count or sum, say) costs the WAL, the checkpoint and the sync its states' pages alone,
   * not its keys' and lengths' (with 100,000 keys, about a third of the bytes).
   * @returns the rowid to write over, or `undefined` when every older row was deleted
   */
  dropSuperseded(stepId: string, epoch: number, shape?: RowShape): number | undefined {
    const width = intWidth(epoch);
    const rows = shape === undefined ? [] : (this.sameShape.all(stepId, epoch, ...shape) as [rowid: number, epoch: number][]);
    const keep = rows.find(([, at]) => intWidth(at) === width)?.[0];
    // Rowids are positive: -1 keeps none.
    this.deleteOlder.run(stepId, epoch, keep ?? -1);
    return keep;
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
      this.mergeStep(stepId, bySegment(stats.slice(i, end)));
      i = end;
    }
  }

  /**
   * Merges one step's segments at or below the watermark, the oldest (the base) first, where that
   * pays: all of them once those added since the base are {@link MERGE_RATIO} times its size;
   * otherwise the newest two added ones while the older is at most twice the newer, so that the
   * added ones shrink by more than half from old to new and stay few, and each snapshot is merged
   * a few times at most before it reaches the base.
   */
  private mergeStep(stepId: string, segs: SegmentRows[]): void {
    if (segs.length < 2) return;
    let added = 0;
    for (let j = 1; j < segs.length; j++) added += segs[j]!.size;
    if (added >= MERGE_RATIO * segs[0]!.size) {
      this.merge(stepId, segs, false);
      return;
    }
    while (segs.length > 2 && segs[segs.length - 2]!.size <= 2 * segs[segs.length - 1]!.size) {
      const pair = segs.splice(segs.length - 2, 2);
      segs.push(this.merge(stepId, pair, true));
    }
  }

  /**
   * Replaces segments of a step, in order, by one holding each key's latest state at the newest
   * one's epoch. Tombstones are kept with `keepTombstones`: when older segments remain.
   */
  private merge(stepId: string, segs: SegmentRows[], keepTombstones: boolean): SegmentRows {
    const read: ReadSegment[] = [];
    for (const seg of segs) {
      for (const rowid of seg.rowids) {
        const [full, keyLens, keyBytes, lens, bytes] = this.readRow.get(rowid) as SegmentRow;
        read.push(readSegment(stepId, full === 1, keyLens, keyBytes, lens, bytes));
      }
    }
    const segment = mergeSegments(stepId, read, keepTombstones);
    for (const seg of segs) for (const rowid of seg.rowids) this.deleteRow.run(rowid);
    const epoch = segs[segs.length - 1]!.epoch;
    const rowids = segment.lens.length > 0 ? this.insert(epoch, segment) : [];
    return { epoch, rowids, size: 8 * segment.lens.length + segment.keyBytes.length + segment.bytes.length };
  }
}

/**
 * What decides the size of a `snaps` row besides its epoch: `full`, `state_count`, and the lengths
 * of `key_lens`, `state_keys`, `ser_lens` and `ser_changes`, in that order.
 */
export type RowShape = [full: number, count: number, keyLens: number, keys: number, lens: number, bytes: number];

/**
 * How many bytes SQLite stores an integer in (its record format's serial types): none for 0 and 1,
 * then 1, 2, 3, 4, 6 or 8.
 */
export function intWidth(n: number): number {
  if (n === 0 || n === 1) return 0;
  const u = n < 0 ? -n - 1 : n;
  if (u < 0x80) return 1;
  if (u < 0x8000) return 2;
  if (u < 0x800000) return 3;
  if (u < 0x80000000) return 4;
  if (u < 0x800000000000) return 6;
  return 8;
}

/** One segment: its rows (one unless it was too large for one), its epoch and its size. */
interface SegmentRows {
  readonly epoch: number;
  readonly rowids: number[];
  readonly size: number;
}

/** A step's rows grouped into segments: the rows of one epoch are one segment. */
function bySegment(stats: SegmentStat[]): SegmentRows[] {
  const out: { epoch: number; rowids: number[]; size: number }[] = [];
  for (const [rowid, , epoch, size] of stats) {
    const last = out[out.length - 1];
    if (last !== undefined && last.epoch === epoch) {
      last.rowids.push(rowid);
      last.size += size;
    } else out.push({ epoch, rowids: [rowid], size });
  }
  return out;
}
