/**
 * A commit's snapshot records packed into a few flat arrays, to cross to a writer thread at the
 * cost of a few copies rather than one cloned object per record.
 *
 * @internal
 * @module
 */
import type { SnapshotRecord } from './store.js';

/** Snapshot records as flat arrays. @internal */
export interface PackedSnapshots {
  /** The step of each run of consecutive records with the same step. */
  readonly stepIds: string[];
  /** How many records each run has. */
  readonly runs: Uint32Array;
  /** The state keys, one after another. */
  readonly keys: string;
  /** Each key's length in UTF-16 code units. */
  readonly keyLens: Uint32Array;
  /** Each state's length in bytes; -1 for a tombstone. */
  readonly lens: Int32Array;
  /** The states' bytes, one after another. */
  readonly bytes: Uint8Array;
}

/** Packs records; `transfer` lists the buffers that can move to the other thread without a copy. */
export function packSnapshots(records: readonly SnapshotRecord[]): { packed: PackedSnapshots; transfer: ArrayBuffer[] } {
  const n = records.length;
  const stepIds: string[] = [];
  const runCounts: number[] = [];
  const keyLens = new Uint32Array(n);
  const lens = new Int32Array(n);
  const keys = new Array<string>(n);
  let total = 0;
  let step: string | undefined;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    if (r.stepId !== step) {
      step = r.stepId;
      stepIds.push(step);
      runCounts.push(0);
    }
    runCounts[runCounts.length - 1]!++;
    keys[i] = r.stateKey;
    keyLens[i] = r.stateKey.length;
    const ser = r.ser;
    lens[i] = ser === null ? -1 : ser.length;
    if (ser !== null) total += ser.length;
  }
  const bytes = new Uint8Array(total);
  for (let i = 0, off = 0; i < n; i++) {
    const ser = records[i]!.ser;
    if (ser === null) continue;
    if (ser.length < 16) for (let j = 0; j < ser.length; j++) bytes[off + j] = ser[j]!;
    else bytes.set(ser, off);
    off += ser.length;
  }
  const runs = Uint32Array.from(runCounts);
  const packed: PackedSnapshots = { stepIds, runs, keys: keys.join(''), keyLens, lens, bytes };
  return { packed, transfer: [runs.buffer, keyLens.buffer, lens.buffer, bytes.buffer] as ArrayBuffer[] };
}
