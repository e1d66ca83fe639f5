import { FixedPartitionedSource } from '../../src/inputs.js';
import {
  checkBrokers,
  checkPositiveInt,
  type KafkaCommonOptions,
  newKafka,
  partitionCounts,
  SharedClient,
  type Where,
  withDeadline,
} from './client.js';
import { KafkaConnectorError, messageOf } from './errors.js';
import { clusterTransport } from './fetchRecords.js';
import { type InternalBroker, type InternalCluster, ISOLATION } from './kafkajsInternals.js';
import { SourceFetcher } from './SourceFetcher.js';
import type { KafkaDeadLetter, KafkaSourceMessage } from './KafkaSourceMessage.js';
import { KafkaSourcePartition, type SourceSettings } from './KafkaSourcePartition.js';
import type { KafkaSerde } from './serde.js';

/**
 * Options of {@link KafkaSource}.
 *
 * Every option is optional; the defaults read every partition from the beginning, forever, with
 * `read_committed`, and fail the run on a record that cannot be decoded.
 *
 * ## Example
 * ```ts
 * import { KafkaSource, jsonSerde, type KafkaSourceOptions } from 'weir/connectors/kafka';
 * const options: KafkaSourceOptions<Buffer, { id: string }> = {
 *   startingOffset: 'end',
 *   value: jsonSerde(),
 *   errors: 'stream',
 *   groupId: 'orders-weir',
 *   kafkaConfig: { ssl: true, sasl: { mechanism: 'plain', username: 'u', password: 'p' } },
 * };
 * const source = new KafkaSource(['broker:9093'], ['orders'], options);
 * ```
 */
export interface KafkaSourceOptions<K = Buffer, V = Buffer> extends KafkaCommonOptions {
  /**
   * Where a partition with no stored position starts: the oldest record (`'beginning'`, the
   * default), the end (`'end'`: only records written after the start), or the first record at or
   * after a time (`{ timestamp }`, ms since the Unix epoch). A stored position always wins.
   */
  startingOffset?: 'beginning' | 'end' | { timestamp: number };
  /**
   * `true` (the default) reads forever, waiting for new records. `false` stops each partition
   * with EOF at the end offset it saw when it was built: a batch run over what is there.
   */
  tail?: boolean;
  /** The most records one `nextBatch()` returns. Default 1000. */
  batchSize?: number;
  /** The most bytes one fetch asks for, per partition (a request for several partitions asks for as many times that). At most two fetches per partition are held. Default 1 MiB. */
  maxBytes?: number;
  /** How long a caught-up partition waits before looking for new records, in ms. Default 50. */
  pollIntervalMs?: number;
  /** `read_committed` (the default) skips aborted and open transactions; `read_uncommitted` reads them. */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  /** Decodes record keys. Default: the raw `Buffer`. */
  key?: Pick<KafkaSerde<K>, 'deserialize'>;
  /** Decodes record values. Default: the raw `Buffer`. */
  value?: Pick<KafkaSerde<V>, 'deserialize'>;
  /**
   * What a record that cannot be decoded does: `'fail'` (the default) fails the run with an error
   * naming the topic, partition and offset; `'stream'` skips it and keeps it, with the error, for
   * the input step's `.errors` stream (see {@link KafkaSourcePartition.takeErrors}). A skipped
   * record is never read again, so a poison record cannot cause a crash loop.
   */
  errors?: 'fail' | 'stream';
  /**
   * A consumer group to report progress to: after every committed epoch, each partition commits
   * the offset stored with that epoch to the group, so lag tools see it. Resume never reads it.
   * The group must have no active members.
   */
  groupId?: string;
  /**
   * What to do when the stored position is no longer in the log (deleted by retention, or the
   * topic was recreated): restart at the oldest record (`'earliest'`, the default, as Kafka
   * Streams does), at the end (`'latest'`), or fail (`'fail'`).
   */
  offsetReset?: 'earliest' | 'latest' | 'fail';
  /** How long a partition may keep failing to fetch (broker down, leader moving) before the run fails, in ms. Default 60 000. */
  retryTimeoutMs?: number;
}

/**
 * Reads Kafka topics, one resumable partition per topic-partition.
 *
 * Each topic-partition is a weir partition named `"<topic>/<partition>"`; its snapshot is the
 * offset of the next record to read. Partitions pull: each `nextBatch()` hands out records from at
 * most one fetched chunk while at most one more fetch is in flight, so memory stays bounded and
 * nothing is read far ahead of the flow. The fetches of the partitions a broker leads share one
 * request at a time, and records are decoded only as they are handed out. Resume comes only from weir's recovery store, never from
 * a consumer group; `groupId` merely reports progress. Items are {@link KafkaSourceMessage}s; with
 * `errors: 'stream'`, records that cannot be decoded go to the input's `.errors` stream as
 * {@link KafkaDeadLetter}s.
 *
 * Delivery: exactly-once state with recovery. A resumed run re-reads from the offsets stored with
 * the last complete epoch, so no record is skipped and none is counted twice in state. With
 * `read_committed` (the default) records of aborted transactions are never seen.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { KafkaSource, jsonSerde } from 'weir/connectors/kafka';
 *
 * const flow = new Dataflow('orders');
 * flow.pipe(
 *   op.input('in', new KafkaSource(['localhost:9092'], ['orders'], { value: jsonSerde<{ total: number }>() })),
 *   op.map('total', (msg) => msg.value?.total ?? 0),
 * );
 * ```
 * @see {@link KafkaSink}
 */
