import type { Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { fail } from './items.js';

/**
 * Transforms each item with a function.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const doubled = nums.pipe(op.map('double', (x: number) => x * 2));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from an item to the item to emit
 * @returns a pipeable operator
 */
export function map<T, U>(stepId: string, fn: (item: T) => U): (up: Stream<T>) => Stream<U> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, U>(stepId, (items) => {
      const out = new Array<U>(items.length);
      let i = 0;
      try {
        for (; i < items.length; i++) out[i] = fn(items[i]!);
      } catch (err) {
        fail(id, 'the map function', err, items[i]);
      }
      return out;
    })(up);
  };
}
