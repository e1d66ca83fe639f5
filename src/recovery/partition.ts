/**
 * One open partition file with its prepared statements.
 *
 * @internal
 * @module
 */
import type Database from 'better-sqlite3';
import { Batched, MAX_BATCH, repeat } from './batch.js';
import { PartitionGc } from './gc.js';
import { isAsciiText, LoadedStates, splitKeys } from './loaded.js';
import type { OpenedPartition } from './openPartitions.js';

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

/** One step's snapshots of one epoch in one partition, in key order (for B-tree locality). */
export interface StepSnaps {
  readonly stepId: string;
  /** The state keys, in key order. */
  readonly keys: readonly string[];
  /** Each state's length in bytes, -1 for a tombstone. */
  readonly lens: readonly number[];
  /** Where each state starts in `bytes`. */
  readonly offs: readonly number[];
  /** The states' bytes, shared by every step of a commit. */
  readonly bytes: Uint8Array;
}

/** A statement's states are bound as one blob of at most this many bytes (SQLite caps a value at 1 GB). */
const MAX_STATEMENT_BYTES = 64 << 20;
/** The statement blob's buffer is kept between commits up to this size. */
const SCRATCH_KEEP = 1 << 20;

/** Loading reads the latest snapshots in chunks of keys, growing from the first to the maximum size. */
const FIRST_LOAD_ROWS = 1024;
const MAX_LOAD_ROWS = 65536;
/** A chunk grows while its bytes stay below this. */
const LOAD_CHUNK_BYTES = 32 << 20;

/**
 * The latest row per key before `@r`, a chunk of keys at a time in key order, aggregated per step:
 * the rows read, the last key (only when grouping: else it is the last live key), and for the live keys their names concatenated with their UTF-8
 * lengths (a JSON array), and their states' lengths (a JSON array) and bytes, concatenated. With
 * `unique`, every key has exactly one row before `@r` and it is no tombstone, so rows are read as
 * they are, without grouping them per key or filtering tombstones out.
 *
 * `group_concat` of blobs in a UTF-8 database concatenates their bytes as they are, NULs included,
 * and the cast hands them back as a blob.
 */
const loadChunkSql = (after: boolean, unique: boolean) => {
  const live = unique ? '' : ' FILTER (WHERE ser IS NOT NULL)';
  return `
SELECT step_id, count(*), ${unique ? 'NULL' : 'max(state_key)'},
  group_concat(state_key, '')${live},
  json_group_array(octet_length(state_key))${live},
  json_group_array(length(ser))${live},
  CAST(group_concat(ser, '')${live} AS BLOB)
FROM (
  SELECT step_id, state_key, ser_change AS ser${unique ? '' : ', MAX(snap_epoch)'}
  FROM snaps
  WHERE snap_epoch < @r${after ? ' AND (step_id, state_key) > (@s, @k)' : ''}${unique ? '' : '\n  GROUP BY step_id, state_key'}
  ORDER BY step_id, state_key
  LIMIT @n
)
GROUP BY step_id
ORDER BY step_id`;
};

type LoadRow = [stepId: string, rows: number, lastKey: string | null, keys: string, keyLens: string, lens: string, bytes: Buffer | null];

/** A validated partition file, ready for the store's reads and writes. */
export class Partition {
  readonly path: string;
  readonly partIndex: number;
  readonly gc: PartitionGc;
  private readonly db: Database.Database;
  private readonly latestEx: Database.Statement;
  private readonly minFront: Database.Statement;
  /** The load statements, prepared on first use, at `(unique ? 2 : 0) + (after ? 1 : 0)` (see `loadChunkSql`). */
  private readonly loadStmts: (Database.Statement | undefined)[] = [];
  private readonly pendingBefore: Database.Statement;
  private readonly insertRows: Batched;
  private readonly named = { s: '', e: 0, b: Buffer.alloc(1) };
  private readonly rowArgs = new Array<unknown>(3 * MAX_BATCH);
  /** The statement's states, copied one after another. */
  private scratch = Buffer.alloc(SCRATCH_KEEP);
  private readonly keyArgs = new Array<unknown>(MAX_BATCH);
  private readonly begin: (exNum: number, workerCount: number, resumeEpoch: number) => void;
  private readonly write: (exNum: number, worker: number, epoch: number, steps: readonly StepSnaps[], gcEpoch: number) => void;

