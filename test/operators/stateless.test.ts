import { describe, expect, it, vi } from 'vitest';
import { Dataflow, StepError, type Stream, runMain } from 'weir';
import * as op from 'weir/operators';
import { TestingSink, TestingSource } from 'weir/testing';

/** Runs `items` through `build` and returns what the sink received. */
async function through<T, U>(items: T[], build: (s: Stream<T>) => Stream<U>, batchSize = 1): Promise<U[]> {
  const out: U[] = [];
  const flow = new Dataflow('f');
  build(flow.pipe(op.input('inp', new TestingSource(items, batchSize)))).pipe(op.output('out', new TestingSink(out)));
  await runMain(flow);
  return out;
}

/** Runs and returns the rejection, which must be a StepError. */
async function failure<T, U>(items: T[], build: (s: Stream<T>) => Stream<U>): Promise<StepError> {
  const err = await through(items, build).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StepError);
  return err as StepError;
}

const boom = () => {
  throw new Error('boom');
};

describe('map', () => {
  it('transforms each item, in order, across batches', async () => {
    expect(await through([1, 2, 3, 4, 5], op.map('x2', (x: number) => x * 2), 2)).toEqual([2, 4, 6, 8, 10]);
  });

  it('a throwing function fails the run naming the step', async () => {
    const err = await failure([1], op.map('bad', boom));
    expect(err.stepId).toBe('f.bad');
    expect(err.message).toContain("step 'f.bad'");
    expect(err.message).toContain('boom');
    expect(err.key).toBeUndefined();
  });

  it('a throwing function on a keyed item names the key', async () => {
    const err = await failure([['k1', 1]], op.map('bad', boom));
    expect(err.message).toContain("step 'f.bad', key \"k1\"");
    expect(err.key).toBe('k1');
  });
});

describe('filter', () => {
  it('keeps the items the predicate accepts', async () => {
    expect(await through([1, 2, 3, 4, 5, 6], op.filter('even', (x: number) => x % 2 === 0), 4)).toEqual([2, 4, 6]);
  });

  it('a non-boolean answer is an error naming the step', async () => {
    const err = await failure([1], op.filter('f1', () => 1 as unknown as boolean));
    expect(err.message).toMatch(/step 'f\.f1'.*boolean.*number 1/);
  });

  it('a throwing predicate names step and key', async () => {
    const err = await failure([['a', 1]], op.filter('f1', boom));
    expect(err.message).toContain("step 'f.f1', key \"a\"");
  });
});

describe('flatMap', () => {
  it('emits zero or more items per item, from arrays and iterables', async () => {
    const out = await through(['a b', '', 'c'], op.flatMap('split', (s: string) => s.split(' ').filter(Boolean)));
    expect(out).toEqual(['a', 'b', 'c']);
    const gen = await through([2, 3], op.flatMap('gen', function* (n: number) { for (let i = 0; i < n; i++) yield n; }));
    expect(gen).toEqual([2, 2, 3, 3, 3]);
    const set = await through([1], op.flatMap('set', () => new Set(['x', 'y'])));
    expect(set).toEqual(['x', 'y']);
  });

  it('a non-iterable result is an error naming the step', async () => {
    const err = await failure([1], op.flatMap('fm', () => 5 as unknown as number[]));
    expect(err.message).toMatch(/step 'f\.fm'.*array or iterable.*number 5/);
  });

  it('a throwing function names step and key', async () => {
    const err = await failure([['k', 1]], op.flatMap('fm', boom));
    expect(err.message).toContain("step 'f.fm', key \"k\"");
  });
});

describe('filterMap', () => {
  it('maps and drops undefined (but keeps null, 0 and false)', async () => {
    const out = await through(['1', 'x', '0', 'n', 'f'], op.filterMap('parse', (s: string) => {
      if (s === 'x') return undefined;
      if (s === 'n') return null;
      if (s === 'f') return false;
      return Number(s);
    }));
    expect(out).toEqual([1, 0, null, false]);
  });

  it('a throwing function names the step', async () => {
    const err = await failure([1], op.filterMap('fmx', boom));
    expect(err.stepId).toBe('f.fmx');
  });
});

describe('flatten', () => {
  it('emits the elements of each array item', async () => {
    expect(await through([[1, 2], [], [3]], op.flatten('flat'))).toEqual([1, 2, 3]);
  });

  it('a non-iterable item is an error naming the step', async () => {
    const err = await failure([7 as unknown as number[]], op.flatten('flat'));
    expect(err.stepId).toBe('f.flat');
  });
});

