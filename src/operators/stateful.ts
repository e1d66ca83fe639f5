import { StepError, describeValue, stepErrorFrom } from '../errors.js';
import type { KeyedStream } from '../stream.js';
import { type Emit, Entry, type Retain, type StatefulBatchLogic, statefulBatch, statefulBatchOf } from './statefulBatch.js';

/**
 * Per-key logic that sees one value at a time: the item-wise form of {@link StatefulBatchLogic}.
 *
 * ## Example
 * ```ts
 * import type { StatefulLogic } from 'weir/operators';
 * const counter = (n = 0): StatefulLogic<string, number, number> => ({
 *   onItem: (_v, emit) => (emit(++n), 'retain'),
 *   snapshot: () => n,
 * });
 * ```
 */
export interface StatefulLogic<V, W, S> {
  /** Called with each value for the key. */
  onItem(value: V, emit: Emit<W>): Retain;
  /** Called when the time from `notifyAt()` has come. */
  onNotify?(emit: Emit<W>): Retain;
  /** Called once when the upstream has ended. */
  onEof?(emit: Emit<W>): Retain;
  /** When `onNotify` should next be called, in ms since the Unix epoch. */
  notifyAt?(): number | undefined;
  /** The state to store. */
  snapshot(): S;
}

class ItemWise<V, W, S> implements StatefulBatchLogic<V, W, S> {
  private inner: StatefulLogic<V, W, S>;
  constructor(
    private readonly builder: (resumeState: S | undefined) => StatefulLogic<V, W, S>,
    resume: S | undefined,
  ) {
    this.inner = this.build(resume);
  }
  private build(resume: S | undefined): StatefulLogic<V, W, S> {
    const logic = this.builder(resume);
    if (logic === null || typeof logic !== 'object' || typeof logic.onItem !== 'function' || typeof logic.snapshot !== 'function') {
      throw new TypeError('the builder must return a logic object with onItem() and snapshot()');
    }
    return logic;
  }
  onBatch(values: V[], emit: Emit<W>): Retain {
    let r: Retain = 'retain';
    for (let i = 0; i < values.length; i++) {
      // After a discard, later values of the same batch start from a fresh logic, as in Bytewax.
      if (r === 'discard') this.inner = this.build(undefined);
      r = this.inner.onItem(values[i]!, emit);
    }
    return r;
  }
  onNotify(emit: Emit<W>): Retain {
    return this.inner.onNotify ? this.inner.onNotify(emit) : 'retain';
  }
  onEof(emit: Emit<W>): Retain {
    return this.inner.onEof ? this.inner.onEof(emit) : 'retain';
  }
  notifyAt(): number | undefined {
    return this.inner.notifyAt?.();
  }
  snapshot(): S {
    return this.inner.snapshot();
  }
}

/**
 * Keyed stateful logic that sees one value at a time, with timers and an end-of-stream hook.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const counts = keyed.pipe(
 *   op.stateful('count', (resume: number | undefined) => {
 *     let n = resume ?? 0;
 *     return { onItem: (_v: unknown, emit: (w: number) => void) => (emit(++n), 'retain'), snapshot: () => n };
 *   }),
 * );
 * ```
 * @param stepId a step id unique in the flow
 * @param builder makes a key's logic from its resume state, or from `undefined`
 * @returns a pipeable operator on keyed streams
 */
export function stateful<V, W, S>(
  stepId: string,
  builder: (resumeState: S | undefined) => StatefulLogic<V, W, S>,
): (up: KeyedStream<V>) => KeyedStream<W> {
  return statefulBatch<V, W, S>(stepId, (resume) => new ItemWise(builder, resume));
}

/**
 * Keeps a state per key and emits zero or more values for each value seen.
 *
 * `mapper(state, value)` gets `undefined` as the state for a new key and returns
 * `[newState, values to emit]`; a new state of `undefined` drops the key. As with
 * {@link statefulMap}, stored state is read back per key when the key next comes in.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const deduped = keyed.pipe(
 *   op.statefulFlatMap('dedupe', (seen: boolean | undefined, v: string) => [true, seen ? [] : [v]]),
 * );
 * ```
 * @param stepId a step id unique in the flow
 * @param mapper from the key's state and a value to `[newState, emitted values]`
 * @returns a pipeable operator on keyed streams
 */
export function statefulFlatMap<S, V, W>(
  stepId: string,
  mapper: (state: S | undefined, value: V) => [S | undefined, Iterable<W>],
): (up: KeyedStream<V>) => KeyedStream<W> {
  return mapStep<S, V, W>(stepId, mapper, true);
}

