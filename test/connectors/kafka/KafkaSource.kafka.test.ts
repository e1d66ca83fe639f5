import { EOF } from 'weir/inputs';
import { KafkaConnectorError, KafkaSource, type KafkaSourceMessage, type KafkaSourcePartition, jsonSerde, stringSerde } from 'weir/connectors/kafka';
import { afterEach, expect, it } from 'vitest';
import { createTopic, describeKafka, kafkaBrokers, produce, testKafka, uniqueTopic, withAdmin } from '../../support/kafka/helpers.js';

const open: KafkaSourcePartition<any, any>[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
});

async function build<K, V>(src: KafkaSource<K, V>, part: string, resume: number | undefined): Promise<KafkaSourcePartition<K, V>> {
  const p = await src.buildPart('flow.in', part, resume);
  open.push(p);
  return p;
}

/** Calls nextBatch until EOF (or `maxItems`), honouring nextAwake like the runtime does. */
async function drain<K, V>(p: KafkaSourcePartition<K, V>, maxItems = Infinity, deadlineMs = 30_000): Promise<{ items: KafkaSourceMessage<K, V>[]; eof: boolean }> {
  const items: KafkaSourceMessage<K, V>[] = [];
  const deadline = Date.now() + deadlineMs;
  while (items.length < maxItems) {
    if (Date.now() > deadline) throw new Error(`drain timed out with ${items.length} items`);
    const batch = await p.nextBatch();
    if (batch === EOF) return { items, eof: true };
    items.push(...batch);
    const awake = p.nextAwake();
    if (awake !== undefined) await new Promise((r) => setTimeout(r, Math.max(0, awake - Date.now())));
  }
  return { items, eof: false };
}

