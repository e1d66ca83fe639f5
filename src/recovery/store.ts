/**
 * The recovery store: the open partition files of one recovery directory.
 *
 * @module
 */
import { partitionForBytes } from './hash.js';
import { RecoveryError } from './errors.js';
import { openPartitions } from './openPartitions.js';
import type { LoadedStates } from './loaded.js';
import { packSnapshots, type PackedSnapshots } from './packSnapshots.js';
import { Partition } from './partition.js';
import { segmentsOf, type Segment } from './segment.js';
import { SnapshotPacker } from './SnapshotPacker.js';
import { resumeEpochOf } from './resume.js';

/**
 * One piece of state to snapshot: the new serialized state of a key, or a tombstone.
 *
 * The runtime gathers one record per key touched in an epoch and hands them to
 * {@link RecoveryStore.commitEpoch}.
 *
 * ## Example
 * ```ts
 * import { v8Serde, type SnapshotRecord } from 'weir/recovery';
 *
 * const update: SnapshotRecord = { stepId: 'flow.count', stateKey: 'ALL', ser: v8Serde.serialize(3) };
 * const drop: SnapshotRecord = { stepId: 'flow.count', stateKey: 'gone', ser: null };
 * ```
 */
export interface SnapshotRecord {
  /** The full id of the stateful step (or source/sink) that owns the state. */
  stepId: string;
  /** The state's key within the step. */
  stateKey: string;
  /** The serialized state, or `null` for a tombstone: the key holds no state any more. */
  ser: Uint8Array | null;
}

/**
 * What a store hands to another connection that takes over its commits (a background writer):
 * the execution it writes and the progress it has committed.
 * @internal
 */
export interface StoreHandoff {
  readonly dbDir: string;
  readonly workerCount: number;
  readonly resumeEpoch: number;
  readonly exNum: number;
  readonly fronts: readonly number[];
  readonly deferredGc: number;
  readonly durable: boolean;
  /** Per partition: whether the execution's start is still to be written (see `beginExecutionLater`). */
  readonly unbegun: readonly boolean[];
}

/**
 * The open recovery partitions of one directory: where snapshots are committed and read back.
 *
 * The runtime opens it, calls {@link RecoveryStore.beginExecution} once, restores state from
 * {@link RecoveryStore.loadSnapshots}, then calls {@link RecoveryStore.commitEpoch} as each epoch
 * completes. Users normally only create the files, with `initDbDir`.
 *
 * ## Example
 * ```ts
 * import { RecoveryStore, v8Serde } from 'weir/recovery';
 *
 * const store = RecoveryStore.open('db_dir');
 * store.beginExecution();
 * const state = store.loadSnapshots(); // stepId -> stateKey -> bytes
 * let epoch = store.resumeEpoch;
 * store.commitEpoch(epoch, [{ stepId: 'flow.count', stateKey: 'ALL', ser: v8Serde.serialize(1) }], epoch);
 * store.close();
 * ```
 */
export class RecoveryStore {
  /** How many partition files the store has. */
  readonly partCount: number;
  /**
   * The epoch this run resumes from: snapshots before it are loaded, input replays from it. 1 for a
   * fresh store.
   */
  readonly resumeEpoch: number;
  private readonly parts: readonly Partition[];
  private readonly workerCount: number;
  private readonly maxExNum: number;
  private readonly fronts: number[];
  /** A GC epoch that became safe once every partition committed; collected by the next commit or by close(). */
  private deferredGc = 0;
  private exNum = 0;
  /** Per partition: whether the execution's start is still to be written, by its first commit. */
  private readonly unbegun: boolean[];
  private closed = false;
  private handedOff = false;
  private durable = false;

  private constructor(
    private readonly dbDir: string,
    parts: Partition[],
    workerCount: number,
    resumeEpoch: number,
    maxExNum: number,
  ) {
    this.parts = parts;
    this.partCount = parts.length;
    this.workerCount = workerCount;
    this.resumeEpoch = resumeEpoch;
    this.maxExNum = maxExNum;
    this.fronts = new Array<number>(workerCount).fill(resumeEpoch);
    this.unbegun = parts.map(() => false);
  }

