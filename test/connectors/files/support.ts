import { EOF, type StatefulSourcePartition } from 'weir/inputs';

export { tempDir } from '../../support/tmp.js';

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
