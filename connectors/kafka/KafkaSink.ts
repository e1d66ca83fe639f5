import type { IHeaders } from 'kafkajs';
import { FixedPartitionedSink, type StatefulSinkPartition } from '../../src/outputs.js';
import { stableHash64 } from '../../src/recovery/hash.js';
import { AtLeastOncePartition } from './AtLeastOncePartition.js';
import { checkBrokers, checkPositiveInt, type KafkaCommonOptions, newKafka, partitionCounts, SharedClient, type Where } from './client.js';
import { KafkaConnectorError } from './errors.js';
import { ExactlyOncePartition } from './ExactlyOncePartition.js';
import { ISOLATION } from './kafkajsInternals.js';
import type { KafkaSinkState, SinkSettings } from './sinkSupport.js';
import type { KafkaSerde } from './serde.js';

/**
 * One record for a {@link KafkaSink}.
 *
 * Without `partition`, Kafka's default partitioner places the record by its key (murmur2, as the
 * Java client does), or spreads keyless records. A `[key, value]` tuple is accepted as
 * `{ key, value }`.
 *
 * ## Example
 * ```ts
 * import type { KafkaSinkMessage } from 'weir/connectors/kafka';
 * const msg: KafkaSinkMessage<string, string> = { key: 'user-1', value: 'clicked', headers: { source: 'web' } };
 * ```
 */
export interface KafkaSinkMessage<K = Buffer | string, V = Buffer | string> {
  /** The key, encoded by the sink's key serde; `null` or absent for none. */
  readonly key?: K | null;
  /** The value, encoded by the sink's value serde; `null` for a tombstone. */
  readonly value: V | null;
  /** The Kafka partition to write to; absent to let the partitioner choose by key. */
  readonly partition?: number;
  /** Record headers. */
  readonly headers?: IHeaders;
  /** The record's timestamp, ms since the Unix epoch; absent for the time of sending. */
  readonly timestamp?: number;
}

/**
 * What a {@link KafkaSink} accepts: a message, or a `[key, value]` tuple.
 *
 * A tuple suits a keyed weir stream: its key becomes the record key.
 *
 * ## Example
 * ```ts
 * import type { KafkaSinkItem } from 'weir/connectors/kafka';
 * const items: KafkaSinkItem<string, string>[] = [['user-1', 'clicked'], { key: 'user-2', value: 'left', partition: 0 }];
 * ```
 */
export type KafkaSinkItem<K = Buffer | string, V = Buffer | string> = KafkaSinkMessage<K, V> | readonly [K, V];

/**
 * Options of {@link KafkaSink}.
 *
 * Every option is optional; the defaults write at-least-once through one producer, sending keys
 * and values that are already `Buffer`s or strings.
 *
 * ## Example
 * ```ts
 * import { KafkaSink, jsonSerde, stringSerde, type KafkaSinkOptions } from 'weir/connectors/kafka';
 * const options: KafkaSinkOptions<string, { count: number }> = {
 *   exactlyOnce: true,
 *   transactionalIdPrefix: 'counts-app',
 *   transactionTimeoutMs: 5 * 60_000,
 *   key: stringSerde,
 *   value: jsonSerde(),
 * };
 * const sink = new KafkaSink(['localhost:9092'], 'counts', options);
 * ```
 */
export interface KafkaSinkOptions<K = Buffer | string, V = Buffer | string> extends KafkaCommonOptions {
  /**
   * Write each epoch's output in one Kafka transaction per sink partition, made visible only once
   * weir's recovery store has committed that epoch. Consumers must read with `read_committed`.
   * Default `false`: at-least-once.
   */
  exactlyOnce?: boolean;
  /**
   * With `exactlyOnce`, the start of the transactional ids: `<prefix>.<sink partition>.<0|1>`.
   * It must be stable across restarts and unique to one running flow. Default `weir.<step id>`.
   */
  transactionalIdPrefix?: string;
  /**
   * With `exactlyOnce`, how long the broker keeps a transaction open before aborting it, in ms.
   * An epoch's transaction stays open from its first write until the epoch is committed (or, after
   * a crash, until the resumed run commits it), so this must exceed twice the epoch interval plus
   * any downtime you want to survive. At most the broker's `transaction.max.timeout.ms`
   * (15 minutes by default). Default 60 000.
   */
  transactionTimeoutMs?: number;
  /**
   * With `exactlyOnce`, what to do when a resumed run finds that the broker aborted a transaction
   * weir had recorded as committed (it timed out while weir was down): `'fail'` (the default)
   * stops with a `transaction_lost` error, `'continue'` accepts that epoch's output as lost.
   */
  onExpiredTransaction?: 'fail' | 'continue';
  /** How many sink partitions (and producers) to spread the output over. Keep it stable across runs. Default 1. */
  producers?: number;
  /** Encodes keys. Default: `Buffer`s and strings as they are. */
  key?: Pick<KafkaSerde<K>, 'serialize'>;
  /** Encodes values. Default: `Buffer`s and strings as they are. */
  value?: Pick<KafkaSerde<V>, 'serialize'>;
  /** Compress record batches: `'none'` (the default) or `'gzip'`. */
  compression?: 'none' | 'gzip';
}

