/**
 * The loaded states of one step: a Map from state key to serialized state, kept packed until used.
 *
 * @internal
 * @module
 */

/** Whether UTF-8 lengths that add up to this many bytes cut a text of `length` characters: only ASCII does. */
export const isAsciiText = (byteLens: readonly number[], length: number): boolean => {
  let total = 0;
  for (let i = 0; i < byteLens.length; i++) total += byteLens[i]!;
  return total === length;
};

/**
 * Cuts `text`, keys written one after another, into the keys, given each key's length in UTF-8
 * bytes (as SQLite's `octet_length` counts them).
 */
export function splitKeys(text: string, byteLens: readonly number[]): string[] {
  const n = byteLens.length;
  const keys = new Array<string>(n);
  let off = 0;
  if (isAsciiText(byteLens, text.length)) {
    // Only ASCII: a byte per character.
    for (let i = 0; i < n; i++) keys[i] = text.slice(off, (off += byteLens[i]!));
    return keys;
  }
  for (let i = 0; i < n; i++) {
    let end = off;
    for (let bytes = byteLens[i]!; bytes > 0; ) {
      const c = text.charCodeAt(end);
      if (c < 0x80) bytes -= 1;
      else if (c < 0x800) bytes -= 2;
      else if (c >= 0xd800 && c < 0xdc00) {
        bytes -= 4; // a surrogate pair: one 4-byte character
        end++;
      } else bytes -= 3;
      end++;
    }
    keys[i] = text.slice(off, end);
    off = end;
  }
  if (off !== text.length) throw new Error('recovery store: the loaded key lengths do not match the keys');
  return keys;
}

/** Keys and their serialized states: `keys[i]` holds the next `lens[i]` bytes of `bytes`. */
export interface StateChunk {
  readonly keys: readonly string[];
  /** Whether every key is known to be ASCII. */
  readonly ascii: boolean;
  readonly lens: readonly number[];
  readonly bytes: Uint8Array;
}

/**
 * A `Map<stateKey, bytes>` as {@link RecoveryStore.loadSnapshots} returns it. The loaded bytes stay
 * in a few large buffers: the entries are made on first use of the Map, and the runtime reads the
 * chunks directly without making them at all.
 */
export class LoadedStates extends Map<string, Uint8Array> {
  /** Chunks not yet made into entries; `undefined` once the Map holds them. */
  private chunks: StateChunk[] | undefined = [];

  /** Adds loaded keys and their bytes. A key added again takes the later bytes, as with Map.set. @internal */
  addChunk(keys: readonly string[], lens: readonly number[], bytes: Uint8Array, ascii = false): void {
    const chunk = { keys, ascii, lens, bytes };
    if (this.chunks === undefined) this.setChunk(chunk);
    else this.chunks.push(chunk);
  }

  /**
   * Takes the chunks not yet made into entries. They come after the Map's own entries, if any: a
   * key in both takes the chunk's bytes. @internal
   */
  takeChunks(): StateChunk[] {
    const chunks = this.chunks ?? [];
    this.chunks = [];
    return chunks;
  }

  /** Makes the Map entries from the packed chunks. */
  private fill(): void {
    const chunks = this.chunks;
    if (chunks === undefined) return;
    this.chunks = undefined;
    for (const chunk of chunks) this.setChunk(chunk);
  }

  private setChunk({ keys, lens, bytes }: StateChunk): void {
    let off = 0;
    for (let i = 0; i < keys.length; i++) super.set(keys[i]!, bytes.subarray(off, (off += lens[i]!)));
  }

  override get(key: string): Uint8Array | undefined {
    this.fill();
    return super.get(key);
  }
  override has(key: string): boolean {
    this.fill();
    return super.has(key);
  }
  override set(key: string, value: Uint8Array): this {
    this.fill();
    return super.set(key, value);
  }
  override delete(key: string): boolean {
    this.fill();
    return super.delete(key);
  }
  override clear(): void {
    this.chunks = undefined;
    super.clear();
  }
  override forEach(fn: (value: Uint8Array, key: string, map: Map<string, Uint8Array>) => void, thisArg?: unknown): void {
    this.fill();
    super.forEach(fn, thisArg);
  }
  override get size(): number {
    this.fill();
    return super.size;
  }
  override entries(): MapIterator<[string, Uint8Array]> {
    this.fill();
    return super.entries();
  }
  override keys(): MapIterator<string> {
    this.fill();
    return super.keys();
  }
  override values(): MapIterator<Uint8Array> {
    this.fill();
    return super.values();
  }
  override [Symbol.iterator](): MapIterator<[string, Uint8Array]> {
    this.fill();
    return super[Symbol.iterator]();
  }
}
