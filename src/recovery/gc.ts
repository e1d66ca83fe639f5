/**
 * Garbage collection of one partition's superseded snapshots.
 *
 * GC at epoch g deletes, for every key, the rows at or below g except the key's latest at or below
 * g; that latest goes too when it is a tombstone (nothing older remains for it to hide). It then
 * records g as the partition's watermark in `commits`. Only keys that got a row above the previous
 * watermark can have anything to delete, so the `snaps_by_epoch` index finds them and the cost
 * follows the rows written since the last GC, not the store size.
 *
 * @internal
 * @module
 */
import type Database from 'better-sqlite3';

const DELETE_SUPERSEDED = `
DELETE FROM snaps WHERE (step_id, state_key, snap_epoch) IN (
  SELECT y.step_id, y.state_key, y.snap_epoch
  FROM (
    SELECT step_id AS s, state_key AS k, MAX(snap_epoch) AS m
    FROM snaps WHERE snap_epoch > @prev AND snap_epoch <= @gc
    GROUP BY step_id, state_key
  ) AS l
  JOIN snaps AS y ON y.step_id = l.s AND y.state_key = l.k AND y.snap_epoch <= l.m
  WHERE y.snap_epoch < l.m OR y.ser_change IS NULL
)`;

/** Collects one partition file. */
export class PartitionGc {
  private readonly run: (gcEpoch: number) => void;
  private watermark: number;

  /**
   * @param db the partition's connection
   * @param partIndex the partition's index, the key of its `commits` row
   */
  constructor(db: Database.Database, partIndex: number) {
    const read = db.prepare('SELECT commit_epoch FROM commits WHERE part_index = ?').pluck();
    this.watermark = (read.get(partIndex) as number | undefined) ?? 0;
    const del = db.prepare(DELETE_SUPERSEDED);
    const mark = db.prepare('INSERT OR REPLACE INTO commits (part_index, commit_epoch) VALUES (?, ?)');
    const params = { prev: 0, gc: 0 };
    this.run = db.transaction((gcEpoch: number) => {
      params.prev = this.watermark;
      params.gc = gcEpoch;
      del.run(params);
      mark.run(partIndex, gcEpoch);
    });
  }

  /** The epoch up to which this partition has been collected (`commits.commit_epoch`). */
  get commitEpoch(): number {
    return this.watermark;
  }

  /** Collects up to `gcEpoch`, in one transaction. Does nothing unless it is above the watermark. */
  collect(gcEpoch: number): void {
    if (gcEpoch <= this.watermark) return;
    this.run(gcEpoch);
    this.watermark = gcEpoch;
  }
}
