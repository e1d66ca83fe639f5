import type { KafkaConnectorError } from './errors.js';

/**
 * Record headers as Kafka delivers them.
 *
 * Each value is a `Buffer`, or an array of them when the header name is repeated.
 *
 * ## Example
 * ```ts
 * import type { KafkaHeaders } from 'weir/connectors/kafka';
 * const traceId = (h: KafkaHeaders) => [h['trace-id']].flat()[0]?.toString();
 * ```
 */
export type KafkaHeaders = Record<string, Buffer | Buffer[]>;

/**
 * One record read by a {@link KafkaSource}.
 *
 * `key` and `value` are decoded by the source's serdes (raw `Buffer`s by default) and are `null`
 * when the record has none (a tombstone has a `null` value). `offset` and `timestamp` are plain
 * numbers: exact up to 2^53.
 *
 * ## Example
 * ```ts
 * import type { KafkaSourceMessage } from 'weir/connectors/kafka';
 * const describe = (m: KafkaSourceMessage<string, string>) => `${m.topic}/${m.partition}@${m.offset}: ${m.value}`;
 * ```
 */
export interface KafkaSourceMessage<K = Buffer, V = Buffer> {
  /** The decoded key, or `null`. */
  readonly key: K | null;
  /** The decoded value, or `null`. */
  readonly value: V | null;
  /** The topic. */
  readonly topic: string;
  /** The Kafka partition. */
  readonly partition: number;
  /** The record's offset in its partition. */
  readonly offset: number;
  /** The record's timestamp, ms since the Unix epoch (create or log-append time, as the topic says). */
  readonly timestamp: number;
  /** The record's headers. */
  readonly headers: KafkaHeaders;
}

/**
 * A record a {@link KafkaSource} could not decode, kept with `errors: 'stream'`.
 *
 * ## Example
 * ```ts
 * import type { KafkaDeadLetter } from 'weir/connectors/kafka';
 * const line = (d: KafkaDeadLetter) => `${d.topic}/${d.partition}@${d.offset}: ${d.error.message}`;
 * ```
 */
export interface KafkaDeadLetter {
  /** The full id of the input step. */
  readonly stepId: string;
  /** The topic. */
  readonly topic: string;
  /** The Kafka partition. */
  readonly partition: number;
  /** The record's offset. */
  readonly offset: number;
  /** The record's timestamp, ms since the Unix epoch. */
  readonly timestamp: number;
  /** The raw key. */
  readonly key: Buffer | null;
  /** The raw value. */
  readonly value: Buffer | null;
  /** The raw headers. */
  readonly headers: KafkaHeaders;
  /** What the deserializer threw, as a {@link KafkaConnectorError} with code `decode` and the cause. */
  readonly error: KafkaConnectorError;
}
