import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dataflow, runMain, type RunResult } from 'weir';
import { KafkaConnectorError, KafkaSink, KafkaSource, type KafkaDeadLetter, type KafkaSinkMessage, type KafkaSourceMessage, jsonSerde, stringSerde } from 'weir/connectors/kafka';
import { AbortExecution, EOF, FixedPartitionedSource, type StatefulSourcePartition } from 'weir/inputs';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { TestingSink } from 'weir/testing';
import { expect, it } from 'vitest';
import { consumeAll, createTopic, describeKafka, kafkaBrokers, produce, uniqueTopic } from '../../support/kafka/helpers.js';
import { tempDir } from '../../support/tmp.js';
import { KEYS, produceKeyed, rejection, valuesByKey } from './support.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Wraps a source so that a test can end a run midway: after `after` items it either requests a
 * graceful stop (`stop`) or throws `AbortExecution` from the next read, which ends the run with
 * no final snapshot and no `close()`, as a crash would (`abort`). It keeps every partition, so
 * the test can close them after an aborted run.
 */
class Interrupting<T, S, E> extends FixedPartitionedSource<T, S, E> {
  readonly parts: StatefulSourcePartition<T, S, E>[] = [];
  private seen = 0;
  private state: 'armed' | 'abort' | 'done' = 'armed';

  constructor(
    private readonly inner: FixedPartitionedSource<T, S, E>,
    private readonly after: number,
    private readonly how: 'stop' | 'abort' | 'none',
    private readonly stop?: AbortController,
  ) {
    super();
  }

  listParts(): string[] | Promise<string[]> {
    return this.inner.listParts();
  }

  async buildPart(stepId: string, forPart: string, resume: S | undefined): Promise<StatefulSourcePartition<T, S, E>> {
    const p = await this.inner.buildPart(stepId, forPart, resume);
    this.parts.push(p);
    return {
      nextBatch: async () => {
        if (this.state === 'abort') {
          this.state = 'done';
          throw new AbortExecution('test: abort midway');
        }
        const batch = await p.nextBatch();
        if (batch !== EOF && this.state === 'armed' && (this.seen += batch.length) >= this.after) {
          if (this.how === 'stop') {
            this.state = 'done';
            this.stop!.abort();
          } else if (this.how === 'abort') {
            this.state = 'abort';
          }
        }
        return batch;
      },
      nextAwake: () => p.nextAwake?.(),
      snapshot: () => p.snapshot(),
      takeErrors: () => p.takeErrors?.() ?? [],
      epochCommitted: (epoch) => p.epochCommitted?.(epoch),
      close: () => p.close?.(),
    };
  }

  /** Closes every partition: after an aborted run, which leaves them open. */
  async closeAll(): Promise<void> {
    for (const p of this.parts.splice(0)) await p.close?.();
  }
}

/** The connector's error: the error itself, or the cause the runtime wrapped it in. */
function kafkaError(err: Error): KafkaConnectorError | undefined {
  if (err instanceof KafkaConnectorError) return err;
  return err.cause instanceof KafkaConnectorError ? err.cause : undefined;
}

