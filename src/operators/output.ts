import { StepError, WeirError } from '../errors.js';
import type { Sink } from '../outputs.js';
import type { RunContext, SinkRunner } from '../runtime/context.js';
import type { Message, Stream } from '../stream.js';

/**
 * Adds an output step: writes every item of the stream to a sink.
 *
 * Writes are awaited per batch. Each sink partition has a bounded queue: when it fills, the sources
 * wait, so a fast source cannot outrun a slow sink. The epoch commits only after every write and
 * sink snapshot of the epoch is done.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { TestingSource } from 'weir/testing';
 * import { StdOutSink } from 'weir/connectors/stdio';
 * new Dataflow('ex').pipe(op.input('inp', new TestingSource(['a'])), op.output('out', new StdOutSink()));
 * ```
 * @param stepId a step id unique in the flow
 * @param sink the sink
 * @returns an operator that ends a pipe
 */
export function output<T>(stepId: string, sink: Sink<T>): (up: Stream<T>) => void {
  return (up) => {
    up.flow._addStep(stepId, (fullId) => async (ctx) => {
      const runner = await buildSink(fullId, sink, ctx);
      ctx.sinks.push(runner);
      ctx.port<T>(up.portIndex).listen((m) => runner.onMessage(m));
    });
  };
}

interface Writer {
  write(items: unknown[], epoch: number): void | Promise<void>;
  snapshot(epoch: number): unknown;
  committed?(epoch: number): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** One sink partition with its own queue of writes. */
class Lane {
  tail: Promise<void> = Promise.resolve();
  queued = 0;
  constructor(
    readonly key: string,
    readonly writer: Writer,
    readonly runner: SinkRun,
  ) {}

  /** Queues `job` after everything already queued for this partition. */
  enqueue(what: string, job: () => unknown): void {
    this.queued++;
    this.tail = this.tail
      .then(job)
      .then(
        () => {
          this.queued--;
        },
        (err: unknown) => {
          this.queued--;
          throw err instanceof StepError
            ? err
            : new StepError(this.runner.stepId, `partition '${this.key}' ${what} failed: ${(err as Error)?.message ?? String(err)}`, {
                cause: err,
              });
        },
      );
    // The error is reported by settle(); avoid an unhandled rejection meanwhile.
    this.tail.catch(() => undefined);
  }
}

class SinkRun implements SinkRunner {
  lanes: Lane[] = [];
  constructor(
    readonly stepId: string,
    private readonly route: ((item: unknown) => number) | undefined,
    private readonly ctx: RunContext,
    private readonly resumable: boolean,
  ) {}

  onMessage(m: Message<unknown>): void {
    if (m.kind === 'batch') {
      const epoch = m.epoch;
      if (this.lanes.length === 1 || !this.route) {
        const lane = this.lanes[0]!;
        const items = m.items;
        lane.enqueue('writeBatch', () => lane.writer.write(items, epoch));
        return;
      }
      const groups: unknown[][] = this.lanes.map(() => []);
      for (const item of m.items) {
        let i: number;
        try {
          i = this.route(item);
        } catch (err) {
          throw new StepError(this.stepId, `partFn threw: ${(err as Error).message}`, { cause: err });
        }
        const g = groups[i];
        if (!g) throw new StepError(this.stepId, `partFn returned ${i}, not an index below ${this.lanes.length}`);
        g.push(item);
      }
      groups.forEach((g, i) => {
        if (g.length === 0) return;
        const lane = this.lanes[i]!;
        lane.enqueue('writeBatch', () => lane.writer.write(g, epoch));
      });
    } else if (m.kind === 'barrier') {
      const epoch = m.epoch;
      for (const lane of this.lanes) {
        lane.enqueue('snapshot', async () => {
          const state = await lane.writer.snapshot(epoch);
          if (this.resumable && this.ctx.recovering) this.ctx.snapshot(this.stepId, lane.key, state);
        });
      }
    }
  }

  async settle(): Promise<void> {
    for (const lane of this.lanes) await lane.tail;
  }

  get actsOnCommit(): boolean {
    return this.lanes.some((lane) => lane.writer.committed !== undefined);
  }

  async epochCommitted(epoch: number): Promise<void> {
    for (const lane of this.lanes) {
      if (!lane.writer.committed) continue;
      try {
        await lane.writer.committed(epoch);
      } catch (err) {
        throw err instanceof StepError
          ? err
          : new StepError(this.stepId, `partition '${lane.key}' epochCommitted() failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      }
    }
  }

  pending(): number {
    let n = 0;
    for (const lane of this.lanes) n = Math.max(n, lane.queued);
    return n;
  }

  async close(): Promise<void> {
    await this.settle();
    for (const lane of this.lanes) {
      try {
        await lane.writer.close?.();
      } catch (err) {
        throw new StepError(this.stepId, `partition '${lane.key}' close() failed: ${(err as Error).message}`, { cause: err });
      }
    }
  }
}

async function buildSink(stepId: string, sink: Sink<unknown>, ctx: RunContext): Promise<SinkRun> {
  const kind = (sink as { sinkKind?: unknown } | null)?.sinkKind;
  try {
    if (kind === 'partitioned') {
      const s = sink as Extract<Sink<unknown>, { sinkKind: 'partitioned' }>;
      const keys = await s.listParts();
      if (!Array.isArray(keys) || keys.length === 0) throw new StepError(stepId, 'listParts() must return a non-empty array of names');
      const resume = ctx.resumeStates<unknown>(stepId);
      const run = new SinkRun(stepId, (item) => s.partFn(item, keys.length), ctx, true);
      for (const key of keys) {
        const part = await s.buildPart(stepId, key, resume.get(key));
        run.lanes.push(
          new Lane(key, {
            write: (xs, e) => part.writeBatch(xs, e),
            snapshot: (e) => part.snapshot(e),
            committed: part.epochCommitted ? (e) => part.epochCommitted!(e) : undefined,
            close: () => part.close?.(),
          }, run),
        );
      }
      return run;
    }
    if (kind === 'dynamic') {
      const s = sink as Extract<Sink<unknown>, { sinkKind: 'dynamic' }>;
      const part = await s.build(stepId, 0, 1);
      const run = new SinkRun(stepId, undefined, ctx, false);
      run.lanes.push(
        new Lane('worker-0', { write: (xs, e) => part.writeBatch(xs, e), snapshot: (e) => part.epochDone?.(e), close: () => part.close?.() }, run),
      );
      return run;
    }
  } catch (err) {
    if (err instanceof StepError) throw err;
    const msg = (err as Error)?.message ?? String(err);
    throw new StepError(stepId, err instanceof WeirError ? msg : `building the sink failed: ${msg}`, {
      cause: err,
      retriable: err instanceof WeirError ? err.retriable : false,
    });
  }
  throw new StepError(stepId, 'op.output needs a FixedPartitionedSink or a DynamicSink (from weir/outputs)');
}
