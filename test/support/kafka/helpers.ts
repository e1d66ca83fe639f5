/**
 * Helpers for tests against the real Kafka broker that `globalSetup.ts` provides.
 *
 * ```ts
 * import { consumeAll, createTopic, describeKafka, kafkaBrokers, produce, uniqueTopic } from '../support/kafka/helpers.js';
 * describeKafka('my connector', () => {
 *   it('round-trips', async () => {
 *     const brokers = kafkaBrokers();
 *     const topic = uniqueTopic('roundtrip');
 *     await createTopic(brokers, topic, 3);
 *     await produce(brokers, topic, [{ value: 'a' }]);
 *     expect((await consumeAll(brokers, topic, { expected: 1 })).length).toBe(1);
 *   });
 * });
 * ```
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Admin, KafkaConfig, KafkaMessage, Message, Producer, ProducerConfig } from 'kafkajs';
import { describe, inject, type SuiteAPI } from 'vitest';

/** What `describe.skipIf(...)` returns. */
type SkippableDescribe = ReturnType<SuiteAPI['skipIf']>;

const { Kafka, logLevel, Partitioners } = kafkajs;

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** The test broker's bootstrap addresses; empty when the Kafka tests are skipped. */
export function kafkaBrokers(): string[] {
  return inject('kafkaBrokers') ?? [];
}

/** `describe`, skipped when there is no broker (see `globalSetup.ts`). */
export const describeKafka: SkippableDescribe = describe.skipIf(kafkaBrokers().length === 0);

let topicCounter = 0;

/** A topic name unique to this call: `weir-<prefix>-<pid>-<n>-<random>`. */
export function uniqueTopic(prefix: string): string {
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '_').slice(0, 80);
  topicCounter += 1;
  return `weir-${clean}-${process.pid}-${topicCounter}-${randomBytes(3).toString('hex')}`;
}

/** A quiet kafkajs client for tests. */
export function testKafka(brokers: string[], extra: Partial<KafkaConfig> = {}): InstanceType<typeof Kafka> {
  return new Kafka({
    clientId: 'weir-test',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 15_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
    ...extra,
  });
}

/** Runs `fn` with a connected admin client and disconnects it afterwards. */
export async function withAdmin<R>(brokers: string[], fn: (admin: Admin) => Promise<R>): Promise<R> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic and waits until every partition has a leader. */
export async function createTopic(brokers: string[], topic: string, partitions = 1): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
    for (let i = 0; i < 100; i++) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      const parts = meta?.topics[0]?.partitions ?? [];
      if (parts.length === partitions && parts.every((p) => p.leader >= 0)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`topic ${topic} did not get leaders for its ${partitions} partitions`);
  });
}

/** Runs `fn` with a connected producer and disconnects it afterwards. */
export async function withProducer<R>(
  brokers: string[],
  fn: (producer: Producer) => Promise<R>,
  config: ProducerConfig = {},
): Promise<R> {
  const producer = testKafka(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config });
  await producer.connect();
  try {
    return await fn(producer);
  } finally {
    await producer.disconnect();
  }
}

/**
 * Produces `messages` to `topic` (acks from all replicas) with an idempotent producer, so that a
 * retried request never writes a record twice.
 */
export async function produce(brokers: string[], topic: string, messages: Message[]): Promise<void> {
  await withProducer(
    brokers,
    async (p) => {
      await p.send({ topic, messages, acks: -1 });
    },
    { idempotent: true, maxInFlightRequests: 1 },
  );
}

/** A consumed record, flattened. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaMessage['headers'];
  timestamp: string;
}

/** Options for {@link consumeAll}. */
export interface ConsumeAllOptions {
  /** `read_committed` (default) hides aborted and open transactions. */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  /**
   * Stop once this many records arrived, after a further `settleMs` to catch extra ones
   * (duplicates). Without it, stop after `idleMs` with no new record.
   */
  expected?: number;
  /** Wait after reaching `expected`, in ms. Default 1000. */
  settleMs?: number;
  /** Quiet time that ends the read when `expected` is not given, in ms. Default 3000. */
  idleMs?: number;
  /** Hard limit, in ms; whatever arrived by then is returned. Default 30 s. */
  timeoutMs?: number;
}

/**
 * Reads `topic` from the beginning with a throw-away consumer group and returns every record, in
 * arrival order (per partition, offset order). It returns on `expected`/`idleMs`/`timeoutMs`,
 * never throws on a shortfall: the test asserts on what came back.
 */
export async function consumeAll(brokers: string[], topic: string, options: ConsumeAllOptions = {}): Promise<ConsumedRecord[]> {
  const { isolationLevel = 'read_committed', expected, settleMs = 1_000, idleMs = 3_000, timeoutMs = 30_000 } = options;
  const consumer = testKafka(brokers).consumer({
    groupId: `weir-test-${randomBytes(6).toString('hex')}`,
    readUncommitted: isolationLevel === 'read_uncommitted',
    maxWaitTimeInMs: 200,
    sessionTimeout: 10_000,
  });
  const records: ConsumedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let last = Date.now();
    let reachedAt: number | undefined;
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          records.push({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            headers: m.headers,
            timestamp: m.timestamp,
          });
        }
        if (batch.messages.length > 0) last = Date.now();
      },
    });
    const started = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      const now = Date.now();
      if (now - started > timeoutMs) break;
      if (expected !== undefined) {
        if (records.length >= expected) {
          reachedAt ??= now;
          if (now - reachedAt >= settleMs) break;
        }
      } else if (now - last >= idleMs) {
        break;
      }
    }
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** The committed end offset (high watermark) of each partition of `topic`. */
export async function endOffsets(brokers: string[], topic: string): Promise<Map<number, bigint>> {
  return withAdmin(brokers, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  });
}
