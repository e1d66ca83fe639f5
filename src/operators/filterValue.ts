import type { KeyedStream } from '../stream.js';
import { filter } from './filter.js';

/**
 * Keeps the `[key, value]` pairs whose value satisfies `predicate`.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const big = amounts.pipe(op.filterValue('big', (v: number) => v > 100));
 * ```
 * @param stepId a step id unique in the flow
 * @param predicate true keeps the pair
 * @returns a pipeable operator
 */
export function filterValue<V>(stepId: string, predicate: (value: V) => boolean): (up: KeyedStream<V>) => KeyedStream<V> {
  return filter<[string, V]>(stepId, (x) => predicate(x[1]));
}
