/**
 * The body of the background writer thread: for each run it serves, it adopts the handed-off store
 * and commits what the run loop sends it, one message at a time, until the run closes the store.
 * See {@link BackgroundWriter}.
 *
 * @internal
 * @module
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { PackedSnapshots } from './packSnapshots.js';
import { lentBuffersOf } from './SnapshotPacker.js';
import { RecoveryStore, type StoreHandoff } from './store.js';
import { type WriterReply, type WriterRequest, IDLE, describeError } from './writerProtocol.js';

const { flag, port } = workerData as { flag: Int32Array; port: MessagePort };

/** Posts the reply, then marks the writer idle: the main thread reads the reply once it sees that. */
function reply(m: WriterReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
  Atomics.store(flag, 0, IDLE);
  Atomics.notify(flag, 0);
}

/** The store of the run being served, and its open connection once the first commit made it. */
let handoff: StoreHandoff | undefined;
let store: RecoveryStore | undefined;

/** Commits one epoch, first opening the store when the run is new. */
function commit(m: Extract<WriterRequest, { kind: 'commit' }>): void {
  if (m.handoff !== undefined) {
    const left = store;
    store = undefined;
    handoff = m.handoff;
    left?.close();
  }
  // The run's first commit opens the store; a failure there fails it, and every later one.
  if (handoff === undefined) throw new Error('no store to commit to');
  if (store === undefined) {
    store = RecoveryStore.adopt(handoff);
    store.deferCheckpoints();
  }
  store.commitPacked(m.epoch, m.packed as PackedSnapshots, m.gcEpoch, 0, m.merge);
}

/** The run is done: the thread holds no file until the next run's first commit. */
function close(): void {
  const done = store;
  store = undefined;
  handoff = undefined;
  done?.close();
}

/** {@link close}, for the last commit of a run, whose answer is the commit's. */
function closeQuietly(): void {
  try {
    close();
  } catch {
    // Nothing is lost: the commit is in or failed on its own, and the next run collects what the
    // close did not.
  }
}

parentPort!.on('message', (m: WriterRequest) => {
  let failure: WriterReply | undefined;
  try {
    if (m.kind === 'commit') commit(m);
    else close();
  } catch (err) {
    failure = { ok: false, error: describeError(err) };
  }
  // The last commit of a run closes the store before answering, whether it succeeded or not: one
  // request for both, so the run waits for one wake-up of this thread, not two.
  if (m.kind === 'commit' && m.close) closeQuietly();
  if (failure !== undefined) return reply(failure);
  if (m.kind === 'close') return reply({ ok: true });
  // The store has copied the snapshots: their buffers go back to the run loop's packer.
  const { lent, transfer } = lentBuffersOf(m.packed as PackedSnapshots);
  reply({ ok: true, lent }, transfer);
  // Checkpoints wait until the run loop has its answer and goes on: a commit that comes next waits
  // for it, but the last commit of a run (which merges nothing) comes after none.
  if (m.merge && store !== undefined) {
    try {
      store.checkpoint();
    } catch {
      // The WAL keeps what was not copied: the next checkpoint, or the close, copies it.
    }
  }
});
