import { LoadedStates, type StateChunk } from '../recovery/loaded.js';
import type { Serde } from '../recovery/serde.js';
import { decodeState } from './decodeState.js';

/** A string's hash (FNV-1a over its UTF-16 code units), mixed for the low bits. */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h ^ (h >>> 15);
}

/**
 * One loaded chunk, searchable: an open-addressing hash table of its key numbers, the end of each
 * key's bytes, and what was taken. Costs a few bytes per key and no object per key.
 */
class IndexedChunk {
  readonly ends: Float64Array;
  readonly taken: Uint8Array;
  private readonly table: Int32Array;
  private readonly mask: number;

  constructor(
    readonly keys: readonly string[],
    lens: ArrayLike<number>,
    readonly bytes: Uint8Array,
  ) {
    const n = keys.length;
    this.ends = new Float64Array(n);
    let off = 0;
    for (let i = 0; i < n; i++) this.ends[i] = off += lens[i]!;
    this.taken = new Uint8Array(n);
    let size = 16;
    while (size < 2 * n) size *= 2;
    this.mask = size - 1;
    const table = (this.table = new Int32Array(size).fill(-1));
    for (let i = 0; i < n; i++) {
      let slot = hashOf(keys[i]!) & this.mask;
      // A key repeated in the chunk: the later one wins, as with Map.set.
      while (table[slot]! >= 0 && keys[table[slot]!] !== keys[i]) slot = (slot + 1) & this.mask;
      table[slot] = i;
    }
  }

  /** The index of `key` (its hash given), or -1. */
  find(key: string, hash: number): number {
    const table = this.table;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const i = table[slot]!;
      if (i < 0 || this.keys[i] === key) return i;
    }
  }
}

/**
 * The resume states of one step, kept packed as the store loaded them and decoded one key at a
 * time, when the key is first used. Restoring a million keys then costs the load and an index of
 * a few bytes per key, and a key never seen again after a resume costs nothing more.
 *
 * Each key can be taken once: a step that later drops the key must not get the old state back.
 * @internal
 */
export class ResumeIndex<S> {
  private readonly chunks: IndexedChunk[] = [];
  private map: Map<string, Uint8Array> | undefined;
  /** Keys not taken yet; never below the true count (a key in two chunks counts twice). */
  private left = 0;

  constructor(
    private readonly stepId: string,
    raw: Map<string, Uint8Array>,
    private readonly serde: Serde,
  ) {
    const chunks: StateChunk[] = raw instanceof LoadedStates ? raw.takeChunks() : [];
    // Entries already in the Map come before the chunks; a key in both takes the chunk's bytes.
    this.map = raw.size > 0 ? new Map(raw) : undefined;
    this.left = this.map?.size ?? 0;
    for (const c of chunks) {
      if (c.keys.length === 0) continue;
      this.chunks.push(new IndexedChunk(c.keys, c.lens, c.bytes));
      this.left += c.keys.length;
    }
  }

  /** Whether every stored state has been taken. */
  get exhausted(): boolean {
    return this.left === 0;
  }

  /**
   * The stored state of `key` decoded, or `undefined` when the store has none or it was taken.
   * @throws {StepError} naming the step and the key when the bytes cannot be decoded
   */
  take(key: string): S | undefined {
    const chunks = this.chunks;
    // Later chunks win, as with Map.set; every copy of the key is marked taken.
    let found: S | undefined;
    let hit = false;
    const hash = chunks.length > 0 ? hashOf(key) : 0;
    for (let c = chunks.length - 1; c >= 0; c--) {
      const chunk = chunks[c]!;
      const i = chunk.find(key, hash);
      if (i < 0 || chunk.taken[i] === 1) continue;
      chunk.taken[i] = 1;
      this.left--;
      if (hit) continue;
      hit = true;
      found = this.decode(key, chunk.bytes, i === 0 ? 0 : chunk.ends[i - 1]!, chunk.ends[i]!);
    }
    if (this.map !== undefined) {
      const bytes = this.map.get(key);
      if (bytes !== undefined) {
        this.map.delete(key);
        this.left--;
        if (!hit) return this.decode(key, bytes, 0, bytes.length);
      }
    }
    return found;
  }

  private decode(key: string, bytes: Uint8Array, start: number, end: number): S {
    return decodeState(this.serde, this.stepId, key, bytes, start, end) as S;
  }
}
