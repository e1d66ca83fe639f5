import { StepError } from '../errors.js';
import type { Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { formatItem, keyOf } from './items.js';

/**
 * Fails the run with a step error on the first item it sees. Useful to test error handling.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * nums.pipe(op.raises('boom'));
 * ```
 * @param stepId a step id unique in the flow
 * @returns a pipeable operator
 */
export function raises<T>(stepId: string): (up: Stream<T>) => Stream<never> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<T, never>(stepId, (items) => {
      throw new StepError(id, `raises: got item ${formatItem(items[0])}`, { key: keyOf(items[0]) });
    })(up);
  };
}
