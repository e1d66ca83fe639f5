import { describe, expect, it } from 'vitest';
import { packSnapshots } from '../../src/recovery/packSnapshots.js';
import { encodeFast, FAST_MAX, serializeValue, v8Serde, type Serde } from '../../src/recovery/serde.js';
import { lentBuffersOf, SnapshotPacker } from '../../src/recovery/SnapshotPacker.js';
import { KeyLog } from '../../src/runtime/KeyLog.js';
import type { SnapshotRecord } from '../../src/recovery/store.js';

const VALUES: unknown[] = [
  0, -0, 1, -1, 255, 256, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 0.5, -1.25e-300, NaN, Infinity, -Infinity,
  true, false, null, undefined, '', 'a', 'x'.repeat(48), 'x'.repeat(49), 'é', 'ascii then é', '\u{1F600}', '\ud800',
  [], {}, [1, 2], { a: 1 }, new Map([['k', 1n]]), 5n, new Date(0),
];

/** Plain arrays, for toEqual across typed-array kinds. */
const plain = (p: ReturnType<SnapshotPacker['view']>) => ({
  stepIds: [...p.stepIds],
  runs: [...p.runs],
  keyBytes: [...p.keyBytes],
  keyLens: [...p.keyLens],
  lens: [...p.lens],
  bytes: [...p.bytes],
});

describe('encodeFast', () => {
  it('writes exactly the bytes serializeValue writes, or declines', () => {
    const out = new Uint8Array(FAST_MAX + 3).fill(0xee);
    for (const v of VALUES) {
      const end = encodeFast(v, out, 3);
      const expected = serializeValue(v);
      if (end < 0) {
        // Declined only for values that need more than a tag and a short ASCII body.
        const needsMore = (typeof v === 'object' && v !== null) || typeof v === 'bigint' || (typeof v === 'string' && (v.length > 48 || /[^\x00-\x7f]/.test(v)));
        expect(needsMore, String(v)).toBe(true);
        continue;
      }
      expect([...out.subarray(3, end)], String(v)).toEqual([...expected]);
      expect(Object.is(v8Serde.deserialize(out.subarray(3, end)), v), String(v)).toBe(true);
    }
  });
});