  /**
   * Opens every `*.sqlite3` partition in `dbDir` and computes the resume epoch.
   *
   * @param dbDir the recovery directory
   * @param options `workerCount`: how many workers this run has (default 1)
   * @returns the open store
   * @throws {RecoveryError} (a subclass naming the problem) when the directory or its partitions
   *   cannot be used
   */
  static open(dbDir: string, options: { workerCount?: number } = {}): RecoveryStore {
    const workerCount = options.workerCount ?? 1;
    if (!Number.isSafeInteger(workerCount) || workerCount < 1) {
      throw new RecoveryError(`RecoveryStore.open: workerCount must be an integer >= 1, got ${String(workerCount)}`);
    }
    const opened = openPartitions(dbDir);
    const parts: Partition[] = [];
    try {
      for (const o of opened) parts.push(new Partition(o));
      const progress = parts.map((p) => p.progress());
      const resumeEpoch = resumeEpochOf(progress);
      const maxExNum = Math.max(...progress.map((p) => p.maxExNum));
      return new RecoveryStore(dbDir, parts, workerCount, resumeEpoch, maxExNum);
    } catch (err) {
      for (const o of opened) o.db.close();
      throw err;
    }
  }

  /**
   * Starts this run as a new execution in every partition, and drops snapshots at or after the
   * resume epoch (left by partitions that got further before a crash). Call it once, before the
   * first {@link RecoveryStore.commitEpoch}.
   *
   * @returns the new execution number
   */
  beginExecution(): number {
    const exNum = this.beginExecutionLater();
    for (let i = 0; i < this.parts.length; i++) this.beginIn(i);
    return exNum;
  }

  /**
   * {@link RecoveryStore.beginExecution}, written by each partition's first commit, in the same
   * transaction, rather than now: until then the store is as the last execution left it, which a
   * resume reads the same way (the execution number is taken again, and the same snapshots are
   * dropped). A run that begins a store this way writes nothing to it before its first commit,
   * which then runs on the writer thread when commits run there.
   * @internal
   */
  beginExecutionLater(): number {
    this.assertOpen();
    if (this.exNum !== 0) throw new RecoveryError('RecoveryStore.beginExecution: already called for this store');
    this.exNum = this.maxExNum + 1;
    this.unbegun.fill(true);
    return this.exNum;
  }

  /** Writes the execution's start to partition `i` if it is not there yet. */
  private beginIn(i: number): void {
    if (!this.unbegun[i]) return;
    this.parts[i]!.beginExecution(this.exNum, this.workerCount, this.resumeEpoch);
    this.unbegun[i] = false;
  }

  /**
   * Whether each commit is flushed to the disk before it returns (SQLite `synchronous = FULL`),
   * rather than when the WAL is next checkpointed (`NORMAL`, the default).
   *
   * Either way a commit survives a crash of the process, and the files stay consistent. Without
   * it, a power loss or an OS crash may take the store back to an earlier epoch: the run resumes
   * from there and replays its input, which is correct as long as nothing outside acted on the
   * later commits. Turn it on when something does: `runMain` does so when a source or sink
   * partition has `epochCommitted` (an exactly-once Kafka sink commits its transaction there). A
   * commit then costs one more fsync.
   *
   * ## Example
   * ```ts
   * import { RecoveryStore } from 'weir/recovery';
   *
   * const store = RecoveryStore.open('db_dir');
   * store.setDurable(true);
   * ```
   */
  setDurable(durable: boolean): void {
    this.assertOpen();
    for (const p of this.parts) p.setDurable(durable);
    this.durable = durable;
  }

  /**
   * Reads every key's latest snapshot before the resume epoch. Keys whose latest snapshot is a
   * tombstone are left out.
   *
   * @returns stepId -> stateKey -> serialized state
   */
  loadSnapshots(): Map<string, Map<string, Uint8Array>> {
    this.assertOpen();
    const out = new Map<string, LoadedStates>();
    for (const p of this.parts) p.loadInto(out, this.resumeEpoch);
    return out;
  }

