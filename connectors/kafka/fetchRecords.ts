/**
 * One `Fetch` request to one broker for any number of partitions, with a response decoder that
 * keeps each partition's record set as bytes: the read path of {@link KafkaSource}. Records are
 * decoded later, as they are handed out (see {@link RecordSet}).
 *
 * The request itself is kafkajs's (the version both sides support, its connection, its
 * authentication); only the decoding of the answer is weir's, for `Fetch` v4 and later. An older
 * broker's answer is decoded by kafkajs as before.
 *
 * @internal
 * @module
 */

import { type AbortedTransaction, RecordSet } from './recordSet.js';
import type { FetchTransport } from './SourceFetcher.js';
import { type FetchArgs, type InternalBroker, type InternalCluster, kafkajsFetchProtocol, type RawPartitionData, sendRequest } from './kafkajsInternals.js';

/** What the broker answered for one partition. */
export interface FetchedPartition {
  readonly topic: string;
  readonly partition: number;
  /** The partition's error (a kafkajs protocol error, with `type` and `retriable`), if any. */
  readonly error: Error | undefined;
  /** The partition's high watermark. */
  readonly highWatermark: number;
  /** The last stable offset (read_committed end), when the broker reports it. */
  readonly lastStableOffset: number | undefined;
  /** The aborted transactions in the returned range (read_committed only). */
  readonly aborted: AbortedTransaction[];
  /** The record set as sent, v4 and later. */
  readonly bytes: Buffer | undefined;
  /** The records kafkajs decoded, before v4. */
  readonly records: RawPartitionData['messages'] | undefined;
}

/** One partition to fetch, and from which offset. */
export interface FetchPartitionRequest {
  topic: string;
  partition: number;
  offset: number;
  /** The most bytes of this partition in the answer (at least one whole batch is always sent). */
  maxBytes: number;
}

/** The settings of one `Fetch`. */
export interface FetchSettings {
  /** 0 = read_uncommitted, 1 = read_committed. */
  isolationLevel: number;
  /** How long the broker may wait for `minBytes`, in ms. */
  maxWaitTime: number;
  minBytes: number;
  /** The most bytes of the whole answer. */
  maxBytes: number;
}

/**
 * Sends one `Fetch` for `partitions` (all led by `broker`) and returns the answer of each, in
 * the order asked. Throws only for the request as a whole (connection, request-level error);
 * a partition's error is in its `error`.
 */
export async function fetchFromBroker(broker: InternalBroker, settings: FetchSettings, partitions: FetchPartitionRequest[]): Promise<FetchedPartition[]> {
  const protocol = kafkajsFetchProtocol();
  const topics: FetchArgs['topics'] = [];
  for (const p of partitions) {
    const last = topics[topics.length - 1];
    const entry = { partition: p.partition, fetchOffset: String(p.offset), maxBytes: p.maxBytes };
    if (last !== undefined && last.topic === p.topic) last.partitions.push(entry);
    else topics.push({ topic: p.topic, partitions: [entry] });
  }
  const build = broker.lookupRequest(protocol.apiKey, protocol.definition);
  const request = build({ ...settings, topics } satisfies FetchArgs);
  const version = request.request.apiVersion;
  const kafkajsDecode = request.response.decode;
  const decoded = await sendRequest<DecodedResponse>(broker, {
    ...request,
    response: {
      decode: version >= 4 ? async (payload: Buffer) => decodeFetchResponse(payload, version) : async (payload: Buffer) => fromKafkajs(await kafkajsDecode(payload)),
      parse: async (d: unknown) => d as DecodedResponse,
    },
  });
  if (decoded.errorCode !== 0) throw protocol.createErrorFromCode(decoded.errorCode);
  const out: FetchedPartition[] = [];
  for (const p of partitions) {
    const data = decoded.partitions.get(`${p.partition}:${p.topic}`);
    out.push(
      data === undefined
        ? { topic: p.topic, partition: p.partition, error: undefined, highWatermark: p.offset, lastStableOffset: undefined, aborted: [], bytes: undefined, records: undefined }
        : { ...data, topic: p.topic, error: data.errorCode === 0 ? undefined : protocol.createErrorFromCode(data.errorCode) },
    );
  }
  return out;
}

/**
 * The records of a fetched partition at or after `offset`, ready to be read.
 * @param fetched the partition's answer, without error
 * @param offset the offset fetched
 */
export function recordSetOf(fetched: FetchedPartition, offset: number): Promise<RecordSet> | RecordSet {
  if (fetched.bytes !== undefined) return RecordSet.from(fetched.bytes, offset, fetched.aborted);
  return RecordSet.fromRecords(fetched.records ?? [], offset);
}

/** The kafkajs broker leading `topic/partition`, refreshing the metadata when none is known. */
export async function leaderBroker(cluster: InternalCluster, topic: string, partition: number): Promise<{ nodeId: string; broker: InternalBroker }> {
  await cluster.refreshMetadataIfNecessary();
  const leaders = cluster.findLeaderForPartitions(topic, [partition]);
  const nodeId = Object.keys(leaders)[0];
  if (nodeId === undefined) {
    await cluster.refreshMetadata();
    throw Object.assign(new Error(`no leader known for ${topic}/${partition}`), { retriable: true, type: 'LEADER_NOT_AVAILABLE' });
  }
  return { nodeId, broker: await cluster.findBroker({ nodeId }) };
}

