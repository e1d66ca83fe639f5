/**
 * A commit's snapshot records packed into a few flat arrays, to cross to a writer thread at the
 * cost of a few copies rather than one cloned object per record.
 *
 * @internal
 * @module
 */
import { v8Serde } from './serde.js';
import { buffersOf, SnapshotPacker } from './SnapshotPacker.js';
import type { SnapshotRecord } from './store.js';

/** Snapshot records as flat arrays. @internal */
export interface PackedSnapshots {
  /** The step of each run of consecutive records with the same step. */
  readonly stepIds: string[];
  /** How many records each run has. */
  readonly runs: Uint32Array;
  /** Per run: 1 when the run's step marked its snapshots as its full state (see `SnapshotPacker.markFull`). */
  readonly fulls: Uint8Array;
  /** Each key's length in UTF-8 bytes. */
  readonly keyLens: Uint32Array;
  /** The state keys in UTF-8, one after another. */
  readonly keyBytes: Uint8Array;
  /** Each state's length in bytes; -1 for a tombstone. */
  readonly lens: Int32Array;
  /** The states' bytes, one after another. */
  readonly bytes: Uint8Array;
}

/** Packs records; `transfer` lists the buffers that can move to the other thread without a copy. */
export function packSnapshots(records: readonly SnapshotRecord[]): { packed: PackedSnapshots; transfer: ArrayBuffer[] } {
  const packer = new SnapshotPacker(v8Serde);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    packer.addBytes(r.stepId, r.stateKey, r.ser);
  }
  // The packer is this call's own: its buffers can go as they are.
  const packed = packer.view();
  return { packed, transfer: buffersOf(packed) };
}
