import type { KeyedStream } from '../stream.js';
import { flatMapBatch } from './flatMapBatch.js';
import { checkKeyed, fail } from './items.js';

/**
 * Transforms the value of each `[key, value]` pair, keeping the key.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const cents = prices.pipe(op.mapValue('to_cents', (p: number) => Math.round(p * 100)));
 * ```
 * @param stepId a step id unique in the flow
 * @param fn from a value to the new value
 * @returns a pipeable operator
 */
export function mapValue<V, W>(stepId: string, fn: (value: V) => W): (up: KeyedStream<V>) => KeyedStream<W> {
  return (up) => {
    const id = `${up.flow.id}.${stepId}`;
    return flatMapBatch<[string, V], [string, W]>(stepId, (items) => {
      const out = new Array<[string, W]>(items.length);
      let i = 0;
      try {
        for (; i < items.length; i++) {
          const x = items[i]!;
          checkKeyed(id, x);
          out[i] = [x[0], fn(x[1])];
        }
      } catch (err) {
        fail(id, 'the mapValue function', err, items[i]);
      }
      return out;
    })(up);
  };
}
