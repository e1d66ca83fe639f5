/**
 * The kafkajs plumbing the Kafka source and sink share: option checks, client defaults, bounded
 * connects and topic checks, and the client their partitions share.
 *
 * @internal
 * @module
 */

import kafkajs from 'kafkajs';
import type { Admin, Kafka, KafkaConfig } from 'kafkajs';
import { type InternalCluster, newCluster } from './kafkajsInternals.js';
import { KafkaConnectorError, messageOf } from './errors.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

/**
 * kafkajs client settings other than the broker list.
 *
 * `ssl`, `sasl`, `clientId`, timeouts, `retry`, `logLevel`, `logCreator`, `socketFactory`: passed
 * to kafkajs as they are, over weir's defaults.
 *
 * ## Example
 * ```ts
 * import { KafkaSource, type KafkaClientConfig } from 'weir/connectors/kafka';
 * const kafkaConfig: KafkaClientConfig = { ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } };
 * const source = new KafkaSource(['broker:9096'], ['orders'], { kafkaConfig });
 * ```
 */
export type KafkaClientConfig = Omit<KafkaConfig, 'brokers'>;

/**
 * Options every Kafka connector takes.
 *
 * The kafkajs client settings, and the deadline of the startup checks.
 *
 * ## Example
 * ```ts
 * import { KafkaSink, type KafkaCommonOptions } from 'weir/connectors/kafka';
 * const common: KafkaCommonOptions = { connectTimeoutMs: 10_000, kafkaConfig: { clientId: 'orders-app' } };
 * const sink = new KafkaSink(['localhost:9092'], 'orders-out', common);
 * ```
 */
export interface KafkaCommonOptions {
  /**
   * Extra kafkajs client settings (`ssl`, `sasl`, `clientId`, `connectionTimeout`, `retry`,
   * `logLevel`, ...). weir's defaults: `connectionTimeout` 3 s, `retry.retries` 4, logging off.
   */
  kafkaConfig?: KafkaClientConfig;
  /** How long connecting and the startup checks may take before failing clearly, in ms. Default 20 000. */
  connectTimeoutMs?: number;
}

/** Checks the broker list a user gave: an array of non-empty `host:port` strings. */
export function checkBrokers(what: string, brokers: unknown): string[] {
  if (typeof brokers === 'string') {
    throw new KafkaConnectorError(
      'config',
      `${what}: brokers must be a list such as ['${brokers}'], got the string ${JSON.stringify(brokers)}`,
    );
  }
  if (!Array.isArray(brokers) || brokers.length === 0 || brokers.some((b) => typeof b !== 'string' || b.trim() === '')) {
    throw new KafkaConnectorError('config', `${what}: brokers must be a non-empty list of 'host:port' strings, got ${JSON.stringify(brokers)}`);
  }
  return brokers.map((b: string) => b.trim());
}

