/**
 * The records of one partition of a `Fetch` response, read straight from its bytes.
 *
 * {@link RecordSet.from} only splits the record set into record batches (decompressing the
 * compressed ones); records are decoded one at a time by {@link RecordSet.next}, as a partition
 * hands them out. A fetched chunk waiting to be read is then one `Buffer`, not an object per
 * record, and the offsets and timestamps are plain numbers from the start (exact up to 2^53).
 *
 * Visibility follows the Java consumer: control batches are never handed out, and with
 * read_committed the batches of the aborted transactions the broker lists are skipped whole.
 * Record sets in the old message formats (magic 0 and 1) are decoded by kafkajs.
 *
 * @internal
 * @module
 */

import { createRequire } from 'node:module';
import type { KafkaHeaders } from './KafkaSourceMessage.js';
import type { RawRecord } from './kafkajsInternals.js';

/** A transaction the broker reports as aborted: records of `producerId` from `firstOffset` on. */
export interface AbortedTransaction {
  readonly producerId: bigint;
  readonly firstOffset: number;
}

/** One record batch (magic 2), its records still encoded. */
interface Batch {
  readonly base: number;
  /** The offset of the batch's last record (kept even when compaction removed it). */
  readonly last: number;
  readonly firstTimestamp: number;
  readonly maxTimestamp: number;
  readonly logAppendTime: boolean;
  readonly producerId: bigint;
  readonly inTransaction: boolean;
  readonly control: boolean;
  readonly count: number;
  /** The encoded records: `data[start, end)`. */
  readonly data: Buffer;
  readonly start: number;
}

interface Codec {
  decompress(buffer: Buffer): Promise<Buffer>;
}

