import { EOF } from 'weir/inputs';
import { KafkaSink, KafkaSource, stringSerde } from 'weir/connectors/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerUnavailableReason, startBroker, type TestBroker } from '../../support/kafka/broker.js';
import { consumeAll, createTopic, produce, uniqueTopic } from '../../support/kafka/helpers.js';

// These tests stop and restart a broker, so they run their own instead of the shared one.
describe.skipIf(brokerUnavailableReason() !== undefined)('Kafka connectors across a broker restart', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('a source partition keeps reading after the broker comes back, with no gap and no duplicate', async () => {
    const { brokers } = broker;
    const topic = uniqueTopic('restart-src');
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, Array.from({ length: 100 }, (_, i) => ({ value: String(i) })));
    const src = new KafkaSource<Buffer, string>(brokers, [topic], { value: stringSerde, batchSize: 10, pollIntervalMs: 20 });
    const part = await src.buildPart('flow.in', `${topic}/0`, undefined);
    const seen: string[] = [];
    const pull = async (until: number) => {
      const deadline = Date.now() + 60_000;
      while (seen.length < until && Date.now() < deadline) {
        const batch = await part.nextBatch();
        if (batch === EOF) throw new Error('unexpected EOF');
        seen.push(...batch.map((m) => m.value!));
        const awake = part.nextAwake();
        if (awake !== undefined) await new Promise((r) => setTimeout(r, Math.max(0, awake - Date.now())));
      }
    };
    await pull(50);
    await broker.restart();
    await produce(brokers, topic, Array.from({ length: 100 }, (_, i) => ({ value: String(100 + i) })));
    await pull(200);
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    expect(part.snapshot()).toBe(200);
    await part.close();
  });

  it('an exactly-once sink commits an epoch flushed before the broker restarted', async () => {
    const { brokers } = broker;
    const topic = uniqueTopic('restart-sink');
    await createTopic(brokers, topic, 1);
    const sink = new KafkaSink<string, string>(brokers, topic, { exactlyOnce: true, value: stringSerde });
    const part = (await sink.buildPart('flow.out', 'producer-0', undefined)) as Awaited<ReturnType<typeof sink.buildPart>> & {
      epochCommitted(epoch: number): Promise<void>;
    };
    await part.writeBatch([{ value: 'a' }, { value: 'b' }], 1);
    await part.snapshot(1);
    await broker.restart();
    await part.epochCommitted(1);
    await part.writeBatch([{ value: 'c' }], 2);
    await part.snapshot(2);
    await part.close?.();
    const got = await consumeAll(brokers, topic, { expected: 3 });
    expect(got.map((r) => r.value!.toString())).toEqual(['a', 'b', 'c']);
  });
});
