import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killAndResume, prng, weirSpawn, weirSync } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const ITEMS = 200_000;
const KEYS = 50;

/** The final state an uninterrupted run must reach: per key, the sum and count. */
function expectedFinals(): string[] {
  const sums = new Map<string, { sum: number; count: number }>();
  for (let i = 0; i < ITEMS; i++) {
    const k = `k${i % KEYS}`;
    const s = sums.get(k) ?? { sum: 0, count: 0 };
    s.sum += i;
    s.count++;
    sums.set(k, s);
  }
  return [...sums].map(([k, v]) => `final ${k} ${v.sum} ${v.count}`).sort();
}

const finals = (out: string) => [...new Set(out.split('\n').filter((l) => l.startsWith('final ')))].sort();
const env = { WEIR_TEST_ITEMS: String(ITEMS), WEIR_TEST_KEYS: String(KEYS), WEIR_TEST_PAUSE_EVERY: '200' };

describe('crashes through the command line', () => {
  it('an uninterrupted run gives the expected final state', () => {
    const db = join(tempDir(), 'db');
    weirSync(['recovery', 'init', db, '3']);
    const r = weirSync(['run', 'test/fixtures/crash_sum.ts', '-r', db, '-s', '0.05', '-b', '0'], env);
    expect(r.status).toBe(0);
    expect(finals(r.stdout)).toEqual(expectedFinals());
  });

  it('SIGKILL at random moments, resumed to the end, gives exactly the final state of an uninterrupted run', async () => {
    const seed = Number(process.env.WEIR_CRASH_SEED ?? Date.now() % 100_000);
    const rand = prng(seed);
    const db = join(tempDir(), 'db');
    weirSync(['recovery', 'init', db, '3']);
    const { out, kills, code, err } = await killAndResume(['run', 'test/fixtures/crash_sum.ts', '-r', db, '-s', '0.05', '-b', '0'], {
      rand,
      maxKills: 6,
      minDelay: 300,
      spread: 1200,
      maxRuns: 40,
      env,
    });
    expect(err, `seed ${seed}`).toBe('');
    expect(code, `seed ${seed}`).toBe(0);
    expect(kills, `seed ${seed}`).toBeGreaterThanOrEqual(3);
    expect(finals(out), `seed ${seed}`).toEqual(expectedFinals());
  });

  it('SIGTERM stops at an epoch boundary with a final snapshot; a resume completes exactly', async () => {
    const db = join(tempDir(), 'db');
    weirSync(['recovery', 'init', db, '1']);
    const p = weirSpawn(['run', 'test/fixtures/crash_sum.ts', '-r', db, '-s', '0.05', '-b', '0'], env);
    // Let the flow start and run a while (a run takes seconds), then ask it to stop.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(p.child.exitCode, 'the flow ended before the signal').toBeNull();
    p.child.kill('SIGTERM');
    const { code } = await p.done;
    expect(code).toBe(0);
    expect(p.err()).toMatch(/stopping at the next epoch boundary/);
    expect(p.err()).toMatch(/stopped after epoch \d+/);
    expect(finals(p.out())).toEqual([]);
    const r = weirSync(['run', 'test/fixtures/crash_sum.ts', '-r', db, '-s', '0.05', '-b', '0'], env);
    expect(r.status).toBe(0);
    expect(finals(r.stdout)).toEqual(expectedFinals());
  });
});
