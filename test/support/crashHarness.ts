/**
 * A crash harness: runs a flow module in a child process through `weir run` with recovery on,
 * SIGKILLs it at random moments, resumes it until it exits 0 at EOF, and leaves the result for the
 * caller to compare with an uninterrupted run of the same flow.
 *
 * The flow module lives inside the repository (so that `import ... from 'weir'` resolves to the
 * built package by self-reference) and reads its paths from environment variables that
 * `makeEnv` provides, e.g. `WEIR_TEST_INPUT` and `WEIR_TEST_OUTPUT`.
 *
 * ```ts
 * import { runUninterrupted, runWithCrashes } from '../support/crashHarness.js';
 * const makeEnv = (dir: string) => ({ WEIR_TEST_INPUT: input, WEIR_TEST_OUTPUT: `${dir}/out.txt` });
 * const base = await runUninterrupted({ flowSpec: 'test/fixtures/files/runningSum.ts', makeEnv, snapshotInterval: 0.05 });
 * const crashed = await runWithCrashes({ flowSpec: 'test/fixtures/files/runningSum.ts', makeEnv, snapshotInterval: 0.05,
 *   kills: 10, minDelayMs: 300, maxDelayMs: 1200 });
 * expect(readFileSync(`${crashed.workDir}/out.txt`)).toEqual(readFileSync(`${base.workDir}/out.txt`));
 * ```
 *
 * Each kill comes a random delay after the child reports its first committed epoch (the
 * harness runs it with `--progress` and watches stderr), so kills land mid-run whatever the start-up
 * time of the machine. The delays come from a seeded PRNG; the seed is logged and returned, and
 * `WEIR_CRASH_SEED=<seed>` replays the same delays. Only kills that hit a live process count.
 * Size the delays from an uninterrupted run's `activeMs`, so that the kills spread over the run on
 * slow and fast machines alike.
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'weir.js');

/** What both kinds of run take. */
export interface FlowRunOptions {
  /** `<file>[:<variable>|:<factory>(args)]`, the file relative to the repository root or absolute. */
  flowSpec: string;
  /** Environment variables for the flow, given the run's fresh work directory. */
  makeEnv?: (workDir: string) => Record<string, string>;
  /** The epoch length in seconds (`-s`). */
  snapshotInterval: number;
  /** Partition files in the recovery directory. Default 1. */
  partitions?: number;
  /** The longest one child run may take, in ms. Default 120 000. */
  runTimeoutMs?: number;
  /** More `weir run` arguments. */
  extraArgs?: string[];
}

/** Options of {@link runWithCrashes}. */
export interface CrashOptions extends FlowRunOptions {
  /** How many kills to aim for; fewer happen when the flow reaches EOF first (see `kills` in the report). */
  kills: number;
  /** The shortest time from a child's first committed epoch to its kill, in ms. */
  minDelayMs: number;
  /** The longest time from a child's first committed epoch to its kill, in ms. */
  maxDelayMs: number;
  /** The PRNG seed; default `WEIR_CRASH_SEED` or a random one. */
  seed?: number;
  /** The most child runs before giving up. Default `kills * 3 + 10`. */
  maxRuns?: number;
}

/** What a run left behind. */
export interface RunReport {
  /** The run's directory: the recovery directory `recovery/`, `stdout.log`, and whatever the flow wrote. */
  workDir: string;
  /** The environment `makeEnv` gave. */
  env: Record<string, string>;
  /** Child processes started. */
  runs: number;
  /** Wall time of all runs, in ms. */
  durationMs: number;
  /** Time from the last run's first committed epoch to its exit, in ms: how long the flow itself ran. */
  activeMs: number;
  /** Removes `workDir`. */
  cleanup(): void;
}

/** What {@link runWithCrashes} did. */
export interface CrashReport extends RunReport {
  /** The PRNG seed. */
  seed: number;
  /** SIGKILLs that hit a live process, each after the process had committed an epoch. */
  kills: number;
  /** Runs that exited before their kill was due. */
  missed: number;
}

/** mulberry32: a small, good-enough seeded PRNG returning numbers in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Prepared {
  workDir: string;
  recovery: string;
  env: Record<string, string>;
  stdout: ReturnType<typeof createWriteStream>;
}

function prepare(o: FlowRunOptions, prefix: string): Prepared {
  const workDir = mkdtempSync(join(tmpdir(), prefix));
  const recovery = join(workDir, 'recovery');
  const init = spawnSync(process.execPath, [BIN, 'recovery', 'init', recovery, String(o.partitions ?? 1)], { cwd: ROOT, encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`weir recovery init failed: ${init.stderr}`);
  return { workDir, recovery, env: o.makeEnv?.(workDir) ?? {}, stdout: createWriteStream(join(workDir, 'stdout.log')) };
}

interface ChildEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Time from the first progress line to the exit, in ms; 0 when there was none. */
  activeMs: number;
  stderr: string;
}

