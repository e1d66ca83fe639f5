import { DynamicSink, type StatelessSinkPartition } from '../../src/outputs.js';
import { formatItem } from '../../src/operators/items.js';

/**
 * Prints every item on its own line to standard output, formatted as Bytewax prints Python values
 * (`['ALL', 3]`), or with your own formatter.
 *
 * Delivery: at-least-once; after a resume the resume epoch's items may print again.
 *
 * ## Example
 * ```ts
 * import { StdOutSink } from 'weir/connectors/stdio';
 * import * as op from 'weir/operators';
 * stream.pipe(op.output('out', new StdOutSink()));
 * ```
 */
export class StdOutSink<T = unknown> extends DynamicSink<T> {
  /** @param format turns an item into its line */
  constructor(private readonly format: (item: T) => string = formatItem) {
    super();
  }

  build(): StatelessSinkPartition<T> {
    const format = this.format;
    return {
      writeBatch(items: T[]) {
        let text = '';
        for (let i = 0; i < items.length; i++) text += format(items[i]!) + '\n';
        return new Promise<void>((resolve, reject) => {
          process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
        });
      },
    };
  }
}