describe('inspect and inspectDebug', () => {
  it('inspect passes items through and calls fn with the full step id', async () => {
    const seen: [string, number][] = [];
    const out = await through([1, 2], op.inspect('peek', (s: string, x: number) => void seen.push([s, x])));
    expect(out).toEqual([1, 2]);
    expect(seen).toEqual([['f.peek', 1], ['f.peek', 2]]);
  });

  it('inspect prints `flow.step: item` by default', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await through([['ALL', 3]], op.inspect('peek'));
      expect(log).toHaveBeenCalledWith("f.peek: ['ALL', 3]");
    } finally {
      log.mockRestore();
    }
  });

  it('inspectDebug gets the epoch and the worker index', async () => {
    const seen: unknown[] = [];
    const flow = new Dataflow('f');
    flow.pipe(
      op.input('inp', new TestingSource(['a', 'b', 'c'])),
      op.inspectDebug('dbg', (s: string, x: string, epoch: number, worker: number) => void seen.push([s, x, epoch, worker])),
      op.output('out', new TestingSink<unknown>([])),
    );
    await runMain(flow, { epochInterval: 0 });
    // With a zero epoch interval each batch of one item gets its own epoch, starting at 1.
    expect(seen).toEqual([['f.dbg', 'a', 1, 0], ['f.dbg', 'b', 2, 0], ['f.dbg', 'c', 3, 0]]);
  });

  it('a throwing inspector names step and key', async () => {
    const err = await failure([['k', 1]], op.inspect('peek', boom));
    expect(err.message).toContain("step 'f.peek', key \"k\"");
  });
});

describe('keyOn and keyRm', () => {
  it('keyOn makes [key, item] pairs; keyRm drops the key', async () => {
    const keyed = await through([{ u: 'a', n: 1 }, { u: 'b', n: 2 }], op.keyOn('k', (x: { u: string }) => x.u));
    expect(keyed).toEqual([['a', { u: 'a', n: 1 }], ['b', { u: 'b', n: 2 }]]);
    const back = await through([5, 6], (s) => s.pipe(op.keyOn('k', String), op.keyRm('rm')));
    expect(back).toEqual([5, 6]);
  });

  it('a non-string key is a StepError naming the step and the offending value', async () => {
    const err = await failure([{ id: 7 }], op.keyOn('by_id', (x: { id: number }) => x.id as unknown as string));
    expect(err.stepId).toBe('f.by_id');
    expect(err.message).toMatch(/^step 'f\.by_id': the key function must return a string, got number 7/);
  });

  it('a throwing key function names the step', async () => {
    const err = await failure([1], op.keyOn('k', boom));
    expect(err.message).toContain("step 'f.k'");
    expect(err.message).toContain('boom');
  });

  it('keyRm on an unkeyed item is an error naming the step', async () => {
    const err = await failure([3 as unknown as [string, number]], op.keyRm('rm'));
    expect(err.message).toMatch(/step 'f\.rm'.*\[key, value\]/);
  });
});

describe('value operators', () => {
  const kv: [string, number][] = [['a', 1], ['b', 2], ['a', 3]];

  it('mapValue keeps the key', async () => {
    expect(await through(kv, op.mapValue('m', (v: number) => v * 10))).toEqual([['a', 10], ['b', 20], ['a', 30]]);
  });

  it('filterValue filters on the value', async () => {
    expect(await through(kv, op.filterValue('f', (v: number) => v > 1))).toEqual([['b', 2], ['a', 3]]);
  });

  it('flatMapValue emits each value with the key', async () => {
    expect(await through(kv.slice(0, 2), op.flatMapValue('fm', (v: number) => [v, -v]))).toEqual([
      ['a', 1],
      ['a', -1],
      ['b', 2],
      ['b', -2],
    ]);
  });

  it('filterMapValue maps and drops undefined', async () => {
    expect(await through(kv, op.filterMapValue('fm', (v: number) => (v === 2 ? undefined : `${v}`)))).toEqual([
      ['a', '1'],
      ['a', '3'],
    ]);
  });

  for (const [name, make] of [
    ['mapValue', () => op.mapValue('vx', boom)],
    ['filterValue', () => op.filterValue('vx', boom)],
    ['flatMapValue', () => op.flatMapValue('vx', boom)],
    ['filterMapValue', () => op.filterMapValue('vx', boom)],
  ] as const) {
    it(`${name}: a throwing function names step and key`, async () => {
      const err = await failure([['kk', 1]] as [string, number][], make() as (s: Stream<[string, number]>) => Stream<unknown>);
      expect(err.stepId).toBe('f.vx');
      expect(err.key).toBe('kk');
      expect(err.message).toContain('boom');
    });
  }

  it('mapValue on an unkeyed item is an error naming the step', async () => {
    const err = await failure([1 as unknown as [string, number]], op.mapValue('m', (v: number) => v));
    expect(err.stepId).toBe('f.m');
  });
});

describe('raises', () => {
  it('fails on the first item, naming step and key', async () => {
    const err = await failure([['k', 1]], op.raises('boom'));
    expect(err.message).toMatch(/^step 'f\.boom', key "k": raises/);
  });

  it('does nothing when no item arrives', async () => {
    expect(await through([], op.raises('boom'))).toEqual([]);
  });
});
