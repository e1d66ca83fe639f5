import { describe, expect, it } from 'vitest';
import { Dataflow, StepError, runMain } from 'weir';
import * as op from 'weir/operators';
import { TTLCache } from 'weir/operators';
import { TestingSink, TestingSource } from 'weir/testing';

type Trade = { sym: string; at: number };

/** A clock the mapper sets from each trade's `at`, and a getter that counts its calls. */
function setup(ttl: number) {
  let t = 0;
  const calls: string[] = [];
  const prices: Record<string, number> = { ACME: 10, INIT: 20 };
  const now = () => t;
  const getter = (sym: string) => {
    calls.push(sym);
    return prices[sym]! * 10 + calls.length;
  };
  const build = (items: Trade[], out: unknown[]) => {
    const flow = new Dataflow('f');
    flow.pipe(
      op.input('inp', new TestingSource(items, 2)),
      op.enrichCached('price', getter, (cache, x: Trade) => {
        t = x.at;
        return [x.sym, x.at, cache.get(x.sym)];
      }, { ttl, now }),
      op.output('out', new TestingSink(out)),
    );
    return flow;
  };
  return { calls, build };
}

describe('enrichCached', () => {
  it('calls the getter once per key within the TTL, and again once it expired', async () => {
    const { calls, build } = setup(100);
    const out: unknown[] = [];
    const items = [
      { sym: 'ACME', at: 0 },
      { sym: 'ACME', at: 50 },
      { sym: 'INIT', at: 60 },
      { sym: 'ACME', at: 99 },
      { sym: 'ACME', at: 100 }, // 100 ms after the fetch at 0: expired
      { sym: 'INIT', at: 120 },
      { sym: 'ACME', at: 150 },
    ];
    await runMain(build(items, out));
    expect(calls).toEqual(['ACME', 'INIT', 'ACME']);
    expect(out).toEqual([
      ['ACME', 0, 101],
      ['ACME', 50, 101],
      ['INIT', 60, 202],
      ['ACME', 99, 101],
      ['ACME', 100, 103],
      ['INIT', 120, 202],
      ['ACME', 150, 103],
    ]);
  });

  // The doc comment says the cache "is local to the run"; it lives in the operator's closure
  // (src/operators/enrichCached.ts, `let cache` outside the batch mapper), so a second run of the
  // same flow object starts with the first run's cache.
  it('a second run of the same flow starts with an empty cache', async () => {
    const { calls, build } = setup(1_000);
    const flow = build([{ sym: 'ACME', at: 0 }], []);
    await runMain(flow);
    await runMain(flow);
    expect(calls).toEqual(['ACME', 'ACME']);
  });

  it('a throwing getter or mapper names the step', async () => {
    const flow = new Dataflow('f');
    flow.pipe(
      op.input('inp', new TestingSource(['x'])),
      op.enrichCached('lookup', () => {
        throw new Error('service down');
      }, (cache, x: string) => cache.get(x), { ttl: 10 }),
      op.output('out', new TestingSink<unknown>([])),
    );
    const err = await runMain(flow).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).message).toMatch(/^step 'f\.lookup': .*service down/);
  });

  // Every other per-item operator names the key of a keyed item (stateless.ts `fail`);
  // enrichCached.ts:78 calls stepErrorFrom without it.
  it('a throwing mapper on a keyed item names the key', async () => {
    const flow = new Dataflow('f');
    flow.pipe(
      op.input('inp', new TestingSource<[string, string]>([['k1', 'x']])),
      op.enrichCached('lookup', () => {
        throw new Error('service down');
      }, (cache, x: [string, string]) => cache.get(x[1]), { ttl: 10 }),
      op.output('out', new TestingSink<unknown>([])),
    );
    const err = (await runMain(flow).catch((e: unknown) => e)) as StepError;
    expect(err.key).toBe('k1');
  });
});

describe('TTLCache', () => {
  it('fetches on a miss, after expiry and after remove()', () => {
    let t = 1_000;
    let n = 0;
    const cache = new TTLCache((k: string) => `${k}${++n}`, 10, () => t);
    expect(cache.get('a')).toBe('a1');
    t += 9;
    expect(cache.get('a')).toBe('a1');
    expect(cache.get('b')).toBe('b2');
    t += 1;
    expect(cache.get('a')).toBe('a3');
    cache.remove('a');
    expect(cache.get('a')).toBe('a4');
    expect(cache.get('b')).toBe('b2');
  });
});