  /**
   * Commits one epoch: in every partition, one transaction writes the snapshots that belong to it
   * and the worker's frontier `epoch + 1`, and garbage-collects superseded snapshots.
   *
   * Collection goes up to `gcEpoch`, capped so that it never removes state a resume needs: below
   * the slowest worker's frontier, and, with several partitions, below this epoch until every
   * partition has committed it (a crash between partition commits resumes at this epoch). That
   * last step is done by the next commit, or by {@link RecoveryStore.close}. Pass 0 to skip
   * collection.
   *
   * @param epoch the completed epoch
   * @param snaps the state changes of that epoch, at most one per (stepId, stateKey)
   * @param gcEpoch collect superseded snapshots at or below this epoch
   * @param workerIndex the committing worker, default 0
   */
  commitEpoch(epoch: number, snaps: SnapshotRecord[], gcEpoch: number, workerIndex = 0): void {
    this.commitSnaps(epoch, snaps, gcEpoch, workerIndex, true);
  }

  /**
   * {@link RecoveryStore.commitEpoch} for records packed by `packSnapshots`, as a writer thread
   * receives them. Without `merge`, no segments are merged: the commit costs only its own writes
   * (the last commit of a run), and the next one catches up.
   * @internal
   */
  commitPacked(epoch: number, packed: PackedSnapshots, gcEpoch: number, workerIndex = 0, merge = true): void {
    this.commitSnaps(epoch, packed, gcEpoch, workerIndex, merge);
  }

  private commitSnaps(
    epoch: number,
    snaps: SnapshotRecord[] | PackedSnapshots,
    gcEpoch: number,
    workerIndex: number,
    merge: boolean,
  ): void {
    this.assertOpen();
    if (this.exNum === 0) throw new RecoveryError('RecoveryStore.commitEpoch: call beginExecution() first');
    if (!Number.isSafeInteger(epoch) || epoch < this.resumeEpoch) {
      throw new RecoveryError(
        `RecoveryStore.commitEpoch: epoch must be an integer >= the resume epoch ${this.resumeEpoch}, got ${String(epoch)}`,
      );
    }
    if (!Number.isSafeInteger(workerIndex) || workerIndex < 0 || workerIndex >= this.workerCount) {
      throw new RecoveryError(
        `RecoveryStore.commitEpoch: workerIndex must be an integer in [0, ${this.workerCount}), got ${String(workerIndex)}`,
      );
    }
    let before = Infinity;
    let after = Infinity;
    for (let w = 0; w < this.fronts.length; w++) {
      const f = this.fronts[w]!;
      before = Math.min(before, f);
      after = Math.min(after, w === workerIndex ? epoch + 1 : f);
    }
    // One partition commits its rows and its frontier atomically; with several, a crash between
    // their commits resumes at the slowest frontier from before this commit.
    const safe = (this.partCount === 1 ? after : before) - 1;
    const gc = Math.max(Math.min(gcEpoch, safe), this.deferredGc);
    const routed = this.route(Array.isArray(snaps) ? packSnapshots(snaps).packed : (snaps as PackedSnapshots));
    for (let i = 0; i < this.parts.length; i++) {
      const begin = this.unbegun[i] ? { workerCount: this.workerCount, resumeEpoch: this.resumeEpoch } : undefined;
      this.parts[i]!.commit(this.exNum, workerIndex, epoch, routed[i]!, gc, merge, begin);
      this.unbegun[i] = false;
    }
    this.fronts[workerIndex] = epoch + 1;
    this.deferredGc = Math.max(this.deferredGc, Math.min(gcEpoch, after - 1));
  }

  /**
   * Leaves checkpoints (copying the WAL into the database files) to {@link RecoveryStore.checkpoint}
   * rather than to the commit that grows the WAL past 1000 pages, as a writer thread does: it then
   * checkpoints after it has answered a commit, while the flow goes on, and a run's last commit,
   * which the run waits for, does not also copy the epochs before it.
   * @internal
   */
  deferCheckpoints(): void {
    this.assertOpen();
    for (const p of this.parts) p.setAutoCheckpoint(false);
  }

  /**
   * Copies what it can of each partition's WAL into its database file, without waiting for readers.
   * @internal
   */
  checkpoint(): void {
    this.assertOpen();
    for (const p of this.parts) p.checkpoint();
  }

  /**
   * Returns what another connection needs to take over this store's commits with
   * {@link RecoveryStore.adopt}, and stops this one from committing. Call it after
   * {@link RecoveryStore.beginExecution}. Its files stay open until {@link RecoveryStore.close},
   * which then closes them without collecting: once the other connection has them open too, closing
   * this one skips the checkpoint that SQLite makes when the last connection to a file closes.
   * @internal
   */
  handOff(): StoreHandoff {
    this.assertOpen();
    if (this.exNum === 0) throw new RecoveryError('RecoveryStore.handOff: call beginExecution() first');
    this.handedOff = true;
    return {
      dbDir: this.dbDir,
      workerCount: this.workerCount,
      resumeEpoch: this.resumeEpoch,
      exNum: this.exNum,
      fronts: [...this.fronts],
      deferredGc: this.deferredGc,
      durable: this.durable,
      unbegun: [...this.unbegun],
    };
  }

