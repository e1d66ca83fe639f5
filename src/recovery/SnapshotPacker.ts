/**
 * Gathers an epoch's snapshots straight into packed form, as they are taken: no record object and
 * no byte array per key when the state is a common value under the default serde, and the keys
 * written as UTF-8 bytes, as the store keeps them.
 *
 * @internal
 * @module
 */
import type { PackedSnapshots } from './packSnapshots.js';
import { encodeFast, FAST_MAX, type Serde, v8Serde } from './serde.js';
import { putUtf8 } from './utf8.js';

/**
 * Buffers grown past these sizes by a large epoch are given back when it is taken: 16 MiB of bytes,
 * and records whose two length arrays take as much. Below them an epoch's buffers serve the next
 * epoch as they are.
 */
const KEEP_BYTES = 16 << 20;
const KEEP_RECORDS = 1 << 21;
/** The sizes a packer's buffers start at: records, and bytes. */
const FIRST_RECORDS = 256;
const FIRST_BYTES = 4096;
/** What a packer kept between runs holds on to at most: 1 MiB a buffer. */
const SPARE_BYTES = 1 << 20;
const SPARE_RECORDS = 1 << 17;

/** The packer the last finished run gave back, for the next one. */
let spare: SnapshotPacker | undefined;

/**
 * The snapshots of the closing epoch, packed as they are added. {@link SnapshotPacker.view} hands
 * them to a commit on this thread; {@link SnapshotPacker.lend} to one on another thread.
 * @internal
 */
export class SnapshotPacker {
  private serde: Serde;
  private fast: boolean;
  private stepIds: string[] = [];
  private runs: number[] = [];
  /** Per run: 1 when its step marked its snapshots as its full state. */
  private fulls: number[] = [];
  private keyLens = new Uint32Array(FIRST_RECORDS);
  private lens = new Int32Array(FIRST_RECORDS);
  private keyBytes = new Uint8Array(FIRST_BYTES);
  private bytes = new Uint8Array(FIRST_BYTES);
  private count = 0;
  private keysUsed = 0;
  private used = 0;
  private step: string | undefined;
  /** Per step: the keys of its snapshots that {@link SnapshotPacker.rememberKeys} kept, as lengths and UTF-8 bytes. */
  private keyRuns = new Map<string, { lens: Uint32Array; bytes: Uint8Array }>();
  /** Whether its buffers are lent (see {@link SnapshotPacker.lend}) and not yet taken back. */
  private lent = false;

  constructor(serde: Serde = v8Serde) {
    this.serde = serde;
    this.fast = serde === v8Serde;
  }

  /**
   * A packer for a run: the one the last finished run gave back with {@link SnapshotPacker.release},
   * or a new one. Besides its buffers, reusing it keeps the packing code optimised from one run of
   * the process to the next: the engine drops optimised code once no object of the class shapes it
   * was made for is left, and the first snapshots of a run would otherwise be taken by unoptimised
   * code (with 100,000 keys, about 10 ms more for each of the first two epochs).
   */
  static acquire(serde: Serde = v8Serde): SnapshotPacker {
    const packer = spare ?? new SnapshotPacker(serde);
    spare = undefined;
    packer.keyRuns.clear();
    packer.serde = serde;
    packer.fast = serde === v8Serde;
    return packer;
  }

  /**
   * Empties the packer and keeps it for the next {@link SnapshotPacker.acquire}, with its buffers cut
   * down to at most 1 MiB each. The packer must not be used after.
   */
  release(): void {
    this.clear();
    this.lent = false;
    this.keyRuns.clear();
    if (this.bytes.length > SPARE_BYTES) this.bytes = new Uint8Array(SPARE_BYTES);
    if (this.keyBytes.length > SPARE_BYTES) this.keyBytes = new Uint8Array(SPARE_BYTES);
    if (this.lens.length > SPARE_RECORDS) {
      this.lens = new Int32Array(SPARE_RECORDS);
      this.keyLens = new Uint32Array(SPARE_RECORDS);
    }
    spare ??= this;
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
    this.push(stepId, key, this.putValue(state));
  }

  /**
   * Adds the state of the next key of a run begun with {@link SnapshotPacker.sameKeysAs}: as
   * {@link SnapshotPacker.add}, with the key, and the step, written by {@link SnapshotPacker.endSameKeys}.
   */
  addState(state: unknown): void {
    const len = this.putValue(state);
    const i = this.count;
    if (i === this.lens.length) this.growRecords();
    this.lens[i] = len;
    this.count = i + 1;
  }

  /**
   * Whether `stepId` has keys remembered by {@link SnapshotPacker.rememberKeys} in this packer's
   * run: its next snapshots may then be added with {@link SnapshotPacker.addState}, one for each of
   * those keys in the same order, and ended with {@link SnapshotPacker.endSameKeys}. A step whose
   * keys have not changed since saves writing each key again.
   */
  sameKeysAs(stepId: string): boolean {
    return this.keyRuns.has(stepId);
  }

