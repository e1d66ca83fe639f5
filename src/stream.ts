import { type InteropObservable, Observable, observable as rxObservable, type Observer, type Subscribable, type Unsubscribable } from 'rxjs';
import type { Dataflow } from './dataflow.js';

/**
 * A batch of items, all of one epoch.
 *
 * ## Example
 * ```ts
 * import type { Batch } from 'weir';
 * const b: Batch<number> = { kind: 'batch', epoch: 1, items: [1, 2, 3] };
 * ```
 */
export interface Batch<T> {
  readonly kind: 'batch';
  /** The epoch every item belongs to. */
  readonly epoch: number;
  /** The items. A step must not change an array it did not create. */
  readonly items: T[];
}

/**
 * A barrier: no more data of `epoch` will pass this point of the stream.
 *
 * ## Example
 * ```ts
 * import type { Barrier } from 'weir';
 * const close: Barrier = { kind: 'barrier', epoch: 1 };
 * ```
 */
export interface Barrier {
  readonly kind: 'barrier';
  /** The epoch that has closed. */
  readonly epoch: number;
}

/**
 * End of stream: every upstream input has reached EOF. Barriers may still follow.
 *
 * ## Example
 * ```ts
 * import type { EndOfStream } from 'weir';
 * const end: EndOfStream = { kind: 'eof', epoch: 3 };
 * ```
 */
export interface EndOfStream {
  readonly kind: 'eof';
  /** The epoch in which the stream ended. */
  readonly epoch: number;
}

/**
 * What flows along a {@link Stream}: data batches, barriers and the end of stream.
 *
 * ## Example
 * ```ts
 * import type { Message } from 'weir';
 * function count(m: Message<number>) { return m.kind === 'batch' ? m.items.length : 0; }
 * ```
 */
export type Message<T> = Batch<T> | Barrier | EndOfStream;

/**
 * A function that takes one value and returns another: what `pipe` chains.
 *
 * ## Example
 * ```ts
 * import type { Stream, UnaryFunction } from 'weir';
 * import * as op from 'weir/operators';
 * const double: UnaryFunction<Stream<number>, Stream<number>> = op.map('x2', (x: number) => x * 2);
 * ```
 */
export type UnaryFunction<A, B> = (source: A) => B;

/**
 * Anything `pipe` can be called on. Both {@link Dataflow} and {@link Stream} are pipeable.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { TestingSource } from 'weir/testing';
 * const doubled = new Dataflow('d').pipe(op.input('in', new TestingSource([1, 2])), op.map('x2', (x) => x * 2));
 * ```
 */
export interface Pipeable {
  /** Applies the operators left to right, each to the result of the one before. */
  pipe(): this;
  /** Applies the operators left to right, each to the result of the one before. */
  pipe<A>(op1: UnaryFunction<this, A>): A;
  /** Applies the operators left to right, each to the result of the one before. */
  pipe<A, B>(op1: UnaryFunction<this, A>, op2: UnaryFunction<A, B>): B;
  /** Applies the operators left to right, each to the result of the one before. */
  pipe<A, B, C>(op1: UnaryFunction<this, A>, op2: UnaryFunction<A, B>, op3: UnaryFunction<B, C>): C;
  /** Applies the operators left to right, each to the result of the one before. */
  pipe<A, B, C, D>(
    op1: UnaryFunction<this, A>,
    op2: UnaryFunction<A, B>,
    op3: UnaryFunction<B, C>,
    op4: UnaryFunction<C, D>,
  ): D;
  /** Applies the operators left to right, each to the result of the one before. */
  pipe<A, B, C, D, E>(
    op1: UnaryFunction<this, A>,
    op2: UnaryFunction<A, B>,
    op3: UnaryFunction<B, C>,
    op4: UnaryFunction<C, D>,
    op5: UnaryFunction<D, E>,
  ): E;
  /** Applies the operators left to right, each to the result of the one before. */
  pipe<A, B, C, D, E, F>(
    op1: UnaryFunction<this, A>,
    op2: UnaryFunction<A, B>,
    op3: UnaryFunction<B, C>,
    op4: UnaryFunction<C, D>,
    op5: UnaryFunction<D, E>,
    op6: UnaryFunction<E, F>,
  ): F;
  /** Applies the operators left to right, each to the result of the one before. */
  pipe<A, B, C, D, E, F, G>(
    op1: UnaryFunction<this, A>,
    op2: UnaryFunction<A, B>,
    op3: UnaryFunction<B, C>,
    op4: UnaryFunction<C, D>,
    op5: UnaryFunction<D, E>,
    op6: UnaryFunction<E, F>,
    op7: UnaryFunction<F, G>,
  ): G;
  /** Applies the operators left to right, each to the result of the one before. */
  pipe<A, B, C, D, E, F, G, H>(
    op1: UnaryFunction<this, A>,
    op2: UnaryFunction<A, B>,
    op3: UnaryFunction<B, C>,
    op4: UnaryFunction<C, D>,
    op5: UnaryFunction<D, E>,
    op6: UnaryFunction<E, F>,
    op7: UnaryFunction<F, G>,
    op8: UnaryFunction<G, H>,
  ): H;
  /** Applies the operators left to right, each to the result of the one before. */
  pipe<A, B, C, D, E, F, G, H, I>(
    op1: UnaryFunction<this, A>,
    op2: UnaryFunction<A, B>,
    op3: UnaryFunction<B, C>,
    op4: UnaryFunction<C, D>,
    op5: UnaryFunction<D, E>,
    op6: UnaryFunction<E, F>,
    op7: UnaryFunction<F, G>,
    op8: UnaryFunction<G, H>,
    op9: UnaryFunction<H, I>,
    ...rest: UnaryFunction<any, any>[]
  ): unknown;
}