/** Checks that `value` is a positive integer option. */
export function checkPositiveInt(what: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new KafkaConnectorError('config', `${what}: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A kafkajs client with weir's defaults under the user's settings. */
export function newKafka(brokers: string[], config: KafkaClientConfig | undefined, clientId: string): Kafka {
  return new KafkaClient({
    clientId,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    logLevel: logLevel.NOTHING,
    ...config,
    retry: { retries: 4, initialRetryTime: 300, maxRetryTime: 5_000, ...config?.retry },
    brokers,
  });
}

/** Rejects with `onTimeout()` when `promise` takes longer than `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where an error arose, for messages. */
export interface Where {
  what: string;
  stepId?: string | undefined;
  brokers: string[];
  /** The topics the source reads or the sink writes, named in connection errors. */
  topics?: string[] | undefined;
}

/** ` for topic 'a'` or ` for topics 'a', 'b'`, or nothing. */
function forTopics(where: Where): string {
  const t = where.topics ?? [];
  return t.length === 0 ? '' : ` for topic${t.length > 1 ? 's' : ''} ${t.map((x) => `'${x}'`).join(', ')}`;
}

/** Connects an admin client within the deadline, or fails with an `unreachable` error. */
export async function connectAdmin(kafka: Kafka, where: Where, deadlineMs: number): Promise<Admin> {
  const admin = kafka.admin();
  const unreachable = (cause?: unknown) =>
    new KafkaConnectorError(
      'unreachable',
      `${where.what}${forTopics(where)} could not connect to the Kafka brokers ${where.brokers.join(',')} within ${deadlineMs / 1000} s` +
        (cause === undefined ? '' : `: ${messageOf(cause)}`) +
        '; check the addresses, that the brokers run, and the ssl/sasl settings',
      { stepId: where.stepId, topic: where.topics?.[0], cause, retriable: true },
    );
  try {
    await withDeadline(admin.connect(), deadlineMs, () => unreachable());
    return admin;
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    if (err instanceof KafkaConnectorError) throw err;
    throw unreachable(err);
  }
}

/**
 * The partition count of each topic, failing with `missing_topic` for a topic the cluster does
 * not have (never waiting for it to appear).
 */
export async function partitionCounts(admin: Admin, topics: string[], where: Where, deadlineMs: number): Promise<Map<string, number>> {
  const work = async () => {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new KafkaConnectorError(
        'missing_topic',
        `${where.what}: topic${missing.length > 1 ? 's' : ''} ${missing.map((t) => `'${t}'`).join(', ')} ` +
          `do${missing.length > 1 ? '' : 'es'} not exist on ${where.brokers.join(',')} (or this client may not describe ${missing.length > 1 ? 'them' : 'it'}); ` +
          `create ${missing.length > 1 ? 'them' : 'it'} first: weir never creates topics`,
        { stepId: where.stepId, topic: missing[0] },
      );
    }
    const meta = await admin.fetchTopicMetadata({ topics });
    return new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  };
  try {
    return await withDeadline(work(), deadlineMs, () =>
      new KafkaConnectorError('unreachable', `${where.what}: the brokers ${where.brokers.join(',')} did not describe topics ${topics.join(', ')} within ${deadlineMs / 1000} s`, {
        stepId: where.stepId,
        retriable: true,
      }),
    );
  } catch (err) {
    if (err instanceof KafkaConnectorError) throw err;
    throw new KafkaConnectorError('unreachable', `${where.what}: could not describe topics ${topics.join(', ')}: ${messageOf(err)}`, {
      stepId: where.stepId,
      cause: err,
      retriable: true,
    });
  }
}

/** The kafkajs client the partitions of one source or sink share; disconnected when the last one closes. */
export class SharedClient {
  private adminP: Promise<Admin> | undefined;
  private clusterP: Promise<InternalCluster> | undefined;
  private refs = 0;

  constructor(
    private readonly what: string,
    readonly kafka: Kafka,
    private readonly isolation: number,
    private readonly brokers: string[],
  ) {}

  admin(where: Where, deadlineMs: number): Promise<Admin> {
    this.adminP ??= connectAdmin(this.kafka, where, deadlineMs).catch((err) => {
      this.adminP = undefined;
      throw err;
    });
    return this.adminP;
  }

  cluster(where: Where, topics: string[], deadlineMs: number): Promise<InternalCluster> {
    this.clusterP ??= (async () => {
      const cluster = newCluster(this.kafka, this.isolation);
      const unreachable = (cause?: unknown) =>
        new KafkaConnectorError('unreachable', `${this.what}${forTopics({ ...where, topics })} could not connect to ${this.brokers.join(',')} within ${deadlineMs / 1000} s${cause === undefined ? '' : `: ${messageOf(cause)}`}`, {
          stepId: where.stepId,
          topic: topics[0],
          cause,
          retriable: true,
        });
      try {
        await withDeadline(
          (async () => {
            await cluster.connect();
            for (const t of topics) await cluster.addTargetTopic(t);
          })(),
          deadlineMs,
          () => unreachable(),
        );
        return cluster;
      } catch (err) {
        await cluster.disconnect().catch(() => undefined);
        throw err instanceof KafkaConnectorError ? err : unreachable(err);
      }
    })().catch((err) => {
      this.clusterP = undefined;
      throw err;
    });
    return this.clusterP;
  }

  acquire(): void {
    this.refs++;
  }

  async release(): Promise<void> {
    if (--this.refs > 0) return;
    const [admin, cluster] = [this.adminP, this.clusterP];
    this.adminP = undefined;
    this.clusterP = undefined;
    await Promise.all([
      admin?.then((a) => a.disconnect()).catch(() => undefined),
      cluster?.then((c) => c.disconnect()).catch(() => undefined),
    ]);
  }
}
