import { expect, it } from 'vitest';
import { consumeAll, createTopic, describeKafka, kafkaBrokers, produce, testKafka, uniqueTopic, withAdmin } from './helpers.js';

describeKafka('the test broker', () => {
  it('describes itself as one KRaft node', async () => {
    const cluster = await withAdmin(kafkaBrokers(), (admin) => admin.describeCluster());
    expect(cluster.brokers).toHaveLength(1);
  });

  it('keeps records with old timestamps: time-based retention is off', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('retention');
    await createTopic(brokers, topic, 1);
    const configs = await withAdmin(brokers, (admin) => admin.describeConfigs({ resources: [{ type: 2 /* TOPIC */, name: topic }], includeSynonyms: false }));
    const entry = configs.resources[0]!.configEntries.find((e) => e.configName === 'retention.ms');
    // Kafka's default, 604800000 (7 days), deletes 2024-stamped test data at a retention check.
    expect(entry?.configValue).toBe('-1');
  });

  it('round-trips 100 messages over 3 partitions', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('smoke');
    await createTopic(brokers, topic, 3);
    await produce(
      brokers,
      topic,
      Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 7}`, value: String(i) })),
    );
    const got = await consumeAll(brokers, topic, { expected: 100, settleMs: 500 });
    expect(got.map((r) => Number(r.value!.toString())).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    expect(new Set(got.map((r) => r.partition)).size).toBe(3);
  });

  it('shows a committed transaction to read_committed and hides an aborted one', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('txn');
    await createTopic(brokers, topic, 1);
    const producer = testKafka(brokers).producer({
      transactionalId: `${topic}-tx`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
      await aborted.abort();
      const committed = await producer.transaction();
      await committed.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
      await committed.commit();
    } finally {
      await producer.disconnect();
    }
    const readCommitted = await consumeAll(brokers, topic, { expected: 2 });
    expect(readCommitted.map((r) => r.value!.toString())).toEqual(['committed-1', 'committed-2']);
    const readUncommitted = await consumeAll(brokers, topic, { isolationLevel: 'read_uncommitted', expected: 4 });
    expect(readUncommitted.map((r) => r.value!.toString())).toEqual(['aborted-1', 'aborted-2', 'committed-1', 'committed-2']);
  });
});