const kafkajsRequire = createRequire(import.meta.url);
const { lookupCodecByAttributes } = kafkajsRequire('kafkajs/src/protocol/message/compression') as {
  lookupCodecByAttributes(attributes: number): Codec | null;
};
const KafkajsDecoder = kafkajsRequire('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const decodeMessageSet = kafkajsRequire('kafkajs/src/protocol/messageSet/decoder') as (decoder: unknown, size: number) => Promise<RawRecord[]>;

/** baseOffset (8) and batchLength (4): the bytes before what batchLength counts. */
const LOG_OVERHEAD = 12;
/** Everything up to and including the record count. */
const BATCH_HEADER = 61;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const FIRST_TIMESTAMP_AT = 27;
const MAX_TIMESTAMP_AT = 35;
const PRODUCER_ID_AT = 43;
const COUNT_AT = 57;
const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const TRANSACTIONAL_MASK = 0x10;
const CONTROL_MASK = 0x20;

const int64 = (b: Buffer, at: number): number => b.readInt32BE(at) * 4294967296 + b.readUInt32BE(at + 4);

/**
 * A fetched record set of one partition, read once, front to back: `next()` moves to the next
 * visible record at or after the fetch offset and exposes it in `offset`, `timestamp`, `key`,
 * `value` and `headers` (no object per record until the caller builds one).
 */
export class RecordSet {
  /** The offset to fetch next: past the last complete batch, or the fetch offset when none. */
  readonly nextOffset: number;
  /** The current record's offset. */
  offset = 0;
  /** The current record's timestamp, ms since the Unix epoch. */
  timestamp = 0;
  /** The current record's key. */
  key: Buffer | null = null;
  /** The current record's value. */
  value: Buffer | null = null;
  /** The current record's headers. */
  headers: KafkaHeaders = {};

  private readonly batches: Batch[];
  private readonly legacy: RawRecord[];
  private readonly from: number;
  private readonly aborted: AbortedTransaction[];
  private abortedAt = 0;
  private readonly ongoing = new Set<bigint>();
  private batchAt = 0;
  private legacyAt = 0;
  private data: Buffer = Buffer.alloc(0);
  private pos = 0;
  private left = 0;
  private base = 0;
  private firstTimestamp = 0;
  private maxTimestamp = 0;
  private logAppendTime = false;

  private constructor(batches: Batch[], legacy: RawRecord[], from: number, nextOffset: number, aborted: AbortedTransaction[]) {
    this.batches = batches;
    this.legacy = legacy;
    this.from = from;
    this.nextOffset = nextOffset;
    this.aborted = aborted;
  }

  /** An empty set: nothing to read, fetch again at `offset`. */
  static empty(offset: number): RecordSet {
    return new RecordSet([], [], offset, offset, []);
  }

  /**
   * Splits a partition's record set into batches, decompressing where needed.
   * @param bytes the record set as the broker sent it (it may end with a partial batch)
   * @param fetchOffset the offset fetched: records before it (in the same batch) are skipped
   * @param aborted the aborted transactions the broker listed (read_committed), any order
   */
  static async from(bytes: Buffer, fetchOffset: number, aborted: AbortedTransaction[]): Promise<RecordSet> {
    const sorted = aborted.length > 1 ? [...aborted].sort((a, b) => a.firstOffset - b.firstOffset) : aborted;
    if (bytes.length > MAGIC_AT && bytes.readInt8(MAGIC_AT) < 2) {
      const records = await decodeMessageSet(new KafkajsDecoder(bytes), bytes.length);
      return RecordSet.fromRecords(records, fetchOffset);
    }
    const batches: Batch[] = [];
    let nextOffset = fetchOffset;
    for (let at = 0; at + BATCH_HEADER <= bytes.length; ) {
      const end = at + LOG_OVERHEAD + bytes.readInt32BE(at + 8);
      if (end > bytes.length || bytes.readInt8(at + MAGIC_AT) < 2) break; // a partial batch, or an old format after a new one
      const attributes = bytes.readInt16BE(at + ATTRIBUTES_AT);
      const base = int64(bytes, at);
      let data = bytes;
      let start = at + BATCH_HEADER;
      const codec = (attributes & COMPRESSION_MASK) === 0 ? null : lookupCodecByAttributes(attributes);
      if (codec !== null) {
        data = await codec.decompress(bytes.subarray(start, end));
        start = 0;
      }
      const last = base + bytes.readInt32BE(at + LAST_OFFSET_DELTA_AT);
      batches.push({
        base,
        last,
        firstTimestamp: int64(bytes, at + FIRST_TIMESTAMP_AT),
        maxTimestamp: int64(bytes, at + MAX_TIMESTAMP_AT),
        logAppendTime: (attributes & TIMESTAMP_TYPE_MASK) !== 0,
        producerId: (attributes & (TRANSACTIONAL_MASK | CONTROL_MASK)) === 0 ? -1n : bytes.readBigInt64BE(at + PRODUCER_ID_AT),
        inTransaction: (attributes & TRANSACTIONAL_MASK) !== 0,
        control: (attributes & CONTROL_MASK) !== 0,
        count: bytes.readInt32BE(at + COUNT_AT),
        data,
        start,
      });
      nextOffset = Math.max(nextOffset, last + 1);
      at = end;
    }
    return new RecordSet(batches, [], fetchOffset, nextOffset, sorted);
  }

  /**
   * Records kafkajs decoded (old message formats, or a broker too old for `Fetch` v4).
   * @param records the decoded records, in offset order
   * @param fetchOffset the offset fetched: records before it are skipped
   */
  static fromRecords(records: RawRecord[], fetchOffset: number): RecordSet {
    const last = records[records.length - 1];
    const nextOffset = last === undefined ? fetchOffset : Math.max(fetchOffset, Number(last.offset) + 1);
    return new RecordSet([], records, fetchOffset, nextOffset, []);
  }

  /**
   * Moves to the next visible record at or after the fetch offset.
   * @returns false when there is none left
   */
  next(): boolean {
    for (;;) {
      if (this.left > 0) {
        this.left--;
        this.readRecord();
        if (this.offset >= this.from) return true;
      } else if (this.batchAt < this.batches.length) {
        this.enter(this.batches[this.batchAt++]!);
      } else if (this.legacyAt < this.legacy.length) {
        const r = this.legacy[this.legacyAt++]!;
        this.offset = Number(r.offset);
        if (this.offset < this.from || r.isControlRecord === true) continue;
        this.timestamp = Number(r.timestamp);
        this.key = r.key;
        this.value = r.value;
        this.headers = r.headers ?? {};
        return true;
      } else {
        return false;
      }
    }
  }

  /** Starts reading a batch's records, or skips the batch: control batches, aborted transactions. */
  private enter(b: Batch): void {
    this.left = 0;
    if (this.aborted.length > 0 && (b.inTransaction || b.control)) {
      while (this.abortedAt < this.aborted.length && this.aborted[this.abortedAt]!.firstOffset <= b.last) {
        this.ongoing.add(this.aborted[this.abortedAt++]!.producerId);
      }
    }
    this.data = b.data;
    this.pos = b.start;
    this.base = b.base;
    this.firstTimestamp = b.firstTimestamp;
    this.maxTimestamp = b.maxTimestamp;
    this.logAppendTime = b.logAppendTime;
    if (b.control) {
      if (b.count > 0 && this.ongoing.size > 0) {
        this.readRecord();
        const key = this.key;
        if (key !== null && key.length >= 4 && key.readInt16BE(2) === 0) this.ongoing.delete(b.producerId); // ABORT marker
      }
      return;
    }
    if (b.inTransaction && this.ongoing.has(b.producerId)) return;
    this.left = b.count;
  }

  /** Decodes the record at `pos` into the current-record fields. */
  private readRecord(): void {
    const length = this.varint();
    const end = this.pos + length;
    this.pos++; // attributes
    const timestampDelta = this.varlong();
    this.offset = this.base + this.varint();
    this.timestamp = this.logAppendTime ? this.maxTimestamp : this.firstTimestamp + timestampDelta;
    this.key = this.bytes();
    this.value = this.bytes();
    const headers: KafkaHeaders = {};
    for (let n = this.varint(); n > 0; n--) {
      const keyLength = this.varint();
      const name = keyLength < 0 ? 'null' : this.data.toString('utf8', this.pos, this.pos + keyLength);
      if (keyLength > 0) this.pos += keyLength;
      const value = this.bytes() as Buffer;
      const prior = headers[name];
      headers[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
    }
    this.headers = headers;
    this.pos = end;
  }

  /** A varint-length byte string, `null` for length -1. */
  private bytes(): Buffer | null {
    const length = this.varint();
    if (length < 0) return null;
    const start = this.pos;
    this.pos += length;
    return this.data.subarray(start, this.pos);
  }

  /** A zigzag varint of at most 32 bits. */
  private varint(): number {
    const d = this.data;
    let b = d[this.pos++]!;
    let v = b & 0x7f;
    for (let shift = 7; b & 0x80; shift += 7) {
      b = d[this.pos++]!;
      v |= (b & 0x7f) << shift;
    }
    return (v >>> 1) ^ -(v & 1);
  }

  /** A zigzag varint of up to 64 bits, exact up to 2^53. */
  private varlong(): number {
    const d = this.data;
    let b = d[this.pos++]!;
    if ((b & 0x80) === 0) return (b >>> 1) ^ -(b & 1);
    let v = b & 0x7f;
    let scale = 128;
    do {
      b = d[this.pos++]!;
      v += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80);
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
}
