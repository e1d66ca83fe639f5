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
import type { LentBuffers } from './SnapshotPacker.js';
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
 * How long the end of a run waits for the writer without yielding to the event loop, in ms. Its last
 * commit and its close take a few ms. Yielding there gave the engine the chance to start a garbage
 * collection, whose threads then competed with the writer for the processor: on a machine with two
 * cores, a last commit of 100,000 keys took some 15 ms instead of 2.
 */
const BLOCK_MS = 100;

/** The writer thread that waits for the next run, if any. */
let idleThread: WriterThread | undefined;
/** How many writer threads this process has started. */
let started = 0;

/**
 * One writer thread and the main thread's ends of its channel. It outlives a run: when a run is
 * done with it, it waits, unreferenced, for the next run of the process (see {@link BackgroundWriter}).
 */
class WriterThread {
  exited = false;
  /** Why the thread is gone, once it is. */
  failure: ErrorInfo | undefined;

  constructor(
    readonly worker: Worker,
    readonly port: MessagePort,
    readonly flag: Int32Array,
  ) {
    const gone = (info: ErrorInfo) => {
      this.exited = true;
      this.failure ??= info;
      if (idleThread === this) idleThread = undefined;
      Atomics.store(flag, 0, IDLE);
      Atomics.notify(flag, 0);
    };
    worker.on('error', (err) => gone({ name: err.name, message: err.message }));
    worker.on('exit', (code) => gone({ name: 'Error', message: `the writer thread exited with code ${code}` }));
  }

  static spawn(): WriterThread {
    started++;
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const { port1, port2 } = new MessageChannel();
    return new WriterThread(spawn({ flag, port: port2 }, [port2]), port1, flag);
  }

  /** Ends the thread. */
  async end(): Promise<void> {
    this.port.close();
    if (!this.exited) await this.worker.terminate();
  }
}

/**
 * How many writer threads this process has started: one serves run after run, unless runs overlap.
 * @internal
 */
export function writerThreadsStarted(): number {
  return started;
}

/**
 * The main thread's handle on a writer thread, for one run. One request is in hand at a time: a
 * shared flag says when the writer has answered, so the run loop can poll it without waiting for
 * an event.
 *
 * The thread is started once per process and serves each run in turn: when a run closes its
 * writer, the thread holds no file any more and waits, unreferenced (it does not keep the process
 * alive), for the next run's first commit. Starting a thread costs some 50 ms of CPU, which a flow
 * run again and again in one process (tests, an app that runs short flows) then pays once. Runs
 * that overlap start threads of their own; only one waits between runs.
 * @internal
 */
export class BackgroundWriter {
  /** What the request in hand is, for errors; '' when none. */
  private what = '';
  /** The store the next commit opens; cleared once sent. */
  private handoff: StoreHandoff | undefined;
  /** Whether the last commit was sent, which closes the store on the writer's side too. */
  private closing = false;

  private constructor(
    private readonly thread: WriterThread,
    handoff: StoreHandoff,
  ) {
    this.handoff = handoff;
  }

  /**
   * Gets a writer thread, the one waiting from an earlier run or a new one, to take over the commits
   * of a handed-off store. Does not wait for the thread: the first commit waits in its queue while
   * it starts, and opens the store there; a failure to open it is that commit's failure.
   */
  static start(handoff: StoreHandoff): BackgroundWriter {
    let thread = idleThread;
    idleThread = undefined;
    if (thread === undefined || thread.exited) thread = WriterThread.spawn();
    else thread.worker.ref();
    return new BackgroundWriter(thread, handoff);
  }

  /** Whether the writer still has a request in hand. */
  get busy(): boolean {
    return Atomics.load(this.thread.flag, 0) === BUSY;
  }

