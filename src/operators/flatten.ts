import type { Stream } from '../stream.js';
import { flatMap } from './flatMap.js';

/**
 * Emits the elements of each array item.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const flat = nested.pipe(op.flatten('flat')); // [[1, 2], [3]] -> 1, 2, 3
 * ```
 * @param stepId a step id unique in the flow
 * @returns a pipeable operator
 */
export function flatten<U>(stepId: string): (up: Stream<Iterable<U>>) => Stream<U> {
  return flatMap<Iterable<U>, U>(stepId, (xs) => xs);
}
