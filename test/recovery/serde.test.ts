import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { v8Serde } from 'weir/recovery';

/** What node:v8 structured clone makes of a value: the reference every round trip must match. */
const cloned = (v: unknown): unknown => deserialize(serialize(v));
const roundTrip = (v: unknown): unknown => v8Serde.deserialize(v8Serde.serialize(v));
const usesV8 = (v: unknown): boolean => v8Serde.serialize(v)[0] === 0xff;

class Point {
  constructor(
    public x: number,
    public y: number,
  ) {}
}

const numbers = [
  0, -0, 1, -1, 42, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53, -(2 ** 53) - 2, 0.1, -1.5,
  1e21, 1e-7, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, NaN, Infinity, -Infinity,
];
const strings = ['', 'a', 'ALL', 'key-123', 'x'.repeat(1000), 'é', 'päivää', '€ and 😀', '日本語'.repeat(40), '\0', 'a\nb"c\\'];
const loneSurrogates = ['\ud800', 'a\udc00b', '😀'.slice(0, 1), 'x'.repeat(100) + '\udfff'];

describe('v8Serde', () => {
  it('round-trips every number exactly, -0 and NaN included, without node:v8', () => {
    for (const n of numbers) {
      expect(Object.is(roundTrip(n), n), `${n}`).toBe(true);
      expect(usesV8(n), `${n}`).toBe(false);
    }
  });

  it('round-trips strings, unicode and lone surrogates included', () => {
    for (const s of [...strings, ...loneSurrogates]) expect(roundTrip(s)).toBe(s);
    for (const s of strings) expect(usesV8(s), JSON.stringify(s)).toBe(false);
  });

  it('round-trips booleans, null, undefined and bigints', () => {
    for (const v of [true, false, null, undefined, 0n, -(2n ** 70n), 12345678901234567890n]) expect(roundTrip(v)).toBe(v);
    for (const v of [true, false, null, undefined]) expect(usesV8(v)).toBe(false);
  });

  it('round-trips plain objects and arrays of JSON-safe values without node:v8', () => {
    const values = [
      {},
      [],
      { count: 3, sum: 1.5, name: 'k', ok: true, none: null },
      { nested: { deep: { deeper: [1, [2, [3, { four: 'ü😀' }]]] } }, list: ['a', 'b'] },
      [[1, 'a'], [2, 'b'], { t: 1700000000000.5 }],
      { 10: 'ten', 2: 'two', b: 1, a: 2, '-1': 3, '1.5': 4 },
      JSON.parse('{"__proto__": {"x": 1}, "y": 2}'),
      { lone: 'a\ud800b', quote: '"', nl: '\n' },
    ];
    for (const v of values) {
      const back = roundTrip(v);
      expect(back).toStrictEqual(cloned(v));
      expect(Object.keys(back as object)).toEqual(Object.keys(cloned(v) as object));
      expect(usesV8(v), JSON.stringify(v)).toBe(false);
    }
    const nullProto = Object.assign(Object.create(null) as object, { a: 1 });
    expect(roundTrip(nullProto)).toStrictEqual(cloned(nullProto));
  });

  it('sends values JSON cannot carry exactly to node:v8, and round-trips them as structured clone does', () => {
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const named = Object.assign([1, 2], { extra: 'x' });
    const values: unknown[] = [
      { z: -0 },
      [NaN],
      { inf: Infinity },
      { u: undefined },
      [undefined],
      sparse,
      named,
      { big: 1n },
      new Point(1, 2),
      { p: new Point(3, 4) },
      { d: new Date(0) },
      new Map<unknown, unknown>([['a', 1n], [{ k: 1 }, new Set([1])]]),
      new Set(['x', 2]),
      new Float64Array([1.5, -0, NaN]),
      new Uint8Array([0, 255]),
      new BigInt64Array([-1n]),
      /ab+c/gi,
      Array.from({ length: 200 }, (_, i) => i),
      { w: new Uint16Array([1, 2]), s: 'and plain parts' },
    ];
    for (const v of values) {
      expect(usesV8(v), String(v)).toBe(true);
      expect(roundTrip(v)).toStrictEqual(cloned(v));
    }
    expect(Object.keys(roundTrip(named) as object)).toEqual(['0', '1', 'extra']);
    expect(1 in (roundTrip(sparse) as unknown[])).toBe(false);
  });

  it('keeps shared and cyclic references as structured clone does', () => {
    const shared = { n: 1 };
    const dag = roundTrip({ a: shared, b: shared, c: [shared] }) as { a: object; b: object; c: object[] };
    expect(dag.a).toBe(dag.b);
    expect(dag.c[0]).toBe(dag.a);
    const cyclic: { self?: unknown; list: unknown[] } = { list: [] };
    cyclic.self = cyclic;
    cyclic.list.push(cyclic);
    const back = roundTrip(cyclic) as typeof cyclic;
    expect(back.self).toBe(back);
    expect(back.list[0]).toBe(back);
  });

  it('handles deep nesting', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200; i++) deep = { i, next: deep };
    expect(roundTrip(deep)).toStrictEqual(deep);
  });

  it('reads bytes written by plain node:v8', () => {
    for (const v of [1, 'two', { three: [3] }, new Map([['m', 1]]), -0, NaN]) {
      expect(v8Serde.deserialize(serialize(v))).toStrictEqual(cloned(v));
    }
  });

  it('reads plain Uint8Arrays and views into larger buffers', () => {
    for (const v of [7, -7.25, 'str', 'ünï', { a: [1] }, new Set([1])]) {
      const bytes = v8Serde.serialize(v);
      const big = new Uint8Array(bytes.length + 10);
      big.set(bytes, 5);
      expect(v8Serde.deserialize(big.subarray(5, 5 + bytes.length))).toStrictEqual(cloned(v));
      expect(v8Serde.deserialize(Uint8Array.from(bytes))).toStrictEqual(cloned(v));
    }
  });

  it('throws on values structured clone cannot handle, and on corrupt bytes', () => {
    expect(() => v8Serde.serialize({ f: () => 1 })).toThrow();
    expect(() => v8Serde.serialize(() => 1)).toThrow();
    expect(() => v8Serde.serialize(Symbol('s'))).toThrow();
    expect(() => v8Serde.deserialize(new Uint8Array())).toThrow(/corrupt/);
    expect(() => v8Serde.deserialize(new Uint8Array([0x7e, 1]))).toThrow(/unknown tag 0x7e/);
    const int = v8Serde.serialize(5);
    expect(() => v8Serde.deserialize(int.subarray(0, 3))).toThrow(/corrupt/);
  });
});
