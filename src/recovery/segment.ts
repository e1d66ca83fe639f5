/**
 * Segments: how the store keeps snapshots. A segment is one `snaps` row holding one step's
 * snapshots of one epoch (or, once compacted, of every epoch up to it) in one partition, packed:
 * the keys' UTF-8 bytes one after another, each key's length, each state's length (-1 for a
 * tombstone) and the states' bytes one after another. Lengths are varints (see {@link lengthsBlob}).
 *
 * Writing an epoch then costs SQLite a few rows, whatever the number of keys: the per-key work is
 * a copy of bytes.
 *
 * @internal
 * @module
 */
import type { PackedSnapshots } from './packSnapshots.js';
import type { StateChunk } from './loaded.js';

/** One step's snapshots, as a `snaps` row holds them. */
export interface Segment {
  readonly stepId: string;
  /** Each key's length in UTF-8 bytes. */
  readonly keyLens: Uint32Array | Int32Array;
  /** The keys' UTF-8 bytes, one after another. */
  readonly keyBytes: Uint8Array;
  /** Each state's length in bytes, -1 for a tombstone. */
  readonly lens: Int32Array;
  /** The states' bytes, one after another. */
  readonly bytes: Uint8Array;
  /**
   * Whether it holds the step's whole state at its epoch: a key it does not hold had no state
   * then, so every older segment of the step is superseded.
   */
  readonly full: boolean;
}

/**
 * Splits packed snapshots into one segment per step, in the order steps first appear. A step
 * packed in one run is a view of the packed buffers; one packed in several runs is copied into one
 * segment, its runs in order.
 */
export function segmentsOf(p: PackedSnapshots): Segment[] {
  const byStep = new Map<string, Segment[]>();
  let i = 0;
  let k = 0;
  let b = 0;
  for (let r = 0; r < p.stepIds.length; r++) {
    const end = i + p.runs[r]!;
    let keys = 0;
    let bytes = 0;
    for (let j = i; j < end; j++) {
      keys += p.keyLens[j]!;
      const len = p.lens[j]!;
      if (len > 0) bytes += len;
    }
    const stepId = p.stepIds[r]!;
    const run: Segment = {
      stepId,
      full: p.fulls[r] === 1,
      keyLens: p.keyLens.subarray(i, end),
      keyBytes: p.keyBytes.subarray(k, k + keys),
      lens: p.lens.subarray(i, end),
      bytes: p.bytes.subarray(b, b + bytes),
    };
    const runs = byStep.get(stepId);
    if (runs === undefined) byStep.set(stepId, [run]);
    else runs.push(run);
    i = end;
    k += keys;
    b += bytes;
  }
  return Array.from(byStep.values(), (runs) => (runs.length === 1 ? runs[0]! : joined(runs)));
}

/** One segment of several runs of one step, in order. */
function joined(runs: Segment[]): Segment {
  const cat = <T extends Uint8Array | Uint32Array | Int32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((n, a) => n + a.length, 0));
    let off = 0;
    for (const a of parts) {
      out.set(a as never, off);
      off += a.length;
    }
    return out;
  };
  return {
    stepId: runs[0]!.stepId,
    full: runs.some((r) => r.full),
    keyLens: cat(runs.map((r) => r.keyLens), (n) => new Uint32Array(n)),
    keyBytes: cat(runs.map((r) => r.keyBytes), (n) => new Uint8Array(n)),
    lens: cat(runs.map((r) => r.lens), (n) => new Int32Array(n)),
    bytes: cat(runs.map((r) => r.bytes), (n) => new Uint8Array(n)),
  };
}

/**
 * Limits on what one `snaps` row holds. SQLite refuses a value over 1 GB, so a segment whose keys
 * or states pass `segmentBytes` is stored as several rows (see {@link splitSegment}). Tests lower it.
 * @internal
 */
export const segmentLimits = { segmentBytes: 256 << 20 };

/**
 * A segment cut into consecutive pieces whose keys and states each stay within `maxBytes` (a
 * single state larger than that gets a piece of its own), as views of its buffers. Only the first
 * piece keeps the `full` mark: the later ones, stored after it, add to it.
 */
export function splitSegment(seg: Segment, maxBytes: number): Segment[] {
  if (seg.keyBytes.length <= maxBytes && seg.bytes.length <= maxBytes) return [seg];
  const out: Segment[] = [];
  const n = seg.lens.length;
  let start = 0;
  let k0 = 0;
  let b0 = 0;
  let k = 0;
  let b = 0;
  const cut = (end: number) => {
    out.push({
      stepId: seg.stepId,
      full: seg.full && out.length === 0,
      keyLens: seg.keyLens.subarray(start, end),
      keyBytes: seg.keyBytes.subarray(k0, k),
      lens: seg.lens.subarray(start, end),
      bytes: seg.bytes.subarray(b0, b),
    });
    start = end;
    k0 = k;
    b0 = b;
  };
  for (let i = 0; i < n; i++) {
    const keyLen = seg.keyLens[i]!;
    const len = Math.max(seg.lens[i]!, 0);
    if (i > start && (k + keyLen - k0 > maxBytes || b + len - b0 > maxBytes)) cut(i);
    k += keyLen;
    b += len;
  }
  cut(n);
  return out;
}

