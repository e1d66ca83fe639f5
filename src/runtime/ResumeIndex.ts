import { LoadedStates, type StateChunk } from '../recovery/loaded.js';
import type { Serde } from '../recovery/serde.js';
import { decodeState } from './decodeState.js';

/** Characters whose UTF-16 order differs from their UTF-8 (code point) order: surrogates and U+E000 up. */
const HIGH = /[\ud800-\uffff]/;

/**
 * Compares two strings in UTF-8 byte order, which is code point order: SQLite's key order. It
 * differs from JavaScript's `<` only between a surrogate pair and a character from U+E000 up.
 */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral characters) sort after U+E000..U+FFFF in code point order.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** One loaded chunk, searchable: keys in key order, the end of each key's bytes, what was taken. */
class IndexedChunk {
  readonly ends: Float64Array;
  readonly taken: Uint8Array;
  /** Whether some key has a character that `<` orders differently from SQLite. */
  readonly high: boolean;
  readonly first: string;
  readonly last: string;

  constructor(
    readonly keys: readonly string[],
    lens: ArrayLike<number>,
    readonly bytes: Uint8Array,
    ascii: boolean,
  ) {
    const n = keys.length;
    this.ends = new Float64Array(n);
    let off = 0;
    for (let i = 0; i < n; i++) this.ends[i] = off += lens[i]!;
    this.taken = new Uint8Array(n);
    this.first = keys[0]!;
    this.last = keys[n - 1]!;
    let high = false;
    if (!ascii) for (let i = 0; i < n && !high; i++) high = HIGH.test(keys[i]!);
    this.high = high;
  }

  /** The index of `key`, or -1. */
  find(key: string, slow: boolean): number {
    const keys = this.keys;
    if (slow) {
      if (compareCodePoints(key, this.first) < 0 || compareCodePoints(key, this.last) > 0) return -1;
    } else if (key < this.first || key > this.last) return -1;
    let lo = 0;
    let hi = keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k === key) return mid;
      if (slow ? compareCodePoints(k, key) < 0 : k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/**
 * The resume states of one step, kept packed as the store loaded them and decoded one key at a
 * time, when the key is first used. Restoring a million keys then costs the load alone, and a key
 * never seen again after a resume costs nothing more.
 *
 * Each key can be taken once: a step that later drops the key must not get the old state back.
 * @internal
 */
export class ResumeIndex<S> {
  private readonly chunks: IndexedChunk[] = [];
  private map: Map<string, Uint8Array> | undefined;

  constructor(
    private readonly stepId: string,
    raw: Map<string, Uint8Array>,
    private readonly serde: Serde,
  ) {
    const chunks: StateChunk[] = raw instanceof LoadedStates ? raw.takeChunks() : [];
    // Entries already in the Map come before the chunks; a key in both takes the chunk's bytes.
    this.map = raw.size > 0 ? new Map(raw) : undefined;
    for (const c of chunks) {
      if (c.keys.length === 0) continue;
      const chunk = new IndexedChunk(c.keys, c.lens, c.bytes, c.ascii);
      if (isAscending(chunk)) this.chunks.push(chunk);
      else this.toMap(chunk);
    }
  }

  /**
   * The stored state of `key` decoded, or `undefined` when the store has none or it was taken.
   * @throws {StepError} naming the step and the key when the bytes cannot be decoded
   */
  take(key: string): S | undefined {
    const chunks = this.chunks;
    let slowKey: boolean | undefined;
    // Later chunks win, as with Map.set; every copy of the key is marked taken.
    let found: S | undefined;
    let hit = false;
    for (let c = chunks.length - 1; c >= 0; c--) {
      const chunk = chunks[c]!;
      let slow = chunk.high;
      if (!slow) slow = slowKey ??= HIGH.test(key);
      const i = chunk.find(key, slow);
      if (i < 0 || chunk.taken[i] === 1) continue;
      chunk.taken[i] = 1;
      if (hit) continue;
      hit = true;
      found = this.decode(key, chunk.bytes, i === 0 ? 0 : chunk.ends[i - 1]!, chunk.ends[i]!);
    }
    if (this.map !== undefined) {
      const bytes = this.map.get(key);
      if (bytes !== undefined) {
        this.map.delete(key);
        if (!hit) return this.decode(key, bytes, 0, bytes.length);
      }
    }
    return found;
  }

  private decode(key: string, bytes: Uint8Array, start: number, end: number): S {
    return decodeState(this.serde, this.stepId, key, bytes, start, end) as S;
  }

  /** A chunk out of key order (not expected from SQLite, but never trusted blindly): its keys go to the Map. */
  private toMap(chunk: IndexedChunk): void {
    const map = (this.map ??= new Map<string, Uint8Array>());
    for (let i = 0; i < chunk.keys.length; i++) {
      map.set(chunk.keys[i]!, chunk.bytes.subarray(i === 0 ? 0 : chunk.ends[i - 1]!, chunk.ends[i]!));
    }
  }
}

function isAscending(chunk: IndexedChunk): boolean {
  const keys = chunk.keys;
  for (let i = 1; i < keys.length; i++) {
    if (chunk.high ? compareCodePoints(keys[i - 1]!, keys[i]!) >= 0 : keys[i - 1]! >= keys[i]!) return false;
  }
  return true;
}
