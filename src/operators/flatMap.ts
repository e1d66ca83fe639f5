import { StepError, describeValue } from '../errors.js';
import type { Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { fail, keyOf } from './items.js';

/**
 * Transforms each item into zero or more items.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const words = lines.pipe(op.flatMap('split', (line: string) => line.split(/\s+/)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from an item to an array (or iterable) of items to emit
 * @returns a pipeable operator
 */
export function flatMap<T, U>(stepId: string, fn: (item: T) => Iterable<U>): (up: Stream<T>) => Stream<U> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, U>(stepId, (items) => {
      const out: U[] = [];
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const r = fn(items[i]!);
          if (Array.isArray(r)) {
            for (let j = 0; j < r.length; j++) out.push(r[j]);
          } else if (r != null && typeof (r as Iterable<U>)[Symbol.iterator] === 'function') {
            for (const x of r) out.push(x);
          } else {
            throw new StepError(id, `the flatMap function must return an array or iterable, got ${describeValue(r)}`, {
              key: keyOf(items[i]),
            });
          }
        }
      } catch (err) {
        fail(id, 'the flatMap function', err, items[i]);
      }
      return out;
    })(up);
  };
}
