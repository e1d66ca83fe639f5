import kafkajs from 'kafkajs';
import type { Producer } from 'kafkajs';
import type { StatefulSinkPartition } from '../../src/outputs.js';
import { withDeadline } from './client.js';
import { KafkaConnectorError, messageOf } from './errors.js';
import type { KafkaSinkItem } from './KafkaSink.js';
import { type KafkaSinkState, produceError, type SinkPartInit, type SinkSettings, toMessages } from './sinkSupport.js';

/**
 * A sink partition that writes with a plain producer, acknowledged per batch: at-least-once.
 * @internal
 */
export class AtLeastOncePartition<K, V> implements StatefulSinkPartition<KafkaSinkItem<K, V>, KafkaSinkState> {
  private constructor(
    private readonly i: SinkPartInit<K, V>,
    private readonly producer: Producer,
  ) {}

  /** Connects a producer within the connect deadline. */
  static async build<K, V>(i: SinkPartInit<K, V>): Promise<AtLeastOncePartition<K, V>> {
    const producer = i.client.kafka.producer({
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: { retries: 4, initialRetryTime: 300, maxRetryTime: 5_000, ...i.settings.retry },
    });
    const deadline = i.settings.connectTimeoutMs;
    try {
      await withDeadline(producer.connect(), deadline, () => new Error(`no answer within ${deadline / 1000} s`));
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw new KafkaConnectorError('unreachable', `KafkaSink could not connect a producer to ${i.where.brokers.join(',')}: ${messageOf(err)}`, {
        stepId: i.stepId,
        topic: i.settings.topic,
        cause: err,
        retriable: true,
      });
    }
    return new AtLeastOncePartition(i, producer);
  }

  /** Sends the batch and waits for every in-sync replica's ack. */
  async writeBatch(items: KafkaSinkItem<K, V>[]): Promise<void> {
    if (items.length === 0) return;
    const s = this.i.settings;
    const messages = toMessages(items, s, this.i.stepId);
    try {
      await this.producer.sendBatch({ topicMessages: [{ topic: s.topic, messages }], acks: -1, compression: s.compression });
    } catch (err) {
      throw produceError(err, messages, s as SinkSettings<unknown, unknown>, this.i.stepId);
    }
  }

  /** Nothing to store: every write is already acknowledged. */
  snapshot(): KafkaSinkState {
    return null;
  }

  /** Disconnects the producer. */
  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    await this.i.client.release();
  }
}
