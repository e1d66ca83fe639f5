/**
 * A recovery store whose commits run on a worker thread, so that the flow goes on processing while
 * SQLite writes an epoch.
 *
 * @internal
 * @module
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { RecoveryError } from './errors.js';
import type { PackedSnapshots } from './packSnapshots.js';
import type { StoreHandoff } from './store.js';
import { BUSY, IDLE, type ErrorInfo, type WriterReply, type WriterRequest } from './writerProtocol.js';

/** `Atomics.waitAsync` (ES2024, in Node since 16), typed. */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, index: number, value: number): { async: boolean; value: Promise<unknown> | string };
}).waitAsync;

/**
 * Starts the writer thread. From the built package it runs `writerThread.js`; from the TypeScript
 * sources (tests, benchmarks) it loads `writerThread.ts` through tsx, as the main thread does.
 *
 * The thread gets none of the process's Node options (`execArgv`): it runs only weir's own code,
 * and a preload such as `--import tsx` would cost it a loader of its own, about 0.2 s of CPU while
 * the flow runs. Options that only a process may have (`--expose-gc`) would stop it from starting.
 */
function spawn(workerData: object, transferList: MessagePort[]): Worker {
  const self = import.meta.url;
  const execArgv: string[] = [];
  if (!self.endsWith('.ts')) return new Worker(new URL('./writerThread.js', self), { workerData, transferList, execArgv });
  const entry = new URL('./writerThread.ts', self).href;
  const code = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData, transferList, execArgv });
}

/**
 * The main thread's handle on a writer thread. One request is in hand at a time: a shared flag
 * says when the writer has answered, so the run loop can poll it without waiting for an event.
 * @internal
 */
export class BackgroundWriter {
  private failure: ErrorInfo | undefined;
  private exited = false;
  /** What the request in hand is, for errors; '' when none. */
  private what = '';

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly flag: Int32Array,
  ) {
    const gone = (info: ErrorInfo) => {
      this.exited = true;
      this.failure ??= info;
      Atomics.store(flag, 0, IDLE);
      Atomics.notify(flag, 0);
    };
    worker.on('error', (err) => gone({ name: err.name, message: err.message }));
    worker.on('exit', (code) => gone({ name: 'Error', message: `the writer thread exited with code ${code}` }));
  }

  /**
   * Starts a writer thread that takes over the commits of a handed-off store. Does not wait for the
   * thread: the first commit waits in its queue while it starts, and a failure to open the store is
   * that commit's failure.
   */
  static start(handoff: StoreHandoff): BackgroundWriter {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    const worker = spawn({ handoff, flag, port: port2 }, [port2]);
    return new BackgroundWriter(worker, port1, flag);
  }

  /** Whether the writer still has a request in hand. */
  get busy(): boolean {
    return Atomics.load(this.flag, 0) === BUSY;
  }

  /**
   * Starts committing one epoch, packed by `packSnapshots` or a `SnapshotPacker` (`transfer` lists
   * its buffers, which move to the writer). The writer must be idle: await {@link BackgroundWriter.settled}
   * first. The first commit also opens the store, once the thread has started. `merge` as for
   * `RecoveryStore.commitPacked`.
   */
  commit(epoch: number, packed: PackedSnapshots, transfer: ArrayBuffer[], gcEpoch: number, merge = true): void {
    this.send({ kind: 'commit', epoch, gcEpoch, merge, packed }, transfer, `commit epoch ${epoch}`);
  }

  /** Resolves once the writer has answered the request in hand, if any, leaving the answer unread. */
  async idle(): Promise<void> {
    while (Atomics.load(this.flag, 0) === BUSY) {
      const w = waitAsync(this.flag, 0, BUSY);
      if (w.async) await w.value;
    }
  }

  /**
   * Waits until the writer has answered the request in hand, if any, and reads the answer.
   * @throws {RecoveryError} when that request failed
   */
  async settled(): Promise<void> {
    await this.idle();
    const what = this.what;
    if (what === '') return;
    this.what = '';
    const reply = receiveMessageOnPort(this.port)?.message as WriterReply | undefined;
    // No answer: the thread is gone (an 'error' or 'exit' event said why).
    const failure =
      reply === undefined ? (this.failure ?? { name: 'Error', message: 'the writer thread did not answer' }) : reply.ok ? undefined : reply.error;
    if (failure !== undefined) {
      const code = failure.code ? ` [${failure.code}]` : '';
      throw new RecoveryError(`the recovery store failed to ${what}: ${failure.name}: ${failure.message}${code}`);
    }
  }

  /**
   * Lets the writer finish the request in hand, collects what the last commit left, closes the
   * files and ends the thread. Errors of the request in hand are thrown; errors of the final
   * collection are left to the next run, as with the store's own `close()`.
   */
  async close(): Promise<void> {
    try {
      await this.settled();
    } finally {
      if (!this.exited) {
        this.send({ kind: 'close' }, [], 'close');
        await this.settled().catch(() => undefined);
        await this.worker.terminate();
      }
      this.port.close();
    }
  }

  private send(m: WriterRequest, transfer: ArrayBuffer[], what: string): void {
    if (this.exited) throw new RecoveryError(`the recovery store failed to ${what}: ${this.failure?.message ?? 'the writer thread is gone'}`);
    Atomics.store(this.flag, 0, BUSY);
    this.what = what;
    this.worker.postMessage(m, transfer);
  }
}
