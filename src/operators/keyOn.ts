import { StepError, describeValue, stepErrorFrom } from '../errors.js';
import type { KeyedStream, Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { formatItem } from './items.js';

/**
 * Turns each item into a `[key, item]` pair; `keyFn` must return a string.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const byUser = events.pipe(op.keyOn('by_user', (e: { user: string }) => e.user));
 * ```
 * @param stepId a step id unique in the flow
 * @param keyFn from an item to its string key
 * @returns a pipeable operator to a keyed stream
 */
export function keyOn<T>(stepId: string, keyFn: (item: T) => string): (up: Stream<T>) => KeyedStream<T> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, [string, T]>(stepId, (items) => {
      const out = new Array<[string, T]>(items.length);
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const x = items[i]!;
          const k = keyFn(x);
          if (typeof k !== 'string') {
            throw new StepError(
              id,
              `the key function must return a string, got ${describeValue(k)} for item ${formatItem(x)}. Convert it, e.g. String(key)`,
            );
          }
          out[i] = [k, x];
        }
      } catch (err) {
        throw stepErrorFrom(id, 'the key function', err);
      }
      return out;
    })(up);
  };
}