/**
 * Writes to a Kafka topic: at-least-once, or exactly-once with `exactlyOnce: true`.
 *
 * Each item is a {@link KafkaSinkMessage} (or a `[key, value]` tuple); its key, partition,
 * headers and timestamp are honoured. Every write is acknowledged by all in-sync replicas before
 * the next batch. The sink never creates the topic: a missing one is a clear error at start.
 *
 * Delivery: at-least-once by default: after a crash, the output of the epochs since the last
 * committed one is written again. With `exactlyOnce`, every record is visible exactly once to a
 * `read_committed` consumer, whatever the crash point, by the protocol below.
 *
 * ## Exactly-once protocol
 *
 * weir's recovery store decides; Kafka follows. The store commits epoch `e` in one SQLite
 * transaction, and Kafka output of `e` becomes visible only after that, so there is a single
 * commit point and the replay after a crash never has to be identical to the first run (epochs
 * close on a timer, so it is not).
 *
 * 1. Sink partition `p` owns two transactional ids, `<prefix>.<p>.0` and `<prefix>.<p>.1`, and
 *    writes epoch `e` with id `e % 2`, one Kafka transaction per epoch. When a partition is built,
 *    every id not named by its stored state is initialised, which fences any zombie producer and
 *    aborts its open transaction.
 * 2. `writeBatch(items, e)` sends the records in transaction `e` and waits for the acks.
 * 3. `snapshot(e)`: the records are already flushed; it returns the transaction's handle
 *    `{ epoch, transactionalId, producerId, producerEpoch, probe }` (`probe`: the topic, partition
 *    and offset of its first record). The store commits it with epoch `e`.
 * 4. Once the store has committed `e` and fsynced it (`epochCommitted(e)`, or else the next call
 *    for a later epoch, or `close()`), the transaction is committed in Kafka. The runtime calls for
 *    epoch `e + 1` only after the store commits `e`; a runtime that pipelines epochs must call
 *    `epochCommitted`.
 * 5. On resume with a stored handle, the partition first commits that transaction with an `EndTxn`
 *    carrying the stored producer id and epoch (retried while the coordinator is busy). If the
 *    coordinator refuses the old producer epoch, the transaction's commit or abort marker is read
 *    at `probe` to learn what happened.
 *
 * Crash points:
 * - before `snapshot(e)` resolves, or after it but before the store commits `e`: the store
 *   resumes at `e`; the open transaction `e` is aborted when its id is initialised (step 1), or
 *   by the broker at its timeout; the replay writes `e` again. Nothing of the first attempt is seen.
 * - during the store commit: SQLite commits atomically, so this is one of the cases around it.
 * - after the store commits `e`, before or during the Kafka commit: the resumed run commits the
 *   stored handle (step 5); the replay starts at `e + 1`. Retrying `EndTxn` on a transaction that is
 *   already committed is harmless, and the alternating ids guarantee the handle's id carries no
 *   later transaction (id `e % 2` is reused for `e + 2` only after the store has committed `e + 1`).
 * - after the Kafka commit: as above; the stored handle is found committed.
 *
 * Limits: if the broker aborts transaction `e` on its timeout after the store committed `e` (weir
 * was down longer than `transactionTimeoutMs`), that epoch's output is lost: the resumed run finds
 * the abort marker and fails with a `transaction_lost` error (or goes on with
 * `onExpiredTransaction: 'continue'`). If the log no longer holds the probe offset (retention),
 * the outcome cannot be read and the transaction is taken as committed. Restoring an older backup
 * of the recovery store replays output that Kafka already shows. Consumers see an epoch's output
 * only after the store commits it: up to one epoch interval later than at-least-once.
 *
 * ## Example
 * ```ts
 * import { Dataflow } from 'weir';
 * import * as op from 'weir/operators';
 * import { KafkaSource, KafkaSink, jsonSerde, type KafkaSinkMessage } from 'weir/connectors/kafka';
 *
 * const flow = new Dataflow('copy');
 * flow.pipe(
 *   op.input('in', new KafkaSource(['localhost:9092'], ['orders'])),
 *   op.map('msg', (m): KafkaSinkMessage<Buffer, Buffer> => ({ key: m.key, value: m.value })),
 *   op.output('out', new KafkaSink(['localhost:9092'], 'orders-copy', { exactlyOnce: true })),
 * );
 * ```
 * @see {@link KafkaSource}
 */
export class KafkaSink<K = Buffer | string, V = Buffer | string> extends FixedPartitionedSink<KafkaSinkItem<K, V>, KafkaSinkState> {
  /** The bootstrap brokers. */
  readonly brokers: string[];
  /** The topic written to. */
  readonly topic: string;
  private readonly s: SinkSettings<K, V>;
  private readonly options: KafkaSinkOptions<K, V>;
  private client: SharedClient | undefined;
  private roundRobin = 0;