/**
 * Keeps a state per key and emits one value for each value seen.
 *
 * `mapper(state, value)` gets `undefined` as the state for a new key and returns
 * `[newState, valueToEmit]`; a new state of `undefined` drops the key.
 *
 * After a resume, a key's stored state is read back when the key next comes in, so resuming
 * millions of keys costs little more than loading them (a stored state that cannot be decoded is
 * reported then, naming the step and the key).
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const running = keyed.pipe(
 *   op.statefulMap('running_sum', (sum: number | undefined, x: number) => {
 *     const next = (sum ?? 0) + x;
 *     return [next, next];
 *   }),
 * );
 * ```
 * @param stepId a step id unique in the flow
 * @param mapper from the key's state and a value to `[newState, emitted value]`
 * @returns a pipeable operator on keyed streams
 */
export function statefulMap<S, V, W>(
  stepId: string,
  mapper: (state: S | undefined, value: V) => [S | undefined, W],
): (up: KeyedStream<V>) => KeyedStream<W> {
  return mapStep<S, V, W>(stepId, mapper, false);
}

/** The step of statefulMap (`flat` false) and statefulFlatMap: resumed lazily, its entries its logics. */
function mapStep<S, V, W>(
  stepId: string,
  mapper: (state: S | undefined, value: V) => [S | undefined, unknown],
  flat: boolean,
): (up: KeyedStream<V>) => KeyedStream<W> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    const make = (key: string, resume: S | undefined) => new MapLogic<S, V, W>(key, id, resume, mapper, flat);
    return up.pipe(statefulBatchOf<V, W, S>(stepId, (resume) => make('', resume), true, make));
  };
}

/**
 * The logic of statefulMap and statefulFlatMap, which is also the key's entry in its step: the
 * state is then one object away from the step's map of keys, not two. As the logic of a key that
 * comes back in the epoch that dropped it, made with the key `''`, only its logic is used.
 */
class MapLogic<S, V, W> extends Entry<V, W, S> implements StatefulBatchLogic<V, W, S> {
  constructor(
    key: string,
    private readonly id: string,
    private state: S | undefined,
    private readonly mapper: (state: S | undefined, value: V) => [S | undefined, unknown],
    private readonly flat: boolean,
  ) {
    super(key, undefined);
    this.logic = this;
  }

  onItem(value: V, emit: Emit<W>): Retain {
    let r: [S | undefined, unknown];
    try {
      r = this.mapper(this.state, value);
    } catch (err) {
      throw stepErrorFrom(this.id, 'the mapper', err);
    }
    if (!Array.isArray(r) || r.length !== 2) this.badShape(r);
    this.state = r[0];
    if (!this.flat) emit(r[1] as W);
    else this.emitAll(r[1], emit);
    return this.state === undefined ? 'discard' : 'retain';
  }

  private badShape(r: unknown): never {
    throw new StepError(this.id, `the mapper must return a 2-element array [newState, ${this.flat ? 'values' : 'value'}], got ${describeValue(r)}`);
  }

  private emitAll(ws: unknown, emit: Emit<W>): void {
    if (Array.isArray(ws)) for (let i = 0; i < ws.length; i++) emit(ws[i] as W);
    else if (ws != null && typeof (ws as Iterable<W>)[Symbol.iterator] === 'function') for (const w of ws as Iterable<W>) emit(w);
    else throw new StepError(this.id, `the mapper must return [newState, iterable of values], got a second element of ${describeValue(ws)}`);
  }

  onBatch(values: V[], emit: Emit<W>): Retain {
    let state = this.state;
    for (let i = 0; i < values.length; i++) {
      let r: [S | undefined, unknown];
      try {
        r = this.mapper(state, values[i]!);
      } catch (err) {
        throw stepErrorFrom(this.id, 'the mapper', err);
      }
      if (!Array.isArray(r) || r.length !== 2) {
        throw new StepError(this.id, `the mapper must return a 2-element array [newState, ${this.flat ? 'values' : 'value'}], got ${describeValue(r)}`);
      }
      state = r[0];
      if (!this.flat) emit(r[1] as W);
      else if (Array.isArray(r[1])) for (const w of r[1]) emit(w as W);
      else if (r[1] != null && typeof (r[1] as Iterable<W>)[Symbol.iterator] === 'function') for (const w of r[1] as Iterable<W>) emit(w);
      else throw new StepError(this.id, `the mapper must return [newState, iterable of values], got a second element of ${describeValue(r[1])}`);
    }
    this.state = state;
    return state === undefined ? 'discard' : 'retain';
  }

  snapshot(): S {
    return this.state as S;
  }

  /**
   * One MapLogic that lives as long as the process, as the retired step does for its class (see
   * statefulBatch.ts): with none left between runs, the engine forgot the class's hidden class, and
   * each run threw away the optimised code of the per-item path and of the snapshots, and compiled
   * it again (with 100,000 keys, the first barrier took 6–10 ms instead of 3–4). A static field,
   * because a module-level constant that no function reads is not kept: the engine drops it once
   * the module has run (it did, and runs with recovery were some 4% slower for it, paired).
   */
  static readonly keeper: object = new MapLogic<unknown, unknown, unknown>('', '', undefined, () => [undefined, undefined], false);
}