describeKafka('KafkaSource', () => {
  it('reads every record of every partition with its key, value, headers, offset and timestamp, then EOF', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-basic');
    await createTopic(brokers, topic, 3);
    const t0 = Date.now();
    await produce(
      brokers,
      topic,
      Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }), partition: i % 3, headers: { n: String(i) } })),
    );
    const src = new KafkaSource<string, { i: number }>(brokers, [topic], { tail: false, key: stringSerde, value: jsonSerde(), batchSize: 4 });
    const parts = await src.listParts();
    expect(parts).toEqual([`${topic}/0`, `${topic}/1`, `${topic}/2`]);
    const all: KafkaSourceMessage<string, { i: number }>[] = [];
    for (const name of parts) {
      const p = await build(src, name, undefined);
      const { items, eof } = await drain(p);
      expect(eof).toBe(true);
      expect(items.map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => i));
      expect(p.snapshot()).toBe(10);
      all.push(...items);
    }
    expect(all.map((m) => m.value!.i).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const m7 = all.find((m) => m.value!.i === 7)!;
    expect(m7).toMatchObject({ key: 'k7', topic, partition: 1 });
    expect(m7.headers.n!.toString()).toBe('7');
    expect(m7.timestamp).toBeGreaterThanOrEqual(t0 - 1000);
  });

  it('resumes twelve partitions from their snapshots with no gap and no duplicate', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-12');
    await createTopic(brokers, topic, 12);
    const total = 1200;
    for (let chunk = 0; chunk < total; chunk += 300) {
      await produce(brokers, topic, Array.from({ length: 300 }, (_, i) => ({ key: `key-${chunk + i}`, value: String(chunk + i) })));
    }
    const src = new KafkaSource<string, string>(brokers, [topic], { tail: false, value: stringSerde, batchSize: 7, maxBytes: 512 });
    const names = await src.listParts();
    expect(names).toHaveLength(12);
    // First run: read part of each partition, snapshot, then "crash" (drop the partitions).
    const seen: string[] = [];
    const store = new Map<string, number>();
    for (const name of names) {
      const p = await build(src, name, undefined);
      const { items } = await drain(p, 20);
      seen.push(...items.map((m) => m.value!));
      store.set(name, p.snapshot());
      // Items read after the snapshot belong to an epoch that never committed: the replay re-reads them.
      await drain(p, 5);
    }
    // Resume from the stored offsets.
    const src2 = new KafkaSource<string, string>(brokers, [topic], { tail: false, value: stringSerde });
    for (const name of await src2.listParts()) {
      const p = await build(src2, name, store.get(name));
      const { items, eof } = await drain(p);
      expect(eof).toBe(true);
      seen.push(...items.map((m) => m.value!));
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('polled in turn as the runtime does, with fetches shared and prefetched, resumes every partition exactly at its stored offset', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-prefetch');
    await createTopic(brokers, topic, 4);
    const total = 4000;
    for (let chunk = 0; chunk < total; chunk += 1000) {
      await produce(brokers, topic, Array.from({ length: 1000 }, (_, i) => ({ value: String(chunk + i), partition: (chunk + i) % 4 })));
    }
    // Small fetches and batches: many shared requests, each partition's next one in flight while it hands out the last.
    const options = { tail: false, value: stringSerde, batchSize: 13, maxBytes: 1024 } as const;
    const src = new KafkaSource<Buffer, string>(brokers, [topic], options);
    const names = await src.listParts();
    const parts = await Promise.all(names.map((n) => build(src, n, undefined)));
    const committed: KafkaSourceMessage<Buffer, string>[] = [];
    let epoch: KafkaSourceMessage<Buffer, string>[] = [];
    const store = new Map<string, number>();
    for (let round = 1; round <= 30; round++) {
      for (const p of parts) {
        const batch = await p.nextBatch();
        if (batch !== EOF) epoch.push(...batch);
      }
      if (round % 7 === 0) {
        // An epoch closes: every partition's snapshot is stored with what it handed out so far.
        names.forEach((n, i) => store.set(n, parts[i]!.snapshot()));
        committed.push(...epoch);
        epoch = [];
      }
    }
    expect(epoch.length).toBeGreaterThan(0); // read after the last snapshot: replayed on resume
    for (const [i, n] of names.entries()) {
      const mine = committed.filter((m) => m.partition === i);
      expect(store.get(n)).toBe(mine.length === 0 ? 0 : mine[mine.length - 1]!.offset + 1);
    }
    const src2 = new KafkaSource<Buffer, string>(brokers, [topic], options);
    const resumed = await Promise.all(names.map((n) => build(src2, n, store.get(n))));
    const live = new Set(resumed);
    const first = new Map<number, number>();
    const after: KafkaSourceMessage<Buffer, string>[] = [];
    while (live.size > 0) {
      for (const p of live) {
        const batch = await p.nextBatch();
        if (batch === EOF) {
          live.delete(p);
          continue;
        }
        if (batch.length > 0 && !first.has(p.partition)) first.set(p.partition, batch[0]!.offset);
        after.push(...batch);
        const awake = p.nextAwake();
        if (awake !== undefined) await new Promise((r) => setTimeout(r, Math.max(0, awake - Date.now())));
      }
    }
    for (const [i, n] of names.entries()) expect(first.get(i)).toBe(store.get(n));
    const values = [...committed, ...after].map((m) => Number(m.value));
    expect(values).toHaveLength(total);
    expect(new Set(values).size).toBe(total);
    for (let i = 0; i < 4; i++) {
      const offsets = [...committed, ...after].filter((m) => m.partition === i).map((m) => m.offset);
      expect(offsets).toEqual(Array.from({ length: total / 4 }, (_, k) => k));
    }
  });

  it('with tail: true waits for new records without blocking, starting at the end when asked', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-tail');
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, [{ value: 'old' }]);
    const src = new KafkaSource<Buffer, string>(brokers, [topic], { startingOffset: 'end', value: stringSerde, pollIntervalMs: 20 });
    const p = await build(src, `${topic}/0`, undefined);
    expect(p.snapshot()).toBe(1);
    const t = Date.now();
    expect(await p.nextBatch()).toEqual([]);
    expect(Date.now() - t).toBeLessThan(2_000);
    expect(p.nextAwake()).toBeGreaterThan(Date.now() - 1_000);
    await produce(brokers, topic, [{ value: 'new-1' }, { value: 'new-2' }]);
    const { items } = await drain(p, 2);
    expect(items.map((m) => m.value)).toEqual(['new-1', 'new-2']);
    expect(p.snapshot()).toBe(3);
  });

  it('tailing eight caught-up partitions, sees a new record on any of them within about one long poll', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-tail-many');
    await createTopic(brokers, topic, 8);
    const src = new KafkaSource<Buffer, string>(brokers, [topic], { startingOffset: 'end', value: stringSerde, pollIntervalMs: 20 });
    const parts = await Promise.all((await src.listParts()).map((n) => build(src, n, undefined)));
    /** Polls the partitions as the runtime does (each when its nextAwake is due) until `until` says stop. */
    const run = async (ms: number, until: (m: KafkaSourceMessage<Buffer, string>) => boolean = () => false) => {
      const awake = new Map<KafkaSourcePartition<Buffer, string>, number>();
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        for (const p of parts) {
          if ((awake.get(p) ?? 0) > Date.now()) continue;
          const batch = await p.nextBatch();
          if (batch !== EOF && batch.some(until)) return true;
          awake.set(p, p.nextAwake() ?? 0);
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      return false;
    };
    await run(1_500); // every partition caught up, polling
    for (const partition of [7, 3, 0]) {
      const t = Date.now();
      await produce(brokers, topic, [{ value: `new-${partition}`, partition }]);
      expect(await run(10_000, (m) => m.value === `new-${partition}`)).toBe(true);
      // One fetch per partition would queue up to eight long polls of 500 ms on the broker's connection.
      expect(Date.now() - t).toBeLessThan(1_000);
    }
  });

  it('starts at a timestamp', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-ts');
    await createTopic(brokers, topic, 1);
    const base = Date.now() - 60_000;
    await produce(brokers, topic, Array.from({ length: 5 }, (_, i) => ({ value: String(i), timestamp: String(base + i * 1000) })));
    const src = new KafkaSource<Buffer, string>(brokers, [topic], { startingOffset: { timestamp: base + 2500 }, tail: false, value: stringSerde });
    const { items } = await drain(await build(src, `${topic}/0`, undefined));
    expect(items.map((m) => m.value)).toEqual(['3', '4']);
  });

  it('skips aborted transactions with read_committed and still reaches EOF', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-txn');
    await createTopic(brokers, topic, 1);
    const producer = testKafka(brokers).producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const [values, commit] of [[['a', 'b'], true], [['x', 'y'], false], [['c'], true]] as const) {
        const tx = await producer.transaction();
        await tx.send({ topic, messages: values.map((value) => ({ value })) });
        await (commit ? tx.commit() : tx.abort());
      }
    } finally {
      await producer.disconnect();
    }
    const committed = new KafkaSource<Buffer, string>(brokers, [topic], { tail: false, value: stringSerde });
    const p = await build(committed, `${topic}/0`, undefined);
    const { items, eof } = await drain(p);
    expect(eof).toBe(true);
    expect(items.map((m) => m.value)).toEqual(['a', 'b', 'c']);
    expect(p.snapshot()).toBe(p.endOffset);
    const uncommitted = new KafkaSource<Buffer, string>(brokers, [topic], { tail: false, value: stringSerde, isolationLevel: 'read_uncommitted' });
    const { items: all } = await drain(await build(uncommitted, `${topic}/0`, undefined));
    expect(all.map((m) => m.value)).toEqual(['a', 'b', 'x', 'y', 'c']);
  });

  it("routes poison records to the error list with errors: 'stream'", async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-poison');
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, [{ value: '{"ok":1}' }, { value: 'not json' }, { value: '{"ok":2}' }, { value: Buffer.from([0xff, 0xfe]) }]);
    const src = new KafkaSource<Buffer, { ok: number }>(brokers, [topic], { tail: false, value: jsonSerde(), errors: 'stream' });
    const p = await build(src, `${topic}/0`, undefined);
    const { items, eof } = await drain(p);
    expect(eof).toBe(true);
    expect(items.map((m) => m.value!.ok)).toEqual([1, 2]);
    expect(p.snapshot()).toBe(4);
    const dead = p.takeErrors();
    expect(dead.map((d) => [d.topic, d.partition, d.offset])).toEqual([
      [topic, 0, 1],
      [topic, 0, 3],
    ]);
    expect(dead[0]!.value!.toString()).toBe('not json');
    expect(dead[0]!.error).toBeInstanceOf(KafkaConnectorError);
    expect(dead[0]!.error.message).toMatch(/step 'flow.in'.*offset 1/);
    expect(p.takeErrors()).toEqual([]);
  });

  it("fails on a poison record with errors: 'fail', naming the step, topic and offset, without moving past it", async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-poison-fail');
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, [{ value: '1' }, { value: '{' }]);
    const src = new KafkaSource(brokers, [topic], { tail: false, value: jsonSerde<number>() });
    const p = await build(src, `${topic}/0`, undefined);
    const err = await drain(p).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaConnectorError);
    expect(err).toMatchObject({ code: 'decode', stepId: 'flow.in', topic, partition: 0, offset: 1 });
    expect((err as Error).message).toContain(`step 'flow.in'`);
    expect((err as Error).message).toContain(`${topic}/0 offset 1`);
    expect(p.snapshot()).toBe(0);
  });

  it('commits the stored offsets to groupId after each committed epoch, without joining the group', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-group');
    const groupId = `${topic}-group`;
    await createTopic(brokers, topic, 2);
    await produce(brokers, topic, Array.from({ length: 10 }, (_, i) => ({ value: String(i), partition: i % 2 })));
    const src = new KafkaSource(brokers, [topic], { tail: false, groupId, batchSize: 3 });
    const p0 = await build(src, `${topic}/0`, undefined);
    await drain(p0, 3);
    expect(p0.snapshot()).toBe(3);
    await drain(p0, 1);
    await p0.epochCommitted(1);
    const offsets = await withAdmin(brokers, (admin) => admin.fetchOffsets({ groupId, topics: [topic] }));
    expect(offsets[0]!.partitions.find((x) => x.partition === 0)!.offset).toBe('3');
  });

  it('resets a stored offset that is no longer in the log to the earliest one', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('src-reset');
    await createTopic(brokers, topic, 1);
    await produce(brokers, topic, [{ value: 'a' }, { value: 'b' }]);
    const src = new KafkaSource<Buffer, string>(brokers, [topic], { tail: false, value: stringSerde });
    const { items } = await drain(await build(src, `${topic}/0`, 50));
    expect(items).toEqual([]); // past the end offset seen at start: EOF at once
    const tailing = new KafkaSource<Buffer, string>(brokers, [topic], { value: stringSerde });
    const { items: again } = await drain(await build(tailing, `${topic}/0`, 50), 2);
    expect(again.map((m) => m.value)).toEqual(['a', 'b']);
    const strict = new KafkaSource(brokers, [topic], { offsetReset: 'fail' });
    await expect(drain(await build(strict, `${topic}/0`, 50), 1)).rejects.toMatchObject({ code: 'offset_out_of_range', topic });
  });
});