  /**
   * @param brokers bootstrap addresses, e.g. `['localhost:9092']`
   * @param topic the topic to write to; it must exist
   * @param options `exactlyOnce`, serdes, producers, kafkajs settings
   */
  constructor(brokers: string[], topic: string, options: KafkaSinkOptions<K, V> = {}) {
    super();
    this.brokers = checkBrokers('KafkaSink', brokers);
    if (typeof topic !== 'string' || topic === '') {
      throw new KafkaConnectorError('config', `KafkaSink: topic must be a topic name, got ${JSON.stringify(topic)}`);
    }
    this.topic = topic;
    this.options = options;
    this.s = settings(topic, options);
  }

  /**
   * The sink partitions, `producer-0` ... `producer-<n-1>`.
   * @returns their names
   */
  listParts(): string[] {
    return Array.from({ length: this.s.producers }, (_, i) => `producer-${i}`);
  }

  /**
   * Routes an item: by its `partition` when given, else by a stable hash of its key, else in turn.
   * @param item the item
   * @param partCount how many sink partitions there are
   * @returns the index of the sink partition
   */
  override partFn(item: KafkaSinkItem<K, V>, partCount: number): number {
    if (partCount <= 1) return 0;
    const msg = Array.isArray(item) ? { key: item[0], partition: undefined } : (item as KafkaSinkMessage<K, V>);
    if (typeof msg.partition === 'number') return msg.partition % partCount;
    const key = msg.key;
    if (key !== undefined && key !== null) {
      const text = Buffer.isBuffer(key) ? key.toString('latin1') : typeof key === 'string' ? key : JSON.stringify(key);
      return Number(stableHash64(text) % BigInt(partCount));
    }
    this.roundRobin = (this.roundRobin + 1) % partCount;
    return this.roundRobin;
  }

  /**
   * Connects, checks the topic and, with `exactlyOnce`, settles the transaction stored in
   * `resumeState` (see the protocol above) before any write.
   * @param stepId the output step's id, for error messages and the default transactional id prefix
   * @param forPart a name from `listParts()`
   * @param resumeState the state stored with the last committed epoch, or `undefined`
   * @returns the partition
   */
  async buildPart(stepId: string, forPart: string, resumeState: KafkaSinkState | undefined): Promise<StatefulSinkPartition<KafkaSinkItem<K, V>, KafkaSinkState>> {
    if (!this.listParts().includes(forPart)) {
      throw new KafkaConnectorError('config', `KafkaSink has no partition '${forPart}' (producers: ${this.s.producers}); keep the producers option stable across runs`, {
        stepId,
        topic: this.topic,
      });
    }
    this.client ??= new SharedClient('KafkaSink', newKafka(this.brokers, this.options.kafkaConfig, 'weir-kafka-sink'), ISOLATION.read_committed, this.brokers);
    const client = this.client;
    const where: Where = { what: 'KafkaSink', stepId, brokers: this.brokers, topics: [this.topic] };
    const admin = await client.admin(where, this.s.connectTimeoutMs);
    await partitionCounts(admin, [this.topic], where, this.s.connectTimeoutMs);
    const init = { stepId, part: forPart, client, settings: this.s, where };
    client.acquire();
    try {
      return this.s.exactlyOnce ? await ExactlyOncePartition.build(init, resumeState) : await AtLeastOncePartition.build(init);
    } catch (err) {
      await client.release();
      throw err;
    }
  }
}

function settings<K, V>(topic: string, o: KafkaSinkOptions<K, V>): SinkSettings<K, V> {
  const what = 'KafkaSink';
  const onExpired = o.onExpiredTransaction ?? 'fail';
  if (onExpired !== 'fail' && onExpired !== 'continue') {
    throw new KafkaConnectorError('config', `${what}: onExpiredTransaction must be 'fail' or 'continue', got ${JSON.stringify(onExpired)}`);
  }
  const compression = o.compression ?? 'none';
  if (compression !== 'none' && compression !== 'gzip') {
    throw new KafkaConnectorError('config', `${what}: compression must be 'none' or 'gzip', got ${JSON.stringify(compression)}`);
  }
  if (o.transactionalIdPrefix !== undefined && (typeof o.transactionalIdPrefix !== 'string' || o.transactionalIdPrefix === '')) {
    throw new KafkaConnectorError('config', `${what}: transactionalIdPrefix must be a non-empty string, got ${JSON.stringify(o.transactionalIdPrefix)}`);
  }
  return {
    topic,
    exactlyOnce: o.exactlyOnce === true,
    transactionalIdPrefix: o.transactionalIdPrefix,
    transactionTimeoutMs: checkPositiveInt(what, 'transactionTimeoutMs', o.transactionTimeoutMs, 60_000),
    onExpiredTransaction: onExpired,
    producers: checkPositiveInt(what, 'producers', o.producers, 1),
    connectTimeoutMs: checkPositiveInt(what, 'connectTimeoutMs', o.connectTimeoutMs, 20_000),
    retry: o.kafkaConfig?.retry,
    key: o.key,
    value: o.value,
    compression: compression === 'gzip' ? 1 : 0,
  };
}
