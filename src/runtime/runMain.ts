import type { Dataflow } from '../dataflow.js';
import { StepError, WeirError } from '../errors.js';
import { EOF } from '../inputs.js';
import type { RecoveryConfig } from '../recovery/config.js';
import { v8Serde } from '../recovery/serde.js';
import { RecoveryStore } from '../recovery/store.js';
import { AbortExecution } from './abort.js';
import { Committer } from './Committer.js';
import type { Barrier, EndOfStream } from '../stream.js';
import { type InputRunner, type PartRunner, RunContext } from './context.js';

/**
 * Progress of a run, reported once per committed epoch.
 *
 * ## Example
 * ```ts
 * import { runMain, type Progress } from 'weir';
 * await runMain(flow, { onProgress: (p: Progress) => console.error(`epoch ${p.epoch}: ${p.items} items`) });
 * ```
 */
export interface Progress {
  /** The epoch that just closed. */
  readonly epoch: number;
  /** Items read from all sources so far in this run. */
  readonly items: number;
}

/**
 * How a run ended.
 *
 * ## Example
 * ```ts
 * import { runMain } from 'weir';
 * const { reason, lastEpoch } = await runMain(flow);
 * ```
 */
export interface RunResult {
  /** `eof` when every input ended, `stopped` after a graceful stop, `aborted` on a testing ABORT. */
  readonly reason: 'eof' | 'stopped' | 'aborted';
  /** The last epoch that closed and (with recovery) committed; one less than the first when none. */
  readonly lastEpoch: number;
  /** The epoch this run started at: 1, or the resume epoch. */
  readonly firstEpoch: number;
}

/**
 * Options of {@link runMain}.
 *
 * ## Example
 * ```ts
 * import { runMain } from 'weir';
 * import { RecoveryConfig } from 'weir/recovery';
 * await runMain(flow, { epochInterval: 100, recovery: new RecoveryConfig('db_dir') });
 * ```
 */
