import { stepErrorFrom } from '../errors.js';
import type { KeyedStream, Stream } from '../stream.js';
import { keyOn } from './keyOn.js';
import { map } from './map.js';
import { type Emit, type Retain, type StatefulBatchLogic, statefulBatch } from './statefulBatch.js';

/** Folds every value of a key, emits the result at EOF, then drops the key. */
class FoldLogic<V, S> implements StatefulBatchLogic<V, S, S> {
  constructor(
    private readonly id: string,
    private acc: S,
    private readonly folder: (acc: S, value: V) => S,
  ) {}
  onBatch(values: V[]): Retain {
    let acc = this.acc;
    try {
      for (let i = 0; i < values.length; i++) acc = this.folder(acc, values[i]!);
    } catch (err) {
      throw stepErrorFrom(this.id, 'the folder', err);
    }
    this.acc = acc;
    return 'retain';
  }
  onEof(emit: Emit<S>): Retain {
    emit(this.acc);
    return 'discard';
  }
  snapshot(): S {
    return this.acc;
  }
}

/**
 * Folds all the values of each key into an accumulator and emits `[key, accumulator]` when the
 * input ends. Only for finite inputs.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const lists = keyed.pipe(op.foldFinal('all', () => [] as number[], (acc, v: number) => [...acc, v]));
 * ```
 * @param stepId a step id unique in the flow
 * @param builder makes a new key's empty accumulator
 * @param folder from the accumulator and a value to the new accumulator
 * @returns a pipeable operator on keyed streams
 */
export function foldFinal<V, S>(
  stepId: string,
  builder: () => S,
  folder: (acc: S, value: V) => S,
): (up: KeyedStream<V>) => KeyedStream<S> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return up.pipe(
      statefulBatch<V, S, S>(stepId, (resume) => {
        let start: S;
        if (resume !== undefined) start = resume;
        else {
          try {
            start = builder();
          } catch (err) {
            throw stepErrorFrom(id, 'the builder', err);
          }
        }
        return new FoldLogic<V, S>(id, start, folder);
      }),
    );
  };
}

/**
 * Combines all the values of each key pairwise and emits `[key, result]` when the input ends.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const totals = keyed.pipe(op.reduceFinal('sum', (a: number, b: number) => a + b));
 * ```
 * @param stepId a step id unique in the flow
 * @param reducer combines two values into one
 * @returns a pipeable operator on keyed streams
 */
export function reduceFinal<V>(stepId: string, reducer: (a: V, b: V) => V): (up: KeyedStream<V>) => KeyedStream<V> {
  const none = { none: true } as const;
  return (up) =>
    up.pipe(
      foldFinal<V, { v: V } | typeof none>(stepId, () => none, (acc, v) => ('v' in acc ? { v: reducer(acc.v, v) } : { v })),
      map(`${stepId}/unwrap`, ([k, acc]: [string, { v: V } | typeof none]) => [k, (acc as { v: V }).v] as [string, V]),
    );
}

/**
 * Counts the items of each key and emits `[key, count]` when the input ends.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const counts = words.pipe(op.countFinal('count', (w: string) => w));
 * ```
 * @param stepId a step id unique in the flow
 * @param keyFn from an item to the string key it is counted under
 * @returns a pipeable operator from items to `[key, count]`
 */
export function countFinal<T>(stepId: string, keyFn: (item: T) => string): (up: Stream<T>) => KeyedStream<number> {
  return (up) =>
    up.pipe(
      keyOn(`${stepId}/key`, keyFn),
      foldFinal<T, number>(stepId, () => 0, (n) => n + 1),
    );
}

/**
 * Emits `[key, maximum value]` for each key when the input ends.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const best = scores.pipe(op.maxFinal('best', (s: { points: number }) => s.points));
 * ```
 * @param stepId a step id unique in the flow
 * @param by the number or string to compare values by; the value itself by default
 * @returns a pipeable operator on keyed streams
 */
export function maxFinal<V>(stepId: string, by: (value: V) => number | string | bigint = (v) => v as never): (up: KeyedStream<V>) => KeyedStream<V> {
  return reduceFinal<V>(stepId, (a, b) => (by(b) > by(a) ? b : a));
}

/**
 * Emits `[key, minimum value]` for each key when the input ends.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const first = events.pipe(op.minFinal('first', (e: { ts: number }) => e.ts));
 * ```
 * @param stepId a step id unique in the flow
 * @param by the number or string to compare values by; the value itself by default
 * @returns a pipeable operator on keyed streams
 */
export function minFinal<V>(stepId: string, by: (value: V) => number | string | bigint = (v) => v as never): (up: KeyedStream<V>) => KeyedStream<V> {
  return reduceFinal<V>(stepId, (a, b) => (by(b) < by(a) ? b : a));
}
