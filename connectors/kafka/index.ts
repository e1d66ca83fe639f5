/**
 * Kafka for weir: a resumable {@link KafkaSource} and a {@link KafkaSink} that can be
 * exactly-once, on kafkajs.
 *
 * ## Example
 * ```ts
 * import { KafkaSource, KafkaSink, jsonSerde } from 'weir/connectors/kafka';
 * const source = new KafkaSource(['localhost:9092'], ['in'], { value: jsonSerde() });
 * const sink = new KafkaSink(['localhost:9092'], 'out', { exactlyOnce: true, value: jsonSerde() });
 * ```
 * @module
 */
export { KafkaSource, type KafkaSourceOptions } from './KafkaSource.js';
export { KafkaSourcePartition } from './KafkaSourcePartition.js';
export type { KafkaSourceMessage, KafkaDeadLetter, KafkaHeaders } from './KafkaSourceMessage.js';
export { KafkaSink, type KafkaSinkOptions, type KafkaSinkMessage, type KafkaSinkItem } from './KafkaSink.js';
export type { KafkaSinkState, PendingTransaction } from './sinkSupport.js';
export { type KafkaSerde, jsonSerde, stringSerde, bytesSerde } from './serde.js';
export { KafkaConnectorError, type KafkaErrorCode } from './errors.js';
export type { KafkaClientConfig, KafkaCommonOptions } from './client.js';
