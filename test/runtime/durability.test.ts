import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, WEIR, weirSync } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

// The proof is in the system calls: strace shows when the WAL is fsynced and when the sink runs.
// `.ci/run` installs it; elsewhere the tests skip without it (or where ptrace is not allowed).
const hasStrace = spawnSync('strace', ['-o', '/dev/null', 'true'], { stdio: 'ignore' }).status === 0;

interface Traced {
  status: number | null;
  /**
   * The WAL's writes (`walwrite`) and fsyncs (`sync`) and the sink's `wrote`/`committed` lines, in
   * the order the process made them.
   */
  events: string[];
  /** The partition file. */
  part: string;
}

/** Runs test/fixtures/commitLog.ts under strace with 10 ms epochs. */
function tracedRun(actsOnCommit: boolean, extraArgs: string[] = []): Traced {
  const dir = tempDir();
  const db = join(dir, 'db');
  expect(weirSync(['recovery', 'init', db, '1']).status).toBe(0);
  const trace = join(dir, 'trace.txt');
  const r = spawnSync(
    'strace',
    ['-f', '-y', '-s', '64', '-e', 'trace=fsync,fdatasync,write,pwrite64', '-o', trace, process.execPath, WEIR, 'run', 'test/fixtures/commitLog.ts', '-r', db, '-s', '0.01', '-b', '0', ...extraArgs],
    { cwd: ROOT, env: { ...process.env, WEIR_TEST_ACTS_ON_COMMIT: actsOnCommit ? '1' : '0' }, encoding: 'utf8' },
  );
  if (r.error !== undefined || !existsSync(trace)) throw new Error(`strace could not trace the run: ${r.error?.message ?? r.stderr.slice(-500)}`);
  const events: string[] = [];
  // With several threads, strace splits a call into `<pid> call(... <unfinished ...>` and
  // `<pid> <... call resumed>...`: a WAL sync counts once it has returned.
  const syncing = new Set<string>();
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const pid = line.slice(0, line.indexOf(' '));
    if (/f(?:data)?sync\(\d+<[^>]*part-0\.sqlite3-wal>/.test(line)) {
      if (line.includes('<unfinished ...>')) syncing.add(pid);
      else events.push('sync');
    } else if (/<\.\.\. f(?:data)?sync resumed>/.test(line) && syncing.delete(pid)) events.push('sync');
    if (/pwrite64\(\d+<[^>]*part-0\.sqlite3-wal>/.test(line)) events.push('walwrite');
    const m = /write\(1<[^>]*>, "((?:wrote|committed) \d+)\\n"/.exec(line);
    if (m) events.push(m[1]!);
  }
  return { status: r.status, events, part: join(db, 'part-0.sqlite3') };
}

/** For each `committed` line: whether the WAL was fsynced since the previous one. */
function syncedBeforeEachCommitted(events: string[]): boolean[] {
  const out: boolean[] = [];
  let synced = false;
  for (const e of events) {
    if (e === 'sync') synced = true;
    else if (e.startsWith('committed')) {
      out.push(synced);
      synced = false;
    }
  }
  return out;
}

describe.skipIf(!hasStrace && process.env.CI !== 'true')('durable commits when a partition acts on them', () => {
  it('fsyncs the WAL at each commit, before epochCommitted runs, when a sink partition has epochCommitted', () => {
    const { status, events } = tracedRun(true);
    expect(status).toBe(0);
    const synced = syncedBeforeEachCommitted(events);
    expect(synced.length).toBeGreaterThanOrEqual(10);
    expect(synced.every(Boolean), events.join(' ')).toBe(true);
  });

  it('does the same when the commits run on the background writer thread', () => {
    const { status, events } = tracedRun(true, ['--background-commit-from', '0']);
    expect(status).toBe(0);
    const synced = syncedBeforeEachCommitted(events);
    expect(synced.length).toBeGreaterThanOrEqual(10);
    expect(synced.every(Boolean), events.join(' ')).toBe(true);
  });

  it('leaves the WAL to the checkpoint at close when nothing acts on a commit', () => {
    const { status, events } = tracedRun(false);
    expect(status).toBe(0);
    expect(events.filter((e) => e.startsWith('wrote')).length).toBeGreaterThanOrEqual(10);
    expect(events.filter((e) => e === 'sync').length).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(!hasStrace && process.env.CI !== 'true')("a run's last commit", () => {
  it('is synced on the writer thread, and stays in the WAL', () => {
    const { status, events, part } = tracedRun(false, ['--background-commit-from', '0']);
    expect(status).toBe(0);
    // The close makes no checkpoint: the WAL stays, and it was synced after its last write.
    expect(existsSync(`${part}-wal`)).toBe(true);
    const lastWrite = events.lastIndexOf('walwrite');
    expect(lastWrite).toBeGreaterThan(0);
    expect(events.slice(lastWrite + 1), events.slice(-20).join(' ')).toContain('sync');
  });
});