describe('SnapshotPacker', () => {
  const records = (): SnapshotRecord[] => {
    const out: SnapshotRecord[] = [];
    VALUES.forEach((v, i) => out.push({ stepId: i < 20 ? 'f.a' : 'f.b', stateKey: `k${i}-ü`, ser: v === undefined ? null : v8Serde.serialize(v) }));
    out.push({ stepId: 'f.a', stateKey: 'big', ser: v8Serde.serialize('y'.repeat(100_000)) });
    return out;
  };
  const fill = (p: SnapshotPacker) => {
    VALUES.forEach((v, i) => p.add(i < 20 ? 'f.a' : 'f.b', `k${i}-ü`, v));
    p.add('f.a', 'big', 'y'.repeat(100_000));
  };

  it('packs what packSnapshots packs from the same records, growing its buffers as needed', () => {
    const p = new SnapshotPacker(v8Serde);
    for (let round = 0; round < 2; round++) {
      fill(p);
      expect(p.length).toBe(VALUES.length + 1);
      expect(plain(p.view())).toEqual(plain(packSnapshots(records()).packed));
      p.clear();
      expect(p.length).toBe(0);
      expect(plain(p.view()).bytes).toEqual([]);
    }
  });

  it('lends its buffers with its snapshots, and takes them back only while it holds none', () => {
    const p = new SnapshotPacker(v8Serde);
    fill(p);
    const capacity = p.view().bytes.buffer.byteLength;
    const { packed, transfer } = p.lend();
    expect(p.length).toBe(0);
    // What the writer thread gets, and gives back, without a copy.
    const there = structuredClone(packed, { transfer });
    expect(plain(there)).toEqual(plain(packSnapshots(records()).packed));
    const { lent, transfer: back } = lentBuffersOf(there);
    const returned = structuredClone(lent, { transfer: back });
    expect(there.bytes.byteLength).toBe(0);
    p.takeBack(returned);
    expect(p.view().bytes.buffer).toBe(returned.bytes);
    expect(p.view().bytes.buffer.byteLength).toBe(capacity);
    fill(p);
    expect(plain(p.view())).toEqual(plain(packSnapshots(records()).packed));
    expect(p.view().bytes.buffer).toBe(returned.bytes);

    // Snapshots added before the buffers come back keep the packer's new buffers; so does a packer that lent none.
    const again = p.lend();
    p.add('f.a', 'early', 1);
    const late = structuredClone(lentBuffersOf(again.packed).lent);
    p.takeBack(late);
    expect(p.view().bytes.buffer).not.toBe(late.bytes);
    expect(plain(p.view()).lens).toEqual([5]);
    const fresh = new SnapshotPacker(v8Serde);
    fresh.takeBack(late);
    expect(fresh.view().bytes.buffer).not.toBe(late.bytes);
  });

  it('uses a custom serde for every state', () => {
    const serde: Serde = { serialize: (v) => new TextEncoder().encode(JSON.stringify(v)), deserialize: () => null };
    const p = new SnapshotPacker(serde);
    p.add('s', 'a', 1);
    p.add('s', 'b', undefined);
    p.add('s', 'c', 'hi');
    expect(plain(p.view())).toMatchObject({ keyBytes: [97, 98, 99], lens: [1, -1, 4], bytes: [...new TextEncoder().encode('1"hi"')] });
  });

  it('adds nothing when the serde throws or returns no bytes, and goes on after', () => {
    const serde: Serde = {
      serialize: (v) => {
        if (v === 'bad') throw new Error('nope');
        if (v === 'odd') return 'text' as unknown as Uint8Array;
        return Uint8Array.of(9);
      },
      deserialize: () => null,
    };
    const p = new SnapshotPacker(serde);
    p.add('s', 'a', 1);
    expect(() => p.add('s', 'b', 'bad')).toThrow('nope');
    expect(() => p.add('t', 'c', 'odd')).toThrow(/must return a Uint8Array, got string/);
    p.add('s', 'd', 2);
    expect(plain(p.view())).toEqual({ stepIds: ['s'], runs: [2], keyLens: [1, 1], keyBytes: [97, 100], lens: [1, 1], bytes: [9, 9] });
  });

  it('is kept by release() for the next acquire(), emptied, with the serde of its new run', () => {
    const json: Serde = { serialize: (v) => new TextEncoder().encode(JSON.stringify(v)), deserialize: () => null };
    // Whatever an earlier test in this process left is taken first.
    SnapshotPacker.acquire();
    const first = SnapshotPacker.acquire(json);
    first.add('s', 'a', 'x'.repeat(3 << 20));
    first.add('s', 'b', 1);
    first.release();
    const again = SnapshotPacker.acquire();
    expect(again).toBe(first);
    expect(again.length).toBe(0);
    // What it keeps between runs is cut down to 1 MiB a buffer.
    expect((again as unknown as { bytes: Uint8Array }).bytes.length).toBeLessThanOrEqual(1 << 20);
    // The default serde now: a number packs as v8 writes it, where JSON would write '2'.
    again.add('t', 'c', 2);
    expect(plain(again.view())).toEqual(plain(packSnapshots([{ stepId: 't', stateKey: 'c', ser: v8Serde.serialize(2) }]).packed));
    // Taken: the next run gets a packer of its own, and only one is kept.
    const other = SnapshotPacker.acquire(json);
    expect(other).not.toBe(again);
    again.release();
    other.release();
    expect(SnapshotPacker.acquire()).toBe(again);
    expect(SnapshotPacker.acquire()).not.toBe(other);
  });

  it("writes a step's remembered keys for a run of states, as add() would have written them", () => {
    const packer = new SnapshotPacker();
    packer.add('other', 'x', 0);
    expect(packer.sameKeysAs('s')).toBe(false);
    const from = packer.length;
    for (const [k, v] of [['a', 1], ['bé', 'two'], ['', 3]] as const) packer.add('s', k, v);
    packer.rememberKeys('s', from);
    packer.clear();
    // The next epoch: the same keys, another step's snapshot first, and one tombstone.
    packer.add('other', 'y', 1);
    expect(packer.sameKeysAs('s')).toBe(true);
    const start = packer.length;
    for (const v of [10, undefined, 'thirty']) packer.addState(v);
    packer.endSameKeys('s', start);
    packer.add('other', 'z', 2);
    const records: SnapshotRecord[] = [
      { stepId: 'other', stateKey: 'y', ser: serializeValue(1) },
      { stepId: 's', stateKey: 'a', ser: serializeValue(10) },
      { stepId: 's', stateKey: 'bé', ser: null },
      { stepId: 's', stateKey: '', ser: serializeValue('thirty') },
      { stepId: 'other', stateKey: 'z', ser: serializeValue(2) },
    ];
    expect(plain(packer.view())).toEqual(plain(packSnapshots(records).packed));
    // A run with another number of states than keys is a bug of the caller.
    packer.clear();
    const again = packer.length;
    packer.addState(1);
    expect(() => packer.endSameKeys('s', again)).toThrow(/1 snapshots for 3 remembered keys/);
    // Released for the next run: the keys are forgotten.
    packer.release();
    expect(SnapshotPacker.acquire().sameKeysAs('s')).toBe(false);
  });

  it('writes keys given as UTF-8 for a run of states, as add() would have, and remembers them', () => {
    const packer = new SnapshotPacker();
    const log = new KeyLog();
    for (const k of ['a', 'bé', '', '🔑']) log.append(k);
    packer.add('other', 'x', 0);
    const from = packer.length;
    for (const v of [1, undefined, 'three', 4]) packer.addState(v);
    packer.endKeys('s', from, log.lens(), log.bytes());
    const records: SnapshotRecord[] = [
      { stepId: 'other', stateKey: 'x', ser: serializeValue(0) },
      { stepId: 's', stateKey: 'a', ser: serializeValue(1) },
      { stepId: 's', stateKey: 'bé', ser: null },
      { stepId: 's', stateKey: '', ser: serializeValue('three') },
      { stepId: 's', stateKey: '🔑', ser: serializeValue(4) },
    ];
    expect(plain(packer.view())).toEqual(plain(packSnapshots(records).packed));
    // The next epoch reuses them as remembered keys.
    packer.clear();
    expect(packer.sameKeysAs('s')).toBe(true);
    for (const v of [5, 6, 7, 8]) packer.addState(v);
    packer.endSameKeys('s', 0);
    expect(plain(packer.view())).toEqual(
      plain(packSnapshots(['a', 'bé', '', '🔑'].map((stateKey, i) => ({ stepId: 's', stateKey, ser: serializeValue(5 + i) }))).packed),
    );
    packer.clear();
    packer.addState(1);
    expect(() => packer.endKeys('s', 0, log.lens(), log.bytes())).toThrow(/1 snapshots for 4 keys/);
  });
});
