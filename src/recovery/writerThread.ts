/**
 * The body of the background writer thread: it adopts a handed-off store and commits what the
 * run loop sends it, one message at a time. See {@link BackgroundWriter}.
 *
 * @internal
 * @module
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { PackedSnapshots } from './packSnapshots.js';
import { RecoveryStore, type StoreHandoff } from './store.js';
import { type WriterReply, type WriterRequest, IDLE, describeError } from './writerProtocol.js';

const { handoff, flag, port } = workerData as { handoff: StoreHandoff; flag: Int32Array; port: MessagePort };

/** Posts the reply, then marks the writer idle: the main thread reads the reply once it sees that. */
function reply(m: WriterReply): void {
  port.postMessage(m);
  Atomics.store(flag, 0, IDLE);
  Atomics.notify(flag, 0);
}

let store: RecoveryStore | undefined;

parentPort!.on('message', (m: WriterRequest) => {
  try {
    if (m.kind === 'commit') {
      // The first request opens the store; a failure there fails it, and every later one.
      store ??= RecoveryStore.adopt(handoff);
      store.commitPacked(m.epoch, m.packed as PackedSnapshots, m.gcEpoch, 0, m.merge);
    } else store?.close();
    reply({ ok: true });
  } catch (err) {
    reply({ ok: false, error: describeError(err) });
  }
});
