import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RecoveryDirectoryError, RecoveryError, UnsupportedSchemaVersionError } from './errors.js';
import { hasTable, SCHEMA_VERSION, schemaVersion } from './schema.js';
import { keysOf, readSegment } from './segment.js';
import { type Serde, v8Serde } from './serde.js';

/**
 * What one partition file says about itself and its progress.
 *
 * ## Example
 * ```ts
 * import { inspectStore } from 'weir/recovery';
 * for (const p of inspectStore('db_dir').partitions) console.log(p.file, p.frontier);
 * ```
 */
export interface PartitionSummary {
  /** The file name. */
  readonly file: string;
  readonly partIndex: number;
  readonly partCount: number;
  /** The latest execution recorded in this file, 0 if none. */
  readonly exNum: number;
  /** The epoch this partition would resume from. */
  readonly frontier: number;
  /** The GC watermark: snapshots at or below it keep only each key's latest. */
  readonly commitEpoch: number;
  /** Snapshots stored, every version of a key counted (a key's superseded versions are merged away over time). */
  readonly rows: number;
}

/**
 * The latest stored state of one key, as {@link inspectStore} reports it.
 *
 * ## Example
 * ```ts
 * import { inspectStore } from 'weir/recovery';
 * const [first] = inspectStore('db_dir').states;
 * console.log(first?.stepId, first?.stateKey, first?.state);
 * ```
 */
export interface StoredState {
  readonly stepId: string;
  readonly stateKey: string;
  /**
   * The epoch of the snapshot. Once superseded versions are merged, it is the latest epoch of the
   * merge, at or after the key's last change.
   */
  readonly epoch: number;
  /** The decoded state; `undefined` for a tombstone. */
  readonly state: unknown;
  /** The partition file that holds it. */
  readonly file: string;
}

/**
 * Reads a recovery directory without changing it: each partition's progress, and the latest
 * snapshot of every key. For looking at state by hand, or from a script; `weir recovery inspect`
 * prints it. Opens the files read-only, so it is safe next to a running flow.
 *
 * ## Example
 * ```ts
 * import { inspectStore } from 'weir/recovery';
 * const { partitions, states } = inspectStore('db_dir', { stepId: 'recovery.running_count' });
 * ```
 * @param dbDir the recovery directory
 * @param options only one step's or one key's states; the serde that wrote them
 * @returns the partitions and the states, sorted by step and key
 */
export function inspectStore(
  dbDir: string,
  options: { stepId?: string; stateKey?: string; serde?: Serde } = {},
): { partitions: PartitionSummary[]; states: StoredState[] } {
  if (!existsSync(dbDir)) throw new RecoveryDirectoryError(dbDir, 'missing');
  if (!statSync(dbDir).isDirectory()) throw new RecoveryDirectoryError(dbDir, 'not-a-directory');
  const files = readdirSync(dbDir).filter((f) => f.endsWith('.sqlite3')).sort();
  const serde = options.serde ?? v8Serde;
  const partitions: PartitionSummary[] = [];
  const states: StoredState[] = [];
  for (const file of files) {
    const path = join(dbDir, file);
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const version = schemaVersion(db);
      if (version > SCHEMA_VERSION) throw new UnsupportedSchemaVersionError(path, version, SCHEMA_VERSION);
      if (version < SCHEMA_VERSION && hasTable(db, 'parts')) {
        throw new RecoveryError(
          `${path} has recovery schema version ${version}, written by an older weir: run the flow once (or ` +
            'open it with RecoveryStore.open), which migrates it, then inspect it',
        );
      }
      const [partIndex, partCount] = db.prepare('SELECT part_index, part_count FROM parts').raw().get() as [number, number];
      const ex = db.prepare('SELECT ex_num, resume_epoch FROM exs ORDER BY ex_num DESC LIMIT 1').raw().get() as [number, number] | undefined;
      const frontier = ex
        ? ((db.prepare('SELECT MIN(MAX(worker_frontier, ?)) FROM fronts WHERE ex_num = ?').pluck().get(ex[1], ex[0]) as number | null) ?? ex[1])
        : 1;
      const commitEpoch = (db.prepare('SELECT MAX(commit_epoch) FROM commits').pluck().get() as number | null) ?? 0;
      const rows = (db.prepare('SELECT SUM(state_count) FROM snaps').pluck().get() as number | null) ?? 0;
      partitions.push({ file, partIndex, partCount, exNum: ex?.[0] ?? 0, frontier, commitEpoch, rows });
      // Each key's latest snapshot: segments in order, later ones win.
      const latest = new Map<string, { stepId: string; stateKey: string; epoch: number; ser: Uint8Array | null }>();
      const sql =
        'SELECT step_id, snap_epoch, full, key_lens, state_keys, ser_lens, ser_changes FROM snaps' +
        (options.stepId !== undefined ? ' WHERE step_id = ?' : '') +
        ' ORDER BY step_id, snap_epoch, rowid';
      const args = options.stepId !== undefined ? [options.stepId] : [];
      for (const [stepId, epoch, full, keyLens, keys, lens, bytes] of db.prepare(sql).raw().iterate(...args) as IterableIterator<
        [string, number, number, Buffer, Buffer, Buffer, Buffer]
      >) {
        const seg = readSegment(stepId, full === 1, keyLens, keys, lens, bytes);
        const names = keysOf(seg);
        for (let i = 0, off = 0; i < names.length; i++) {
          const stateKey = names[i]!;
          const len = seg.lens[i]!;
          const ser = len < 0 ? null : seg.bytes.subarray(off, (off += len));
          if (options.stateKey !== undefined && stateKey !== options.stateKey) continue;
          latest.set(`${stepId}\0${stateKey}`, { stepId, stateKey, epoch, ser });
        }
      }
      for (const { stepId, stateKey, epoch, ser } of latest.values()) {
        states.push({ stepId, stateKey, epoch, state: ser === null ? undefined : serde.deserialize(ser), file });
      }
    } finally {
      db.close();
    }
  }
  states.sort((a, b) => (a.stepId < b.stepId ? -1 : a.stepId > b.stepId ? 1 : a.stateKey < b.stateKey ? -1 : a.stateKey > b.stateKey ? 1 : 0));
  return { partitions, states };
}
