import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type CrashReport, runUninterrupted, runWithCrashes, sizedToMachine } from '../../support/crashHarness.js';
import { consumeAll, createTopic, describeKafka, kafkaBrokers, uniqueTopic } from '../../support/kafka/helpers.js';
import { linesByKey, multiset, multisetDiff, produceKeyed, readCommitted, valuesByKey } from './support.js';

/** Kills that landed in each test, reported at the end. */
const landed: Record<string, CrashReport> = {};
afterAll(() => {
  for (const [name, r] of Object.entries(landed)) {
    console.log(`[kafka crash] ${name}: ${r.kills} kills landed mid-run (${r.missed} missed), ${r.runs} runs, ${r.durationMs} ms, seed ${r.seed}`);
  }
});

describeKafka('Kafka flows under SIGKILL, resumed through the command line', () => {
  it('a keyed running aggregate over 200k records or more in 4 partitions ends with the state of an uninterrupted run', async () => {
    const brokers = kafkaBrokers();
    const KILLS = 8;
    const value = (i: number) => String(i % 1000);
    const { base, opts, size: COUNT } = await sizedToMachine(200_000, async (count) => {
      const topic = uniqueTopic('crash-sum');
      await createTopic(brokers, topic, 4);
      await produceKeyed(brokers, topic, count, 4, value);
      const makeEnv = (dir: string) => ({ KAFKA_BROKERS: brokers.join(','), WEIR_TEST_TOPIC: topic, WEIR_TEST_OUTPUT: join(dir, 'out.txt') });
      const opts = { flowSpec: 'test/fixtures/kafka/runningSum.ts', makeEnv, snapshotInterval: 0.05, partitions: 2 };
      return { base: await runUninterrupted(opts), opts };
    });
    // Spread the kills over the flow's own running time, so that they land mid-topic on any machine.
    const maxDelayMs = Math.max(30, base.activeMs / (KILLS + 1));
    const crashed = await runWithCrashes({ ...opts, kills: KILLS, minDelayMs: maxDelayMs / 4, maxDelayMs });
    landed[`running sum, ${COUNT} records`] = crashed;
    try {
      const read = (dir: string) => readFileSync(join(dir, 'out.txt'), 'utf8').split('\n').filter((l) => l !== '');
      const want = linesByKey(read(base.workDir));
      const got = linesByKey(read(crashed.workDir));
      expect(crashed.kills, `seed ${crashed.seed}`).toBeGreaterThanOrEqual(5);
      // What a correct run emits: per key, one `<count>,<sum>` line per record, in offset order.
      const expected = new Map<string, string[]>();
      for (const [key, values] of valuesByKey(COUNT, value)) {
        let sum = 0;
        expected.set(key, values.map((v, n) => `${n + 1},${(sum += Number(v))}`));
      }
      expect(want).toEqual(expected);
      // The file sink truncates to its stored offset, so the resumed output is exactly one line per
      // record: any gap or double count in the state shows as a differing line.
      for (const [key, lines] of expected) expect(got.get(key), `key ${key}, seed ${crashed.seed}`).toEqual(lines);
      expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    } finally {
      base.cleanup();
      crashed.cleanup();
    }
  }, 180_000);

  for (const [variant, extraArgs] of [
    ['', []],
    [', with every commit on the background writer thread', ['--background-commit-from', '0']],
  ] as [string, string[]][]) it(`the exactly-once sink shows every output record exactly once to read_committed after repeated SIGKILLs${variant}`, async () => {
    const brokers = kafkaBrokers();
    const KILLS = 6;
    const value = (i: number) => `id${i}`;
    // With background commits, the store commits on the writer thread; the sink sees no output of the
    // next epoch before that commit is done (it would commit the open Kafka transaction too early).
    const opts = { flowSpec: 'test/fixtures/kafka/eosCopy.ts', snapshotInterval: 0.05, partitions: 2, extraArgs };
    const { base, envBase, envCrash, size: COUNT } = await sizedToMachine(40_000, async (count) => {
      const input = uniqueTopic('crash-eos-in');
      await createTopic(brokers, input, 3);
      await produceKeyed(brokers, input, count, 3, value);
      const makeEnv = () => {
        const out = uniqueTopic('crash-eos-out');
        return { KAFKA_BROKERS: brokers.join(','), WEIR_TEST_TOPIC: input, WEIR_TEST_OUT_TOPIC: out, WEIR_TEST_TXN_PREFIX: out };
      };
      // The output topics must exist before the runs: the sink never creates one.
      const envBase = makeEnv();
      await createTopic(brokers, envBase.WEIR_TEST_OUT_TOPIC, 3);
      const envCrash = makeEnv();
      await createTopic(brokers, envCrash.WEIR_TEST_OUT_TOPIC, 3);
      return { base: await runUninterrupted({ ...opts, makeEnv: () => envBase }), envBase, envCrash };
    });
    // Each output record is `<id>:<running count of its key>`: unique, and dependent on the state.
    const want = new Map<string, number>();
    for (const values of valuesByKey(COUNT, value).values()) values.forEach((v, n) => want.set(`${v}:${n + 1}`, 1));

    const maxDelayMs = Math.max(50, base.activeMs / (KILLS + 2));
    const crashed = await runWithCrashes({ ...opts, makeEnv: () => envCrash, kills: KILLS, minDelayMs: maxDelayMs / 3, maxDelayMs });
    landed[`exactly-once sink${variant}, ${COUNT} records`] = crashed;
    try {
      expect(crashed.kills, `seed ${crashed.seed}`).toBeGreaterThanOrEqual(5);
      const uninterrupted = await readCommitted(brokers, envBase.WEIR_TEST_OUT_TOPIC);
      expect(multisetDiff(multiset(uninterrupted), want)).toEqual([]);
      const committed = await readCommitted(brokers, envCrash.WEIR_TEST_OUT_TOPIC);
      expect(multisetDiff(multiset(committed), want), `seed ${crashed.seed}`).toEqual([]);
      expect(committed).toHaveLength(COUNT);
      // The kills left aborted transactions behind: a read_uncommitted consumer sees their records too.
      const all = await consumeAll(brokers, envCrash.WEIR_TEST_OUT_TOPIC, { isolationLevel: 'read_uncommitted', idleMs: 2_000 });
      console.log(`[kafka crash] exactly-once sink: ${committed.length} committed records, ${all.length - committed.length} more in aborted transactions`);
    } finally {
      base.cleanup();
      crashed.cleanup();
    }
  }, 240_000);
});
