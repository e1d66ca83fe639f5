import { StepError, describeValue, stepErrorFrom } from '../errors.js';
import { Stream } from '../stream.js';

/**
 * The two streams {@link branch} makes.
 *
 * ## Example
 * ```ts
 * import type { BranchOut } from 'weir/operators';
 * const use = (b: BranchOut<number>) => b.trues;
 * ```
 */
export interface BranchOut<T> {
  /** Items for which the predicate returned true. */
  readonly trues: Stream<T>;
  /** Items for which the predicate returned false. */
  readonly falses: Stream<T>;
}

/**
 * Splits a stream in two by a predicate. Not pipeable, since it yields two streams.
 *
 * ## Example
 * ```ts
 * import * as op from 'weir/operators';
 * const { trues: evens, falses: odds } = op.branch('parity', nums, (x: number) => x % 2 === 0);
 * ```
 * @param stepId a step id unique in the flow
 * @param up the stream to split
 * @param predicate true sends an item to `trues`, false to `falses`
 * @returns `{ trues, falses }`
 */
export function branch<T>(stepId: string, up: Stream<T>, predicate: (item: T) => boolean): BranchOut<T> {
  let trues!: Stream<T>;
  let falses!: Stream<T>;
  up.flow._addStep(stepId, (fullId) => {
    trues = new Stream<T>(up.flow, fullId);
    falses = new Stream<T>(up.flow, fullId);
    return (ctx) => {
      const t = ctx.port<T>(trues.portIndex);
      const f = ctx.port<T>(falses.portIndex);
      ctx.port<T>(up.portIndex).listen((m) => {
        if (m.kind !== 'batch') {
          t.emit(m);
          f.emit(m);
          return;
        }
        const yes: T[] = [];
        const no: T[] = [];
        const items = m.items;
        let i = 0;
        try {
          for (; i < items.length; i++) {
            const r = predicate(items[i]!);
            if (r === true) yes.push(items[i]!);
            else if (r === false) no.push(items[i]!);
            else throw new StepError(fullId, `the predicate must return a boolean, got ${describeValue(r)}`);
          }
        } catch (err) {
          const x = items[i];
          throw stepErrorFrom(fullId, 'the predicate', err, Array.isArray(x) && typeof x[0] === 'string' ? x[0] : undefined);
        }
        if (yes.length) t.emit({ kind: 'batch', epoch: m.epoch, items: yes });
        if (no.length) f.emit({ kind: 'batch', epoch: m.epoch, items: no });
      });
    };
  });
  return { trues, falses };
}