  constructor(opened: OpenedPartition) {
    const db = opened.db;
    this.db = db;
    this.path = opened.path;
    this.partIndex = opened.partIndex;
    const gc = (this.gc = new PartitionGc(db, opened.partIndex));
    this.latestEx = db.prepare('SELECT ex_num, resume_epoch FROM exs ORDER BY ex_num DESC LIMIT 1').raw();
    this.minFront = db.prepare('SELECT MIN(MAX(worker_frontier, ?)) FROM fronts WHERE ex_num = ?').pluck();
    this.pendingBefore = db.prepare('SELECT 1 FROM pending_gc WHERE snap_epoch < ? LIMIT 1').pluck();
    // A row's state is a slice of the statement's blob @b (no object per row to bind); a NULL
    // start makes it NULL, a tombstone. @b always has a byte more than its states: substr() of an
    // empty blob is NULL.
    this.insertRows = new Batched(
      db,
      (n) =>
        'INSERT OR REPLACE INTO snaps (step_id, state_key, snap_epoch, ser_change) VALUES ' +
        repeat('(@s, ?, @e, substr(@b, ?, ?))', n),
      3,
    );
    const insertEx = db.prepare('INSERT INTO exs (ex_num, worker_count, resume_epoch) VALUES (?, ?, ?)');
    const setFront = db.prepare(
      'INSERT OR REPLACE INTO fronts (ex_num, worker_index, worker_frontier) VALUES (?, ?, ?)',
    );
    this.begin = db.transaction((exNum: number, workerCount: number, resumeEpoch: number) => {
      insertEx.run(exNum, workerCount, resumeEpoch);
      for (let w = 0; w < workerCount; w++) setFront.run(exNum, w, resumeEpoch);
      gc.dropFrom(resumeEpoch);
    });
    this.write = db.transaction(
      (exNum: number, worker: number, epoch: number, steps: readonly StepSnaps[], gcEpoch: number) => {
        gc.collectPending(gcEpoch);
        const collectNow = epoch <= gc.commitEpoch;
        for (let i = 0; i < steps.length; i++) this.writeStep(steps[i]!, epoch, collectNow);
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

  /**
   * Writes one epoch's snapshots and the worker's new frontier, and collects up to `gcEpoch`, in
   * one transaction. `gcEpoch` must be safe to collect once this transaction commits.
   */
  commit(exNum: number, worker: number, epoch: number, steps: readonly StepSnaps[], gcEpoch: number): void {
    const watermark = this.gc.commitEpoch;
    try {
      this.write(exNum, worker, epoch, steps, gcEpoch);
    } catch (err) {
      this.gc.rollback(watermark);
      throw err;
    }
  }

  /**
   * Adds each key's latest snapshot before `resumeEpoch` to `out`, skipping tombstones. Reads
   * chunks of keys with their bytes concatenated, so the cost per key stays far below a row read.
   *
   * When no `pending_gc` row is older than `resumeEpoch`, every row before it is at or below the
   * GC watermark, where GC has left one row per key and no tombstone: rows are then read without
   * grouping them per key.
   */
  loadInto(out: Map<string, LoadedStates>, resumeEpoch: number): void {
    const params = { r: resumeEpoch, s: '', k: '', n: FIRST_LOAD_ROWS };
    const unique = this.pendingBefore.get(resumeEpoch) === undefined;
    let after = false;
    for (;;) {
      let groups: LoadRow[];
      try {
        groups = this.loadStmt(unique, after).all(params) as LoadRow[];
      } catch (err) {
        // A chunk's bytes exceed SQLite's length limit: states of hundreds of MB each. Read the rest row by row.
        if ((err as { code?: unknown }).code !== 'SQLITE_TOOBIG') throw err;
        this.loadRows(out, params, after);
        return;
      }
      let rows = 0;
      let bytes = 0;
      for (let g = 0; g < groups.length; g++) {
        const [stepId, count, lastKey, keys, keyLens, lens, buf] = groups[g]!;
        rows += count;
        params.s = stepId;
        if (buf === null) {
          params.k = lastKey!; // only tombstones, so grouped: the last key is given
          continue;
        }
        bytes += buf.length;
        const byteLens = JSON.parse(keyLens) as number[];
        const names = splitKeys(keys, byteLens);
        params.k = lastKey ?? names[names.length - 1]!;
        let states = out.get(stepId);
        if (states === undefined) out.set(stepId, (states = new LoadedStates()));
        states.addChunk(names, JSON.parse(lens) as number[], buf, isAsciiText(byteLens, keys.length));
      }
      if (rows < params.n) return;
      if (bytes < LOAD_CHUNK_BYTES / 2 && params.n < MAX_LOAD_ROWS) params.n *= 2;
      else if (bytes > LOAD_CHUNK_BYTES && params.n > 1) params.n >>= 1;
      after = true;
    }
  }

  private loadStmt(unique: boolean, after: boolean): Database.Statement {
    const i = (unique ? 2 : 0) + (after ? 1 : 0);
    return (this.loadStmts[i] ??= this.db.prepare(loadChunkSql(after, unique)).raw());
  }

  /** The slow path of {@link Partition.loadInto}: one row per key, from the cursor in `params` on. */
  private loadRows(out: Map<string, LoadedStates>, params: { r: number; s: string; k: string }, after: boolean): void {
    const sql =
      'SELECT step_id, state_key, ser_change, MAX(snap_epoch) FROM snaps ' +
      `WHERE snap_epoch < @r${after ? ' AND (step_id, state_key) > (@s, @k)' : ''} GROUP BY step_id, state_key`;
    for (const row of this.db.prepare(sql).raw().iterate(params) as IterableIterator<[string, string, Buffer | null]>) {
      const [stepId, key, ser] = row;
      if (ser === null) continue;
      let states = out.get(stepId);
      if (states === undefined) out.set(stepId, (states = new LoadedStates()));
      states.addChunk([key], [ser.length], ser);
    }
  }

  /** Flushes each commit to the disk before it returns (`synchronous = FULL`), or not (`NORMAL`). */
  setDurable(durable: boolean): void {
    this.db.pragma(`synchronous = ${durable ? 'FULL' : 'NORMAL'}`);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Writes one step's rows, up to {@link MAX_BATCH} per statement. With `collectNow`, each chunk of
   * keys first loses its older rows, and tombstones are not written: nothing is left to hide.
   * Otherwise the keys are recorded for a later collection.
   */
  private writeStep(st: StepSnaps, epoch: number, collectNow: boolean): void {
    const { stepId, keys, lens, offs, bytes } = st;
    const named = this.named;
    named.s = stepId;
    named.e = epoch;
    const rowArgs = this.rowArgs;
    const keyArgs = this.keyArgs;
    for (let i = 0; i < keys.length; ) {
      let n = 0;
      let rows = 0;
      let used = 0;
      for (; n < MAX_BATCH && i < keys.length; n++, i++) {
        const len = lens[i]!;
        if (len > 0 && n > 0 && used + len > MAX_STATEMENT_BYTES) break;
        const key = keys[i]!;
        if (collectNow) {
          keyArgs[n] = key;
          if (len < 0) continue;
        }
        if (len > 0) used = this.copyState(bytes, offs[i]!, len, used);
        rowArgs[3 * rows] = key;
        rowArgs[3 * rows + 1] = len < 0 ? null : used - len + 1;
        rowArgs[3 * rows + 2] = len < 0 ? 0 : len;
        rows++;
      }
      if (collectNow) this.gc.replaceKeys(stepId, keyArgs, n, epoch);
      if (rows > 0) {
        named.b = this.scratch.subarray(0, used + 1);
        this.insertRows.run(named, rowArgs, rows);
      }
    }
    if (!collectNow) this.gc.defer(stepId, keys, epoch);
    if (this.scratch.length > SCRATCH_KEEP) {
      // Huge states passed: give the memory back.
      this.scratch = Buffer.alloc(SCRATCH_KEEP);
      named.b = this.scratch;
    }
  }

  /** Appends `bytes[off, off + len)` to the statement's blob at `used`; returns the new length. */
  private copyState(bytes: Uint8Array, off: number, len: number, used: number): number {
    if (used + len + 1 > this.scratch.length) {
      const grown = Buffer.alloc(Math.max(2 * this.scratch.length, used + len + 1));
      this.scratch.copy(grown, 0, 0, used);
      this.scratch = grown;
    }
    const scratch = this.scratch;
    if (len < 32) for (let k = 0; k < len; k++) scratch[used + k] = bytes[off + k]!;
    else scratch.set(bytes.subarray(off, off + len), used);
    return used + len;
  }
}
