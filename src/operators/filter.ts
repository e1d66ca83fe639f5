import { StepError, describeValue } from '../errors.js';
import type { Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { fail, keyOf } from './items.js';

/**
 * Keeps the items for which `predicate` returns true.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const evens = nums.pipe(op.filter('evens', (x: number) => x % 2 === 0));
 * ```
 * @param stepId a step id unique in the flow
 * @param predicate true keeps the item
 * @returns a pipeable operator
 */
export function filter<T>(stepId: string, predicate: (item: T) => boolean): (up: Stream<T>) => Stream<T> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, T>(stepId, (items) => {
      const out: T[] = [];
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const x = items[i]!;
          const keep = predicate(x);
          if (typeof keep !== 'boolean') {
            throw new StepError(id, `the predicate must return a boolean, got ${describeValue(keep)}`, { key: keyOf(x) });
          }
          if (keep) out.push(x);
        }
      } catch (err) {
        fail(id, 'the predicate', err, items[i]);
      }
      return out;
    })(up);
  };
}
