import { StepError, describeValue, stepErrorFrom } from '../errors.js';
import { Stream } from '../stream.js';

/**
 * Transforms whole batches: the core stateless operator every other stateless one is built on.
 *
 * `mapper` gets every item of one batch and returns the items to emit. It runs once per batch, so
 * it can amortise work such as a bulk lookup over many items.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const lengths = words.pipe(op.flatMapBatch('lengths', (batch: string[]) => batch.map((w) => w.length)));
 * ```
 * @param stepId a step id unique in the flow
 * @param mapper from a batch of items (and their epoch) to the items to emit
 * @returns a pipeable operator
 */
export function flatMapBatch<T, U>(stepId: string, mapper: (items: T[], epoch: number) => U[]): (up: Stream<T>) => Stream<U> {
  return (up) => {
    let out!: Stream<U>;
    up.flow._addStep(stepId, (fullId) => {
      out = new Stream<U>(up.flow, fullId);
      return (ctx) => {
        const port = ctx.port<U>(out.portIndex);
        ctx.port<T>(up.portIndex).listen((m) => {
          if (m.kind !== 'batch') return port.emit(m);
          let res: U[];
          try {
            res = mapper(m.items, m.epoch);
          } catch (err) {
            throw stepErrorFrom(fullId, 'the mapper', err);
          }
          if (!Array.isArray(res)) {
            throw new StepError(fullId, `the batch mapper must return an array, got ${describeValue(res)}`);
          }
          if (res.length > 0) port.emit({ kind: 'batch', epoch: m.epoch, items: res });
        });
      };
    });
    return out;
  };
}
