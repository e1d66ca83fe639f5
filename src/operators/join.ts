import { WeirError } from '../errors.js';
import { type KeyedStream, Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { merge } from './merge.js';
import { checkKeyed } from './stateless.js';
import { type Emit, type Retain, type StatefulBatchLogic, statefulBatch } from './statefulBatch.js';

/**
 * Options of {@link join}, with Bytewax's modes.
 *
 * - `insertMode`: what a side keeps when a new value arrives: the `last` one (default), the
 *   `first` one, or every one (`product`, which emits the cross product of the sides).
 * - `emitMode`: when to emit: once every side has a value, then forget the key (`complete`,
 *   default); at the end of input with whatever is there (`final`); or after every value with the
 *   current values, never forgetting (`running`).
 *
 * ## Example
 * ```ts
 * import type { JoinOptions } from 'weir/operators';
 * const o: JoinOptions = { insertMode: 'last', emitMode: 'running' };
 * ```
 */
export interface JoinOptions {
  insertMode?: 'first' | 'last' | 'product';
  emitMode?: 'complete' | 'final' | 'running';
}

type Row = unknown[];

/** State of one key: per side, its values (one at most unless `product`). */
type JoinState = unknown[][];

class JoinLogic implements StatefulBatchLogic<[number, unknown], Row, JoinState> {
  constructor(
    private sides: JoinState,
    private readonly insert: 'first' | 'last' | 'product',
    private readonly emitMode: 'complete' | 'final' | 'running',
  ) {}

  onBatch(values: [number, unknown][], emit: Emit<Row>): Retain {
    for (const [side, v] of values) {
      const vs = this.sides[side]!;
      if (this.insert === 'product') vs.push(v);
      else if (this.insert === 'last') vs[0] = v;
      else if (vs.length === 0) vs[0] = v;
      if (this.emitMode === 'running') this.emitAll(emit);
      else if (this.emitMode === 'complete' && this.sides.every((s) => s.length > 0)) {
        this.emitAll(emit);
        this.sides = this.sides.map(() => []);
      }
    }
    return this.sides.some((s) => s.length > 0) || this.emitMode === 'running' ? 'retain' : 'discard';
  }

  onEof(emit: Emit<Row>): Retain {
    if (this.emitMode === 'final') {
      this.emitAll(emit);
      return 'discard';
    }
    return 'retain';
  }

  /** Emits the cross product of the sides, with `undefined` for an empty side. */
  private emitAll(emit: Emit<Row>): void {
    let rows: Row[] = [[]];
    for (const vs of this.sides) {
      const options = vs.length > 0 ? vs : [undefined];
      const next: Row[] = [];
      for (const r of rows) for (const v of options) next.push([...r, v]);
      rows = next;
    }
    for (const r of rows) emit(r);
  }

  snapshot(): JoinState {
    return this.sides;
  }
}

/**
 * Joins keyed streams by key, emitting `[key, [leftValue, rightValue, ...]]` with `undefined` for a
 * side that has no value. Pipeable: the piped stream is the first side.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const joined = names.pipe(op.join('user', emails, { emitMode: 'complete' }));
 * // ['u1', ['Ada', 'ada@example.com']]
 * ```
 * @param stepId a step id unique in the flow
 * @param b the second side
 * @param options the insert and emit modes
 * @returns a pipeable operator on keyed streams
 */
export function join<A, B>(stepId: string, b: KeyedStream<B>, options?: JoinOptions): (a: KeyedStream<A>) => KeyedStream<[A | undefined, B | undefined]>;
/**
 * Joins three keyed streams by key; see the two-sided form.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const all = a.pipe(op.join('abc', b, c, { emitMode: 'final' }));
 * ```
 * @param stepId a step id unique in the flow
 * @param b the second side
 * @param c the third side
 * @param options the insert and emit modes
 * @returns a pipeable operator on keyed streams
 */
export function join<A, B, C>(
  stepId: string,
  b: KeyedStream<B>,
  c: KeyedStream<C>,
  options?: JoinOptions,
): (a: KeyedStream<A>) => KeyedStream<[A | undefined, B | undefined, C | undefined]>;
/**
 * Joins any number of keyed streams by key; see the two-sided form.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const all = a.pipe(op.join('many', b, c, d, { insertMode: 'product' }));
 * ```
 * @param stepId a step id unique in the flow
 * @param args the other sides, optionally followed by {@link JoinOptions}
 * @returns a pipeable operator on keyed streams
 */
export function join(stepId: string, ...args: (KeyedStream<unknown> | JoinOptions | undefined)[]): (a: KeyedStream<unknown>) => KeyedStream<unknown[]>;
export function join(stepId: string, ...args: (KeyedStream<unknown> | JoinOptions | undefined)[]): (a: KeyedStream<unknown>) => KeyedStream<unknown[]> {
  const others = args.filter((x): x is KeyedStream<unknown> => x instanceof Stream);
  const options = (args.find((x) => x !== undefined && !(x instanceof Stream)) ?? {}) as JoinOptions;
  const insert = options.insertMode ?? 'last';
  const emitMode = options.emitMode ?? 'complete';
  if (!['first', 'last', 'product'].includes(insert)) throw new WeirError(`join '${stepId}': insertMode must be 'first', 'last' or 'product', got ${String(insert)}`);
  if (!['complete', 'final', 'running'].includes(emitMode)) throw new WeirError(`join '${stepId}': emitMode must be 'complete', 'final' or 'running', got ${String(emitMode)}`);
  return (a) => {
    const sides = [a, ...others];
    const tagged = sides.map((s, i) =>
      flatMapBatch<[string, unknown], [string, [number, unknown]]>(`${stepId}/side${i}`, (items) => {
        const out = new Array<[string, [number, unknown]]>(items.length);
        for (let j = 0; j < items.length; j++) {
          const x = items[j]!;
          checkKeyed(`${a.flow.id}.${stepId}`, x);
          out[j] = [x[0], [i, x[1]]];
        }
        return out;
      })(s),
    );
    const merged = tagged[0]!.pipe(merge(`${stepId}/merge`, ...tagged.slice(1)));
    return merged.pipe(
      statefulBatch<[number, unknown], Row, JoinState>(
        stepId,
        (resume) => new JoinLogic(resume ?? sides.map(() => []), insert, emitMode),
      ),
    );
  };
}
