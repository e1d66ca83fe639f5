/**
 * weir's own reading of `Fetch` responses, checked against kafkajs's encoders and decoders without
 * a broker: every field of every record, compression, fetch offsets inside a batch, partial
 * batches, empty (compacted) batches, 64-bit offsets, control batches and aborted transactions.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeFetchResponse } from '../../../connectors/kafka/fetchRecords.js';
import { RecordSet } from '../../../connectors/kafka/recordSet.js';
import { prng } from '../../support/crashHarness.js';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch(o: object): Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (o: object) => unknown;
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{ records: KafkajsRecord[] }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;
const Encoder = require('kafkajs/src/protocol/encoder') as new () => KafkajsEncoder;
const { Types: Compression } = require('kafkajs/src/protocol/message/compression') as { Types: { None: number; GZIP: number } };

interface KafkajsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}
interface KafkajsEncoder {
  buffer: Buffer;
  writeInt8(v: number): KafkajsEncoder;
  writeInt16(v: number): KafkajsEncoder;
  writeInt32(v: number): KafkajsEncoder;
  writeInt64(v: number | string): KafkajsEncoder;
  writeString(v: string): KafkajsEncoder;
  writeBytes(v: Buffer): KafkajsEncoder;
}

interface RecordSpec {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | Buffer[]>;
  timestampDelta?: number;
  offsetDelta?: number;
}

interface BatchSpec {
  firstOffset: number;
  records: RecordSpec[];
  firstTimestamp?: number;
  maxTimestamp?: number;
  lastOffsetDelta?: number;
  compression?: number;
  producerId?: number;
  transactional?: boolean;
  control?: boolean;
  logAppendTime?: boolean;
}

async function batch(b: BatchSpec): Promise<Buffer> {
  const records = b.records.map((r, i) => Record({ offsetDelta: r.offsetDelta ?? i, timestampDelta: r.timestampDelta ?? i, key: r.key ?? null, value: r.value, headers: r.headers ?? {} }));
  const { buffer } = await RecordBatch({
    compression: b.compression ?? Compression.None,
    firstOffset: String(b.firstOffset),
    firstTimestamp: b.firstTimestamp ?? 1_700_000_000_000,
    maxTimestamp: b.maxTimestamp ?? 1_700_000_000_000 + b.records.length,
    lastOffsetDelta: b.lastOffsetDelta ?? b.records.length - 1,
    transactional: b.transactional ?? false,
    producerId: String(b.producerId ?? -1),
    records,
  });
  // kafkajs writes neither control batches nor log-append time: set those attribute bits.
  const out = Buffer.from(buffer);
  out.writeInt16BE(out.readInt16BE(21) | (b.control ? 0x20 : 0) | (b.logAppendTime ? 0x08 : 0), 21);
  return out;
}

/** A transaction marker: the control record of an abort (type 0) or a commit (type 1). */
function marker(type: 0 | 1): RecordSpec {
  return { key: Buffer.from([0, 0, 0, type]), value: Buffer.from([0, 0, 0, 0, 0, 0]) };
}

function readAll(set: RecordSet) {
  const out = [];
  while (set.next()) out.push({ offset: set.offset, timestamp: set.timestamp, key: set.key, value: set.value, headers: set.headers });
  return out;
}