describeKafka('Kafka flows through runMain', () => {
  it('twelve partitions, stopped gracefully and aborted midway, resume to exact per-key totals', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('flow-12');
    const COUNT = 36_000;
    const value = (i: number) => String(i % 1000);
    await createTopic(brokers, topic, 12);
    await produceKeyed(brokers, topic, COUNT, 12, value);
    const dir = tempDir();
    initDbDir(dir, 3);

    /** One run: a keyed running count and sum, each update as `<count>,<sum>`. */
    const run = async (after: number, how: 'stop' | 'abort' | 'none'): Promise<{ result: RunResult; out: [string, string][]; parts: number }> => {
      const stop = new AbortController();
      const source = new Interrupting(
        new KafkaSource<string, string>(brokers, [topic], { tail: false, key: stringSerde, value: stringSerde, batchSize: 100 }),
        after,
        how,
        stop,
      );
      const out: [string, string][] = [];
      const flow = new Dataflow('twelve');
      flow.pipe(
        op.input('in', source),
        op.keyOn('key', (m) => m.key!),
        op.statefulMap('sum', (acc: [number, number] | undefined, m: KafkaSourceMessage<string, string>) => {
          const next: [number, number] = [(acc?.[0] ?? 0) + 1, (acc?.[1] ?? 0) + Number(m.value)];
          return [next, `${next[0]},${next[1]}`];
        }),
        op.output('out', new TestingSink(out)),
      );
      const result = await runMain(flow, { epochInterval: 20, recovery: new RecoveryConfig(dir), signal: stop.signal });
      const parts = source.parts.length;
      if (result.reason === 'aborted') await source.closeAll();
      return { result, out, parts };
    };

    const first = await run(COUNT / 4, 'stop');
    expect(first.result.reason).toBe('stopped');
    expect(first.parts).toBe(12);
    const second = await run(COUNT / 4, 'abort');
    expect(second.result.reason).toBe('aborted');
    const third = await run(Infinity, 'none');
    expect(third.result.reason).toBe('eof');
    expect(third.result.firstEpoch).toBe(second.result.lastEpoch + 1);

    // Expected: per key, `<n>,<running sum>` for n = 1 .. records of the key.
    const expected = new Map<string, string[]>();
    for (const [key, values] of valuesByKey(COUNT, value)) {
      let sum = 0;
      expected.set(key, values.map((v, n) => `${n + 1},${(sum += Number(v))}`));
    }
    const byKey = (out: [string, string][]) => {
      const m = new Map<string, string[]>();
      for (const [k, v] of out) m.set(k, [...(m.get(k) ?? []), v]);
      return m;
    };
    const runs = [first, second, third].map((r) => byKey(r.out));
    expect(runs[0]!.size).toBeGreaterThan(0);
    expect(third.out.length).toBeLessThan(COUNT);
    for (const [key, want] of expected) {
      const [a = [], b = [], c = []] = runs.map((m) => m.get(key));
      // A graceful stop commits everything it emitted: the first run is an exact prefix, and the
      // second starts right after it.
      expect(a, key).toEqual(want.slice(0, a.length));
      expect(b, key).toEqual(want.slice(a.length, a.length + b.length));
      // The abort dropped the second run's uncommitted tail: the third run replays it from the
      // stored offsets and state, and ends exactly at the total.
      const start = want.indexOf(c[0]!);
      expect(start, key).toBeGreaterThanOrEqual(0);
      expect(start, key).toBeLessThanOrEqual(a.length + b.length);
      expect(c, key).toEqual(want.slice(start));
    }
    expect(runs[2]!.size).toBe(KEYS);
  });

  it('routes poison records to the dead-letter stream and a Kafka topic, and the run goes on to the end', async () => {
    const brokers = kafkaBrokers();
    const topic = uniqueTopic('flow-poison');
    const dlq = uniqueTopic('flow-poison-dlq');
    await createTopic(brokers, topic, 2);
    await createTopic(brokers, dlq, 1);
    const COUNT = 2_000;
    const poison = new Set([0, 17, 999, 1_000, 1_998]);
    await produce(
      brokers,
      topic,
      Array.from({ length: COUNT }, (_, i) => ({ key: `k${i % 10}`, value: poison.has(i) ? `{not json ${i}` : JSON.stringify({ n: i }), partition: i % 2 })),
    );
    const dir = tempDir();
    initDbDir(dir, 1);

    const good: [string, number][] = [];
    const dead: KafkaDeadLetter[] = [];
    const flow = new Dataflow('poison');
    const records = flow.pipe(
      op.input('in', new KafkaSource<string, { n: number }>(brokers, [topic], { tail: false, key: stringSerde, value: jsonSerde(), errors: 'stream', batchSize: 64 })),
    );
    records.pipe(
      op.keyOn('key', (m) => m.key!),
      op.statefulMap('sum', (sum: number | undefined, m: KafkaSourceMessage<string, { n: number }>) => [(sum ?? 0) + m.value!.n, (sum ?? 0) + m.value!.n]),
      op.output('out', new TestingSink(good)),
    );
    records.errors.pipe(op.inspect('seen', (_step, d) => void dead.push(d))).pipe(
      op.map(
        'dead_letter',
        (d): KafkaSinkMessage<string, Buffer> => ({
          key: `${d.topic}/${d.partition}@${d.offset}`,
          value: d.value,
          headers: { error: d.error.message, step: d.stepId },
        }),
      ),
      op.output('dlq', new KafkaSink<string, Buffer>(brokers, dlq)),
    );
    const result = await runMain(flow, { epochInterval: 50, recovery: new RecoveryConfig(dir) });
    expect(result.reason).toBe('eof');

    // Every good record was counted, the ones after the poison included.
    expect(good).toHaveLength(COUNT - poison.size);
    const totals = new Map<string, number>();
    for (let i = 0; i < COUNT; i++) if (!poison.has(i)) totals.set(`k${i % 10}`, (totals.get(`k${i % 10}`) ?? 0) + i);
    const last = new Map(good);
    expect(last).toEqual(totals);

    // The dead letters carry where they came from, the raw bytes and the error.
    const where = (i: number) => `${topic}/${i % 2}@${Math.floor(i / 2)}`;
    expect(dead.map((d) => `${d.topic}/${d.partition}@${d.offset}`).sort()).toEqual([...poison].map(where).sort());
    for (const d of dead) {
      expect(d.stepId).toBe('poison.in');
      expect(d.error).toMatchObject({ code: 'decode', topic, partition: d.partition, offset: d.offset });
      expect(d.error.message).toContain(`${topic}/${d.partition} offset ${d.offset}`);
      expect(d.value!.toString()).toMatch(/^\{not json \d+$/);
    }
    const landed = await consumeAll(brokers, dlq, { expected: poison.size });
    expect(landed.map((r) => r.key!.toString()).sort()).toEqual([...poison].map(where).sort());
    for (const r of landed) {
      expect(r.value!.toString()).toMatch(/^\{not json \d+$/);
      expect(r.headers!.error!.toString()).toContain('could not be decoded');
    }

    // Running again resumes after the end: no record, poison or not, is read twice.
    const again: unknown[] = [];
    const flow2 = new Dataflow('poison');
    const records2 = flow2.pipe(op.input('in', new KafkaSource<string, { n: number }>(brokers, [topic], { tail: false, key: stringSerde, value: jsonSerde(), errors: 'stream' })));
    records2.pipe(op.output('out', new TestingSink(again)));
    records2.errors.pipe(op.output('dlq', new TestingSink(again)));
    expect((await runMain(flow2, { epochInterval: 50, recovery: new RecoveryConfig(dir) })).reason).toBe('eof');
    expect(again).toEqual([]);
  });

  it('a missing input or output topic fails the run with the step and the topic named', async () => {
    const brokers = kafkaBrokers();
    const present = uniqueTopic('flow-present');
    const missing = uniqueTopic('flow-missing');
    await createTopic(brokers, present, 1);
    await produce(brokers, present, [{ value: 'x' }]);

    const source = new Dataflow('missing_in');
    source.pipe(op.input('in', new KafkaSource(brokers, [missing], { tail: false })), op.output('out', new TestingSink<unknown>([])));
    const e1 = await rejection(runMain(source, { epochInterval: 50 }));
    expect(e1.message).toMatch(new RegExp(`^step 'missing_in\\.in': KafkaSource: topic '${missing}' does not exist`));
    expect(kafkaError(e1)).toMatchObject({ code: 'missing_topic', topic: missing });

    const sink = new Dataflow('missing_out');
    sink.pipe(
      op.input('in', new KafkaSource(brokers, [present], { tail: false })),
      op.map('copy', (m): KafkaSinkMessage<Buffer, Buffer> => ({ value: m.value })),
      op.output('out', new KafkaSink(brokers, missing, { exactlyOnce: true })),
    );
    const e2 = await rejection(runMain(sink, { epochInterval: 50 }));
    expect(e2.message).toMatch(new RegExp(`^step 'missing_out\\.out': KafkaSink: topic '${missing}' does not exist`));
    expect(kafkaError(e2)).toMatchObject({ code: 'missing_topic', topic: missing });
  });

  it('an unreachable broker fails the run within the connect deadline, naming the step, the brokers and the topic', async () => {
    const dead = ['127.0.0.1:1'];
    const present = uniqueTopic('flow-unreachable-in');
    await createTopic(kafkaBrokers(), present, 1);
    const flowOf = (side: 'in' | 'out') => {
      const flow = new Dataflow(`unreachable_${side}`);
      flow.pipe(
        op.input('in', new KafkaSource(side === 'in' ? dead : kafkaBrokers(), [side === 'in' ? 'orders' : present], { tail: false, connectTimeoutMs: 4_000 })),
        op.map('copy', (m): KafkaSinkMessage<Buffer, Buffer> => ({ value: m.value })),
        op.output('out', new KafkaSink(dead, 'orders-out', { connectTimeoutMs: 4_000 })),
      );
      return flow;
    };
    for (const side of ['in', 'out'] as const) {
      const started = Date.now();
      const err = await rejection(runMain(flowOf(side), { epochInterval: 50 }));
      const elapsed = Date.now() - started;
      expect(err.message).toMatch(new RegExp(`^step 'unreachable_${side}\\.${side}': `));
      expect(err.message).toContain('127.0.0.1:1');
      expect(err.message).toContain(side === 'in' ? "'orders'" : "'orders-out'");
      // Bounded by the connect deadline (plus a margin), not by kafkajs's minutes of retries.
      expect(elapsed).toBeLessThan(20_000);
      expect(kafkaError(err)).toMatchObject({ code: 'unreachable', retriable: true });
    }
  });

  it('the command line prints the error naming the step and the missing topic, and exits 1', () => {
    const missing = uniqueTopic('cli-missing');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'weir.js'), 'run', 'test/fixtures/kafka/runningSum.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), WEIR_TEST_TOPIC: missing, WEIR_TEST_OUTPUT: join(tempDir(), 'out.txt') },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^weir: error: step 'kafka_running_sum\\.in': .*topic '${missing}' does not exist`, 'm'));
  });
});
