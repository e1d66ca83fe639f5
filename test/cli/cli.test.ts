import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { weirSync } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

describe('weir command line', () => {
  it('runs the seed tutorial and resumes it from the store', () => {
    const db = join(tempDir(), 'db');
    expect(weirSync(['recovery', 'init', db, '1']).status).toBe(0);
    const r1 = weirSync(['run', 'examples/recovery.ts', '-r', db, '-s', '30', '-b', '0']);
    expect(r1.stderr).toBe('');
    expect(r1.status).toBe(0);
    expect(r1.stdout).toBe("['ALL', 0]\n['ALL', 1]\n['ALL', 3]\n");
    const r2 = weirSync(['run', 'examples/recovery.ts:getFlow(3, 4)', '-r', db, '-s', '30', '-b', '0']);
    expect(r2.status).toBe(0);
    expect(r2.stdout).toBe("['ALL', 6]\n['ALL', 10]\n");
  });

  it('reads every flag from its WEIR_* environment variable', () => {
    const db = join(tempDir(), 'db');
    weirSync(['recovery', 'init', db, '2']);
    const env = { WEIR_RECOVERY_DIRECTORY: db, WEIR_SNAPSHOT_INTERVAL: '0', WEIR_BACKUP_INTERVAL: '0', WEIR_WORKERS_PER_PROCESS: '1' };
    expect(weirSync(['run', 'examples/recovery.ts'], env).stdout).toBe("['ALL', 0]\n['ALL', 1]\n['ALL', 3]\n");
    expect(weirSync(['run', 'examples/recovery.ts:getFlow(3)'], env).stdout).toBe("['ALL', 6]\n");
    expect(weirSync(['run', 'examples/recovery.ts'], { ...env, WEIR_WORKERS_PER_PROCESS: '3' }).stderr).toMatch(/not available yet/);
  });

  it('prints help', () => {
    const r = weirSync(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/weir run <file>/);
    expect(r.stdout).toMatch(/weir recovery init <dir> <count>/);
  });

  const errorCases: [string, string[], RegExp][] = [
    ['an unknown flow variable', ['run', 'examples/recovery.ts:nope'], /does not export 'nope'; it exports: .*flow.*getFlow/],
    ['a missing flow file', ['run', 'examples/nope.ts'], /flow file not found: examples\/nope\.ts/],
    ['-r without -s and -b', ['run', 'examples/recovery.ts', '-r', 'x'], /-r needs -s .* and -b/],
    ['several workers', ['run', 'examples/recovery.ts', '-w', '2'], /several workers are not available yet/],
    ['a recovery directory that does not exist', ['run', 'examples/recovery.ts', '-r', '/nonexistent/weir-db', '-s', '1', '-b', '0'], /\/nonexistent\/weir-db does not exist/],
    ['a bad partition count', ['recovery', 'init', 'x', 'zero'], /partition count must be an integer/],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['bad factory arguments', ['run', 'examples/recovery.ts:getFlow(3,,)'], /cannot parse the arguments/],
  ];
  for (const [what, args, message] of errorCases) {
    it(`exits non-zero with one clear line on ${what}`, () => {
      const r = weirSync(args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^weir: error: .*\n$/);
      expect(r.stderr.split('\n').length).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  }

  it('refuses to initialise over existing partitions', () => {
    const db = join(tempDir(), 'db');
    expect(weirSync(['recovery', 'init', db, '1']).status).toBe(0);
    const r = weirSync(['recovery', 'init', db, '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/part-0\.sqlite3/);
  });
});

describe('weir recovery inspect', () => {
  it('shows each partition and the latest state of every key, read-only', () => {
    const db = join(tempDir(), 'db');
    weirSync(['recovery', 'init', db, '2']);
    weirSync(['run', 'examples/recovery.ts:getFlow(3, 4)', '-r', db, '-s', '30', '-b', '0']);
    const r = weirSync(['recovery', 'inspect', db]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# part-0\.sqlite3: partition 0 of 2, execution 1, resumes at epoch 2,/m);
    expect(r.stdout).toMatch(/^recovery\.running_count\tALL\tepoch 1\t10$/m);
    expect(r.stdout).toMatch(/^recovery\.inp\titerable\tepoch 1\t5$/m);
    const only = weirSync(['recovery', 'inspect', db, '--step', 'recovery.running_count', '--json']);
    const parsed = JSON.parse(only.stdout) as { states: { stepId: string; state: unknown }[] };
    expect(parsed.states).toEqual([expect.objectContaining({ stepId: 'recovery.running_count', stateKey: 'ALL', state: 10 })]);
  });
});
