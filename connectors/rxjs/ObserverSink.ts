import type { Observer } from 'rxjs';
import { DynamicSink, type StatelessSinkPartition } from '../../src/outputs.js';

/**
 * A sink into any RxJS Observer or Subject: every item goes to `next`. When the run ends at EOF,
 * `complete` is called too, unless `{ complete: false }`.
 *
 * Delivery: at-least-once; after a resume the resume epoch's items may be delivered again.
 *
 * ## Example
 * ```ts
 * import { Subject } from 'rxjs';
 * import * as op from 'weir/operators';
 * import { ObserverSink } from 'weir/connectors/rxjs';
 * const results = new Subject<number>();
 * results.subscribe((x) => console.log(x));
 * stream.pipe(op.output('out', new ObserverSink(results)));
 * ```
 */
export class ObserverSink<T> extends DynamicSink<T> {
  /**
   * @param observer receives the items
   * @param options `complete: false` leaves the observer open when the run ends
   */
  constructor(
    private readonly observer: Partial<Observer<T>>,
    private readonly options: { complete?: boolean } = {},
  ) {
    super();
  }

  build(): StatelessSinkPartition<T> {
    const o = this.observer;
    const complete = this.options.complete ?? true;
    return {
      writeBatch(items: T[]) {
        if (!o.next) return;
        for (let i = 0; i < items.length; i++) o.next(items[i]!);
      },
      close() {
        if (complete) o.complete?.();
      },
    };
  }
}