/** Starts one `weir run` child; `onRunning` is called at its first progress line, and may schedule a kill. */
function runChild(o: FlowRunOptions, p: Prepared, onRunning: (child: ChildProcess) => void): Promise<ChildEnd> {
  const args = [BIN, 'run', o.flowSpec, '-r', p.recovery, '-s', String(o.snapshotInterval), '-b', '0', '--progress', ...(o.extraArgs ?? [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...p.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let runningAt = 0;
  child.stdout!.pipe(p.stdout, { end: false });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    if (runningAt === 0 && /^epoch \d+/m.test(s)) {
      runningAt = Date.now();
      onRunning(child);
    }
    stderr = (stderr + s).slice(-4000);
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), o.runTimeoutMs ?? 120_000);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timeout);
      resolvePromise({ code, signal, activeMs: runningAt === 0 ? 0 : Date.now() - runningAt, stderr });
    });
  });
}

function failure(what: string, end: ChildEnd, seed?: number): Error {
  const how = end.signal ? `was killed by ${end.signal}` : `exited with status ${end.code}`;
  return new Error(`${what}: weir run ${how}${seed === undefined ? '' : ` (seed ${seed})`}\n${end.stderr}`);
}

function report(p: Prepared, runs: number, start: number, activeMs: number): RunReport {
  p.stdout.end();
  return { workDir: p.workDir, env: p.env, runs, durationMs: Date.now() - start, activeMs, cleanup: () => rmSync(p.workDir, { recursive: true, force: true }) };
}

/**
 * Runs the flow once to EOF, with recovery on and a fresh recovery directory.
 * @param o the flow, its environment and the snapshot interval
 * @returns where it ran; rejects when the child does not exit 0
 */
export async function runUninterrupted(o: FlowRunOptions): Promise<RunReport> {
  const start = Date.now();
  const p = prepare(o, 'weir-run-');
  const end = await runChild(o, p, () => undefined);
  if (end.code !== 0) throw failure('the uninterrupted run failed', end);
  return report(p, 1, start, end.activeMs);
}

/**
 * Runs the flow with recovery on, SIGKILLing it after a random delay up to `kills` times, and
 * resuming it each time, until a run exits 0 at EOF.
 * @param o the flow, the number of kills and the range of delays
 * @returns the kills that landed and where the flow ran; rejects when a run fails otherwise
 */
export async function runWithCrashes(o: CrashOptions): Promise<CrashReport> {
  const seed = o.seed ?? (process.env.WEIR_CRASH_SEED ? Number(process.env.WEIR_CRASH_SEED) : Math.floor(Math.random() * 2 ** 31));
  console.log(`[crashHarness] ${o.flowSpec}: seed ${seed} (replay with WEIR_CRASH_SEED=${seed})`);
  const random = prng(seed);
  const start = Date.now();
  const p = prepare(o, 'weir-crash-');
  const maxRuns = o.maxRuns ?? o.kills * 3 + 10;
  let kills = 0;
  let missed = 0;
  for (let runs = 1; runs <= maxRuns; runs++) {
    let killedHere = false;
    const end = await runChild(o, p, (child) => {
      if (kills >= o.kills) return;
      const delay = o.minDelayMs + random() * (o.maxDelayMs - o.minDelayMs);
      const timer = setTimeout(() => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        killedHere = child.kill('SIGKILL');
      }, delay);
      child.on('exit', () => {
        clearTimeout(timer);
        if (!killedHere) missed++;
      });
    });
    if (end.code === 0) return { ...report(p, runs, start, end.activeMs), seed, kills, missed };
    if (killedHere && end.signal === 'SIGKILL') {
      kills++;
      continue;
    }
    throw failure(`run ${runs} of ${o.flowSpec}`, end, seed);
  }
  throw new Error(`${o.flowSpec} did not reach EOF within ${maxRuns} runs (seed ${seed}, ${kills} kills)`);
}

/**
 * Sizes a crash test's input to the machine. `attempt(size)` sets up an input of that size and runs
 * the flow on it once, uninterrupted. When that run has under `minActiveMs` of running after its
 * first epoch, it is done once more with a larger input (up to `maxScale` times the size): each
 * resumed run does an epoch of work before its kill can land, so on a fast machine a short input
 * would end within fewer runs than there are kills.
 * @returns what the last attempt returned, and the size it used
 */
export async function sizedToMachine<T extends { base: RunReport }>(
  size: number,
  attempt: (size: number) => Promise<T>,
  { minActiveMs = 1500, maxScale = 8 } = {},
): Promise<T & { size: number }> {
  let got = await attempt(size);
  if (got.base.activeMs < minActiveMs) {
    got.base.cleanup();
    size *= Math.min(maxScale, Math.ceil(minActiveMs / Math.max(got.base.activeMs, 50)));
    got = await attempt(size);
  }
  return { ...got, size };
}
