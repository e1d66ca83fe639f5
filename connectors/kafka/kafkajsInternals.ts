/**
 * The few kafkajs internals the Kafka connectors need, checked at load time with a clear error.
 *
 * kafkajs has no manual partition assignment and does not expose a transactional producer's id
 * and epoch, so the connectors reach below its public API in two places: the `Cluster` a client
 * builds (leader lookup, single-partition `Fetch`, `ListOffsets`, `OffsetCommit` and the
 * transaction coordinator's `EndTxn`), and the producer's `eosManager` and `messageProducer`
 * modules (to know a transaction's producer id and epoch, and resume it). Both are stable across
 * kafkajs 2.2.x, its last release line.
 *
 * @internal
 * @module
 */

import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import type { Kafka, Message, RecordMetadata } from 'kafkajs';
import type { KafkaClientConfig } from './client.js';
import { KafkaConnectorError, messageOf } from './errors.js';

/** A decoded record of a `Fetch` response (kafkajs `recordBatch/record/v0/decoder`). */
export interface RawRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
  isControlRecord: boolean;
  batchContext: { firstOffset: string; lastOffsetDelta: number; producerId: string; producerEpoch: number; inTransaction: boolean };
}

/** One partition of a `Fetch` response. */
export interface RawPartitionData {
  partition: number;
  errorCode: number;
  highWatermark: string;
  lastStableOffset?: string;
  abortedTransactions?: { producerId: string; firstOffset: string }[];
  messages: RawRecord[];
}

/** The part of a kafkajs `Broker` the connectors use. */
export interface InternalBroker {
  fetch(request: {
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: RawPartitionData[] }[] }>;
  endTxn(request: { producerId: number | string; producerEpoch: number; transactionalId: string; transactionResult: boolean }): Promise<unknown>;
  offsetCommit(request: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<{ responses: { topic: string; partitions: { partition: number; errorCode: number }[] }[] }>;
}

/** The part of a kafkajs `Cluster` the connectors use. */
export interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(request: { nodeId: string | number }): Promise<InternalBroker>;
  findGroupCoordinator(request: { groupId: string; coordinatorType?: number }): Promise<InternalBroker>;
  fetchTopicsOffset(
    topics: { topic: string; partitions: { partition: number }[]; fromBeginning?: boolean; fromTimestamp?: number }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/** The kafkajs transaction manager of one producer (`producer/eosManager`). */
export interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isInTransaction(): boolean;
  isInitialized(): boolean;
  getProducerId(): number | string;
  getProducerEpoch(): number;
}

/** `sendBatch` of a kafkajs message producer (`producer/messageProducer`). */
export type SendBatch = (request: {
  acks?: number;
  timeout?: number;
  compression?: number;
  topicMessages: { topic: string; messages: Message[] }[];
}) => Promise<RecordMetadata[]>;

/** The `Fetch` and `ListOffsets` isolation levels of the Kafka protocol. */
export const ISOLATION = { read_uncommitted: 0, read_committed: 1 } as const;
/** The transaction coordinator type of `FindCoordinator`. */
export const TRANSACTION_COORDINATOR = 1;

const kafkajsRequire = createRequire(import.meta.url);

function internalsError(what: string): KafkaConnectorError {
  let version = 'unknown';
  try {
    version = (kafkajsRequire('kafkajs/package.json') as { version: string }).version;
  } catch {
    // keep unknown
  }
  return new KafkaConnectorError(
    'config',
    `weir's Kafka connectors need kafkajs 2.2.x internals (${what}), which this kafkajs (${version}) does not have`,
  );
}

function privateMember(kafka: Kafka, description: string): unknown {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === description);
  if (sym === undefined) throw internalsError(description);
  return (kafka as unknown as Record<symbol, unknown>)[sym];
}

/** A new, unconnected kafkajs `Cluster` of `kafka`, with its settings (ssl, sasl, retry). */
export function newCluster(kafka: Kafka, isolationLevel: number): InternalCluster {
  const create = privateMember(kafka, 'private:Kafka:createCluster');
  if (typeof create !== 'function') throw internalsError('Kafka createCluster');
  const cluster = (create as (o: object) => InternalCluster)({
    metadataMaxAge: 300_000,
    allowAutoTopicCreation: false,
    maxInFlightRequests: null,
    isolationLevel,
  });
  for (const m of ['connect', 'addTargetTopic', 'findLeaderForPartitions', 'findBroker', 'findGroupCoordinator', 'fetchTopicsOffset'] as const) {
    if (typeof cluster[m] !== 'function') throw internalsError(`Cluster.${m}`);
  }
  return cluster;
}

/** A transactional producer whose id and epoch are known: the parts of a kafkajs producer. */
export function newTransactionalProducer(
  kafka: Kafka,
  cluster: InternalCluster,
  transactionalId: string,
  transactionTimeout: number,
  retry: KafkaClientConfig['retry'],
): { eos: EosManager; sendBatch: SendBatch } {
  const logger = privateMember(kafka, 'private:Kafka:logger') as { namespace(n: string): unknown };
  let createEosManager: (o: object) => EosManager;
  let createMessageProducer: (o: object) => { sendBatch: SendBatch };
  let createRetry: (o: object) => unknown;
  try {
    createEosManager = kafkajsRequire('kafkajs/src/producer/eosManager');
    createMessageProducer = kafkajsRequire('kafkajs/src/producer/messageProducer');
    createRetry = kafkajsRequire('kafkajs/src/retry');
  } catch (err) {
    throw internalsError(`producer modules: ${messageOf(err)}`);
  }
  const log = logger.namespace('weir.KafkaSink');
  const eos = createEosManager({ logger: log, cluster, transactionTimeout, transactional: true, transactionalId });
  const { sendBatch } = createMessageProducer({
    logger: log,
    cluster,
    partitioner: kafkajs.Partitioners.DefaultPartitioner(),
    eosManager: eos,
    idempotent: true,
    retrier: createRetry({ retries: 4, initialRetryTime: 300, maxRetryTime: 5_000, ...retry }),
    getConnectionStatus: () => 'connected',
  });
  for (const m of ['initProducerId', 'beginTransaction', 'commit', 'getProducerId', 'getProducerEpoch'] as const) {
    if (typeof eos[m] !== 'function') throw internalsError(`eosManager.${m}`);
  }
  return { eos, sendBatch };
}
