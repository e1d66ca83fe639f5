import { describe, expect, it } from 'vitest';
import { blobOf, keysOf, lengthsBlob, lengthsOf, mergeSegments, readSegment, resolveSegments, segmentBlobs, segmentsOf, splitSegment, type ReadSegment } from '../../src/recovery/segment.js';
import { SnapshotPacker } from '../../src/recovery/SnapshotPacker.js';
import { v8Serde } from '../../src/recovery/serde.js';

/** Keys whose UTF-16 order, UTF-8 lengths or bytes are unusual. */
const ODD_KEYS = ['', 'a', 'a\u0000b', '\u0000', 'é', 'ü-ß', '\u4e2d\u6587', '\ue000', '\uffff', '😀', 'x😀y', '😀😁', 'z'];

/** Packs `[key, state or undefined]` pairs of one step, stores them as blobs and reads them back. */
function roundTrip(stepId: string, entries: [string, unknown][]): ReadSegment {
  const p = new SnapshotPacker();
  for (const [k, v] of entries) p.add(stepId, k, v);
  const [seg] = segmentsOf(p.view());
  // As SQLite hands BLOBs back: copies, at any offset.
  const copy = (b: Buffer) => Buffer.concat([Buffer.alloc(1), b]).subarray(1);
  return readSegment(stepId, false, copy(lengthsBlob(seg!.keyLens)), copy(blobOf(seg!.keyBytes)), copy(lengthsBlob(seg!.lens)), copy(blobOf(seg!.bytes)));
}

/** A chunk's or segment's states, decoded, by key. */
function decoded(keys: readonly string[], lens: ArrayLike<number>, bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0, off = 0; i < keys.length; i++) {
    const len = lens[i]!;
    out[keys[i]!] = len < 0 ? 'tombstone' : v8Serde.deserialize(bytes.subarray(off, (off += len)));
  }
  return out;
}