describe('RecordSet', () => {
  it('decodes every field as kafkajs does, plain and gzip, with 64-bit offsets', async () => {
    const rand = prng(7);
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
    for (const compression of [Compression.None, Compression.GZIP]) {
      for (const firstOffset of [0, 123_456, 5_000_000_123]) {
        const records = Array.from({ length: 50 }, (_, i): RecordSpec => ({
          key: i % 3 === 0 ? null : bytes(Math.floor(rand() * 20)),
          value: i % 7 === 0 ? null : bytes(Math.floor(rand() * 300)),
          headers: i % 4 === 0 ? {} : { a: bytes(3), rep: [bytes(1), bytes(2), bytes(0)], 'ü': Buffer.from('x') },
          timestampDelta: Math.floor(rand() * 2 ** 40) - 2 ** 39,
          offsetDelta: i * 3,
        }));
        const encoded = await batch({ firstOffset, records, lastOffsetDelta: 49 * 3, compression });
        const expected = (await RecordBatchDecoder(new Decoder(encoded))).records;
        const set = await RecordSet.from(encoded, 0, []);
        const got = readAll(set);
        expect(got).toHaveLength(expected.length);
        got.forEach((r, i) => {
          const e = expected[i]!;
          expect(r.offset).toBe(Number(e.offset));
          expect(r.timestamp).toBe(Number(e.timestamp));
          expect(r.key).toEqual(e.key);
          expect(r.value).toEqual(e.value);
          expect(r.headers).toEqual(e.headers);
        });
        expect(set.nextOffset).toBe(firstOffset + 49 * 3 + 1);
      }
    }
  });

  it('skips records before the fetch offset, stops before a partial batch, and moves past empty batches', async () => {
    const a = await batch({ firstOffset: 10, records: Array.from({ length: 5 }, (_, i) => ({ value: Buffer.from(`a${i}`) })) });
    const empty = await batch({ firstOffset: 15, records: [], lastOffsetDelta: 4 }); // compacted away
    const b = await batch({ firstOffset: 20, records: [{ value: Buffer.from('b0') }, { value: Buffer.from('b1') }] });
    const set = await RecordSet.from(Buffer.concat([a, empty, b, b.subarray(0, b.length - 3)]), 12, []);
    expect(readAll(set).map((r) => [r.offset, r.value!.toString()])).toEqual([
      [12, 'a2'],
      [13, 'a3'],
      [14, 'a4'],
      [20, 'b0'],
      [21, 'b1'],
    ]);
    expect(set.nextOffset).toBe(22);
    const onlyEmpty = await RecordSet.from(empty, 15, []);
    expect(readAll(onlyEmpty)).toEqual([]);
    expect(onlyEmpty.nextOffset).toBe(20);
    const partial = await RecordSet.from(b.subarray(0, 40), 20, []);
    expect(readAll(partial)).toEqual([]);
    expect(partial.nextOffset).toBe(20);
  });

  it('uses the batch time with log-append time', async () => {
    const set = await RecordSet.from(await batch({ firstOffset: 0, records: [{ value: null }, { value: null }], maxTimestamp: 42, logAppendTime: true }), 0, []);
    expect(readAll(set).map((r) => r.timestamp)).toEqual([42, 42]);
  });

  it('never hands out control records, and skips the batches of aborted transactions as the broker lists them', async () => {
    const v = (s: string) => ({ value: Buffer.from(s) });
    const log = Buffer.concat([
      await batch({ firstOffset: 0, records: [v('plain')] }),
      await batch({ firstOffset: 1, records: [v('t7-aborted-1'), v('t7-aborted-2')], producerId: 7, transactional: true }),
      await batch({ firstOffset: 3, records: [v('t8-committed')], producerId: 8, transactional: true }),
      await batch({ firstOffset: 4, records: [v('t7-aborted-3')], producerId: 7, transactional: true }),
      await batch({ firstOffset: 5, records: [marker(0)], producerId: 7, transactional: true, control: true }),
      await batch({ firstOffset: 6, records: [marker(1)], producerId: 8, transactional: true, control: true }),
      await batch({ firstOffset: 7, records: [v('t7-committed')], producerId: 7, transactional: true }),
      await batch({ firstOffset: 8, records: [marker(1)], producerId: 7, transactional: true, control: true }),
      await batch({ firstOffset: 9, records: [v('last')] }),
    ]);
    const values = (set: RecordSet) => readAll(set).map((r) => `${r.offset}:${r.value!.toString()}`);
    expect(values(await RecordSet.from(log, 0, [{ producerId: 7n, firstOffset: 1 }]))).toEqual(['0:plain', '3:t8-committed', '7:t7-committed', '9:last']);
    // read_uncommitted: the broker lists no aborted transactions.
    expect(values(await RecordSet.from(log, 0, []))).toEqual([
      '0:plain',
      '1:t7-aborted-1',
      '2:t7-aborted-2',
      '3:t8-committed',
      '4:t7-aborted-3',
      '7:t7-committed',
      '9:last',
    ]);
    // Starting after the transaction began: still skipped.
    expect(values(await RecordSet.from(log, 2, [{ producerId: 7n, firstOffset: 1 }]))).toEqual([
      '3:t8-committed',
      '7:t7-committed',
      '9:last',
    ]);
  });

  it('hands out records kafkajs decoded (old formats) from the fetch offset', () => {
    const r = (offset: number) => ({ offset: String(offset), timestamp: '5', key: null, value: Buffer.from(String(offset)), headers: {}, isControlRecord: false }) as never;
    const set = RecordSet.fromRecords([r(3), r(4), r(5)], 4);
    expect(readAll(set).map((x) => x.offset)).toEqual([4, 5]);
    expect(set.nextOffset).toBe(6);
    expect(RecordSet.fromRecords([], 9).nextOffset).toBe(9);
  });
});

describe('decodeFetchResponse', () => {
  /** A Fetch response of `version` with two partitions of one topic. */
  function response(version: number, records: Buffer): Buffer {
    const e = new Encoder();
    e.writeInt32(25); // throttle
    if (version >= 7) e.writeInt16(0).writeInt32(0);
    e.writeInt32(1).writeString('orders').writeInt32(2);
    for (const [partition, errorCode, set] of [
      [3, 0, records],
      [4, 1, Buffer.alloc(0)],
    ] as const) {
      e.writeInt32(partition).writeInt16(errorCode).writeInt64(6_000_000_000).writeInt64(partition === 3 ? 5_999_999_999 : -1);
      if (version >= 5) e.writeInt64(0);
      if (partition === 3) e.writeInt32(1).writeInt64(7).writeInt64(11);
      else e.writeInt32(-1);
      if (version >= 11) e.writeInt32(-1);
      e.writeBytes(set);
    }
    return e.buffer;
  }

  it('reads the partitions of versions 4 to 11, keeping record sets as bytes', async () => {
    const records = await batch({ firstOffset: 11, records: [{ value: Buffer.from('x') }] });
    for (const version of [4, 5, 6, 7, 8, 9, 10, 11]) {
      const d = decodeFetchResponse(response(version, records), version);
      expect(d.errorCode).toBe(0);
      expect(version >= 8 ? d.clientSideThrottleTime : d.throttleTime).toBe(25);
      const p3 = d.partitions.get('3:orders')!;
      expect(p3).toMatchObject({ partition: 3, errorCode: 0, highWatermark: 6_000_000_000, lastStableOffset: 5_999_999_999, aborted: [{ producerId: 7n, firstOffset: 11 }] });
      expect(p3.bytes).toEqual(records);
      expect(d.partitions.get('4:orders')).toMatchObject({ partition: 4, errorCode: 1, lastStableOffset: undefined, aborted: [] });
    }
  });
});
