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
    store.holdWal();
  }
  // The run's last commit is synced as it is made: the close then leaves it in the WAL (see below).
  if (m.close) store.setDurable(true);
  store.commitPacked(m.epoch, m.packed as PackedSnapshots, m.gcEpoch, 0, m.merge);
}

/**
 * The run is done: the thread holds no file until the next run's first commit.
 * @param keepWal after a run's last commit, which is synced: leave it in the WAL rather than copy it
 *   into the files, which the run would wait for (some 2 ms of the 4 ms that a last commit and its
 *   close took with 100,000 keys). The next run reads it there, and its first checkpoint copies it.
 *   Otherwise the commits since the last checkpoint may not be synced: the close copies them into
 *   the files and syncs those, as the last connection to a file does.
 */
function close(keepWal = false): void {
  const done = store;
  store = undefined;
  handoff = undefined;
  if (keepWal) done?.closeKeepingWal();
  else done?.close();
}

/** {@link close}, for the last commit of a run, whose answer is the commit's. */
function closeQuietly(keepWal: boolean): void {
  try {
    close(keepWal);
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
  if (m.kind === 'commit' && m.close) closeQuietly(failure === undefined);
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
