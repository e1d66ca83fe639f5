import { DynamicSink, type StatelessSinkPartition } from '../outputs.js';

/**
 * Anything with `push`, such as an array: what a {@link TestingSink} writes into.
 *
 * ## Example
 * ```ts
 * import type { Pushable } from 'weir/testing';
 * const target: Pushable<number> = [];
 * ```
 */
export interface Pushable<T> {
  /** Receives one item. */
  push(item: T): unknown;
}

/**
 * A sink that pushes every item into a target: an array, or anything with `push`. For tests.
 *
 * Delivery: at-least-once; after a resume it sees the resume epoch's items again.
 *
 * ## Example
 * ```ts
 * import { TestingSink } from 'weir/testing';
 * const out: number[] = [];
 * const sink = new TestingSink(out);
 * ```
 */
export class TestingSink<T> extends DynamicSink<T> {
  /** @param target receives every item */
  constructor(readonly target: Pushable<T>) {
    super();
    if (target === null || typeof target !== 'object' || typeof target.push !== 'function') {
      throw new TypeError('TestingSink needs an array or an object with push()');
    }
  }

  build(): StatelessSinkPartition<T> {
    const target = this.target;
    return {
      writeBatch(items: T[]) {
        for (let i = 0; i < items.length; i++) target.push(items[i]!);
      },
    };
  }
}
