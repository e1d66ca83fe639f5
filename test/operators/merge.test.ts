import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Dataflow, type Message, type Stream, runMain } from 'weir';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { TestingSink, TestingSource } from 'weir/testing';
import { tempDir } from '../support/tmp.js';

function kinds(msgs: Message<unknown>[]): string[] {
  return msgs.filter((m) => m.kind !== 'batch').map((m) => `${m.kind} ${m.epoch}`);
}

describe('merge', () => {
  it('emits the items of every side, each side in order', async () => {
    const out: string[] = [];
    const flow = new Dataflow('f');
    const a = flow.pipe(op.input('a', new TestingSource(['a1', 'a2', 'a3'])));
    const b = flow.pipe(op.input('b', new TestingSource(['b1'])));
    const c = flow.pipe(op.input('c', new TestingSource(['c1', 'c2'])));
    a.pipe(op.merge('all', b, c), op.output('out', new TestingSink(out)));
    await runMain(flow);
    expect([...out].sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'c1', 'c2']);
    for (const side of ['a', 'b', 'c']) expect(out.filter((x) => x.startsWith(side))).toEqual([...out.filter((x) => x.startsWith(side))].sort());
  });

  it('forwards one barrier per epoch, once every side closed it, and the end of stream once every side ended', async () => {
    const flow = new Dataflow('f');
    const a = flow.pipe(op.input('a', new TestingSource([1, 2, 3])));
    const b = flow.pipe(op.input('b', new TestingSource([10])));
    const merged = a.pipe(op.merge('m', b));
    merged.pipe(op.output('out', new TestingSink<unknown>([])));
    const seen = lastValueFrom(merged.asObservable().pipe(toArray()));
    const r = await runMain(flow, { epochInterval: 0 });
    const msgs = (await seen) as Message<number>[];
    const epochs = Array.from({ length: r.lastEpoch }, (_, i) => i + 1);
    expect(kinds(msgs).filter((k) => k.startsWith('barrier'))).toEqual(epochs.map((e) => `barrier ${e}`));
    expect(kinds(msgs).filter((k) => k.startsWith('eof'))).toHaveLength(1);
    // Nothing after the end of stream but barriers; no data of an epoch after its barrier.
    const eofAt = msgs.findIndex((m) => m.kind === 'eof');
    expect(msgs.slice(eofAt).every((m) => m.kind !== 'batch')).toBe(true);
    const lastBatch = msgs.findLastIndex((m) => m.kind === 'batch');
    expect(msgs[lastBatch]).toMatchObject({ items: [3] });
  });

  it('merging the two branches of one stream aligns their barriers', async () => {
    const flow = new Dataflow('f');
    const nums = flow.pipe(op.input('inp', new TestingSource([1, 2, 3, 4], 2)));
    const { trues, falses } = op.branch('odd', nums, (x: number) => x % 2 === 1);
    const back = trues.pipe(op.merge('back', falses));
    const out: number[] = [];
    back.pipe(op.output('out', new TestingSink(out)));
    const seen = lastValueFrom(back.asObservable().pipe(toArray()));
    await runMain(flow, { epochInterval: 0 });
    expect(out).toEqual([1, 2, 3, 4]);
    expect(kinds((await seen) as Message<number>[])).toEqual(['barrier 1', 'barrier 2', 'eof 3', 'barrier 3']);
  });

  it('a stateful step after a merge snapshots each touched key once per epoch, and resumes', async () => {
    const dir = tempDir();
    initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir);
    const build = (aItems: unknown[], bItems: unknown[], out: unknown[], log: string[]) => {
      const flow = new Dataflow('f');
      const a = flow.pipe(op.input('a', new TestingSource<any>(aItems)));
      const b = flow.pipe(op.input('b', new TestingSource<any>(bItems)));
      const sums: Stream<[string, number]> = a.pipe(
        op.merge('m', b as Stream<any>),
        op.statefulBatch('sum', (resume: number | undefined) => {
          let sum = resume ?? 0;
          let key = '?';
          return {
            onBatch(values: [string, number][], emit: (w: number) => void) {
              for (const [k, v] of values) {
                key = k;
                sum += v;
              }
              emit(sum);
              return 'retain';
            },
            snapshot: () => {
              log.push(`snap ${key}`);
              return sum;
            },
          };
        }),
      );
      sums.subscribe({ next: (m) => void (m.kind === 'barrier' && log.push(`barrier ${m.epoch}`)) });
      sums.pipe(op.output('out', new TestingSink(out)));
      return flow;
    };
    // The stateful step sees [key, [key, value]] so the logic can name the key it snapshots.
    const a: unknown[] = [['a', ['a', 1]], ['a', ['a', 2]], TestingSource.ABORT(), ['a', ['a', 4]]];
    const b: unknown[] = [['b', ['b', 10]]];
    const out1: unknown[] = [];
    const log1: string[] = [];
    await runMain(build(a, b, out1, log1), { epochInterval: 0, recovery });
    expect(out1).toEqual([['a', 1], ['b', 10], ['a', 3]]);
    expect(log1.slice(0, 5)).toEqual(['snap a', 'snap b', 'barrier 1', 'snap a', 'barrier 2']);
    // Then, until the ABORT fires, only empty epochs.
    expect(log1.slice(5).every((x) => x.startsWith('barrier'))).toBe(true);
    const out2: unknown[] = [];
    const log2: string[] = [];
    await runMain(build(a, b, out2, log2), { epochInterval: 0, recovery });
    expect(out2).toEqual([['a', 7]]);
    expect(log2.filter((x) => x.startsWith('snap'))).toEqual(['snap a']);
  });
});