export class KafkaSource<K = Buffer, V = Buffer> extends FixedPartitionedSource<KafkaSourceMessage<K, V>, number, KafkaDeadLetter> {
  /** The bootstrap brokers. */
  readonly brokers: string[];
  /** The topics read. */
  readonly topics: string[];
  private readonly s: SourceSettings<K, V>;
  private readonly options: KafkaSourceOptions<K, V>;
  private client: SharedClient | undefined;
  private counts: Map<string, number> | undefined;
  private fetcher: { cluster: InternalCluster; fetcher: SourceFetcher<InternalBroker> } | undefined;

  /**
   * @param brokers bootstrap addresses, e.g. `['localhost:9092']`
   * @param topics the topics to read; every one must exist
   * @param options starting offset, `tail`, batch size, serdes, error handling, kafkajs settings
   */
  constructor(brokers: string[], topics: string[], options: KafkaSourceOptions<K, V> = {}) {
    super();
    this.brokers = checkBrokers('KafkaSource', brokers);
    if (typeof topics === 'string') {
      throw new KafkaConnectorError('config', `KafkaSource: topics must be a list such as ['${topics}'], got the string ${JSON.stringify(topics)}`);
    }
    if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => typeof t !== 'string' || t === '' || t.includes('/'))) {
      throw new KafkaConnectorError('config', `KafkaSource: topics must be a non-empty list of topic names, got ${JSON.stringify(topics)}`);
    }
    this.topics = [...new Set(topics)];
    this.options = options;
    this.s = settings(options);
  }

  /**
   * Connects and lists every topic-partition, failing clearly for a topic that does not exist or
   * brokers that do not answer within `connectTimeoutMs`.
   * @returns the partition names, `"<topic>/<partition>"`
   */
  async listParts(): Promise<string[]> {
    this.counts = undefined;
    const counts = await this.partitionCounts(undefined);
    return this.topics.flatMap((t) => Array.from({ length: counts.get(t) ?? 0 }, (_, p) => `${t}/${p}`));
  }

  /**
   * Builds the partition `forPart` at its stored offset, or at `startingOffset` on a fresh start.
   * @param stepId the input step's id, for error messages
   * @param forPart a name from `listParts()`
   * @param resumeState the stored offset of the next record, or `undefined`
   * @returns the partition
   */
  async buildPart(stepId: string, forPart: string, resumeState: number | undefined): Promise<KafkaSourcePartition<K, V>> {
    const slash = forPart.lastIndexOf('/');
    const topic = forPart.slice(0, slash);
    const partition = Number(forPart.slice(slash + 1));
    if (slash < 0 || !this.topics.includes(topic) || !Number.isInteger(partition) || partition < 0) {
      throw new KafkaConnectorError('config', `KafkaSource has no partition '${forPart}'; it reads ${this.topics.join(', ')}`, { stepId });
    }
    if (resumeState !== undefined && (typeof resumeState !== 'number' || !Number.isInteger(resumeState) || resumeState < 0)) {
      throw new KafkaConnectorError('config', `the stored position of '${forPart}' is not an offset: ${JSON.stringify(resumeState)}`, { stepId, topic, partition });
    }
    const counts = await this.partitionCounts(stepId);
    if (partition >= (counts.get(topic) ?? 0)) {
      throw new KafkaConnectorError(
        'config',
        `topic '${topic}' has ${counts.get(topic)} partitions now, but the stored state has partition ${partition}: was the topic recreated?`,
        { stepId, topic, partition },
      );
    }
    const client = this.ensureClient();
    const where: Where = { what: 'KafkaSource', stepId, brokers: this.brokers, topics: this.topics };
    const cluster = await client.cluster(where, this.topics, this.s.connectTimeoutMs);
    const lookup = (spec: OffsetSpec) => lookupOffset(cluster, topic, partition, spec, where, this.s.connectTimeoutMs);
    const start = resumeState ?? (await lookup(startSpec(this.options.startingOffset)));
    const end = this.s.tail ? undefined : await lookup('latest');
    client.acquire();
    return new KafkaSourcePartition<K, V>({
      stepId,
      topic,
      partition,
      start,
      end,
      cluster,
      settings: this.s,
      fetcher: this.fetcherFor(cluster).partition(topic, partition),
      lookupOffset: lookup,
      release: () => client.release(),
    });
  }

  /** The fetcher the partitions built on `cluster` share (a new one once the client reconnects). */
  private fetcherFor(cluster: InternalCluster): SourceFetcher<InternalBroker> {
    if (this.fetcher?.cluster !== cluster) this.fetcher = { cluster, fetcher: new SourceFetcher(clusterTransport(cluster), this.s.isolation, this.s.maxBytes) };
    return this.fetcher.fetcher;
  }

  private ensureClient(): SharedClient {
    this.client ??= new SharedClient('KafkaSource', newKafka(this.brokers, this.options.kafkaConfig, 'weir-kafka-source'), this.s.isolation, this.brokers);
    return this.client;
  }

  private async partitionCounts(stepId: string | undefined): Promise<Map<string, number>> {
    if (this.counts !== undefined) return this.counts;
    const client = this.ensureClient();
    const where: Where = { what: 'KafkaSource', stepId, brokers: this.brokers, topics: this.topics };
    const admin = await client.admin(where, this.s.connectTimeoutMs);
    this.counts = await partitionCounts(admin, this.topics, where, this.s.connectTimeoutMs);
    return this.counts;
  }
}

