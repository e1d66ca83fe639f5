import { Subject, finalize, interval, lastValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { Dataflow, StepError } from 'weir';
import * as op from 'weir/operators';
import { ObservableSource, ObserverSink, runToObservable } from 'weir/connectors/rxjs';
import { TestingSink, TestingSource } from 'weir/testing';

describe('runToObservable', () => {
  it('emits the items of a stream and completes when the run ends', async () => {
    const flow = new Dataflow('sq');
    const squares = flow.pipe(op.input('in', new TestingSource([1, 2, 3], 2)), op.map('sq', (x: number) => x * x));
    squares.pipe(op.output('out', new TestingSink<unknown>([])));
    expect(await lastValueFrom(runToObservable(flow, squares).pipe(toArray()))).toEqual([1, 4, 9]);
  });

  it('is cold: each subscription runs the flow again', async () => {
    const flow = new Dataflow('sq');
    const s = flow.pipe(op.input('in', new TestingSource(['x'])));
    s.pipe(op.output('out', new TestingSink<unknown>([])));
    const obs = runToObservable(flow, s);
    expect(await lastValueFrom(obs.pipe(toArray()))).toEqual(['x']);
    expect(await lastValueFrom(obs.pipe(toArray()))).toEqual(['x']);
  });

  it('errors with the StepError when the run fails', async () => {
    const flow = new Dataflow('bad');
    const s = flow.pipe(op.input('in', new TestingSource([1])), op.raises('boom'));
    s.pipe(op.output('out', new TestingSink<unknown>([])));
    const err = await lastValueFrom(runToObservable(flow, s)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).stepId).toBe('bad.boom');
  });

  it('unsubscribing stops the run gracefully: sources and sinks are closed', async () => {
    let sourceTornDown = false;
    const sinkDone = new Subject<number>();
    const sinkClosed = lastValueFrom(sinkDone.pipe(toArray()));
    const flow = new Dataflow('live');
    const ticks = flow.pipe(
      op.input('in', new ObservableSource(interval(1).pipe(finalize(() => void (sourceTornDown = true))))),
      op.map('x10', (x: number) => x * 10),
    );
    ticks.pipe(op.output('out', new ObserverSink(sinkDone)));
    const firstThree = await lastValueFrom(runToObservable(flow, ticks).pipe(take(3), toArray()));
    expect(firstThree).toEqual([0, 10, 20]);
    // The run closes the sink (completing the subject) and the source once it has stopped.
    const written = await sinkClosed;
    expect(written.slice(0, 3)).toEqual([0, 10, 20]);
    expect(sourceTornDown).toBe(true);
    // Once the stopped run has returned, the flow can run again.
    const again = await vi.waitFor(() => lastValueFrom(runToObservable(flow, ticks).pipe(take(1), toArray())));
    expect(again).toEqual([0]);
  });
});