  /**
   * Opens the store again to go on with the commits of a handed-off execution.
   * @internal
   */
  static adopt(h: StoreHandoff): RecoveryStore {
    const opened = openPartitions(h.dbDir);
    const parts: Partition[] = [];
    try {
      for (const o of opened) parts.push(new Partition(o));
    } catch (err) {
      for (const o of opened) o.db.close();
      throw err;
    }
    const store = new RecoveryStore(h.dbDir, parts, h.workerCount, h.resumeEpoch, h.exNum - 1);
    store.exNum = h.exNum;
    store.deferredGc = h.deferredGc;
    for (let w = 0; w < h.fronts.length; w++) store.fronts[w] = h.fronts[w]!;
    for (let i = 0; i < h.unbegun.length && i < store.unbegun.length; i++) store.unbegun[i] = h.unbegun[i]!;
    if (h.durable) store.setDurable(true);
    return store;
  }

  /**
   * Finishes the collection left by the last commit, then closes every partition file. Safe to
   * call twice. A failed collection is left to the next run.
   */
  close(): void {
    this.closeFiles(false);
  }

  /**
   * Has each partition file held open by a second, read-only connection, so that
   * {@link RecoveryStore.closeKeepingWal} can close the store without a checkpoint. A writer thread
   * does this for each run it serves.
   * @internal
   */
  holdWal(): void {
    this.assertOpen();
    for (const p of this.parts) p.holdWal();
  }

  /**
   * Closes the store as {@link RecoveryStore.close} does, but leaves each partition's WAL in place
   * (after {@link RecoveryStore.holdWal}): the last commits stay in the `-wal` files, which the next
   * connection reads, and a later checkpoint copies into the files. The close then costs no copy of
   * the last epoch, and no sync of the files. Call it only after a commit made with
   * {@link RecoveryStore.setDurable} on, which synced the WAL: the files are then at rest and up to
   * date, as after {@link RecoveryStore.close}.
   * @internal
   */
  closeKeepingWal(): void {
    this.closeFiles(true);
  }

  private closeFiles(keepWal: boolean): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.exNum !== 0 && !this.handedOff) for (const p of this.parts) p.gc.collect(this.deferredGc);
    } catch {
      // Nothing is lost: the next run's first commits collect the same rows.
    } finally {
      for (const p of this.parts) p.close(keepWal);
    }
  }

  /**
   * Splits the records into each partition's segments: one per step. With one partition, they are
   * views of the packed buffers, with no per-record work.
   */
  private route(p: PackedSnapshots): Segment[][] {
    // With several workers, a worker's full state is not the step's.
    if (this.workerCount > 1) p = { ...p, fulls: new Uint8Array(p.fulls.length) };
    if (this.partCount === 1) return [segmentsOf(p)];
    const packers = this.parts.map(() => new SnapshotPacker());
    for (let r = 0, i = 0, k = 0, b = 0; r < p.stepIds.length; r++) {
      const stepId = p.stepIds[r]!;
      for (let end = i + p.runs[r]!; i < end; i++) {
        const keyEnd = k + p.keyLens[i]!;
        const len = p.lens[i]!;
        const part = partitionForBytes(stepId, p.keyBytes, k, keyEnd, this.partCount);
        packers[part]!.addRaw(stepId, p.keyBytes.subarray(k, keyEnd), len < 0 ? null : p.bytes.subarray(b, b + len));
        k = keyEnd;
        if (len > 0) b += len;
      }
      // Each partition's share of a full state is that partition's full state of the step.
      if (p.fulls[r] === 1) for (const packer of packers) packer.markFull(stepId);
    }
    return packers.map((packer) => segmentsOf(packer.view()));
  }

  private assertOpen(): void {
    if (this.closed) throw new RecoveryError('RecoveryStore: the store is closed');
    if (this.handedOff) throw new RecoveryError('RecoveryStore: the store has handed its commits to another connection');
  }
}
