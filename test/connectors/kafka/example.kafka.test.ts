import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runUninterrupted, runWithCrashes, sizedToMachine } from '../../support/crashHarness.js';
import { createTopic, describeKafka, kafkaBrokers, produce, uniqueTopic } from '../../support/kafka/helpers.js';
import { readCommitted } from './support.js';

describeKafka('examples/kafka_counts.ts', () => {
  it('counts per key and 10-second window, exactly once to a read_committed consumer, through SIGKILLs', async () => {
    const brokers = kafkaBrokers();
    const t0 = Date.UTC(2024, 4, 1, 12, 0, 0);
    const users = ['ada', 'bob', 'cyd', 'dee', 'eve', 'fay', 'gus'];
    const ts = (i: number) => t0 + i * 20;
    const user = (i: number) => users[(i * 5) % 7]!;
    /** `count` clicks of 7 users, 20 ms of event time apart, in timestamp order per partition; what the windows must count. */
    const clicks = async (count: number) => {
      const input = uniqueTopic('example-in');
      await createTopic(brokers, input, 3);
      for (let start = 0; start < count; start += 10_000) {
        const n = Math.min(10_000, count - start);
        await produce(
          brokers,
          input,
          Array.from({ length: n }, (_, j) => ({ key: user(start + j), value: 'click', partition: (start + j) % 3, timestamp: String(ts(start + j)) })),
        );
      }
      const want = new Map<string, number>();
      for (let i = 0; i < count; i++) {
        const k = `${user(i)} ${new Date(Math.floor(ts(i) / 10_000) * 10_000).toISOString()}`;
        want.set(k, (want.get(k) ?? 0) + 1);
      }
      return { input, want };
    };

    // Partitions are read a batch at a time, so event time runs up to a batch (~60 s here) apart
    // across them: wait 2 minutes for stragglers, and no record is late.
    const opts = (input: string, out: string) => ({
      flowSpec: 'examples/kafka_counts.ts:getFlow(false)',
      makeEnv: () => ({ KAFKA_BROKERS: brokers.join(','), WEIR_IN_TOPIC: input, WEIR_OUT_TOPIC: out, WEIR_LATENESS_MS: '120000' }),
      snapshotInterval: 0.05,
    });
    const run = async (count: number) => {
      const { input, want } = await clicks(count);
      const outputs = [uniqueTopic('example-out'), uniqueTopic('example-out')];
      for (const t of outputs) await createTopic(brokers, t, 2);
      return { input, want, outputs, base: await runUninterrupted(opts(input, outputs[0]!)) };
    };
    // 30,000 clicks (10 minutes of event time), or more on a machine that reads them too fast for the kills.
    const { input, want, outputs, base, size: count } = await sizedToMachine(30_000, run);
    const check = async (out: string, workDir: string) => {
      expect(readFileSync(join(workDir, 'stdout.log'), 'utf8')).not.toMatch(/^late /m);
      const got = (await readCommitted(brokers, out)).map((v) => JSON.parse(v) as { key: string; start: string; end: string; count: number });
      // One record per user and window, with the exact count.
      expect(got).toHaveLength(want.size);
      expect(new Map(got.map((r) => [`${r.key} ${r.start}`, r.count]))).toEqual(want);
      expect(got.every((r) => Date.parse(r.end) - Date.parse(r.start) === 10_000)).toBe(true);
    };
    const KILLS = 3;
    const maxDelayMs = Math.max(30, base.activeMs / (KILLS + 1));
    const crashed = await runWithCrashes({ ...opts(input, outputs[1]!), kills: KILLS, minDelayMs: maxDelayMs / 3, maxDelayMs });
    try {
      console.log(`[example] kafka_counts, ${count} clicks: ${crashed.kills} kills landed (${crashed.missed} missed), ${crashed.runs} runs, seed ${crashed.seed}`);
      await check(outputs[0]!, base.workDir);
      await check(outputs[1]!, crashed.workDir);
      expect(crashed.kills, `seed ${crashed.seed}`).toBeGreaterThanOrEqual(1);
    } finally {
      base.cleanup();
      crashed.cleanup();
    }
  }, 180_000);
});
