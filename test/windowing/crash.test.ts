import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { killAndResume, prng, weirSync } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

// About 5.5 s of paced input: each resumed run gets at most about 1.8 s further (its kill comes 0.9 to
// 2.1 s after it starts), so at least two kills land before the end, however fast the machine starts it.
const FLOW = 'examples/windowed_counts.ts:getFlow(250)';
const lines = (out: string) => out.split('\n').filter((l) => l !== '');

describe('windows under SIGKILL through the command line', () => {
  it('a killed and resumed run prints the same windows as an uninterrupted run, apart from resume-epoch duplicates', async () => {
    const clean = join(tempDir(), 'db');
    weirSync(['recovery', 'init', clean, '2']);
    const expected = weirSync(['run', FLOW, '-r', clean, '-s', '0.2', '-b', '0']);
    expect(expected.status).toBe(0);
    const want = lines(expected.stdout);
    expect(want.length).toBeGreaterThan(50);
    expect(want.some((l) => l.startsWith('late'))).toBe(false);

    const seed = Number(process.env.WEIR_CRASH_SEED ?? Date.now() % 100_000);
    const rand = prng(seed);
    const db = join(tempDir(), 'db');
    weirSync(['recovery', 'init', db, '2']);
    const { out, kills, code, err } = await killAndResume(['run', FLOW, '-r', db, '-s', '0.2', '-b', '0'], {
      rand,
      maxKills: 3,
      minDelay: 900,
      spread: 1200,
      maxRuns: 20,
    });
    expect(code, `seed ${seed}: ${err}`).toBe(0);
    expect(kills, `seed ${seed}`).toBeGreaterThanOrEqual(2);
    const got = lines(out);
    // Every window of the uninterrupted run, and nothing else; a line may repeat only as a replay.
    expect([...new Set(got)].sort(), `seed ${seed}`).toEqual([...new Set(want)].sort());
  }, 120_000);
});