  /**
   * Writes the remembered keys of `stepId` for the snapshots added since the record count `from`.
   * @throws when their number is not that of the remembered keys (a bug of the caller)
   */
  endSameKeys(stepId: string, from: number): void {
    const run = this.keyRuns.get(stepId);
    if (run === undefined || run.lens.length !== this.count - from) {
      throw new Error(`weir internal: step '${stepId}' added ${this.count - from} snapshots for ${run?.lens.length ?? 0} remembered keys`);
    }
    this.endKeys(stepId, from, run.lens, run.bytes);
  }

  /**
   * Writes the given keys for the snapshots added since the record count `from` with
   * {@link SnapshotPacker.addState}, all of `stepId`, one key each in order, and remembers them as
   * {@link SnapshotPacker.rememberKeys} does. The packer keeps `lens` and `bytes` as they are: the
   * caller must not change them after.
   * @param lens each key's length in UTF-8 bytes
   * @param bytes the keys' UTF-8 bytes, one after another
   * @throws when their number is not that of the snapshots (a bug of the caller)
   */
  endKeys(stepId: string, from: number, lens: Uint32Array, bytes: Uint8Array): void {
    if (lens.length !== this.count - from) {
      throw new Error(`weir internal: step '${stepId}' added ${this.count - from} snapshots for ${lens.length} keys`);
    }
    this.keyLens.set(lens, from);
    this.openRun(stepId);
    this.runs[this.runs.length - 1]! += lens.length;
    this.putKeys(bytes);
    this.keyRuns.set(stepId, { lens, bytes });
  }

  /** Remembers the keys of the snapshots added since the record count `from`, all of `stepId`, for {@link SnapshotPacker.sameKeysAs}. */
  rememberKeys(stepId: string, from: number): void {
    const lens = this.keyLens.slice(from, this.count);
    let size = 0;
    for (let i = 0; i < lens.length; i++) size += lens[i]!;
    this.keyRuns.set(stepId, { lens, bytes: this.keyBytes.slice(this.keysUsed - size, this.keysUsed) });
  }

  /** Writes a state to the byte buffer and returns its length: -1 for a tombstone. */
  private putValue(state: unknown): number {
    if (state === undefined) return -1;
    if (this.fast) {
      const start = this.used;
      if (this.bytes.length - start < FAST_MAX) this.grow(FAST_MAX);
      const end = encodeFast(state, this.bytes, start);
      if (end >= 0) {
        this.used = end;
        return end - start;
      }
    }
    const ser: unknown = this.serde.serialize(state);
    if (!(ser instanceof Uint8Array)) throw new TypeError(`serialize() must return a Uint8Array, got ${typeof ser}`);
    this.putState(ser);
    return ser.length;
  }

  /** Adds already serialized state, or a tombstone for `null`. */
  addBytes(stepId: string, key: string, ser: Uint8Array | null): void {
    if (ser === null) return this.push(stepId, key, -1);
    this.putState(ser);
    this.push(stepId, key, ser.length);
  }

  /** Adds a snapshot whose key is already UTF-8 bytes; `ser` null is a tombstone. */
  addRaw(stepId: string, key: Uint8Array, ser: Uint8Array | null): void {
    if (ser !== null) this.putState(ser);
    this.putKeys(key);
    this.record(stepId, key.length, ser === null ? -1 : ser.length);
  }

  /** Appends keys' UTF-8 bytes to the key buffer. */
  private putKeys(bytes: Uint8Array): void {
    const start = this.keysUsed;
    if (this.keyBytes.length - start < bytes.length) this.keyBytes = grown(this.keyBytes, start, bytes.length);
    this.keyBytes.set(bytes, start);
    this.keysUsed = start + bytes.length;
  }

  private putState(ser: Uint8Array): void {
    const start = this.used;
    if (this.bytes.length - start < ser.length) this.grow(ser.length);
    this.bytes.set(ser, start);
    this.used = start + ser.length;
  }

  /** Writes the key's UTF-8 bytes and records a snapshot whose state (`len` bytes, -1 for a tombstone) ends the byte buffer. */
  private push(stepId: string, key: string, len: number): void {
    const pos = this.keysUsed;
    if (this.keyBytes.length - pos < 3 * key.length) this.keyBytes = grown(this.keyBytes, pos, 3 * key.length);
    const size = putUtf8(key, this.keyBytes, pos);
    this.keysUsed = pos + size;
    this.record(stepId, size, len);
  }

  private record(stepId: string, keyLen: number, len: number): void {
    const i = this.count;
    if (i === this.lens.length) this.growRecords();
    this.openRun(stepId);
    this.runs[this.runs.length - 1]!++;
    this.keyLens[i] = keyLen;
    this.lens[i] = len;
    this.count = i + 1;
  }

  /** Makes `stepId` the step of the last run of records, starting a run unless it is already. */
  private openRun(stepId: string): void {
    if (stepId === this.step) return;
    this.step = stepId;
    this.stepIds.push(stepId);
    this.runs.push(0);
    this.fulls.push(0);
  }

