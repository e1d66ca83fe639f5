import type { StatefulSinkPartition } from 'weir/outputs';
import { KafkaConnectorError, KafkaSink, type KafkaSinkItem, type KafkaSinkState, jsonSerde, stringSerde } from 'weir/connectors/kafka';
import { afterEach, expect, it } from 'vitest';
import { consumeAll, createTopic, describeKafka, kafkaBrokers, uniqueTopic } from '../../support/kafka/helpers.js';

type Part<K, V> = StatefulSinkPartition<KafkaSinkItem<K, V>, KafkaSinkState> & { epochCommitted(epoch: number): Promise<void>; close(): Promise<void> };

const toClose: Part<any, any>[] = [];
afterEach(async () => {
  for (const p of toClose.splice(0)) await p.close();
});

async function build<K, V>(sink: KafkaSink<K, V>, resume: KafkaSinkState | undefined, part = 'producer-0'): Promise<Part<K, V>> {
  const p = (await sink.buildPart('flow.out', part, resume)) as Part<K, V>;
  toClose.push(p);
  return p;
}

/** Drops a partition without closing it: its producers' state is gone, as after SIGKILL. */
function crash(p: Part<any, any>): void {
  toClose.splice(toClose.indexOf(p), 1);
}

const values = (records: { value: Buffer | null }[]) => records.map((r) => r.value!.toString());
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `v${from + i}`);

describeKafka('KafkaSink at-least-once', () => {
  it("writes each message's key, value, partition and headers, and tuples as [key, value]", async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('sink-alo');
    await createTopic(brokers, topic, 3);
    const sink = new KafkaSink<string, { n: number }>(brokers, topic, { value: jsonSerde() });
    const p = await build(sink, undefined);
    await p.writeBatch(
      [
        { key: 'a', value: { n: 1 }, partition: 2, headers: { h: 'x' } },
        { key: null, value: { n: 2 }, partition: 0 },
        ['b', { n: 3 }],
        { key: 'c', value: null, partition: 1 },
      ],
      1,
    );
    expect(await p.snapshot(1)).toBeNull();
    const got = await consumeAll(brokers, topic, { expected: 4 });
    expect(got).toHaveLength(4);
    const a = got.find((r) => r.key?.toString() === 'a')!;
    expect([a.partition, a.value!.toString(), a.headers!.h!.toString()]).toEqual([2, '{"n":1}', 'x']);
    expect(got.find((r) => r.key === null)!.partition).toBe(0);
    expect(got.find((r) => r.key?.toString() === 'b')!.value!.toString()).toBe('{"n":3}');
    expect(got.find((r) => r.key?.toString() === 'c')).toMatchObject({ partition: 1, value: null });
  });
});