  /**
   * Starts committing one epoch, packed by `packSnapshots` or a `SnapshotPacker` (`transfer` lists
   * its buffers, which move to the writer; {@link BackgroundWriter.settled} gives them back). The
   * writer must be idle: await {@link BackgroundWriter.settled} first. The first commit also opens
   * the store. `merge` as for `RecoveryStore.commitPacked`. The `last` commit of a run also closes
   * the store, in the same request (see {@link BackgroundWriter.close}).
   */
  commit(epoch: number, packed: PackedSnapshots, transfer: ArrayBuffer[], gcEpoch: number, merge = true, last = false): void {
    const handoff = this.handoff;
    this.handoff = undefined;
    this.closing ||= last;
    this.send({ kind: 'commit', epoch, gcEpoch, merge, packed, handoff, close: last }, transfer, `commit epoch ${epoch}`);
  }

  /** Resolves once the writer has answered the request in hand, if any, leaving the answer unread. */
  async idle(): Promise<void> {
    const flag = this.thread.flag;
    while (Atomics.load(flag, 0) === BUSY) {
      const w = waitAsync(flag, 0, BUSY);
      if (w.async) await w.value;
    }
  }

  /**
   * Waits until the writer has answered the request in hand, if any, and reads the answer.
   * @param block first wait without yielding to the event loop, for up to {@link BLOCK_MS}: for the
   *   end of a run (see {@link BackgroundWriter.close})
   * @returns the buffers a commit's snapshots came in, which the writer gives back
   * @throws {RecoveryError} when that request failed
   */
  async settled(block = false): Promise<LentBuffers | undefined> {
    if (block) this.waitHere(BLOCK_MS);
    await this.idle();
    const what = this.what;
    if (what === '') return undefined;
    this.what = '';
    const thread = this.thread;
    const reply = receiveMessageOnPort(thread.port)?.message as WriterReply | undefined;
    // No answer: the thread is gone (an 'error' or 'exit' event said why).
    const failure =
      reply === undefined ? (thread.failure ?? { name: 'Error', message: 'the writer thread did not answer' }) : reply.ok ? undefined : reply.error;
    if (failure !== undefined) {
      const code = failure.code ? ` [${failure.code}]` : '';
      throw new RecoveryError(`the recovery store failed to ${what}: ${failure.name}: ${failure.message}${code}`);
    }
    return reply?.ok === true ? reply.lent : undefined;
  }

  /**
   * Lets the writer finish the request in hand, collects what the last commit left and closes the
   * files; after a `last` commit, which did that already, only waits for it. The thread then waits
   * for the next run, or ends when another thread already waits.
   * Errors of the request in hand are thrown; errors of the final collection are left to the next
   * run, as with the store's own `close()`.
   */
  async close(): Promise<void> {
    const thread = this.thread;
    try {
      await this.settled(true);
    } finally {
      let reusable = this.closing && !thread.exited;
      if (!thread.exited && !this.closing) {
        this.send({ kind: 'close' }, [], 'close');
        reusable = await this.settled(true).then(
          () => true,
          () => false,
        );
      }
      if (reusable && !thread.exited && idleThread === undefined) {
        thread.worker.unref();
        idleThread = thread;
      } else await thread.end();
    }
  }

  /**
   * Blocks this thread until the writer has answered, for at most `ms`. Past that, the caller
   * yields: a thread that died can only say so in an event.
   */
  private waitHere(ms: number): void {
    const flag = this.thread.flag;
    const until = performance.now() + ms;
    while (Atomics.load(flag, 0) === BUSY) {
      const left = until - performance.now();
      if (left <= 0) return;
      Atomics.wait(flag, 0, BUSY, left);
    }
  }

  private send(m: WriterRequest, transfer: ArrayBuffer[], what: string): void {
    const thread = this.thread;
    if (thread.exited) throw new RecoveryError(`the recovery store failed to ${what}: ${thread.failure?.message ?? 'the writer thread is gone'}`);
    Atomics.store(thread.flag, 0, BUSY);
    this.what = what;
    thread.worker.postMessage(m, transfer);
  }
}
