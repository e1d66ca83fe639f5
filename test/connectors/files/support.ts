import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { EOF, type StatefulSourcePartition } from 'weir/inputs';

const dirs: string[] = [];

/** A temporary directory, removed after the test. */
export function tempDir(prefix = 'weir-files-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Reads a partition to EOF (or `maxBatches`), returning every item. */
export async function drain<T>(part: StatefulSourcePartition<T, unknown, unknown>, maxBatches = Infinity): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < maxBatches; i++) {
    const b = await part.nextBatch();
    if (b === EOF) break;
    out.push(...b);
  }
  return out;
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}
