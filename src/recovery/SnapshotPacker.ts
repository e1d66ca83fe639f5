/**
 * Gathers an epoch's snapshots straight into packed form, as they are taken: no record object and
 * no byte array per key when the state is a common value under the default serde.
 *
 * @internal
 * @module
 */
import type { PackedSnapshots } from './packSnapshots.js';
import { encodeFast, FAST_MAX, type Serde, v8Serde } from './serde.js';

/** Buffers grown past these sizes by a large epoch are given back when it is taken. */
const KEEP_BYTES = 16 << 20;
const KEEP_RECORDS = 1 << 16;

/**
 * The snapshots of the closing epoch, packed as they are added. {@link SnapshotPacker.view} hands
 * them to a commit on this thread; {@link SnapshotPacker.copy} to one on another thread.
 * @internal
 */
export class SnapshotPacker {
  private readonly fast: boolean;
  private stepIds: string[] = [];
  private runs: number[] = [];
  private keys: string[] = [];
  private keyLens = new Uint32Array(256);
  private lens = new Int32Array(256);
  private bytes = new Uint8Array(4096);
  private count = 0;
  private used = 0;
  private step: string | undefined;

  constructor(private readonly serde: Serde) {
    this.fast = serde === v8Serde;
  }

  /** How many snapshots are held. */
  get length(): number {
    return this.count;
  }

  /**
   * Adds the state of `key` in step `stepId`; `undefined` adds a tombstone. When the serde throws,
   * or returns something other than bytes, nothing is added and the error is thrown.
   */
  add(stepId: string, key: string, state: unknown): void {
    if (state === undefined) return this.push(stepId, key, -1);
    if (this.fast) {
      const start = this.used;
      if (this.bytes.length - start < FAST_MAX) this.grow(FAST_MAX);
      const end = encodeFast(state, this.bytes, start);
      if (end >= 0) {
        this.used = end;
        return this.push(stepId, key, end - start);
      }
    }
    const ser: unknown = this.serde.serialize(state);
    if (!(ser instanceof Uint8Array)) throw new TypeError(`serialize() must return a Uint8Array, got ${typeof ser}`);
    this.addBytes(stepId, key, ser);
  }

  /** Adds already serialized state, or a tombstone for `null`. */
  addBytes(stepId: string, key: string, ser: Uint8Array | null): void {
    if (ser === null) return this.push(stepId, key, -1);
    const start = this.used;
    if (this.bytes.length - start < ser.length) this.grow(ser.length);
    this.bytes.set(ser, start);
    this.used = start + ser.length;
    this.push(stepId, key, ser.length);
  }

  /** Records a key whose state (`len` bytes, -1 for a tombstone) ends the byte buffer. */
  private push(stepId: string, key: string, len: number): void {
    const i = this.count;
    if (i === this.lens.length) this.growRecords();
    if (stepId !== this.step) {
      this.step = stepId;
      this.stepIds.push(stepId);
      this.runs.push(0);
    }
    this.runs[this.runs.length - 1]!++;
    this.keys.push(key);
    this.keyLens[i] = key.length;
    this.lens[i] = len;
    this.count = i + 1;
  }

  /** The snapshots held, as views of this packer's buffers: valid until the next change. */
  view(): PackedSnapshots {
    const n = this.count;
    return {
      stepIds: this.stepIds,
      runs: Uint32Array.from(this.runs),
      keys: this.keys.join(''),
      keyLens: this.keyLens.subarray(0, n),
      lens: this.lens.subarray(0, n),
      bytes: this.bytes.subarray(0, this.used),
    };
  }

  /** The snapshots held, copied into buffers of their own that can be transferred to another thread. */
  copy(): { packed: PackedSnapshots; transfer: ArrayBuffer[] } {
    const v = this.view();
    const packed: PackedSnapshots = {
      stepIds: v.stepIds,
      runs: v.runs,
      keys: v.keys,
      keyLens: v.keyLens.slice(),
      lens: v.lens.slice(),
      bytes: v.bytes.slice(),
    };
    return { packed, transfer: buffersOf(packed) };
  }

  /** Drops every snapshot held. */
  clear(): void {
    this.stepIds = [];
    this.runs = [];
    this.keys = [];
    this.count = 0;
    this.used = 0;
    this.step = undefined;
    if (this.bytes.length > KEEP_BYTES) this.bytes = new Uint8Array(KEEP_BYTES);
    if (this.lens.length > KEEP_RECORDS) {
      this.lens = new Int32Array(KEEP_RECORDS);
      this.keyLens = new Uint32Array(KEEP_RECORDS);
    }
  }

  private grow(need: number): void {
    const grown = new Uint8Array(Math.max(2 * this.bytes.length, this.used + need));
    grown.set(this.bytes.subarray(0, this.used));
    this.bytes = grown;
  }

  private growRecords(): void {
    const n = 2 * this.lens.length;
    const lens = new Int32Array(n);
    lens.set(this.lens);
    const keyLens = new Uint32Array(n);
    keyLens.set(this.keyLens);
    this.lens = lens;
    this.keyLens = keyLens;
  }
}

/** The buffers of packed snapshots, to transfer to another thread with them. @internal */
export function buffersOf(p: PackedSnapshots): ArrayBuffer[] {
  return [p.runs.buffer, p.keyLens.buffer, p.lens.buffer, p.bytes.buffer] as ArrayBuffer[];
}
