/**
 * The messages between the run loop and its background writer thread.
 *
 * @internal
 * @module
 */
import type { PackedSnapshots } from './packSnapshots.js';
import type { LentBuffers } from './SnapshotPacker.js';
import type { StoreHandoff } from './store.js';

/** The shared flag's values: the writer has answered, or has work in hand. */
export const IDLE = 0;
export const BUSY = 1;

/** What the run loop asks of the writer. */
export type WriterRequest =
  | {
      kind: 'commit';
      epoch: number;
      gcEpoch: number;
      merge: boolean;
      packed: PackedSnapshots;
      /** Set on a run's first commit: the store to open, in place of any earlier run's. */
      handoff: StoreHandoff | undefined;
      /** The run's last commit: close the store after it, whether it succeeded or not, as `close` does. */
      close: boolean;
    }
  | { kind: 'close' };

/** An error as it crosses threads. */
export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
}

/**
 * The writer's answer to each request. A commit's answer gives back the buffers its snapshots came
 * in, for the run loop's next epoch.
 */
export type WriterReply = { ok: true; lent?: LentBuffers } | { ok: false; error: ErrorInfo };

export function describeError(err: unknown): ErrorInfo {
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  const info: ErrorInfo = {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
  if (typeof e?.code === 'string') info.code = e.code;
  return info;
}
