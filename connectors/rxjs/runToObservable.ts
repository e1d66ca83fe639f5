import { Observable } from 'rxjs';
import type { Dataflow } from '../../src/dataflow.js';
import { type RunOptions, runMain } from '../../src/runtime/runMain.js';
import type { Stream } from '../../src/stream.js';

/**
 * Runs a flow when subscribed and emits the items of one of its streams as a plain Observable.
 *
 * The Observable completes when the run ends and errors when it fails. Unsubscribing stops the run
 * gracefully at the next epoch boundary, with a final snapshot when recovery is on.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { TestingSource } from 'weir/testing';
 * import { runToObservable } from 'weir/connectors/rxjs';
 * const flow = new Dataflow('squares');
 * const squares = flow.pipe(op.input('in', new TestingSource([1, 2, 3])), op.map('sq', (x: number) => x * x));
 * runToObservable(flow, squares).subscribe((x) => console.log(x)); // 1, 4, 9
 * ```
 * @param flow the flow to run
 * @param stream the stream of `flow` whose items to emit
 * @param options run options, as for `runMain` (a `signal` given here also stops the run)
 * @returns a cold Observable: each subscription runs the flow once
 */
export function runToObservable<T>(flow: Dataflow, stream: Stream<T>, options: RunOptions = {}): Observable<T> {
  return new Observable<T>((subscriber) => {
    const stop = new AbortController();
    options.signal?.addEventListener('abort', () => stop.abort(), { once: true });
    const sub = stream.subscribe({
      next: (m) => {
        if (m.kind !== 'batch') return;
        for (const x of m.items) subscriber.next(x);
      },
    });
    runMain(flow, { ...options, signal: stop.signal }).then(
      () => subscriber.complete(),
      (err: unknown) => subscriber.error(err),
    );
    return () => {
      sub.unsubscribe();
      stop.abort();
    };
  });
}
