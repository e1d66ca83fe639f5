import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CrashReport, runUninterrupted, runWithCrashes, sizedToMachine } from '../../support/crashHarness.js';
import { tempDir } from './support.js';

/** Kills that landed in each test, reported at the end. */
const landed: Record<string, CrashReport & { lines: number }> = {};
afterAll(() => {
  for (const [name, r] of Object.entries(landed)) {
    console.log(`[crash] ${name}: ${r.lines} lines, ${r.kills} kills landed mid-run, ${r.runs} runs, ${r.durationMs} ms, seed ${r.seed}`);
  }
});

const LINES = 200_000;
const KILLS = 11;

function runningSumInput(lines = LINES): string {
  const p = join(tempDir(), 'in.txt');
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) parts.push(`k${(i * 7919) % 97} ${i % 1000}`);
  writeFileSync(p, parts.join('\n') + '\n');
  return p;
}

function csvInput(lines = LINES): string {
  const p = join(tempDir(), 'in.csv');
  const parts = ['id,city,amount,note'];
  const cities = ['Oslo', 'Lima', 'Pune', 'Kyiv', 'Nice', 'Baku', 'Cork'];
  for (let i = 0; i < lines; i++) {
    const note = i % 10 === 0 ? `"says ""hi"", then\nleaves ${i}"` : `n${i}`;
    parts.push(`${i},${cities[(i * 31) % cities.length]},${i % 500},${note}`);
  }
  writeFileSync(p, parts.join('\r\n') + '\r\n');
  return p;
}

async function check(
  name: string,
  flowSpec: string,
  makeInput: (lines: number) => string,
  { extraArgs = [] as string[], kills = KILLS, lines: fewest = LINES } = {},
): Promise<void> {
  const optsFor = (input: string) => {
    const makeEnv = (dir: string) => ({ WEIR_TEST_INPUT: input, WEIR_TEST_OUTPUT: join(dir, 'out.txt') });
    return { flowSpec, makeEnv, snapshotInterval: 0.05, partitions: 2, extraArgs };
  };
  const { base, opts, size: lines } = await sizedToMachine(
    fewest,
    async (lines) => {
      const opts = optsFor(makeInput(lines));
      return { base: await runUninterrupted(opts), opts };
    },
    { maxScale: 16 },
  );
  // Spread the kills over the flow's own running time, so that they land mid-run on any machine.
  const maxDelayMs = Math.max(20, base.activeMs / kills);
  const crashed = await runWithCrashes({ ...opts, kills, minDelayMs: maxDelayMs / 5, maxDelayMs });
  landed[name] = { ...crashed, lines };
  try {
    const want = readFileSync(join(base.workDir, 'out.txt'));
    const got = readFileSync(join(crashed.workDir, 'out.txt'));
    expect(want.toString('utf8').split('\n')).toHaveLength(lines + 1);
    expect(got.length, `seed ${crashed.seed}`).toBe(want.length);
    expect(got.equals(want), `seed ${crashed.seed}: output differs from the uninterrupted run`).toBe(true);
    // With background commits, epochs wait for the writer, and under load a resumed run may still
    // reach EOF before its kill: then fewer kills land.
    if (extraArgs.length === 0) expect(crashed.kills, `seed ${crashed.seed}`).toBe(kills);
    else expect(crashed.kills, `seed ${crashed.seed}`).toBeGreaterThanOrEqual(3);
  } finally {
    base.cleanup();
    crashed.cleanup();
  }
}

describe('file flows under SIGKILL, resumed with recovery', () => {
  it('a file-to-file running aggregate ends byte for byte as an uninterrupted run', async () => {
    await check('running sum', 'test/fixtures/files/runningSum.ts', runningSumInput);
  }, 120_000);

  it('with every commit on the background writer thread, a running aggregate ends byte for byte as an uninterrupted run', async () => {
    // Kills land while the writer thread is committing, and while epochs wait for it.
    // The first commit waits for the writer thread to start: a longer input leaves enough run after it.
    await check('running sum, background commits', 'test/fixtures/files/runningSum.ts', runningSumInput, {
      extraArgs: ['--background-commit-from', '0'],
      kills: 5,
      lines: 4 * LINES,
    });
  }, 120_000);

  it('a CSV-to-file flow ends byte for byte as an uninterrupted run', async () => {
    await check('csv totals', 'test/fixtures/files/csvTotals.ts', csvInput);
  }, 120_000);
});
