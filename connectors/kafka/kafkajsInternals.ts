/**
 * The few kafkajs internals the Kafka connectors need, checked at load time with a clear error.
 *
 * kafkajs has no manual partition assignment and does not expose a transactional producer's id
 * and epoch, so the connectors reach below its public API in three places: the `Cluster` a client
 * builds (leader lookup, single-partition `Fetch`, `ListOffsets`, `OffsetCommit` and the
 * transaction coordinator's `EndTxn`); the producer's `eosManager` and `messageProducer` modules
 * (to know a transaction's producer id and epoch, and resume it); and the `Fetch` request
 * definitions, a broker's private `sendRequest` and the protocol's error codes, so that the source
 * can send a `Fetch` whose answer it decodes itself (kafkajs decodes every record into objects and
 * strings up front, which costs more than the rest of the read path). All are stable across kafkajs
 * 2.2.x, its last release line.
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

/** A kafkajs protocol request: what to send, and how to decode and check the answer. */
export interface ProtocolRequest<T = unknown> {
  request: { apiKey: number; apiVersion: number; apiName: string };
  response: { decode(payload: Buffer): Promise<unknown>; parse(decoded: unknown): Promise<T> };
  requestTimeout?: number;
}

/** The arguments of a kafkajs `Fetch` request (any version). */
export interface FetchArgs {
  isolationLevel: number;
  maxWaitTime: number;
  minBytes: number;
  maxBytes: number;
  topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
}

/** The part of a kafkajs `Broker` the connectors use. */
export interface InternalBroker {
  /** The request builder of the highest version of `apiKey` that both kafkajs and the broker support. */
  lookupRequest(apiKey: number, definition: unknown): (args: object) => ProtocolRequest;
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

/** The kafkajs protocol modules the Fetch path of the source uses. */
export interface FetchProtocol {
  /** The `Fetch` api key and kafkajs's request definitions. */
  apiKey: number;
  definition: unknown;
  /** A kafkajs protocol error (`KafkaJSProtocolError`, with `type` and `retriable`) from a Kafka error code. */
  createErrorFromCode(code: number): Error;
}

let fetchProtocol: FetchProtocol | undefined;

/** The kafkajs `Fetch` definitions and error codes, checked once. */
export function kafkajsFetchProtocol(): FetchProtocol {
  if (fetchProtocol !== undefined) return fetchProtocol;
  try {
    const { requests } = kafkajsRequire('kafkajs/src/protocol/requests') as { requests: { Fetch: unknown } };
    const apiKeys = kafkajsRequire('kafkajs/src/protocol/requests/apiKeys') as { Fetch: number };
    const { createErrorFromCode } = kafkajsRequire('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): Error };
    if (requests.Fetch === undefined || typeof apiKeys.Fetch !== 'number' || typeof createErrorFromCode !== 'function') throw new Error('missing exports');
    fetchProtocol = { apiKey: apiKeys.Fetch, definition: requests.Fetch, createErrorFromCode };
    return fetchProtocol;
  } catch (err) {
    throw internalsError(`protocol modules: ${messageOf(err)}`);
  }
}

/**
 * Sends `request` through `broker` as its own methods do (a closed connection disconnects the
 * broker, so that the next request reconnects).
 */
export async function sendRequest<T>(broker: InternalBroker, request: ProtocolRequest<T>): Promise<T> {
  sendSymbol ??= findSymbol(broker, 'private:Broker:sendRequest');
  const send = (broker as unknown as Record<symbol, unknown>)[sendSymbol];
  if (typeof send !== 'function') throw internalsError('Broker sendRequest');
  return (await (send as (r: ProtocolRequest<T>) => Promise<T>).call(broker, request)) as T;
}

let sendSymbol: symbol | undefined;

/** The symbol named `description` on `obj`'s prototype chain (kafkajs keys its private methods so). */
function findSymbol(obj: object, description: string): symbol {
  for (let proto = Object.getPrototypeOf(obj) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const sym = Object.getOwnPropertySymbols(proto).find((s) => s.description === description);
    if (sym !== undefined) return sym;
  }
  throw internalsError(description);
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
