import { type Observable, type Subscription, from } from 'rxjs';
import { DynamicSource, EOF, type StatelessSourcePartition } from '../../src/inputs.js';

/**
 * Options of {@link ObservableSource}.
 *
 * ## Example
 * ```ts
 * import type { ObservableSourceOptions } from 'weir/connectors/rxjs';
 * const o: ObservableSourceOptions = { batchSize: 500 };
 * ```
 */
export interface ObservableSourceOptions {
  /** The most items per batch. Default 1000. */
  batchSize?: number;
  /** How long `nextBatch` waits for a first item before returning an empty batch, in ms. Default 10. */
  idleWait?: number;
}

class ObservablePartition<T> implements StatelessSourcePartition<T> {
  private buffer: T[] = [];
  private done = false;
  private error: unknown;
  private failed = false;
  private wake: (() => void) | undefined;
  private readonly sub: Subscription | undefined;
  private readonly iterator: AsyncIterator<T> | undefined;

  constructor(
    input: Observable<T> | AsyncIterable<T>,
    private readonly batchSize: number,
    private readonly idleWait: number,
  ) {
    if (typeof (input as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') {
      this.iterator = (input as AsyncIterable<T>)[Symbol.asyncIterator]();
    } else {
      this.sub = from(input as Observable<T>).subscribe({
        next: (x) => {
          this.buffer.push(x);
          this.wake?.();
        },
        error: (e) => {
          this.failed = true;
          this.error = e;
          this.wake?.();
        },
        complete: () => {
          this.done = true;
          this.wake?.();
        },
      });
    }
  }

  async nextBatch(): Promise<T[] | typeof EOF> {
    if (this.iterator) return this.pull(this.iterator);
    if (this.buffer.length === 0 && !this.done && !this.failed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.idleWait);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
    if (this.buffer.length > 0) {
      const out = this.buffer.length <= this.batchSize ? this.buffer : this.buffer.splice(0, this.batchSize);
      if (out === this.buffer) this.buffer = [];
      return out;
    }
    if (this.failed) throw this.error;
    return this.done ? EOF : [];
  }

  /** Pulls up to a batch from an async iterable: bounded, since nothing is read ahead. */
  private async pull(it: AsyncIterator<T>): Promise<T[] | typeof EOF> {
    if (this.done) return EOF;
    const out: T[] = [];
    while (out.length < this.batchSize) {
      const r = await it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      out.push(r.value);
    }
    return out.length === 0 && this.done ? EOF : out;
  }

  close(): void {
    this.sub?.unsubscribe();
    void this.iterator?.return?.();
  }
}

/**
 * A source from any RxJS Observable (or anything `from()` accepts) or async iterable.
 *
 * It is dynamic and **not resumable**: an Observable cannot be replayed from a position, so after a
 * restart it starts wherever the Observable is. Items are delivered at most once per run; keyed
 * state downstream is still snapshotted, but the input is not replayed. An Observable pushes and
 * RxJS has no backpressure, so items wait in a buffer until the flow reads them; an async iterable
 * is pulled one batch at a time and never read ahead.
 *
 * ## Example
 * ```ts
 * import { interval, take } from 'rxjs';
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { ObservableSource } from 'weir/connectors/rxjs';
 * const ticks = new Dataflow('ticks').pipe(op.input('in', new ObservableSource(interval(10).pipe(take(5)))));
 * ```
 */
export class ObservableSource<T> extends DynamicSource<T> {
  /**
   * @param input an Observable, an ObservableInput, or an async iterable
   * @param options batch size and idle wait
   */
  constructor(
    private readonly input: Observable<T> | AsyncIterable<T>,
    private readonly options: ObservableSourceOptions = {},
  ) {
    super();
  }

  build(): StatelessSourcePartition<T> {
    return new ObservablePartition<T>(this.input, this.options.batchSize ?? 1000, this.options.idleWait ?? 10);
  }
}
