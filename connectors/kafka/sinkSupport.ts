/**
 * What the sink partitions share: their stored state, settings, and how items become messages.
 *
 * @internal
 * @module
 */

import type { Message } from 'kafkajs';
import { describeValue } from '../../src/errors.js';
import type { KafkaClientConfig, SharedClient, Where } from './client.js';
import { KafkaConnectorError, kafkaErrorType, messageOf } from './errors.js';
import type { KafkaSinkItem, KafkaSinkMessage } from './KafkaSink.js';
import type { KafkaSerde } from './serde.js';

/**
 * What a {@link KafkaSink} partition stores with each epoch.
 *
 * `null` when at-least-once; with `exactlyOnce`, the handle of the epoch's Kafka transaction, or
 * `pending: null` when the epoch wrote nothing. It is plain JSON, versioned by `v`.
 *
 * ## Example
 * ```ts
 * import type { KafkaSinkState } from 'weir/connectors/kafka';
 * const describe = (s: KafkaSinkState) => (s?.pending ? `epoch ${s.pending.epoch} in ${s.pending.transactionalId}` : 'nothing pending');
 * ```
 */
export type KafkaSinkState = { readonly v: 1; readonly pending: PendingTransaction | null } | null;

/**
 * The handle of an exactly-once epoch's Kafka transaction, flushed but perhaps not yet committed.
 *
 * A resumed run commits it with the stored producer id and epoch (see the protocol on
 * {@link KafkaSink}).
 *
 * ## Example
 * ```ts
 * import type { PendingTransaction } from 'weir/connectors/kafka';
 * const where = (t: PendingTransaction) => (t.probe ? `${t.probe.topic}/${t.probe.partition}@${t.probe.offset}` : 'no records');
 * ```
 */
export interface PendingTransaction {
  /** The epoch the transaction holds. */
  readonly epoch: number;
  /** Its transactional id. */
  readonly transactionalId: string;
  /** The producer id the coordinator gave that id. */
  readonly producerId: string;
  /** The producer epoch of that id when the transaction ran. */
  readonly producerEpoch: number;
  /** Where its first record went, to read the outcome from the log if need be. */
  readonly probe: { readonly topic: string; readonly partition: number; readonly offset: number } | null;
}

/** Checked sink options. @internal */
export interface SinkSettings<K, V> {
  topic: string;
  exactlyOnce: boolean;
  transactionalIdPrefix: string | undefined;
  transactionTimeoutMs: number;
  onExpiredTransaction: 'fail' | 'continue';
  producers: number;
  connectTimeoutMs: number;
  retry: KafkaClientConfig['retry'];
  key: Pick<KafkaSerde<K>, 'serialize'> | undefined;
  value: Pick<KafkaSerde<V>, 'serialize'> | undefined;
  compression: number;
}

/** What the sink hands its partitions. @internal */
export interface SinkPartInit<K, V> {
  stepId: string;
  part: string;
  client: SharedClient;
  settings: SinkSettings<K, V>;
  where: Where;
}

export const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);
export const COORDINATOR_BUSY = new Set(['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR']);
/** How long committing a transaction may keep failing with retriable errors. */
export const COMMIT_BUDGET_MS = 30_000;

/** Serializes sink items into kafkajs messages, with errors naming the step and the topic. */
export function toMessages<K, V>(items: KafkaSinkItem<K, V>[], s: SinkSettings<K, V>, stepId: string): Message[] {
  const out = new Array<Message>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    let msg: KafkaSinkMessage<K, V>;
    if (Array.isArray(item)) msg = { key: item[0] as K, value: item[1] as V };
    else if (item !== null && typeof item === 'object' && 'value' in item) msg = item as KafkaSinkMessage<K, V>;
    else {
      throw new KafkaConnectorError('serialize', `KafkaSink items must be { value, key?, partition?, headers? } or [key, value], got ${describeValue(item)}`, {
        stepId,
        topic: s.topic,
      });
    }
    const key = msg.key === undefined || msg.key === null ? null : encode(msg.key, s.key, 'key', s, stepId);
    const value = msg.value === null ? null : encode(msg.value, s.value, 'value', s, stepId);
    const m: Message = { key, value };
    if (msg.partition !== undefined) m.partition = msg.partition;
    if (msg.headers !== undefined) m.headers = msg.headers;
    if (msg.timestamp !== undefined) m.timestamp = String(msg.timestamp);
    out[i] = m;
  }
  return out;
}

function encode<T>(v: T, serde: Pick<KafkaSerde<T>, 'serialize'> | undefined, part: 'key' | 'value', s: SinkSettings<unknown, unknown>, stepId: string): Buffer | string {
  let bytes: unknown;
  try {
    bytes = serde === undefined ? v : serde.serialize(v);
  } catch (err) {
    throw new KafkaConnectorError('serialize', `the ${part} serializer threw on ${describeValue(v)} for topic '${s.topic}': ${messageOf(err)}`, {
      stepId,
      topic: s.topic,
      cause: err,
    });
  }
  if (typeof bytes === 'string' || Buffer.isBuffer(bytes)) return bytes;
  throw new KafkaConnectorError(
    'serialize',
    `the ${part} for topic '${s.topic}' must be a Buffer or a string${serde === undefined ? ` (or give the KafkaSink a ${part} serde, e.g. jsonSerde())` : ' from the serializer'}, got ${describeValue(bytes)}`,
    { stepId, topic: s.topic },
  );
}

/** Turns a produce failure into an error naming the step and the topic. */
export function produceError(err: unknown, messages: Message[], s: SinkSettings<unknown, unknown>, stepId: string): KafkaConnectorError {
  if (err instanceof KafkaConnectorError) return err;
  const type = kafkaErrorType(err);
  const where = { stepId, topic: s.topic, cause: err };
  if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
    let largest = 0;
    for (const m of messages) largest = Math.max(largest, Buffer.byteLength(m.value ?? '') + Buffer.byteLength(m.key ?? ''));
    return new KafkaConnectorError(
      'message_too_large',
      `topic '${s.topic}' refused a record as too large (the largest in the batch has ${largest} bytes of key and value); ` +
        "raise the topic's max.message.bytes, or write smaller records",
      where,
    );
  }
  if (type !== undefined && FENCED.has(type)) return fencedError(err, s, stepId);
  return new KafkaConnectorError('produce', `writing to topic '${s.topic}' failed: ${messageOf(err)}`, { ...where, retriable: (err as { retriable?: unknown }).retriable === true });
}

export function fencedError(err: unknown, s: SinkSettings<unknown, unknown>, stepId: string, id?: string): KafkaConnectorError {
  return new KafkaConnectorError(
    'fenced',
    `the exactly-once producer for topic '${s.topic}'${id === undefined ? '' : ` (transactional id '${id}')`} was fenced: another live producer took over its transactional id ` +
      `(is another instance of this flow running with the same transactionalIdPrefix?), or its transaction outlived transactionTimeoutMs (${s.transactionTimeoutMs} ms): ${messageOf(err)}`,
    { stepId, topic: s.topic, cause: err },
  );
}

