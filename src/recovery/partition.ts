/**
 * One open partition file with its prepared statements.
 *
 * @internal
 * @module
 */
import Database from 'better-sqlite3';
import { RecoveryError } from './errors.js';
import { PartitionGc } from './gc.js';
import { LoadedStates } from './loaded.js';
import type { OpenedPartition } from './openPartitions.js';
import { blobOf, readSegment, segmentBlobs, resolveSegments, segmentLimits, splitSegment, type ReadSegment, type Segment } from './segment.js';

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

/** An execution's start, for the first commit to write when it was not written before. */
export interface ExecutionStart {
  readonly workerCount: number;
  readonly resumeEpoch: number;
}

type LoadRow = [stepId: string, full: number, keyLens: Buffer, keyBytes: Buffer, lens: Buffer, bytes: Buffer];

/** A validated partition file, ready for the store's reads and writes. */
export class Partition {
  readonly path: string;
  readonly partIndex: number;
  readonly gc: PartitionGc;
  private readonly db: Database.Database;
  /** A read-only connection to the same file, while {@link Partition.holdWal} holds it. */
  private walHolder: Database.Database | undefined;
  private readonly latestEx: Database.Statement;
  private readonly minFront: Database.Statement;
  private readonly loadStmt: Database.Statement;
  private readonly begin: (exNum: number, workerCount: number, resumeEpoch: number) => void;
  private readonly write: (
    exNum: number,
    worker: number,
    epoch: number,
    segs: readonly Segment[],
    gcEpoch: number,
    merge: boolean,
    start?: ExecutionStart,
  ) => void;

