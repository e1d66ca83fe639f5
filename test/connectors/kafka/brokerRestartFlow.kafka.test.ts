import { Dataflow, runMain, type RunResult } from 'weir';
import { KafkaSink, KafkaSource, type KafkaSourceMessage, stringSerde } from 'weir/connectors/kafka';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerUnavailableReason, startBroker, type TestBroker } from '../../support/kafka/broker.js';
import { createTopic, uniqueTopic } from '../../support/kafka/helpers.js';
import { tempDir } from '../../support/tmp.js';
import { keyIndex, multiset, multisetDiff, produceKeyed, readCommitted } from './support.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// These tests stop and restart a broker, so they run their own instead of the shared one.
describe.skipIf(brokerUnavailableReason() !== undefined)('a Kafka-to-Kafka flow across a broker restart', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('keeps running across a broker restart, fails clearly or goes on across a broker crash, and a resume ends with exactly-once output', async () => {
    const { brokers } = broker;
    const input = uniqueTopic('restart-flow-in');
    const output = uniqueTopic('restart-flow-out');
    await createTopic(brokers, input, 3);
    await createTopic(brokers, output, 3);
    const CHUNK = 5_000;
    const value = (i: number) => `id${i}`;
    const chunks = [CHUNK, 2 * CHUNK, 4 * CHUNK]; // record i of each chunk has key k<keyIndex(i)> and value id<i>
    const dir = tempDir();
    initDbDir(dir, 2);

    /** input → running count per key → `<id>:<count>` → exactly-once sink. */
    const flowOf = (tail: boolean) => {
      const flow = new Dataflow('restart_flow');
      flow.pipe(
        op.input('in', new KafkaSource<string, string>(brokers, [input], { tail, key: stringSerde, value: stringSerde, batchSize: 100, pollIntervalMs: 20 })),
        op.keyOn('key', (m) => m.key!),
        op.statefulMap('count', (n: number | undefined, m: KafkaSourceMessage<string, string>) => [(n ?? 0) + 1, `${m.value}:${(n ?? 0) + 1}`]),
        op.output('out', new KafkaSink<string, string>(brokers, output, { exactlyOnce: true, transactionalIdPrefix: output, key: stringSerde, value: stringSerde })),
      );
      return flow;
    };

    const stop = new AbortController();
    let items = 0;
    let outcome: RunResult | Error | undefined;
    const running = runMain(flowOf(true), { epochInterval: 100, recovery: new RecoveryConfig(dir), signal: stop.signal, onProgress: (p) => (items = p.items) }).then(
      (r) => (outcome = r),
      (e: Error) => (outcome = e),
    );
    const waitFor = async (what: string, count: number, ms = 90_000) => {
      const deadline = Date.now() + ms;
      while (items < count && outcome === undefined) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${items} items)`);
        await sleep(20);
      }
    };

    // 1. A graceful restart while the flow waits for records: the flow must ride it out.
    await produceKeyed(brokers, input, chunks[0]!, 3, value);
    await waitFor('the first chunk', chunks[0]!);
    await broker.restart();
    await produceKeyed(brokers, input, chunks[1]!, 3, value);
    await waitFor('the second chunk', chunks[0]! + chunks[1]!);
    expect(outcome).toBeUndefined();
    expect(items).toBe(chunks[0]! + chunks[1]!);

    // 2. The broker killed (SIGKILL) while records flow: the flow goes on, or fails clearly.
    await produceKeyed(brokers, input, chunks[2]!, 3, value);
    await waitFor('the third chunk to start', chunks[0]! + chunks[1]! + 1);
    await broker.kill();
    await sleep(1_000);
    await broker.start();
    await waitFor('the third chunk', chunks[0]! + chunks[1]! + chunks[2]!);
    stop.abort();
    await running;
    if (outcome instanceof Error) {
      console.log(`[broker restart] the run failed when the broker was killed: ${outcome.message}`);
      expect(outcome.message).toMatch(/^step 'restart_flow\.(in|out)': /);
    } else {
      console.log(`[broker restart] the run survived a restart and a broker kill: ${JSON.stringify(outcome)}, ${items} items`);
      expect(outcome).toMatchObject({ reason: 'stopped' });
    }

    // 3. A batch run resumes from the store and reads whatever was not committed.
    const resumed = await runMain(flowOf(false), { epochInterval: 100, recovery: new RecoveryConfig(dir) });
    expect(resumed.reason).toBe('eof');

    // Every input record gave exactly one output record, with the running count of its key: no
    // gap, no double count, nothing lost or repeated around the restarts.
    const want = new Map<string, number>();
    const counts = new Map<string, number>();
    for (const size of chunks) {
      for (let i = 0; i < size; i++) {
        const key = `k${keyIndex(i)}`;
        const n = (counts.get(key) ?? 0) + 1;
        counts.set(key, n);
        want.set(`${value(i)}:${n}`, (want.get(`${value(i)}:${n}`) ?? 0) + 1);
      }
    }
    const got = await readCommitted(brokers, output);
    expect(multisetDiff(multiset(got), want)).toEqual([]);
    expect(got).toHaveLength(chunks[0]! + chunks[1]! + chunks[2]!);
  }, 240_000);
});
