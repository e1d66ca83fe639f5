import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The built command line. */
export const WEIR = fileURLToPath(new URL('../../bin/weir.js', import.meta.url));

/** Runs `weir ...args` to completion. */
export function weirSync(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WEIR, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `weir ...args`; collects its output. */
export function weirSpawn(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; out: () => string; err: () => string; done: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [WEIR, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, out: () => out, err: () => err, done };
}

export { prng } from './crashHarness.js';

/** What {@link killAndResume} saw. */
export interface KillRun {
  /** Everything every run printed to stdout, in order. */
  out: string;
  /** SIGKILLs that hit a live process. */
  kills: number;
  /** How the last run, the one left to finish, ended, and what it printed to stderr. */
  code: number | null;
  err: string;
}

/**
 * Runs `weir ...args` again and again, SIGKILLing each run after a random delay of
 * `minDelay + rand() * spread` ms until `maxKills` kills have landed, then lets a run finish.
 */
export async function killAndResume(
  args: string[],
  o: { rand: () => number; maxKills: number; minDelay: number; spread: number; maxRuns: number; env?: NodeJS.ProcessEnv },
): Promise<KillRun> {
  let out = '';
  let kills = 0;
  for (let run = 0; run < o.maxRuns; run++) {
    const p = weirSpawn(args, o.env);
    const delay = o.minDelay + Math.floor(o.rand() * o.spread);
    const timer = kills < o.maxKills ? setTimeout(() => p.child.kill('SIGKILL'), delay) : undefined;
    const { code, signal } = await p.done;
    clearTimeout(timer);
    out += p.out();
    if (signal === 'SIGKILL') {
      kills++;
      continue;
    }
    return { out, kills, code, err: p.err() };
  }
  return { out, kills, code: null, err: `no run finished in ${o.maxRuns} runs` };
}
