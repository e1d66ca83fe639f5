import { afterEach, describe, expect, it, vi } from 'vitest';
import { runMain } from 'weir';
import { RecoveryConfig } from 'weir/recovery';
import { getFlow } from '../../examples/windowed_counts.js';
import { tempDb } from './support.js';

/** Runs a flow and returns what it printed, one entry per line. */
async function printed(run: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string, cb?: (err?: Error) => void) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    cb?.();
    return true;
  }) as never);
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe('examples/windowed_counts.ts', () => {
  it('counts words per 5-second window of event time', async () => {
    const lines = await printed(() => runMain(getFlow(), { epochInterval: 0 }));
    expect(lines).toContain("['00:00:00', 'to', 3]");
    expect(lines).toContain("['00:00:15', 'to', 5]");
    expect(lines).toContain("['00:00:05', 'of', 2]");
    expect(lines.some((l) => l.startsWith('late'))).toBe(false);
    const total = lines.reduce((n, l) => n + Number(/, (\d+)\]$/.exec(l)![1]), 0);
    expect(total).toBe(117); // every word of the file, none late (Bytewax 0.21 prints the same 101 counts)
  });

  it('prints nothing more when run again with recovery after the end of input', async () => {
    const db = tempDb(1);
    const recovery = new RecoveryConfig(db);
    const first = await printed(() => runMain(getFlow(), { epochInterval: 0, recovery }));
    expect(first.length).toBeGreaterThan(50);
    const again = await printed(() => runMain(getFlow(), { epochInterval: 0, recovery }));
    expect(again).toEqual([]);
  });
});