describe('segments', () => {
  it('keep keys of any text, states and tombstones through their blobs', () => {
    const entries = ODD_KEYS.map((k, i): [string, unknown] => [k, i % 3 === 0 ? undefined : i]);
    const seg = roundTrip('f.s', entries);
    const keys = keysOf(seg);
    expect(keys).toEqual(ODD_KEYS);
    expect(seg.tombstones).toBe(true);
    expect(decoded(keys, seg.lens, seg.bytes)).toEqual(Object.fromEntries(entries.map(([k, v]) => [k, v ?? 'tombstone'])));
    const plain = roundTrip('f.s', [['k1', 1], ['key-22', 'x']]);
    expect(keysOf(plain)).toEqual(['k1', 'key-22']);
    expect(plain.tombstones).toBe(false);
  });

  it('split packed snapshots into one segment per step, its runs in order', () => {
    const p = new SnapshotPacker();
    p.add('f.a', 'x', 1);
    p.add('f.a', 'y', undefined);
    p.add('f.b', 'z', 'long enough to matter');
    p.add('f.a', 'w', 2);
    const segs = segmentsOf(p.view());
    expect(segs.map((s) => [s.stepId, [...s.lens], Buffer.from(s.keyBytes).toString(), s.bytes.length])).toEqual([
      ['f.a', [5, -1, 5], 'xyw', 10],
      ['f.b', [22], 'z', 22],
    ]);
  });

  it('carry a full mark from the packer to the segment of its step', () => {
    const p = new SnapshotPacker();
    p.add('f.a', 'x', 1);
    p.markFull('f.b'); // not the step that added last: no effect
    p.add('f.b', 'y', 2);
    p.markFull('f.b');
    p.add('f.a', 'z', 3);
    expect([...p.view().fulls]).toEqual([0, 1, 0]);
    expect(segmentsOf(p.view()).map((s) => [s.stepId, s.full])).toEqual([
      ['f.a', false],
      ['f.b', true],
    ]);
  });

  it('keep lengths as varints, a byte each below 127', () => {
    const lens = Int32Array.of(-1, 0, 1, 126, 127, 128, 300, 16383, 16384, 2 ** 31 - 1);
    const blob = lengthsBlob(lens);
    expect(blob.length).toBe(4 + 2 + 2 + 2 + 3 + 3 + 5);
    expect([...lengthsOf(blob)]).toEqual([...lens]);
    expect([...lengthsOf(lengthsBlob(new Int32Array(0)))]).toEqual([]);
    expect(() => lengthsOf(Buffer.from([0x85]))).toThrow(/cut length array/);
    expect(() => lengthsOf(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/out of range/);
  });

  it("write a row's two length BLOBs as lengthsBlob does, into a buffer the next row reuses", () => {
    const seg = (keyLens: number[], lens: number[]) =>
      ({ stepId: 's', full: false, keyLens: Uint32Array.from(keyLens), keyBytes: new Uint8Array(0), lens: Int32Array.from(lens), bytes: new Uint8Array(0) });
    const a = seg([3, 200, 0], [-1, 5, 70_000]);
    const first = segmentBlobs(a);
    expect([...first.keyLens]).toEqual([...lengthsBlob(a.keyLens)]);
    expect([...first.lens]).toEqual([...lengthsBlob(a.lens)]);
    const b = seg([1], [2]);
    const second = segmentBlobs(b);
    expect([...second.keyLens, ...second.lens]).toEqual([2, 3]);
    expect(second.keyLens.buffer).toBe(first.keyLens.buffer);
    // A row bigger than the buffer gets a bigger one.
    const big = seg(Array.from({ length: 10_000 }, () => 300), Array.from({ length: 10_000 }, () => 1));
    const third = segmentBlobs(big);
    expect([...lengthsOf(third.keyLens)]).toEqual([...big.keyLens]);
    expect([...lengthsOf(third.lens)]).toEqual([...big.lens]);
  });

  it('refuse lengths that do not add up to the bytes', () => {
    const lens = lengthsBlob(Int32Array.of(2, 1));
    expect(() => readSegment('s', false, lengthsBlob(Uint32Array.of(1, 1)), Buffer.from('ab'), lens, Buffer.from('ab'))).toThrow(/do not add up/);
    expect(() => readSegment('s', false, lengthsBlob(Uint32Array.of(1)), Buffer.from('a'), lens, Buffer.from('abc'))).toThrow(/not as many key lengths as states/);
    expect(() => readSegment('s', false, lengthsBlob(Int32Array.of(-1, 2)), Buffer.from('a'), lens, Buffer.from('abc'))).toThrow(/negative key length/);
  });

  it('merge to each key\'s latest state, later segments winning and tombstones dropping keys', () => {
    const a = roundTrip('f.s', [['k1', 1], ['k2', 2], ['k3', 3], ['é', 'old']]);
    const b = roundTrip('f.s', [['k2', undefined], ['k3', 30], ['k4', 'x'.repeat(100)], ['é', undefined]]);
    const c = roundTrip('f.s', [['k2', 200], ['😀', { deep: [1] }]]);
    const want = { k1: 1, k2: 200, k3: 30, k4: 'x'.repeat(100), '😀': { deep: [1] } };
    const merged = mergeSegments('f.s', [a, b, c]);
    expect(merged.stepId).toBe('f.s');
    expect(decoded(keysOf(merged), merged.lens, merged.bytes)).toEqual(want);
    const chunk = resolveSegments([a, b, c]);
    expect(decoded(chunk.keys, chunk.lens, chunk.bytes)).toEqual(want);
    expect(resolveSegments([roundTrip('f.s', [['k', undefined]])]).keys).toEqual([]);
  });

  it('merge many keys, with collisions in the table, to the last of each', () => {
    const n = 5000;
    const segs = [0, 1, 2].map((r) => roundTrip('f.s', Array.from({ length: n }, (_, i): [string, unknown] => [`key-${(i * 7 + r) % n}`, r * n + i])));
    const merged = mergeSegments('f.s', segs);
    const got = decoded(keysOf(merged), merged.lens, merged.bytes);
    expect(Object.keys(got)).toHaveLength(n);
    for (let i = 0; i < n; i++) expect(got[`key-${(i * 7 + 2) % n}`]).toBe(2 * n + i);
  });
});

describe('splitSegment', () => {
  it('cuts a segment into pieces within the limit, the full mark on the first only', () => {
    const p = new SnapshotPacker();
    for (let i = 0; i < 10; i++) p.add('f.s', `key-${i}`, i % 4 === 0 ? undefined : 'x'.repeat(10 * i));
    p.add('f.s', 'huge', 'y'.repeat(300));
    p.markFull('f.s');
    const [seg] = segmentsOf(p.view());
    const pieces = splitSegment(seg!, 100);
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.map((s) => s.full)).toEqual(pieces.map((_, i) => i === 0));
    for (const s of pieces) {
      expect(s.lens.length).toBeGreaterThan(0);
      // Within the limit, but for a single state larger than it.
      if (s.lens.length > 1) expect(s.bytes.length).toBeLessThanOrEqual(100);
    }
    const keys = pieces.flatMap((s) => keysOf(s));
    expect(keys).toEqual([...Array.from({ length: 10 }, (_, i) => `key-${i}`), 'huge']);
    const live = Object.entries(decoded(keysOf(seg!), seg!.lens, seg!.bytes)).filter(([, v]) => v !== 'tombstone');
    const merged = mergeSegments('f.s', pieces);
    expect(decoded(keysOf(merged), merged.lens, merged.bytes)).toEqual(Object.fromEntries(live));
    expect(splitSegment(seg!, 1 << 20)).toEqual([seg]);
  });
});