  /**
   * Says that the snapshots `stepId` added last, together with any it added before in this epoch,
   * are its whole state: every key it holds, and tombstones for keys it dropped. The store may
   * then drop the step's older snapshots without reading them. Does nothing unless `stepId` added
   * the last snapshot.
   */
  markFull(stepId: string): void {
    if (this.step === stepId && this.fulls.length > 0) this.fulls[this.fulls.length - 1] = 1;
  }

  /** The snapshots held, as views of this packer's buffers: valid until the next change. */
  view(): PackedSnapshots {
    const n = this.count;
    return {
      stepIds: this.stepIds,
      runs: Uint32Array.from(this.runs),
      fulls: Uint8Array.from(this.fulls),
      keyLens: this.keyLens.subarray(0, n),
      keyBytes: this.keyBytes.subarray(0, this.keysUsed),
      lens: this.lens.subarray(0, n),
      bytes: this.bytes.subarray(0, this.used),
    };
  }

  /**
   * The snapshots held, in this packer's own buffers, which can then move to another thread without
   * a copy. The packer is left holding no snapshots and small new buffers; {@link SnapshotPacker.takeBack}
   * gives it the lent ones again once the other thread is done with them. With 100,000 keys, copying
   * instead cost the main thread some 1.5 MB of copies and allocations an epoch.
   */
  lend(): { packed: PackedSnapshots; transfer: ArrayBuffer[] } {
    const packed = this.view();
    this.keyLens = new Uint32Array(FIRST_RECORDS);
    this.lens = new Int32Array(FIRST_RECORDS);
    this.keyBytes = new Uint8Array(FIRST_BYTES);
    this.bytes = new Uint8Array(FIRST_BYTES);
    this.clear();
    this.lent = true;
    return { packed, transfer: buffersOf(packed) };
  }

  /**
   * Takes back the buffers of snapshots it lent (see {@link SnapshotPacker.lend}), as the other
   * thread returns them. Does nothing when snapshots were added since, or when it lent none.
   */
  takeBack(lent: LentBuffers): void {
    if (!this.lent || this.count !== 0 || this.used !== 0 || this.keysUsed !== 0) return;
    this.lent = false;
    if (lent.bytes.byteLength > KEEP_BYTES || lent.keyBytes.byteLength > KEEP_BYTES || lent.lens.byteLength > 4 * KEEP_RECORDS) return;
    if (lent.lens.byteLength !== lent.keyLens.byteLength) return;
    this.keyLens = new Uint32Array(lent.keyLens);
    this.lens = new Int32Array(lent.lens);
    this.keyBytes = new Uint8Array(lent.keyBytes);
    this.bytes = new Uint8Array(lent.bytes);
  }

  /** Drops every snapshot held. */
  clear(): void {
    this.stepIds = [];
    this.runs = [];
    this.fulls = [];
    this.count = 0;
    this.used = 0;
    this.keysUsed = 0;
    this.step = undefined;
    if (this.bytes.length > KEEP_BYTES) this.bytes = new Uint8Array(KEEP_BYTES);
    if (this.keyBytes.length > KEEP_BYTES) this.keyBytes = new Uint8Array(KEEP_BYTES);
    if (this.lens.length > KEEP_RECORDS) {
      this.lens = new Int32Array(KEEP_RECORDS);
      this.keyLens = new Uint32Array(KEEP_RECORDS);
    }
  }

  private grow(need: number): void {
    this.bytes = grown(this.bytes, this.used, need);
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

/** A buffer with room for `need` more bytes after its first `used`, which it keeps. @internal */
export function grown(buf: Uint8Array, used: number, need: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(Math.max(2 * buf.length, used + need));
  out.set(buf.subarray(0, used));
  return out;
}

/**
 * The buffers a packer lent with its snapshots (see {@link SnapshotPacker.lend}), as the thread that
 * wrote them returns them: whole, whatever part of them the snapshots used.
 * @internal
 */
export interface LentBuffers {
  readonly keyLens: ArrayBuffer;
  readonly lens: ArrayBuffer;
  readonly keyBytes: ArrayBuffer;
  readonly bytes: ArrayBuffer;
}

/** The buffers of snapshots a packer lent, to send back to it. @internal */
export function lentBuffersOf(p: PackedSnapshots): { lent: LentBuffers; transfer: ArrayBuffer[] } {
  const lent: LentBuffers = {
    keyLens: p.keyLens.buffer as ArrayBuffer,
    lens: p.lens.buffer as ArrayBuffer,
    keyBytes: p.keyBytes.buffer as ArrayBuffer,
    bytes: p.bytes.buffer as ArrayBuffer,
  };
  return { lent, transfer: [lent.keyLens, lent.lens, lent.keyBytes, lent.bytes] };
}

/** The buffers of packed snapshots, to transfer to another thread with them. @internal */
export function buffersOf(p: PackedSnapshots): ArrayBuffer[] {
  return [p.runs.buffer, p.fulls.buffer, p.keyLens.buffer, p.keyBytes.buffer, p.lens.buffer, p.bytes.buffer] as ArrayBuffer[];
}
