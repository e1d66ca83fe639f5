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
import { RecoveryStore, type StoreHandoff } from './store.js';
import { type WriterReply, type WriterRequest, IDLE, describeError } from './writerProtocol.js';

const { flag, port } = workerData as { flag: Int32Array; port: MessagePort };

/** Posts the reply, then marks the writer idle: the main thread reads the reply once it sees that. */
function reply(m: WriterReply): void {
  port.postMessage(m);
  Atomics.store(flag, 0, IDLE);
  Atomics.notify(flag, 0);
}

/** The store of the run being served, and its open connection once the first commit made it. */
let handoff: StoreHandoff | undefined;
let store: RecoveryStore | undefined;

parentPort!.on('message', (m: WriterRequest) => {
  try {
    if (m.kind === 'commit') {
      if (m.handoff !== undefined) {
        const left = store;
        store = undefined;
        handoff = m.handoff;
        left?.close();
      }
      // The run's first commit opens the store; a failure there fails it, and every later one.
      if (handoff === undefined) throw new Error('no store to commit to');
      store ??= RecoveryStore.adopt(handoff);
      store.commitPacked(m.epoch, m.packed as PackedSnapshots, m.gcEpoch, 0, m.merge);
    } else {
      // The run is done: the thread holds no file until the next run's first commit.
      const done = store;
      store = undefined;
      handoff = undefined;
      done?.close();
    }
    reply({ ok: true });
  } catch (err) {
    reply({ ok: false, error: describeError(err) });
  }
});
