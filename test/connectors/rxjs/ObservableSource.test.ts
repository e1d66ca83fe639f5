import { Observable, Subject, from, of, throwError, concat } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Dataflow, StepError, runMain } from 'weir';
import * as op from 'weir/operators';
import { ObservableSource } from 'weir/connectors/rxjs';
import { TestingSink } from 'weir/testing';

function run<T>(source: ObservableSource<T>, out: T[]) {
  const flow = new Dataflow('rx');
  flow.pipe(op.input('inp', source), op.output('out', new TestingSink(out)));
  return runMain(flow, { epochInterval: 0 });
}

describe('ObservableSource', () => {
  it('reads every item of an Observable and ends when it completes', async () => {
    const out: number[] = [];
    const r = await run(new ObservableSource(of(1, 2, 3, 4, 5), { batchSize: 2 }), out);
    expect(out).toEqual([1, 2, 3, 4, 5]);
    expect(r.reason).toBe('eof');
  });

  it('reads anything from() accepts, such as an array', async () => {
    const out: string[] = [];
    await run(new ObservableSource(from(['a', 'b'])), out);
    expect(out).toEqual(['a', 'b']);
  });

  it('reads items that arrive later, asynchronously', async () => {
    const subject = new Subject<number>();
    const out: number[] = [];
    const done = run(new ObservableSource(subject), out);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1));
      subject.next(i);
    }
    subject.complete();
    await done;
    expect(out).toEqual([0, 1, 2, 3, 4]);
  });

  it('reads an async iterable, a batch at a time', async () => {
    let pulled = 0;
    async function* gen() {
      for (let i = 0; i < 7; i++) {
        pulled++;
        yield i;
      }
    }
    const out: number[] = [];
    const batches: number[][] = [];
    const flow = new Dataflow('rx');
    flow.pipe(
      op.input('inp', new ObservableSource(gen(), { batchSize: 3 })),
      op.flatMapBatch('batches', (xs: number[]) => (batches.push([...xs]), xs)),
      op.output('out', new TestingSink(out)),
    );
    await runMain(flow);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(pulled).toBe(7);
  });

  it('an erroring Observable fails the run naming the step, after the items before the error', async () => {
    const out: number[] = [];
    const err = await run(new ObservableSource(concat(of(1, 2), throwError(() => new Error('feed lost')))), out).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).stepId).toBe('rx.inp');
    expect((err as StepError).message).toMatch(/^step 'rx\.inp': .*feed lost/);
    expect(out).toEqual([1, 2]);
  });

  it('an erroring async iterable fails the run naming the step', async () => {
    async function* gen() {
      yield 1;
      throw new Error('iterator broke');
    }
    const err = await run(new ObservableSource(gen()), []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toMatch(/^step 'rx\.inp': .*iterator broke/);
  });

  it('unsubscribes from the Observable when the run ends', async () => {
    let torn = false;
    const source = new Observable<number>((sub) => {
      sub.next(1);
      sub.complete();
      return () => void (torn = true);
    });
    await run(new ObservableSource(source), []);
    expect(torn).toBe(true);
  });
});