function settings<K, V>(o: KafkaSourceOptions<K, V>): SourceSettings<K, V> {
  const what = 'KafkaSource';
  const errors = o.errors ?? 'fail';
  if (errors !== 'fail' && errors !== 'stream') throw new KafkaConnectorError('config', `${what}: errors must be 'fail' or 'stream', got ${JSON.stringify(errors)}`);
  const reset = o.offsetReset ?? 'earliest';
  if (!['earliest', 'latest', 'fail'].includes(reset)) {
    throw new KafkaConnectorError('config', `${what}: offsetReset must be 'earliest', 'latest' or 'fail', got ${JSON.stringify(reset)}`);
  }
  const iso = o.isolationLevel ?? 'read_committed';
  if (iso !== 'read_committed' && iso !== 'read_uncommitted') {
    throw new KafkaConnectorError('config', `${what}: isolationLevel must be 'read_committed' or 'read_uncommitted', got ${JSON.stringify(iso)}`);
  }
  startSpec(o.startingOffset);
  if (o.groupId !== undefined && (typeof o.groupId !== 'string' || o.groupId === '')) {
    throw new KafkaConnectorError('config', `${what}: groupId must be a non-empty string, got ${JSON.stringify(o.groupId)}`);
  }
  return {
    tail: o.tail ?? true,
    batchSize: checkPositiveInt(what, 'batchSize', o.batchSize, 1000),
    maxBytes: checkPositiveInt(what, 'maxBytes', o.maxBytes, 1024 * 1024),
    pollIntervalMs: checkPositiveInt(what, 'pollIntervalMs', o.pollIntervalMs, 50),
    retryTimeoutMs: checkPositiveInt(what, 'retryTimeoutMs', o.retryTimeoutMs, 60_000),
    connectTimeoutMs: checkPositiveInt(what, 'connectTimeoutMs', o.connectTimeoutMs, 20_000),
    isolation: ISOLATION[iso],
    key: o.key,
    value: o.value,
    errors,
    groupId: o.groupId,
    offsetReset: reset,
  };
}

/** Where to look an offset up: the log's start, its end, or the first record at a time. */
export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

function startSpec(s: KafkaSourceOptions['startingOffset']): OffsetSpec {
  if (s === undefined || s === 'beginning') return 'earliest';
  if (s === 'end') return 'latest';
  if (typeof s === 'object' && s !== null && typeof s.timestamp === 'number' && Number.isFinite(s.timestamp)) return { timestamp: s.timestamp };
  throw new KafkaConnectorError('config', `KafkaSource: startingOffset must be 'beginning', 'end' or { timestamp }, got ${JSON.stringify(s)}`);
}

async function lookupOffset(
  cluster: InternalCluster,
  topic: string,
  partition: number,
  spec: OffsetSpec,
  where: Where,
  deadlineMs: number,
): Promise<number> {
  const request = (s: OffsetSpec) => ({
    topic,
    partitions: [{ partition }],
    ...(s === 'earliest' ? { fromBeginning: true } : s === 'latest' ? { fromBeginning: false } : { fromTimestamp: s.timestamp }),
  });
  const fail = (cause?: unknown) =>
    new KafkaConnectorError('unreachable', `could not look up the ${typeof spec === 'object' ? `offset at ${spec.timestamp}` : `${spec} offset`} of ${topic}/${partition}${cause === undefined ? ` within ${deadlineMs / 1000} s` : `: ${messageOf(cause)}`}`, {
      stepId: where.stepId,
      topic,
      partition,
      cause,
      retriable: true,
    });
  const work = async () => {
    const [res] = await cluster.fetchTopicsOffset([request(spec)]);
    const offset = Number(res?.partitions.find((p) => p.partition === partition)?.offset);
    if (Number.isInteger(offset) && offset >= 0) return offset;
    if (typeof spec === 'object') return lookupOffset(cluster, topic, partition, 'latest', where, deadlineMs); // no record at or after the time
    throw new Error(`the broker answered ${JSON.stringify(res)}`);
  };
  try {
    return await withDeadline(work(), deadlineMs, () => fail());
  } catch (err) {
    throw err instanceof KafkaConnectorError ? err : fail(err);
  }
}