  constructor(opened: OpenedPartition) {
    const db = opened.db;
    this.db = db;
    this.path = opened.path;
    this.partIndex = opened.partIndex;
    const insertSeg = db.prepare(
      'INSERT INTO snaps (snap_epoch, step_id, state_count, full, key_lens, state_keys, ser_lens, ser_changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const replaceSeg = db.prepare(
      'UPDATE snaps SET snap_epoch = ?, state_count = ?, full = ?, key_lens = ?, state_keys = ?, ser_lens = ?, ser_changes = ? WHERE rowid = ?',
    );
    // With `supersede`, the step's older segments go first (see PartitionGc.dropSuperseded), and
    // the first row may be written over one of theirs.
    const insert = (epoch: number, seg: Segment, supersede = false): number[] => {
      const rowids: number[] = [];
      for (const s of splitSegment(seg, segmentLimits.segmentBytes)) {
        const { keyLens, lens } = segmentBlobs(s);
        const full = s.full ? 1 : 0;
        const keyBytes = blobOf(s.keyBytes);
        const bytes = blobOf(s.bytes);
        if (supersede) {
          supersede = false;
          const over = gc.dropSuperseded(s.stepId, epoch, [full, s.lens.length, keyLens.length, keyBytes.length, lens.length, bytes.length]);
          if (over !== undefined) {
            replaceSeg.run(epoch, s.lens.length, full, keyLens, keyBytes, lens, bytes, over);
            rowids.push(over);
            continue;
          }
        }
        const r = insertSeg.run(epoch, s.stepId, s.lens.length, full, keyLens, keyBytes, lens, bytes);
        rowids.push(Number(r.lastInsertRowid));
      }
      return rowids;
    };
    const gc = (this.gc = new PartitionGc(db, opened.partIndex, insert));
    this.latestEx = db.prepare('SELECT ex_num, resume_epoch FROM exs ORDER BY ex_num DESC LIMIT 1').raw();
    this.minFront = db.prepare('SELECT MIN(MAX(worker_frontier, ?)) FROM fronts WHERE ex_num = ?').pluck();
    this.loadStmt = db
      .prepare(
        'SELECT step_id, full, key_lens, state_keys, ser_lens, ser_changes FROM snaps WHERE snap_epoch < ? ORDER BY step_id, snap_epoch, rowid',
      )
      .raw();
    const insertEx = db.prepare('INSERT INTO exs (ex_num, worker_count, resume_epoch) VALUES (?, ?, ?)');
    const setFront = db.prepare(
      'INSERT OR REPLACE INTO fronts (ex_num, worker_index, worker_frontier) VALUES (?, ?, ?)',
    );
    const begin = (exNum: number, workerCount: number, resumeEpoch: number) => {
      insertEx.run(exNum, workerCount, resumeEpoch);
      for (let w = 0; w < workerCount; w++) setFront.run(exNum, w, resumeEpoch);
      gc.dropFrom(resumeEpoch);
    };
    this.begin = db.transaction(begin);
    this.write = db.transaction(
      (exNum: number, worker: number, epoch: number, segs: readonly Segment[], gcEpoch: number, merge: boolean, start?: ExecutionStart) => {
        if (start !== undefined) begin(exNum, start.workerCount, start.resumeEpoch);
        for (let i = 0; i < segs.length; i++) {
          const seg = segs[i]!;
          if (seg.lens.length === 0) continue;
          insert(epoch, seg, seg.full && epoch <= gcEpoch);
        }
        setFront.run(exNum, worker, epoch + 1);
        gc.collectPending(gcEpoch, merge);
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

  /**
   * Writes one epoch's segments and the worker's new frontier, and collects up to `gcEpoch`, in
   * one transaction. `gcEpoch` must be safe to collect once this transaction commits. With
   * `merge`, segments are also merged where that pays (see {@link PartitionGc}). With `start`, the
   * same transaction first records the execution, as {@link Partition.beginExecution} does.
   */
  commit(exNum: number, worker: number, epoch: number, segs: readonly Segment[], gcEpoch: number, merge: boolean, start?: ExecutionStart): void {
    const watermark = this.gc.commitEpoch;
    try {
      this.write(exNum, worker, epoch, segs, gcEpoch, merge, start);
    } catch (err) {
      this.gc.rollback(watermark);
      throw err;
    }
  }

  /**
   * Adds each key's latest snapshot before `resumeEpoch` to `out`, skipping tombstones: one chunk
   * per step, read from its segments in order.
   */
  loadInto(out: Map<string, LoadedStates>, resumeEpoch: number): void {
    let stepId: string | undefined;
    let segs: ReadSegment[] = [];
    const flush = () => {
      if (stepId === undefined) return;
      const { keys, lens, bytes } = resolveSegments(segs);
      if (keys.length > 0) {
        let states = out.get(stepId);
        if (states === undefined) out.set(stepId, (states = new LoadedStates()));
        states.addChunk(keys, lens, bytes);
      }
      segs = [];
    };
    for (const [step, full, keyLens, keyBytes, lens, bytes] of this.loadStmt.iterate(resumeEpoch) as IterableIterator<LoadRow>) {
      if (step !== stepId) {
        flush();
        stepId = step;
      }
      // A full segment supersedes the step's older ones.
      if (full === 1) segs = [];
      try {
        segs.push(readSegment(step, full === 1, keyLens, keyBytes, lens, bytes));
      } catch (err) {
        throw new RecoveryError(
          `${(err as Error).message}: step '${step}' in ${this.path}. Restore the partition from a backup (with its -wal and -shm files)`,
          { cause: err },
        );
      }
    }
    flush();
  }

  /**
   * Whether a commit that grows the WAL past 1000 pages also copies it into the database file
   * (SQLite's default), or leaves that to {@link Partition.checkpoint}.
   */
  setAutoCheckpoint(on: boolean): void {
    this.db.pragma(`wal_autocheckpoint = ${on ? 1000 : 0}`);
  }

  /** Copies what it can of the WAL into the database file, without waiting for readers. */
  checkpoint(): void {
    this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** Flushes each commit to the disk before it returns (`synchronous = FULL`), or not (`NORMAL`). */
  setDurable(durable: boolean): void {
    this.db.pragma(`synchronous = ${durable ? 'FULL' : 'NORMAL'}`);
  }

  /**
   * Opens a second, read-only connection to the file and reads through it, so that SQLite counts the
   * file as open elsewhere: closing this connection then makes no checkpoint. SQLite copies the WAL
   * into the file and deletes it when the last connection to a file closes, and a read-only
   * connection, which cannot write the file, never does. See {@link Partition.close}.
   *
   * Best effort: when the second connection cannot be opened, the file is closed as usual.
   */
  holdWal(): void {
    if (this.walHolder !== undefined) return;
    let holder: Database.Database | undefined;
    try {
      holder = new Database(this.path, { readonly: true, fileMustExist: true });
      holder.prepare('SELECT part_index FROM parts').get();
      this.walHolder = holder;
    } catch {
      holder?.close();
    }
  }

  /**
   * Closes the file. With `keepWal`, after {@link Partition.holdWal}, the WAL stays beside it as it
   * is, for the next connection to read and copy in. Otherwise, as the last connection, this one
   * copies the WAL into the file and deletes it.
   */
  close(keepWal = false): void {
    const holder = this.walHolder;
    this.walHolder = undefined;
    try {
      if (!keepWal) holder?.close();
      this.db.close();
    } finally {
      if (keepWal) holder?.close();
    }
  }
}