/** Whether `err` means the metadata is stale (leadership moved, broker gone): refresh before retrying. */
export function isStaleMetadata(err: unknown): boolean {
  const type = (err as { type?: unknown } | undefined)?.type;
  const name = (err as { name?: unknown } | undefined)?.name;
  return (
    type === 'NOT_LEADER_FOR_PARTITION' ||
    type === 'LEADER_NOT_AVAILABLE' ||
    type === 'UNKNOWN_TOPIC_OR_PARTITION' ||
    type === 'FENCED_LEADER_EPOCH' ||
    name === 'KafkaJSConnectionError' ||
    name === 'KafkaJSBrokerNotFound'
  );
}

interface DecodedPartition {
  partition: number;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number | undefined;
  aborted: AbortedTransaction[];
  bytes: Buffer | undefined;
  records: RawPartitionData['messages'] | undefined;
}

interface DecodedResponse {
  throttleTime: number;
  clientSideThrottleTime: number | undefined;
  errorCode: number;
  /** By `"<partition>:<topic>"`. */
  partitions: Map<string, DecodedPartition>;
}

/**
 * Decodes a `Fetch` response of version 4 to 11 (the versions kafkajs implements), keeping each
 * partition's record set as a slice of `payload`.
 */
export function decodeFetchResponse(payload: Buffer, version: number): DecodedResponse {
  let at = 0;
  const int16 = () => ((at += 2), payload.readInt16BE(at - 2));
  const int32 = () => ((at += 4), payload.readInt32BE(at - 4));
  const int64 = () => ((at += 8), payload.readInt32BE(at - 8) * 4294967296 + payload.readUInt32BE(at - 4));
  const throttle = int32();
  let errorCode = 0;
  if (version >= 7) {
    errorCode = int16();
    at += 4; // session id
  }
  const partitions = new Map<string, DecodedPartition>();
  for (let topics = int32(); topics > 0; topics--) {
    const nameLength = int16();
    const topic = payload.toString('utf8', at, at + nameLength);
    at += nameLength;
    for (let n = int32(); n > 0; n--) {
      const partition = int32();
      const partitionError = int16();
      const highWatermark = int64();
      const lastStableOffset = int64();
      if (version >= 5) at += 8; // log start offset
      const aborted: AbortedTransaction[] = [];
      for (let a = int32(); a > 0; a--) {
        const producerId = payload.readBigInt64BE(at);
        at += 8;
        aborted.push({ producerId, firstOffset: int64() });
      }
      if (version >= 11) at += 4; // preferred read replica
      const size = int32();
      const bytes = size < 0 ? undefined : payload.subarray(at, Math.min(payload.length, at + size));
      if (size > 0) at += size;
      partitions.set(`${partition}:${topic}`, {
        partition,
        errorCode: partitionError,
        highWatermark,
        lastStableOffset: lastStableOffset < 0 ? undefined : lastStableOffset,
        aborted,
        bytes,
        records: undefined,
      });
    }
  }
  // As kafkajs: from v8 on, a throttle is the client's to apply (KIP-219).
  return version >= 8 ? { throttleTime: 0, clientSideThrottleTime: throttle, errorCode, partitions } : { throttleTime: throttle, clientSideThrottleTime: undefined, errorCode, partitions };
}

/** A kafkajs-decoded answer (`Fetch` before v4) in the same shape. */
function fromKafkajs(d: unknown): DecodedResponse {
  const res = d as { throttleTime?: number; responses: { topicName: string; partitions: RawPartitionData[] }[] };
  const partitions = new Map<string, DecodedPartition>();
  for (const t of res.responses) {
    for (const p of t.partitions) {
      partitions.set(`${p.partition}:${t.topicName}`, {
        partition: p.partition,
        errorCode: p.errorCode,
        highWatermark: Number(p.highWatermark),
        lastStableOffset: undefined,
        aborted: [],
        bytes: undefined,
        records: p.messages,
      });
    }
  }
  return { throttleTime: res.throttleTime ?? 0, clientSideThrottleTime: undefined, errorCode: 0, partitions };
}

/** How long a fetch may wait at the broker for new records when its partitions are caught up, in ms. */
export const LONG_POLL_MS = 500;

/** How a source's {@link SourceFetcher} reaches the brokers of `cluster`. */
export function clusterTransport(cluster: InternalCluster): FetchTransport<InternalBroker> {
  return {
    leader: (topic, partition) => leaderBroker(cluster, topic, partition),
    send: fetchFromBroker,
    records: recordSetOf,
    onError: async (err) => {
      if (!isStaleMetadata(err)) return false;
      await cluster.refreshMetadata().catch(() => undefined);
      return true;
    },
  };
}