/** Applies `ops` left to right, starting from `start`. */
export function pipeFrom(start: unknown, ops: UnaryFunction<any, any>[]): any {
  let acc = start;
  for (const op of ops) acc = op(acc);
  return acc;
}

/**
 * A stream of epoch-stamped {@link Message}s in a {@link Dataflow}.
 *
 * A stream is made by an operator and consumed by others through `pipe`. It is also an RxJS
 * interop Observable: `from(stream)` gives an Observable of its messages while the flow runs,
 * which is useful for tests and debugging. Operators see whole batches, never single items.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { TestingSource, TestingSink } from 'weir/testing';
 * const out: number[] = [];
 * new Dataflow('ex').pipe(
 *   op.input('in', new TestingSource([1, 2, 3])),
 *   op.filter('odd', (x) => x % 2 === 1),
 *   op.output('out', new TestingSink(out)),
 * );
 * ```
 */
// The pipe overloads come from Pipeable through declaration merging, so `this` is the stream.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Stream<T> extends Pipeable, InteropObservable<Message<T>> {}

export class Stream<T> implements Subscribable<Message<T>> {
  /** @internal */
  readonly portIndex: number;

  /**
   * Streams are made by operators; you rarely construct one yourself.
   * @param flow the flow the stream belongs to
   * @param producerId the full id of the step that produces it
   */
  constructor(
    readonly flow: Dataflow,
    readonly producerId: string,
  ) {
    this.portIndex = flow._allocatePort();
  }

  /** Applies the operators left to right, each to the result of the one before. */
  /**
   * Observes the messages of this stream during a run of its flow.
   * @param observer receives every message; completes when the run ends
   */
  subscribe(observer: Partial<Observer<Message<T>>>): Unsubscribable {
    return this.flow._observePort<T>(this.portIndex, observer);
  }

  /** The stream's messages as an RxJS Observable. */
  asObservable(): Observable<Message<T>> {
    return new Observable<Message<T>>((subscriber) => this.subscribe(subscriber));
  }

}

Stream.prototype.pipe = function (this: unknown, ...ops: UnaryFunction<any, any>[]) {
  return pipeFrom(this, ops);
} as never;

// RxJS interop: lets `from(stream)` make an Observable.
(Stream.prototype as unknown as Record<string | symbol, unknown>)[rxObservable as string] = function (
  this: Stream<unknown>,
) {
  return this;
};

/**
 * A stream of `[key, value]` pairs with string keys: what stateful operators take.
 *
 * ## Example
 * ```ts
 * import type { KeyedStream } from 'weir';
 * import * as op from 'weir/operators';
 * const keyed = (s: import('weir').Stream<{ user: string }>): KeyedStream<{ user: string }> =>
 *   s.pipe(op.keyOn('by_user', (e) => e.user));
 * ```
 */
export type KeyedStream<V> = Stream<[string, V]>;
