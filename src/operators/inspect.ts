import type { Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { fail, formatItem } from './items.js';

/**
 * Calls `fn` with each item and passes it on unchanged. Defaults to printing `stepId: item`.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const same = nums.pipe(op.inspect('peek'));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn called with the full step id and each item
 * @returns a pipeable operator
 */
export function inspect<T>(
  stepId: string,
  fn: (stepId: string, item: T) => void = (s, x) => console.log(`${s}: ${formatItem(x)}`),
): (up: Stream<T>) => Stream<T> {
  return inspectDebug<T>(stepId, (s, x) => fn(s, x));
}

/**
 * Like {@link inspect}, with the epoch and the worker index too.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const same = nums.pipe(op.inspectDebug('peek', (s, x, epoch, worker) => console.log(s, x, epoch, worker)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn called with the full step id, each item, its epoch and the worker index
 * @returns a pipeable operator
 */
export function inspectDebug<T>(
  stepId: string,
  fn: (stepId: string, item: T, epoch: number, worker: number) => void = (s, x, e, w) =>
    console.log(`${s} W${w} @${e}: ${formatItem(x)}`),
): (up: Stream<T>) => Stream<T> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, T>(stepId, (items, epoch) => {
      let i = 0;
      try {
        for (; i < items.length; i++) fn(id, items[i]!, epoch, 0);
      } catch (err) {
        fail(id, 'the inspector', err, items[i]);
      }
      return items;
    })(up);
  };
}
