/**
 * The seed flow's shape (keyOn + a running-sum statefulMap) over many items: weir with recovery
 * off, weir with recovery on at 100 ms epochs, and a hand-written batched loop doing the same
 * work, all in one run. Also the resume time for 1M keys of state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The built package, as `weir run` and users run it: its background writer thread then starts as a
// plain module, where from the TypeScript sources it would first load a TypeScript loader.
import { Dataflow, runMain } from '../dist/src/index.js';
import * as op from '../dist/src/operators/index.js';
import { RecoveryConfig, initDbDir } from '../dist/src/recovery/index.js';
import { TestingSource } from '../dist/src/testing/index.js';
import { CountingSink, median, rate, timed } from './support.js';

const BATCH = 1000;
const ROUNDS = 11;
const RESUME_ROUNDS = 3;

function seedFlow(items: number[], keys: string[], sink: CountingSink, id = 'bench'): Dataflow {
  const n = keys.length;
  const flow = new Dataflow(id);
  flow.pipe(
    op.input('inp', new TestingSource(items, BATCH)),
    op.keyOn('key', (x: number) => keys[x % n]!),
    op.statefulMap('sum', (sum: number | undefined, x: number) => {
      const next = (sum ?? 0) + x;
      return [next, next];
    }),
    op.output('out', sink),
  );
  return flow;
}

/** The same work, by hand: batches, a key per item, a Map of sums, an output item per input. */
function handLoop(items: number[], keys: string[]): number {
  const n = keys.length;
  const sums = new Map<string, number>();
  let emitted = 0;
  for (let start = 0; start < items.length; start += BATCH) {
    const end = Math.min(start + BATCH, items.length);
    const out: [string, number][] = [];
    for (let i = start; i < end; i++) {
      const x = items[i]!;
      const k = keys[x % n]!;
      const next = (sums.get(k) ?? 0) + x;
      sums.set(k, next);
      out.push([k, next]);
    }
    emitted += out.length;
  }
  return emitted;
}

/** Runs the seed benchmark and returns the lines to print. */
export async function benchSeed(itemCount = 2_000_000): Promise<string[]> {
  const lines: string[] = [];
  const items = Array.from({ length: itemCount }, (_, i) => i);
  for (const keyCount of [1000, 100_000]) {
    const keys = Array.from({ length: keyCount }, (_, i) => `key-${i}`);
    // Warm up the JIT on a small run of each.
    handLoop(items.slice(0, 100_000), keys);
    await runMain(seedFlow(items.slice(0, 100_000), keys, new CountingSink()), { epochInterval: 100 });

    // Each figure is the best of ROUNDS runs, taken in turns, so that a pause of the machine does not
    // decide a ratio. Each round's own ratios are kept too: their median is steadier on a machine
    // whose speed drifts, as the three runs of a round meet the same conditions.
    const loops: number[] = [];
    const offs: number[] = [];
    const ons: number[] = [];
    // How many epochs each run closed: a run that lasts about as long as two epochs closes a third
    // one just before its end in some rounds and not in others, and with recovery that epoch costs a
    // commit.
    const offEpochs: number[] = [];
    const onEpochs: number[] = [];
    const epochsOf = (r: { firstEpoch: number; lastEpoch: number }) => r.lastEpoch - r.firstEpoch + 1;
    for (let round = 0; round < ROUNDS; round++) {
      loops.push(await timed(() => handLoop(items, keys)));
      const offSink = new CountingSink();
      offs.push(await timed(async () => offEpochs.push(epochsOf(await runMain(seedFlow(items, keys, offSink), { epochInterval: 100 })))));
      const dir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
      initDbDir(dir, 1);
      const onSink = new CountingSink();
      ons.push(
        await timed(async () =>
          onEpochs.push(epochsOf(await runMain(seedFlow(items, keys, onSink), { epochInterval: 100, recovery: new RecoveryConfig(dir) }))),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
      if (offSink.count !== itemCount || onSink.count !== itemCount) throw new Error('bench: item count mismatch');
    }
    const [loopSecs, offSecs, onSecs] = [Math.min(...loops), Math.min(...offs), Math.min(...ons)];
    const pct = (r: number) => `${((r - 1) * 100).toFixed(1)}%`;
    const offRatios = offs.map((off, i) => loops[i]! / off);
    const onRatios = ons.map((on, i) => on / offs[i]!);
    lines.push(
      `seed flow, ${itemCount.toLocaleString('en')} items, ${keyCount.toLocaleString('en')} keys (best of ${ROUNDS}; in brackets, the median of the rounds' own ratios):`,
      `  hand-written loop      ${rate(itemCount, loopSecs)}`,
      `  weir, recovery off     ${rate(itemCount, offSecs)}   (${(loopSecs / offSecs).toFixed(2)}x the loop [${median(offRatios).toFixed(2)}x]; target >= 0.5x)`,
      `  weir, recovery 100 ms  ${rate(itemCount, onSecs)}   (recovery overhead ${pct(onSecs / offSecs)} [${pct(median(onRatios))}]; target <= 10%)`,
      `  epochs closed per run  recovery off ${tally(offEpochs)}; recovery on ${tally(onEpochs)}`,
    );
  }
  lines.push(...(await benchResume(1_000_000)));
  return lines;
}

/** How many runs closed each number of epochs, e.g. `2 (8x), 3 (3x)`. */
function tally(epochs: number[]): string {
  const counts = new Map<number, number>();
  for (const e of epochs) counts.set(e, (counts.get(e) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a - b).map(([e, n]) => `${e} (${n}x)`).join(', ');
}

/** Time to resume a flow whose store holds `keyCount` keys of state. */
async function benchResume(keyCount: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-resume-'));
  try {
    initDbDir(dir, 1);
    const keys = Array.from({ length: keyCount }, (_, i) => `key-${i}`);
    const items: unknown[] = Array.from({ length: keyCount }, (_, i) => i);
    items.push(TestingSource.EOF());
    const recovery = new RecoveryConfig(dir);
    const build = () => seedFlow(items as number[], keys, new CountingSink(), 'resume');
    await runMain(build(), { epochInterval: 60_000, recovery });
    // Later runs read nothing new: their time is opening the store and restoring every key.
    let secs = Infinity;
    for (let round = 0; round < RESUME_ROUNDS; round++) {
      secs = Math.min(secs, await timed(() => runMain(build(), { epochInterval: 60_000, recovery })));
    }
    return [
      `resume: ${keyCount.toLocaleString('en')} keys of state restored in ${secs.toFixed(2)} s, best of ${RESUME_ROUNDS} ` +
        `(${Math.round(keyCount / secs).toLocaleString('en')} keys/s; target >= 1,000,000 keys/s)`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
