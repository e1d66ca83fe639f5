/** Pieces the benchmarks share. */
import { DynamicSink } from '../src/outputs.js';

/** A sink that only counts what it is given. */
export class CountingSink extends DynamicSink<unknown> {
  count = 0;
  build() {
    return { writeBatch: (items: unknown[]) => void (this.count += items.length) };
  }
}

/** Seconds that `fn` takes, awaited. Starts from a collected heap when run with `--expose-gc`, so no run pays for the garbage of the one before. */
export async function timed(fn: () => unknown): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** `n` items over `secs` seconds, as a printable rate. */
export const rate = (n: number, secs: number): string => `${Math.round(n / secs).toLocaleString('en')} items/s`;

/** The middle value of `xs` (the upper one of the two middle values when their number is even). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