describeKafka('KafkaSink exactly-once', () => {
  it('commits an epoch only after the store does, and a replayed epoch is seen exactly once after a crash', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('sink-eos');
    await createTopic(brokers, topic, 2);
    const sink = new KafkaSink<string, string>(brokers, topic, { exactlyOnce: true, value: stringSerde, key: stringSerde });
    const msgs = (from: number, to: number) => range(from, to).map((v, i) => ({ key: `k${(from + i) % 5}`, value: v }));

    // Run 1: epoch 1 is written, snapshotted, committed by the store, then committed in Kafka.
    const p1 = await build(sink, undefined);
    await p1.writeBatch(msgs(0, 50), 1);
    await p1.writeBatch(msgs(50, 100), 1);
    const state1 = await p1.snapshot(1);
    expect(state1!.pending).toMatchObject({ epoch: 1, transactionalId: 'weir.flow.out.producer-0.1' });
    expect(await consumeAll(brokers, topic, { expected: 1, timeoutMs: 1_500 })).toEqual([]); // not visible before the store commits
    let store = state1; // the recovery store commits epoch 1
    await p1.epochCommitted(1);
    // Epoch 2 is written but the process dies before its snapshot is stored.
    await p1.writeBatch(msgs(100, 150), 2);
    crash(p1);

    // Run 2 resumes from the store: epoch 2 is replayed, with different content boundaries.
    const p2 = await build(sink, store);
    await p2.writeBatch(msgs(100, 130), 2);
    await p2.writeBatch(msgs(130, 170), 2);
    store = await p2.snapshot(2);
    await p2.epochCommitted(2);
    await p2.writeBatch(msgs(170, 200), 3);
    store = await p2.snapshot(3);
    await p2.close(); // a clean end commits the last epoch

    const got = await consumeAll(brokers, topic, { expected: 200 });
    expect(values(got).sort()).toEqual(range(0, 200).sort());
  });

  it('commits a stored transaction that the crash left open, after the store committed its epoch', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('sink-eos-open');
    await createTopic(brokers, topic, 1);
    const sink = new KafkaSink<string, string>(brokers, topic, { exactlyOnce: true, value: stringSerde });
    const p1 = await build(sink, undefined);
    await p1.writeBatch(range(0, 10).map((value) => ({ value })), 7);
    const stored = await p1.snapshot(7); // the store commits epoch 7 ...
    crash(p1); // ... and the process dies before the Kafka commit
    expect(await consumeAll(brokers, topic, { expected: 1, timeoutMs: 1_500 })).toEqual([]);

    const p2 = await build(sink, stored); // resume at epoch 8: the stored transaction is committed first
    expect(values(await consumeAll(brokers, topic, { expected: 10 }))).toEqual(range(0, 10));
    await p2.writeBatch(range(10, 15).map((value) => ({ value })), 8);
    const stored2 = await p2.snapshot(8);
    crash(p2); // dies again, after the store commit of 8, before the Kafka commit

    // A third run resumes with the same handle twice (it crashes once more before storing anything new).
    const p3 = await build(sink, stored2);
    crash(p3);
    const p4 = await build(sink, stored2);
    await p4.writeBatch(range(15, 20).map((value) => ({ value })), 9);
    await p4.snapshot(9);
    await p4.close();
    expect(values(await consumeAll(brokers, topic, { expected: 20 }))).toEqual(range(0, 20));
  });

  it('resumes after a clean end with the last handle already committed', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('sink-eos-clean');
    await createTopic(brokers, topic, 1);
    const sink = new KafkaSink<string, string>(brokers, topic, { exactlyOnce: true, value: stringSerde });
    const p1 = await build(sink, undefined);
    await p1.writeBatch([{ value: 'a' }], 1);
    const stored = await p1.snapshot(1);
    await p1.close();
    const p2 = await build(sink, stored);
    await p2.writeBatch([{ value: 'b' }], 2);
    await p2.snapshot(2);
    await p2.close();
    expect(values(await consumeAll(brokers, topic, { expected: 2 }))).toEqual(['a', 'b']);
  });

  it('fails with transaction_lost when the broker aborted a stored transaction on its timeout', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('sink-eos-lost');
    await createTopic(brokers, topic, 1);
    const sink = new KafkaSink<string, string>(brokers, topic, { exactlyOnce: true, value: stringSerde, transactionTimeoutMs: 2_000 });
    const p1 = await build(sink, undefined);
    await p1.writeBatch([{ value: 'lost' }], 1);
    const stored = await p1.snapshot(1);
    crash(p1);
    // The broker aborts the transaction after its timeout (checked every few seconds).
    await new Promise((r) => setTimeout(r, 12_000));
    const err = await build(sink, stored).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaConnectorError);
    expect(err).toMatchObject({ code: 'transaction_lost', stepId: 'flow.out', topic });
    expect((err as Error).message).toMatch(/epoch 1.*transactionTimeoutMs/);
    const lenient = new KafkaSink<string, string>(brokers, topic, { exactlyOnce: true, value: stringSerde, onExpiredTransaction: 'continue' });
    const p2 = await build(lenient, stored);
    await p2.writeBatch([{ value: 'next' }], 2);
    await p2.snapshot(2);
    await p2.close();
    expect(values(await consumeAll(brokers, topic, { expected: 1 }))).toEqual(['next']);
  }, 60_000);

  it('reports a fenced producer when another live instance takes over its transactional id', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('sink-eos-fenced');
    await createTopic(brokers, topic, 1);
    const options = { exactlyOnce: true, value: stringSerde, transactionalIdPrefix: `${topic}-app` } as const;
    const first = await build(new KafkaSink<string, string>(brokers, topic, options), undefined);
    await first.writeBatch([{ value: 'one' }], 1);
    await build(new KafkaSink<string, string>(brokers, topic, options), undefined); // a second instance starts
    const err = await (async () => {
      await first.writeBatch([{ value: 'two' }], 1);
      await first.snapshot(1);
      await first.epochCommitted(1);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    crash(first);
    expect(err).toBeInstanceOf(KafkaConnectorError);
    expect(err).toMatchObject({ code: 'fenced', stepId: 'flow.out', topic });
    expect((err as Error).message).toContain('another live producer');
  });
});

describeKafka('KafkaSink bad input', () => {
  it('rejects brokers given as a string', () => {
    expect(() => new KafkaSink('localhost:9092' as unknown as string[], 't')).toThrow(/brokers must be a list such as \['localhost:9092'\]/);
  });

  it('fails clearly for a topic that does not exist', async () => {
    const topic = uniqueTopic('sink-missing');
    for (const exactlyOnce of [false, true]) {
      const err = await build(new KafkaSink(kafkaBrokers(), topic, { exactlyOnce }), undefined).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'missing_topic', stepId: 'flow.out', topic });
      expect((err as Error).message).toMatch(new RegExp(`^step 'flow.out': KafkaSink: topic '${topic}' does not exist`));
    }
  });

  it('names the step and topic when a value serializer throws or returns a non-string', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('sink-serde');
    await createTopic(brokers, topic, 1);
    const throwing = new KafkaSink<string, number>(brokers, topic, {
      value: {
        serialize: (n) => {
          if (n > 1) throw new Error('too big');
          return String(n);
        },
      },
    });
    const p = await build(throwing, undefined);
    await expect(p.writeBatch([{ value: 1 }, { value: 2 }], 1)).rejects.toMatchObject({
      code: 'serialize',
      stepId: 'flow.out',
      topic,
      message: expect.stringMatching(/^step 'flow.out': the value serializer threw on number 2 for topic '.*': too big$/),
    });
    const raw = await build(new KafkaSink(brokers, topic), undefined);
    await expect(raw.writeBatch([{ value: { a: 1 } as unknown as string }], 1)).rejects.toMatchObject({
      code: 'serialize',
      message: expect.stringContaining('must be a Buffer or a string (or give the KafkaSink a value serde, e.g. jsonSerde())'),
    });
    expect(await consumeAll(brokers, topic, { expected: 1, timeoutMs: 1_500 })).toEqual([]);
  });

  it('names the topic when a message is too large for the broker', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('sink-large');
    await createTopic(brokers, topic, 1);
    for (const exactlyOnce of [false, true]) {
      const p = await build(new KafkaSink(brokers, topic, { exactlyOnce }), undefined);
      await expect(p.writeBatch([{ value: Buffer.alloc(2 * 1024 * 1024, 1) }], 1)).rejects.toMatchObject({
        code: 'message_too_large',
        stepId: 'flow.out',
        topic,
        message: expect.stringContaining('max.message.bytes'),
      });
    }
  });
});
