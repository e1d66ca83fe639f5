import type { KeyedStream } from '../stream.js';
import { filterMap } from './filterMap.js';

/**
 * Transforms each value and drops the pairs for which `fn` returns `undefined`.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const parsed = raw.pipe(op.filterMapValue('parse', (s: string) => (s ? Number(s) : undefined)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from a value to the new value, or `undefined` to drop the pair
 * @returns a pipeable operator
 */
export function filterMapValue<V, W>(stepId: string, fn: (value: V) => W | undefined): (up: KeyedStream<V>) => KeyedStream<W> {
  return filterMap<[string, V], [string, W]>(stepId, (x) => {
    const w = fn(x[1]);
    return w === undefined ? undefined : [x[0], w];
  });
}
