import { Subject, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import * as op from 'weir/operators';
import { ObserverSink } from 'weir/connectors/rxjs';
import { TestingSource } from 'weir/testing';

describe('ObserverSink', () => {
  it('pushes every item into a Subject and completes it when the run ends', async () => {
    const subject = new Subject<number>();
    const all = lastValueFrom(subject.pipe(toArray()));
    const flow = new Dataflow('rx');
    flow.pipe(
      op.input('inp', new TestingSource([1, 2, 3], 2)),
      op.map('sq', (x: number) => x * x),
      op.output('out', new ObserverSink(subject)),
    );
    await runMain(flow);
    expect(await all).toEqual([1, 4, 9]);
  });

  it('with complete: false leaves the observer open', async () => {
    const got: string[] = [];
    let completed = false;
    const flow = new Dataflow('rx');
    flow.pipe(
      op.input('inp', new TestingSource(['a'])),
      op.output('out', new ObserverSink({ next: (x: string) => void got.push(x), complete: () => void (completed = true) }, { complete: false })),
    );
    await runMain(flow);
    expect(got).toEqual(['a']);
    expect(completed).toBe(false);
  });

  it('accepts an observer with only complete', async () => {
    let completed = false;
    const flow = new Dataflow('rx');
    flow.pipe(op.input('inp', new TestingSource([1])), op.output('out', new ObserverSink<number>({ complete: () => void (completed = true) })));
    await runMain(flow);
    expect(completed).toBe(true);
  });
});
