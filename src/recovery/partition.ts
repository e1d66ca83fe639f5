/**
 * One open partition file with its prepared statements.
 *
 * @internal
 * @module
 */
import type Database from 'better-sqlite3';
import { PartitionGc } from './gc.js';
import type { OpenedPartition } from './openPartitions.js';
import type { SnapshotRecord } from './store.js';

/** What a partition file says about the progress it has seen. */
export interface PartitionProgress {
  readonly partIndex: number;
  readonly path: string;
  /** The highest execution number it holds, 0 when fresh. */
  readonly maxExNum: number;
  /** The epoch its latest execution's workers all reached, 1 when fresh. */
  readonly frontier: number;
  /** Its GC watermark. */
  readonly commitEpoch: number;
}

/** A validated partition file, ready for the store's reads and writes. */
export class Partition {
  readonly path: string;
  readonly partIndex: number;
  readonly gc: PartitionGc;
  private readonly db: Database.Database;
  private readonly latestEx: Database.Statement;
  private readonly minFront: Database.Statement;
  private readonly loadLatest: Database.Statement;
  private readonly begin: (exNum: number, workerCount: number, resumeEpoch: number) => void;
  private readonly write: (exNum: number, worker: number, epoch: number, snaps: readonly SnapshotRecord[]) => void;

  constructor(opened: OpenedPartition) {
    const db = opened.db;
    this.db = db;
    this.path = opened.path;
    this.partIndex = opened.partIndex;
    this.gc = new PartitionGc(db, opened.partIndex);
    this.latestEx = db.prepare('SELECT ex_num, resume_epoch FROM exs ORDER BY ex_num DESC LIMIT 1').raw();
    this.minFront = db.prepare('SELECT MIN(MAX(worker_frontier, ?)) FROM fronts WHERE ex_num = ?').pluck();
    this.loadLatest = db
      .prepare(
        'SELECT step_id, state_key, ser_change, MAX(snap_epoch) FROM snaps WHERE snap_epoch < ? ' +
          'GROUP BY step_id, state_key',
      )
      .raw();
    const insertEx = db.prepare('INSERT INTO exs (ex_num, worker_count, resume_epoch) VALUES (?, ?, ?)');
    const setFront = db.prepare(
      'INSERT OR REPLACE INTO fronts (ex_num, worker_index, worker_frontier) VALUES (?, ?, ?)',
    );
    const dropFuture = db.prepare('DELETE FROM snaps WHERE snap_epoch >= ?');
    const putSnap = db.prepare(
      'INSERT OR REPLACE INTO snaps (step_id, state_key, snap_epoch, ser_change) VALUES (?, ?, ?, ?)',
    );
    this.begin = db.transaction((exNum: number, workerCount: number, resumeEpoch: number) => {
      insertEx.run(exNum, workerCount, resumeEpoch);
      for (let w = 0; w < workerCount; w++) setFront.run(exNum, w, resumeEpoch);
      dropFuture.run(resumeEpoch);
    });
    this.write = db.transaction(
      (exNum: number, worker: number, epoch: number, snaps: readonly SnapshotRecord[]) => {
        for (let i = 0; i < snaps.length; i++) {
          const s = snaps[i]!;
          putSnap.run(s.stepId, s.stateKey, epoch, s.ser);
        }
        setFront.run(exNum, worker, epoch + 1);
      },
    );
  }

  /** Reads this partition's own view of the progress. */
  progress(): PartitionProgress {
    const ex = this.latestEx.get() as [number, number] | undefined;
    let frontier = 1;
    if (ex !== undefined) {
      const [exNum, resumeEpoch] = ex;
      frontier = (this.minFront.get(resumeEpoch, exNum) as number | null) ?? resumeEpoch;
    }
    return {
      partIndex: this.partIndex,
      path: this.path,
      maxExNum: ex?.[0] ?? 0,
      frontier,
      commitEpoch: this.gc.commitEpoch,
    };
  }

  /** Records a new execution and drops snapshots at or after its resume epoch, in one transaction. */
  beginExecution(exNum: number, workerCount: number, resumeEpoch: number): void {
    this.begin(exNum, workerCount, resumeEpoch);
  }

  /** Writes one epoch's snapshots and the worker's new frontier, in one transaction. */
  commit(exNum: number, worker: number, epoch: number, snaps: readonly SnapshotRecord[]): void {
    this.write(exNum, worker, epoch, snaps);
  }

  /** Adds each key's latest snapshot before `resumeEpoch` to `out`, skipping tombstones. */
  loadInto(out: Map<string, Map<string, Uint8Array>>, resumeEpoch: number): void {
    const rows = this.loadLatest.all(resumeEpoch) as [string, string, Uint8Array | null, number][];
    let stepId: string | undefined;
    let states: Map<string, Uint8Array> | undefined;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const ser = row[2];
      if (ser === null) continue;
      if (row[0] !== stepId) {
        stepId = row[0];
        states = out.get(stepId);
        if (states === undefined) out.set(stepId, (states = new Map()));
      }
      states!.set(row[1], ser);
    }
  }

  close(): void {
    this.db.close();
  }
}
