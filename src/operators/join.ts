import { type KeyedStream, Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { type EmitMode, type InsertMode, JoinSides, checkJoinModes } from './joinSides.js';
import { merge } from './merge.js';
import { checkKeyed } from './items.js';
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
  private readonly j: JoinSides;
  constructor(sides: JoinState, insert: InsertMode, emitMode: EmitMode) {
    this.j = new JoinSides(sides, insert, emitMode);
  }

  onBatch(values: [number, unknown][], emit: Emit<Row>): Retain {
    for (const [side, v] of values) this.j.add(side, v, emit);
    return this.j.any() || this.j.emitMode === 'running' ? 'retain' : 'discard';
  }

  onEof(emit: Emit<Row>): Retain {
    if (this.j.emitMode === 'final') {
      this.j.emitAll(emit);
      return 'discard';
    }
    return 'retain';
  }

  snapshot(): JoinState {
    return this.j.sides;
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
  checkJoinModes('join', stepId, insert, emitMode);
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
