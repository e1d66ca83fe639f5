import { describe, expect, it } from 'vitest';
import { Dataflow, runMain, StepError } from 'weir';
import * as op from 'weir/operators';
import { initDbDir, RecoveryConfig, v8Serde } from 'weir/recovery';
import { TestingSink, TestingSource, type TestingMarker } from 'weir/testing';
import { LoadedStates } from '../../src/recovery/loaded.js';
import { ResumeIndex } from '../../src/runtime/ResumeIndex.js';
import { tempDir } from './support.js';

/** Keys whose UTF-16 order, UTF-8 lengths or bytes are unusual. */
const ODD_KEYS = ['', 'a', 'a\u0000b', '\u0000', 'é', 'ü-ß', '\u4e2d\u6587', '\ue000', '\uffff', '😀', 'x😀y', '😀😁', 'z'];

function loaded(...chunks: { keys: string[]; sers: Uint8Array[] }[]): LoadedStates {
  const states = new LoadedStates();
  for (const c of chunks) states.addChunk(c.keys, c.sers.map((b) => b.length), Buffer.concat(c.sers));
  return states;
}

describe('ResumeIndex', () => {
  it('finds every key, each once', () => {
    const keys = ODD_KEYS;
    const idx = new ResumeIndex<{ k: string; i: number }>('f.s', loaded({ keys, sers: keys.map((k, i) => v8Serde.serialize({ k, i })) }), v8Serde);
    for (const [i, k] of keys.entries()) expect(idx.take(k)).toEqual({ k, i });
    for (const k of keys) expect(idx.take(k)).toBeUndefined();
    expect(idx.take('missing')).toBeUndefined();
  });

  it('searches the chunks of several partitions, a later chunk winning for a key in two', () => {
    const a = ['b', 'd', 'f', 'x'];
    const b = ['a', 'c', 'e', 'g'];
    const many = Array.from({ length: 3000 }, (_, i) => `k${(i * 7919) % 3000}`);
    const ser = (k: string) => v8Serde.serialize(k.toUpperCase());
    const idx = new ResumeIndex<string>(
      'f.s',
      loaded({ keys: a, sers: a.map(ser) }, { keys: b, sers: b.map(ser) }, { keys: many, sers: many.map(ser) }, { keys: ['x'], sers: [v8Serde.serialize('later')] }),
      v8Serde,
    );
    expect(idx.take('x')).toBe('later');
    for (const k of [...a.slice(0, 3), ...b, ...many]) expect(idx.take(k)).toBe(k.toUpperCase());
    for (const k of [...a, ...b, ...many]) expect(idx.take(k)).toBeUndefined();
  });

  it('names the step and the key of bytes it cannot decode', () => {
    const idx = new ResumeIndex('f.s', loaded({ keys: ['a', 'b'], sers: [Uint8Array.of(0x04), Uint8Array.of(0x7e, 0x01)] }), v8Serde);
    expect(idx.take('a')).toBe(true);
    let err: unknown;
    try {
      idx.take('b');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StepError);
    expect((err as StepError).stepId).toBe('f.s');
    expect((err as StepError).key).toBe('b');
  });
});

describe('a lazily resumed statefulMap', () => {
  const build = (inp: ([string, number] | TestingMarker)[], out: unknown[]) => {
    const flow = new Dataflow('lazy');
    flow.pipe(
      op.input('inp', new TestingSource(inp, 1)),
      op.statefulMap('sum', (sum: number | undefined, x: number) => {
        // A negative value drops the key's state.
        if (x < 0) return [undefined, -1];
        const next = (sum ?? 0) + x;
        return [next, next];
      }),
      op.output('out', new TestingSink(out)),
    );
    return flow;
  };

  it('restores keys of every kind of character across partitions', async () => {
    const dir = tempDir();
    initDbDir(dir, 3);
    const recovery = new RecoveryConfig(dir);
    const inp: ([string, number] | TestingMarker)[] = ODD_KEYS.map((k, i): [string, number] => [k, i + 1]);
    inp.push(TestingSource.EOF(), ...ODD_KEYS.map((k): [string, number] => [k, 100]));
    await runMain(build(inp, []), { epochInterval: 0, recovery });
    const out: unknown[] = [];
    await runMain(build(inp, out), { epochInterval: 0, recovery });
    expect(out).toEqual(ODD_KEYS.map((k, i) => [k, i + 1 + 100]));
  });

  it('does not bring back the stored state of a key dropped after the resume', async () => {
    const dir = tempDir();
    initDbDir(dir, 2);
    const recovery = new RecoveryConfig(dir);
    const inp: ([string, number] | TestingMarker)[] = [['k', 5], ['j', 1], TestingSource.EOF(), ['k', -1], ['j', 1], ['k', 7], TestingSource.EOF(), ['k', 1]];
    await runMain(build(inp, []), { epochInterval: 0, recovery });
    const out: unknown[] = [];
    await runMain(build(inp, out), { epochInterval: 0, recovery });
    expect(out).toEqual([['k', -1], ['j', 2], ['k', 7]]);
    out.length = 0;
    await runMain(build(inp, out), { epochInterval: 0, recovery });
    expect(out).toEqual([['k', 8]]);
  });
});
