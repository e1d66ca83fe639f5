/**
 * The loaded states of one step: a Map from state key to serialized state, kept packed until used.
 *
 * @internal
 * @module
 */

/** Keys and their serialized states: `keys[i]` holds the next `lens[i]` bytes of `bytes`. */
export interface StateChunk {
  readonly keys: readonly string[];
  readonly lens: ArrayLike<number>;
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
  addChunk(keys: readonly string[], lens: ArrayLike<number>, bytes: Uint8Array): void {
    const chunk = { keys, lens, bytes };
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