export interface RunOptions {
  /**
   * How long an epoch stays open, in ms. Snapshots are taken at every epoch close. Default 10 000.
   * While a background commit (see `RecoveryConfig.backgroundCommitFrom`) is still writing the
   * last epoch, the open epoch stays open until it is done.
   */
  epochInterval?: number;
  /** Where and how to keep snapshots. Without it, nothing is stored and nothing resumes. */
  recovery?: RecoveryConfig;
  /** Aborting this signal stops the run at the next epoch boundary, after a final snapshot. */
  signal?: AbortSignal;
  /** The clock for epochs and timers, in ms since the Unix epoch. Tests inject one. Default `Date.now`. */
  now?: () => number;
  /** Batches a sink partition may have queued before the sources wait for it. Default 16. */
  maxPendingBatches?: number;
  /** Called after every epoch close. */
  onProgress?: (progress: Progress) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs a dataflow until every input reaches EOF, a graceful stop is requested, or an error stops it.
 *
 * With `recovery`, the run first resumes from the latest complete epoch in the store: stateful
 * steps get their state back and replayable sources restart from their stored positions.
 *
 * ## Example
 * ```ts
 * import { Dataflow, runMain } from 'weir';
 * import * as op from 'weir/operators';
 * import { TestingSource } from 'weir/testing';
 * import { StdOutSink } from 'weir/connectors/stdio';
 * import { RecoveryConfig } from 'weir/recovery';
 *
 * const flow = new Dataflow('hello');
 * flow.pipe(op.input('in', new TestingSource(['a', 'b'])), op.output('out', new StdOutSink()));
 * await runMain(flow, { epochInterval: 1000, recovery: new RecoveryConfig('db_dir') });
 * ```
 * @param flow the flow to run
 * @param options epoch interval, recovery, stop signal
 * @returns how the run ended; rejects with a {@link StepError} naming the step on any failure
 */
export async function runMain(flow: Dataflow, options: RunOptions = {}): Promise<RunResult> {
  const epochInterval = options.epochInterval ?? 10_000;
  if (!(epochInterval >= 0) || !Number.isFinite(epochInterval)) {
    throw new WeirError(`epochInterval must be a finite number of ms >= 0, got ${String(epochInterval)}`);
  }
  const now = options.now ?? Date.now;
  const maxPending = options.maxPendingBatches ?? 16;
  const recovery = options.recovery;
  const store = recovery ? RecoveryStore.open(recovery.dbDir, { workerCount: 1 }) : undefined;
  const committer = new Committer(store, recovery?.backgroundCommitFrom ?? Infinity);
  let failed = true;
  try {
    const firstEpoch = store ? store.resumeEpoch : 1;
    const resume = store ? store.loadSnapshots() : new Map<string, Map<string, Uint8Array>>();
    store?.beginExecutionLater();
    const gcLag = recovery ? Math.ceil(recovery.backupInterval / Math.max(epochInterval, 1)) : 0;
    const ctx = new RunContext(flow._portCount, firstEpoch, store !== undefined, recovery?.serde ?? v8Serde, now, resume);
    flow._setRunning(ctx);
    try {
      for (const step of flow._steps) await step.build(ctx);
      if (ctx.inputs.length === 0) throw new WeirError(`dataflow '${flow.id}' has no input step: add op.input(...)`);
      // Something outside acts on a commit (a Kafka transaction commits): a power loss must not take it back.
      if (store !== undefined && actsOnCommit(ctx)) store.setDurable(true);
      const result = await loop(ctx, {
        epochInterval,
        maxPending,
        signal: options.signal,
        onProgress: options.onProgress,
        committer,
        commit: (epoch, last) => committer.commit(epoch, ctx.snaps, epoch - gcLag, last),
        sinksActOnCommit: ctx.sinks.some((s) => s.actsOnCommit),
      });
      failed = false;
      return result;
    } finally {
      flow._setRunning(undefined);
      // Every commit has its snapshots by now: the inline ones are written, the background one has a copy.
      ctx.release();
    }
  } finally {
    // After a failure, a commit still in flight finishes or fails on its own: the run's error wins.
    if (failed) await committer.close().catch(() => undefined);
    else await committer.close();
  }
}

interface LoopOptions {
  epochInterval: number;
  maxPending: number;
  signal: AbortSignal | undefined;
  onProgress: ((p: Progress) => void) | undefined;
  committer: Committer;
  /** Commits the closing epoch's snapshots (the run's `last`?): `true` when done, `false` when it runs in the background. */
  commit: (epoch: number, last: boolean) => boolean;
  /** Whether a sink acts on commits (an exactly-once Kafka sink commits its transaction). */
  sinksActOnCommit: boolean;
}

async function loop(ctx: RunContext, o: LoopOptions): Promise<RunResult> {
  const firstEpoch = ctx.epoch;
  let epochStart = ctx.now();
  let live = 0;
  for (const inp of ctx.inputs) {
    live += inp.parts.filter((p) => !p.eof).length;
    if (inp.parts.every((p) => p.eof)) emitAll(inp, { kind: 'eof', epoch: ctx.epoch });
  }
  /** The epoch whose commit runs in the background. */
  let inflight: number | undefined;
  /** Waits for the commit in flight, if any, and tells of it; `ending` the run, without yielding first. */
  const settle = async (ending = false) => {
    if (inflight === undefined) return;
    const epoch = inflight;
    inflight = undefined;
    await o.committer.settled(ending);
    await afterCommit(ctx, o, epoch);
  };
  const closeEpoch = async (last: boolean) => {
    // The last commit is done and told before this epoch's barrier: a sink that commits per epoch
    // (Kafka exactly-once) then has only this epoch open when it snapshots it.
    await settle();
    await barrierAll(ctx);
    if (o.commit(ctx.epoch, last)) await afterCommit(ctx, o, ctx.epoch);
    else {
      inflight = ctx.epoch;
      // Such a sink is given no output of the next epoch before the store has this one: an
      // exactly-once Kafka sink would otherwise commit this epoch's transaction on its first write of
      // the next (a crash before the store's commit then replays output Kafka already shows), and
      // reuse the transactional id that the store's last committed epoch names.
      if (o.sinksActOnCommit) await settle(last);
    }
  };
  try {
    for (;;) {
      if (inflight !== undefined && !o.committer.busy) await settle();
      let worked = false;
      for (const inp of ctx.inputs) {
        for (const p of inp.parts) {
          if (p.eof || p.awakeAt > Date.now()) continue;
          const result = await nextBatch(inp.stepId, p);
          if (p.part.takeErrors) {
            const errors = p.part.takeErrors();
            if (errors.length > 0) inp.errors.emit({ kind: 'batch', epoch: ctx.epoch, items: errors });
          }
          if (result === EOF) {
            p.eof = true;
            live--;
            if (inp.parts.every((q) => q.eof)) emitAll(inp, { kind: 'eof', epoch: ctx.epoch });
            continue;
          }
          const items = result as unknown[];
          if (items.length > 0) {
            worked = true;
            ctx.itemsIn += items.length;
            inp.port.emit({ kind: 'batch', epoch: ctx.epoch, items });
          }
          const awake = p.part.nextAwake?.();
          p.awakeAt = awake ?? (items.length === 0 ? Date.now() + 1 : 0);
          if (ctx.sinks.some((s) => s.pending() > o.maxPending)) await settleSinks(ctx);
        }
      }
      fireTimers(ctx);
      const stopping = o.signal?.aborted === true;
      // While the last epoch is still being written, this one stays open (and takes in more).
      const due = ctx.now() - epochStart >= o.epochInterval && inflight === undefined;
      if (live === 0 || stopping || due) {
        const last = live === 0 || stopping;
        await closeEpoch(last);
        if (last) {
          await settle(true);
          await closeAll(ctx);
          return { reason: live === 0 ? 'eof' : 'stopped', lastEpoch: ctx.epoch, firstEpoch };
        }
        ctx.epoch++;
        epochStart = ctx.now();
      } else if (!worked) {
        await idle(ctx, epochStart + o.epochInterval, o.signal, inflight === undefined ? undefined : o.committer);
      }
    }
  } catch (err) {
    if (err instanceof AbortExecution) {
      // Like a crash: no snapshot and no close(). The commit in flight and the writes already
      // handed to the sinks finish first, so that what a test sees after an abort does not depend
      // on timing.
      await settle();
      for (const s of ctx.sinks) await s.settle().catch(() => undefined);
      return { reason: 'aborted', lastEpoch: ctx.epoch - 1, firstEpoch };
    }
    throw err;
  }
}

/** Sends a barrier or the end of stream down an input's stream and its errors stream. */
function emitAll(inp: InputRunner, m: Barrier | EndOfStream): void {
  inp.port.emit(m);
  inp.errors.emit(m);
}

async function nextBatch(stepId: string, p: PartRunner): Promise<unknown> {
  let result: unknown;
  try {
    result = await p.part.nextBatch();
  } catch (err) {
    if (err instanceof AbortExecution || err instanceof StepError) throw err;
    throw new StepError(stepId, `partition '${p.key}' failed to read: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  }
  if (result !== EOF && !Array.isArray(result)) {
    throw new StepError(stepId, `partition '${p.key}' nextBatch() must return an array or EOF, got ${typeof result}`);
  }
  return result;
}

function fireTimers(ctx: RunContext): void {
  if (ctx.timerSteps.length === 0) return;
  const t = ctx.now();
  for (const s of ctx.timerSteps) if (s.nextDue() <= t) s.fire(t);
}

/**
 * Waits until a partition or a timer is due, the epoch ends or a stop is requested. Sources wake
 * by system time (`nextAwake`); epochs and timers follow the run's clock, which tests may inject.
 */
async function idle(ctx: RunContext, epochEnd: number, signal: AbortSignal | undefined, committing: Committer | undefined): Promise<void> {
  const now = ctx.now();
  // While a commit is in flight the epoch waits for it, not for its end.
  let wait = committing === undefined ? epochEnd - now : 50;
  const sys = Date.now();
  for (const inp of ctx.inputs) for (const p of inp.parts) if (!p.eof) wait = Math.min(wait, p.awakeAt - sys);
  for (const s of ctx.timerSteps) wait = Math.min(wait, s.nextDue() - now);
  wait = Math.min(Math.max(0, wait), 50);
  if (wait <= 0 || signal?.aborted) return;
  if (committing === undefined) return sleep(wait);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    committing.idle(), // the loop's settle() then reads the outcome
    new Promise<void>((resolve) => (timer = setTimeout(resolve, wait))),
  ]);
  clearTimeout(timer);
}

async function settleSinks(ctx: RunContext): Promise<void> {
  for (const s of ctx.sinks) await s.settle();
}

/** Takes the sources' snapshots, sends the barrier of the open epoch and waits for the sinks. */
async function barrierAll(ctx: RunContext): Promise<void> {
  const epoch = ctx.epoch;
  if (ctx.recovering) {
    for (const inp of ctx.inputs) {
      for (const p of inp.parts) {
        if (!p.resumable) continue;
        let state: unknown;
        try {
          state = p.part.snapshot!();
        } catch (err) {
          throw new StepError(inp.stepId, `partition '${p.key}' snapshot() threw: ${(err as Error).message}`, { cause: err });
        }
        ctx.snapshot(inp.stepId, p.key, state);
      }
    }
  }
  for (const inp of ctx.inputs) emitAll(inp, { kind: 'barrier', epoch });
  await settleSinks(ctx);
}

/** Whether a sink or a source partition has `epochCommitted`. */
function actsOnCommit(ctx: RunContext): boolean {
  return ctx.sinks.some((s) => s.actsOnCommit) || ctx.inputs.some((inp) => inp.parts.some((p) => p.part.epochCommitted !== undefined));
}

/** Tells the sinks and the sources that `epoch` is committed, and reports progress. */
async function afterCommit(ctx: RunContext, o: LoopOptions, epoch: number): Promise<void> {
  for (const sink of ctx.sinks) await sink.epochCommitted(epoch);
  for (const inp of ctx.inputs) {
    for (const p of inp.parts) {
      if (p.part.epochCommitted) {
        try {
          await p.part.epochCommitted(epoch);
        } catch (err) {
          throw new StepError(inp.stepId, `partition '${p.key}' epochCommitted() threw: ${(err as Error).message}`, { cause: err });
        }
      }
    }
  }
  o.onProgress?.({ epoch, items: ctx.itemsIn });
}

async function closeAll(ctx: RunContext): Promise<void> {
  for (const inp of ctx.inputs) {
    for (const p of inp.parts) {
      try {
        await p.part.close?.();
      } catch (err) {
        throw new StepError(inp.stepId, `partition '${p.key}' close() threw: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  for (const s of ctx.sinks) await s.close();
}