/** Bytes as a Buffer to bind as a BLOB, without a copy. */
export function blobOf(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Lengths as a BLOB: each `length + 1` (so that a tombstone's -1 is 0) as an unsigned LEB128
 * varint, a byte for lengths below 127. Most keys and states are short, so this is a quarter of
 * 32-bit integers' size.
 */
export function lengthsBlob(a: Uint32Array | Int32Array): Buffer {
  const out = Buffer.allocUnsafe(5 * a.length);
  return out.subarray(0, varints(asInt32(a), out, 0));
}

/** Where {@link segmentBlobs} writes, kept from one row to the next while it is at most {@link SCRATCH_KEEP} bytes. */
let scratch = Buffer.alloc(0);
const SCRATCH_KEEP = 4 << 20;

/**
 * The two length BLOBs of a segment's row, as {@link lengthsBlob} writes them, in a buffer that
 * the next call reuses: bind them before calling again. A writer thread then allocates no new
 * memory for them each epoch (with 100,000 keys, 1 MB a commit, whose pages the kernel first had
 * to map).
 */
export function segmentBlobs(seg: Segment): { keyLens: Buffer; lens: Buffer } {
  const need = 5 * (seg.keyLens.length + seg.lens.length);
  let out = scratch;
  if (out.length < need) {
    out = Buffer.allocUnsafe(need);
    if (need <= SCRATCH_KEEP) scratch = out;
  }
  const k = varints(asInt32(seg.keyLens), out, 0);
  const end = varints(seg.lens, out, k);
  return { keyLens: out.subarray(0, k), lens: out.subarray(k, end) };
}

/**
 * Lengths as one kind of array, so that {@link varints} sees only that kind and stays fast. A key's
 * length is far below 2^31, so its bits read the same as an Int32.
 */
function asInt32(a: Uint32Array | Int32Array): Int32Array {
  return a instanceof Int32Array ? a : new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** Writes each `a[i] + 1` as a varint into `out` from `pos`; returns where it ends. */
function varints(a: Int32Array, out: Buffer, pos: number): number {
  for (let i = 0; i < a.length; i++) {
    let v = (a[i]! + 1) >>> 0;
    while (v >= 0x80) {
      out[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[pos++] = v;
  }
  return pos;
}

/**
 * The lengths of a BLOB written by {@link lengthsBlob}.
 * @throws when a varint is cut short or too long: the row is damaged
 */
export function lengthsOf(blob: Uint8Array): Int32Array {
  let n = 0;
  for (let i = 0; i < blob.length; i++) if (blob[i]! < 0x80) n++;
  if (blob.length > 0 && blob[blob.length - 1]! >= 0x80) throw new Error('recovery store: a segment has a cut length array');
  const out = new Int32Array(n);
  for (let i = 0, pos = 0; i < n; i++) {
    let v = 0;
    let shift = 0;
    let b: number;
    do {
      if (shift > 28) throw new Error('recovery store: a segment has a length out of range');
      b = blob[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b >= 0x80);
    if (v > 0x80000000) throw new Error('recovery store: a segment has a length out of range');
    out[i] = v - 1;
  }
  return out;
}

/** A stored segment read back. */
export interface ReadSegment extends Segment {
  /** Whether some state is a tombstone. */
  readonly tombstones: boolean;
}

/**
 * Reads a `snaps` row's columns back, checking that its lengths add up.
 * @throws when they do not: the row is damaged
 */
export function readSegment(
  stepId: string,
  full: boolean,
  keyLensBlob: Uint8Array,
  keyBytes: Uint8Array,
  lensBlob: Uint8Array,
  bytes: Uint8Array,
): ReadSegment {
  const keyLens = lengthsOf(keyLensBlob);
  const lens = lengthsOf(lensBlob);
  const n = lens.length;
  if (keyLens.length !== n) throw new Error('recovery store: a segment has not as many key lengths as states');
  let keys = 0;
  let total = 0;
  let tombstones = false;
  for (let i = 0; i < n; i++) {
    const keyLen = keyLens[i]!;
    if (keyLen < 0) throw new Error('recovery store: a segment has a negative key length');
    keys += keyLen;
    const len = lens[i]!;
    if (len < 0) tombstones = true;
    else total += len;
  }
  if (keys !== keyBytes.length || total !== bytes.length) {
    throw new Error("recovery store: a segment's lengths do not add up to its bytes");
  }
  return { stepId, full, keyLens, keyBytes, lens, bytes, tombstones };
}

/** A segment's keys as strings. */
export function keysOf(seg: Segment): string[] {
  const { keyLens, keyBytes } = seg;
  let ascii = true;
  for (let i = 0; i < keyBytes.length; i++) {
    if (keyBytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  const buf = blobOf(keyBytes);
  const text = ascii ? buf.toString('latin1') : '';
  const n = keyLens.length;
  const keys = new Array<string>(n);
  for (let i = 0, off = 0; i < n; i++) {
    const end = off + keyLens[i]!;
    keys[i] = ascii ? text.slice(off, end) : buf.toString('utf8', off, end);
    off = end;
  }
  return keys;
}

/**
 * Merges segments of one step read in order (later ones win) into one holding each key's latest
 * state. Tombstones are left out, unless `keepTombstones` (when older segments remain for them to
 * hide). Keys are compared as bytes in a hash table of record numbers: the work per record is a
 * hash, a probe and a copy, with no object made.
 */
export function mergeSegments(stepId: string, segs: readonly Segment[], keepTombstones = false): Segment {
  let total = 0;
  for (const seg of segs) total += seg.lens.length;
  // Every record by its number across the segments: its segment, and where its key and state start.
  const segOf = new Uint32Array(total);
  const indexOf = new Uint32Array(total);
  const keyAt = new Float64Array(total);
  const stateAt = new Float64Array(total);
  let size = 16;
  while (size < 2 * total) size *= 2;
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  for (let s = 0, g = 0; s < segs.length; s++) {
    const { keyLens, keyBytes, lens } = segs[s]!;
    for (let i = 0, k = 0, b = 0; i < lens.length; i++, g++) {
      const keyLen = keyLens[i]!;
      segOf[g] = s;
      indexOf[g] = i;
      keyAt[g] = k;
      stateAt[g] = b;
      // FNV-1a over the key's bytes, then linear probing.
      let h = 0x811c9dc5;
      for (let x = k; x < k + keyLen; x++) h = Math.imul(h ^ keyBytes[x]!, 0x01000193);
      let slot = (h ^ (h >>> 15)) & mask;
      for (;;) {
        const other = table[slot]!;
        if (other < 0) {
          table[slot] = g;
          break;
        }
        if (sameKey(segs, segOf[other]!, indexOf[other]!, keyAt[other]!, keyBytes, keyLen, k)) {
          table[slot] = g;
          break;
        }
        slot = (slot + 1) & mask;
      }
      k += keyLen;
      const len = lens[i]!;
      if (len > 0) b += len;
    }
  }
  let count = 0;
  let keySize = 0;
  let bytesSize = 0;
  for (let slot = 0; slot < size; slot++) {
    const g = table[slot]!;
    if (g < 0) continue;
    const seg = segs[segOf[g]!]!;
    const len = seg.lens[indexOf[g]!]!;
    if (len < 0 && !keepTombstones) continue;
    count++;
    keySize += seg.keyLens[indexOf[g]!]!;
    if (len > 0) bytesSize += len;
  }
  const keyLens = new Uint32Array(count);
  const lens = new Int32Array(count);
  const keyBytes = new Uint8Array(keySize);
  const bytes = new Uint8Array(bytesSize);
  for (let slot = 0, j = 0, k = 0, b = 0; slot < size; slot++) {
    const g = table[slot]!;
    if (g < 0) continue;
    const seg = segs[segOf[g]!]!;
    const i = indexOf[g]!;
    const len = seg.lens[i]!;
    if (len < 0 && !keepTombstones) continue;
    const keyLen = seg.keyLens[i]!;
    copyBytes(seg.keyBytes, keyAt[g]!, keyLen, keyBytes, k);
    k += keyLen;
    if (len > 0) {
      copyBytes(seg.bytes, stateAt[g]!, len, bytes, b);
      b += len;
    }
    keyLens[j] = keyLen;
    lens[j] = len;
    j++;
  }
  // Full only if the newest full segment leads: its keys and the later changes are the whole state.
  return { stepId, full: segs.length > 0 && segs[0]!.full, keyLens, keyBytes, lens, bytes };
}

/** Whether record `i` of segment `s`, its key at `at`, has the key `keyBytes[k, k + keyLen)`. */
function sameKey(segs: readonly Segment[], s: number, i: number, at: number, keyBytes: Uint8Array, keyLen: number, k: number): boolean {
  const seg = segs[s]!;
  if (seg.keyLens[i] !== keyLen) return false;
  const other = seg.keyBytes;
  for (let x = 0; x < keyLen; x++) if (other[at + x] !== keyBytes[k + x]) return false;
  return true;
}

/** Copies `len` bytes: short ones byte by byte, without a view object. */
function copyBytes(from: Uint8Array, at: number, len: number, to: Uint8Array, pos: number): void {
  if (len < 64) for (let x = 0; x < len; x++) to[pos + x] = from[at + x]!;
  else to.set(from.subarray(at, at + len), pos);
}

/**
 * The latest state of every key in segments of one step read in order (later ones win),
 * tombstones left out, as one chunk with its keys as strings. A single segment without
 * tombstones is handed on as it is.
 */
export function resolveSegments(segs: readonly ReadSegment[]): StateChunk {
  const one = segs.length === 1 && !segs[0]!.tombstones ? segs[0]! : mergeSegments(segs[0]?.stepId ?? '', segs);
  return { keys: keysOf(one), lens: one.lens, bytes: one.bytes };
}