describeKafka('KafkaSource bad input', () => {
  it('rejects brokers given as a string', () => {
    expect(() => new KafkaSource('localhost:9092' as unknown as string[], ['t'])).toThrow(/brokers must be a list such as \['localhost:9092'\]/);
    expect(() => new KafkaSource(['localhost:9092'], 't' as unknown as string[])).toThrow(/topics must be a list/);
  });

  it('fails clearly and quickly for a topic that does not exist', async () => {
    const topic = uniqueTopic('src-missing');
    const src = new KafkaSource(kafkaBrokers(), [topic]);
    const t = Date.now();
    const err = await src.listParts().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaConnectorError);
    expect(err).toMatchObject({ code: 'missing_topic', topic });
    expect((err as Error).message).toContain(`topic '${topic}' does not exist`);
    expect(Date.now() - t).toBeLessThan(10_000);
  });

  it('fails clearly within the connect deadline when no broker answers', async () => {
    const src = new KafkaSource(['127.0.0.1:1'], ['anything'], { connectTimeoutMs: 15_000 });
    const t = Date.now();
    const err = await src.listParts().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaConnectorError);
    expect(err).toMatchObject({ code: 'unreachable', retriable: true });
    expect((err as Error).message).toContain('127.0.0.1:1');
    expect(Date.now() - t).toBeLessThan(20_000);
  });
});
