import type { Observer, Unsubscribable } from 'rxjs';
import { WeirError } from './errors.js';
import type { RunContext } from './runtime/context.js';
import { type Message, type Pipeable, type UnaryFunction, pipeFrom } from './stream.js';

/**
 * One step of a flow as the runtime sees it: a full id, and a function that wires the step into
 * a run.
 * @internal
 */
export interface StepDef {
  /** `flowId.stepId`, unique within the flow. */
  readonly id: string;
  /** Wires the step's listeners into the run's ports. */
  build(ctx: RunContext): void | Promise<void>;
}

const STEP_ID = /^[^.\s]+$/;

/** An observer of one stream, attached to the port of the current run. */
class ObserverEntry {
  detach: (() => void) | undefined;
  constructor(readonly observer: Partial<Observer<Message<unknown>>>) {}
  attach(ctx: RunContext, index: number): void {
    this.detach = ctx.port(index).listen((m) => this.observer.next?.(m));
  }
}

/**
 * A dataflow: a named graph of steps, built by piping operators and run by {@link runMain}.
 *
 * A flow is a plan, not a running thing. Building it runs no user code; `runMain` runs it, as many
 * times as you like.
 *
 * ## Example
 * ```ts
 * import { Dataflow, runMain } from 'weir';
 * import * as op from 'weir/operators';
 * import { TestingSource, TestingSink } from 'weir/testing';
 *
 * const out: [string, number][] = [];
 * const flow = new Dataflow('recovery');
 * flow.pipe(
 *   op.input('inp', new TestingSource([0, 1, 2])),
 *   op.keyOn('key_stream', () => 'ALL'),
 *   op.statefulMap('running_count', (sum: number | undefined, x: number) => {
 *     const next = (sum ?? 0) + x;
 *     return [next, next];
 *   }),
 *   op.output('out', new TestingSink(out)),
 * );
 * await runMain(flow); // out: [['ALL', 0], ['ALL', 1], ['ALL', 3]]
 * ```
 */
// The pipe overloads come from Pipeable through declaration merging, so `this` is the flow.
export interface Dataflow extends Pipeable {}

export class Dataflow {
  /** @internal */
  readonly _steps: StepDef[] = [];
  private readonly ids = new Set<string>();
  private portCount = 0;
  private observers = new Map<number, Set<ObserverEntry>>();
  private running: RunContext | undefined;

  /**
   * @param id the flow's name: it prefixes every step id, and so every key in the recovery store
   */
  constructor(readonly id: string) {
    if (typeof id !== 'string' || !STEP_ID.test(id)) {
      throw new WeirError(`a dataflow id must be a non-empty string without dots or spaces, got ${JSON.stringify(id)}`);
    }
  }

  /**
   * Registers a step. User-facing ids are checked; a duplicate is refused.
   * @internal
   */
  _addStep(stepId: string, build: (fullId: string) => StepDef['build'], internal = false): string {
    if (typeof stepId !== 'string' || (!internal && !STEP_ID.test(stepId))) {
      throw new WeirError(
        `a step id must be a non-empty string without dots or spaces, got ${JSON.stringify(stepId)} in flow '${this.id}'`,
      );
    }
    const full = `${this.id}.${stepId}`;
    if (this.ids.has(full)) {
      throw new WeirError(
        `duplicate step id '${stepId}' in flow '${this.id}': every step id must be unique within its flow`,
      );
    }
    this.ids.add(full);
    this._steps.push({ id: full, build: build(full) });
    return full;
  }

  /** @internal */
  _allocatePort(): number {
    return this.portCount++;
  }

  /** @internal */
  get _portCount(): number {
    return this.portCount;
  }

  /** @internal Called by the runtime when a run starts and ends. */
  _setRunning(ctx: RunContext | undefined): void {
    if (ctx !== undefined && this.running !== undefined) {
      throw new WeirError(`dataflow '${this.id}' is already running: a flow runs once at a time`);
    }
    const ending = this.running;
    this.running = ctx;
    if (ctx) {
      for (const [index, entries] of this.observers) for (const e of entries) e.attach(ctx, index);
    } else if (ending) {
      const all = [...this.observers.values()].flatMap((set) => [...set]);
      this.observers.clear();
      for (const e of all) {
        e.detach?.();
        e.observer.complete?.();
      }
    }
  }

  /** @internal */
  _observePort<T>(index: number, observer: Partial<Observer<Message<T>>>): Unsubscribable {
    const entry = new ObserverEntry(observer as Partial<Observer<Message<unknown>>>);
    let set = this.observers.get(index);
    if (!set) this.observers.set(index, (set = new Set()));
    set.add(entry);
    if (this.running) entry.attach(this.running, index);
    return {
      unsubscribe: () => {
        entry.detach?.();
        set.delete(entry);
      },
    };
  }
}

Dataflow.prototype.pipe = function (this: unknown, ...ops: UnaryFunction<any, any>[]) {
  return pipeFrom(this, ops);
} as never;
