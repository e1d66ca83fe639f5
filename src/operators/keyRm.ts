import type { KeyedStream, Stream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { checkKeyed } from './items.js';

/**
 * Drops the key of each `[key, value]` pair.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const values = keyed.pipe(op.keyRm('unkey'));
 * ```
 * @param stepId a step id unique in the flow
 * @returns a pipeable operator
 */
export function keyRm<V>(stepId: string): (up: KeyedStream<V>) => Stream<V> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<[string, V], V>(stepId, (items) => {
      const out = new Array<V>(items.length);
      for (let i = 0; i < items.length; i++) {
        const x = items[i]!;
        checkKeyed(id, x);
        out[i] = x[1];
      }
      return out;
    })(up);
  };
}
