import type { KeyedStream } from '../stream.js';
import { flatMap } from './flatMap.js';

/**
 * Transforms each value into zero or more values, each emitted with the original key.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const words = docs.pipe(op.flatMapValue('split', (text: string) => text.split(' ')));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from a value to an iterable of values
 * @returns a pipeable operator
 */
export function flatMapValue<V, W>(stepId: string, fn: (value: V) => Iterable<W>): (up: KeyedStream<V>) => KeyedStream<W> {
  return flatMap<[string, V], [string, W]>(stepId, function* (x) {
    for (const w of fn(x[1])) yield [x[0], w] as [string, W];
  });
}
