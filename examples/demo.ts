/**
 * `npm run demo`: the seed tutorial end to end, through the command line.
 *
 * 1. initialise a temporary recovery directory;
 * 2. run examples/recovery.ts over [0, 1, 2]: prints 0, 1, 3;
 * 3. extend the input with 3 and 4 and run again: the sum and the input position resume from the
 *    store, so it prints 6 and 10.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dbDir = join(mkdtempSync(join(tmpdir(), 'weir-demo-')), 'db_dir');

function weir(...args: string[]): string {
  console.log(`$ weir ${args.map((a) => (/[\s()]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const out = execFileSync(process.execPath, [join(root, 'bin', 'weir.js'), ...args], { cwd: root, encoding: 'utf8' });
  process.stdout.write(out);
  return out;
}

function expectOutput(got: string, want: string): void {
  if (got !== want) {
    console.error(`demo: expected\n${want}but got\n${got}`);
    process.exitCode = 1;
  }
}

try {
  console.log('# 1. Create a recovery directory with one partition.');
  weir('recovery', 'init', dbDir, '1');
  console.log('\n# 2. Run the running sum over [0, 1, 2].');
  expectOutput(weir('run', 'examples/recovery.ts', '-r', dbDir, '-s', '30', '-b', '0'), "['ALL', 0]\n['ALL', 1]\n['ALL', 3]\n");
  console.log('\n# 3. Extend the input with 3 and 4 and run again: state and position resume.');
  expectOutput(weir('run', 'examples/recovery.ts:getFlow(3, 4)', '-r', dbDir, '-s', '30', '-b', '0'), "['ALL', 6]\n['ALL', 10]\n");
  console.log('\nThe second run read only the new items and continued the sum from 3.');
} finally {
  rmSync(join(dbDir, '..'), { recursive: true, force: true });
}
