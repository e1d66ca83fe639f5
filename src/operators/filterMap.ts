import type { Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { fail } from './items.js';

/**
 * Transforms each item and drops those for which `fn` returns `undefined` (Bytewax's `None`).
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const ints = strings.pipe(op.filterMap('parse', (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from an item to the item to emit, or `undefined` to drop it
 * @returns a pipeable operator
 */
export function filterMap<T, U>(stepId: string, fn: (item: T) => U | undefined): (up: Stream<T>) => Stream<U> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, U>(stepId, (items) => {
      const out: U[] = [];
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const r = fn(items[i]!);
          if (r !== undefined) out.push(r);
        }
      } catch (err) {
        fail(id, 'the filterMap function', err, items[i]);
      }
      return out;
    })(up);
  };
}
