import { parseArgs } from 'node:util';
import { WeirError } from '../errors.js';
import { initDbDir } from '../recovery/initDbDir.js';
import { runCommand } from './runCommand.js';

/** The text of `weir --help`. */
export const HELP = `weir: an RxJS-native stream processor

Usage:
  weir run <file>[:<variable>|:<factory>(args)] [options]
      Run a dataflow. <file> may be TypeScript or JavaScript; the flow is the export named
      <variable> (default: flow), or what <factory>(args) returns (args are JSON values).
  weir recovery init <dir> <count>
      Create a recovery directory with <count> partition files part-0.sqlite3 ...
  weir --help | --version

Options of run (each also read from the environment variable shown):
  -r, --recovery-directory DIR   keep snapshots in DIR and resume from them   WEIR_RECOVERY_DIRECTORY
  -s, --snapshot-interval SECS   epoch length: snapshot every SECS seconds    WEIR_SNAPSHOT_INTERVAL
  -b, --backup-interval SECS     keep older snapshots this long, for backups  WEIR_BACKUP_INTERVAL
  -w, --workers-per-process N    workers (only 1 is available yet)            WEIR_WORKERS_PER_PROCESS
      --progress / --no-progress show progress on stderr (default: when it is a terminal)  WEIR_PROGRESS
  -r needs -s and -b. Without -r, -s still sets the epoch length (default 10 s).

A first SIGINT or SIGTERM stops at the next epoch boundary, after a final snapshot;
a second one stops at once. Exit status: 0 at EOF or after a graceful stop, 1 on error.

Examples:
  weir recovery init db_dir 1
  weir run examples/recovery.ts -r db_dir -s 30 -b 0
  weir run "examples/recovery.ts:getFlow(3, 4)" -r db_dir -s 30 -b 0
`;

/**
 * Runs the command line with `argv` (without `node` and the script) and returns the exit status.
 * Errors are printed as one line, `weir: error: ...`; set WEIR_DEBUG=1 for the stack.
 */
export async function main(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`weir: error: ${msg.split('\n')[0]}\n`);
    if (process.env.WEIR_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    return 1;
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (cmd === 'run') return runCommand(rest);
  if (cmd === 'recovery') return recoveryCommand(rest);
  throw new WeirError(`unknown command '${cmd}'; see weir --help`);
}

function recoveryCommand(argv: string[]): number {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  const [sub, dir, count] = positionals;
  if (values.help || sub === undefined) {
    process.stdout.write('Usage: weir recovery init <dir> <count>\n');
    return values.help ? 0 : 2;
  }
  if (sub !== 'init') throw new WeirError(`unknown recovery command '${sub}'; try: weir recovery init <dir> <count>`);
  if (dir === undefined || count === undefined || positionals.length !== 3) {
    throw new WeirError('usage: weir recovery init <dir> <count>');
  }
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1) throw new WeirError(`the partition count must be an integer >= 1, got '${count}'`);
  initDbDir(dir, n);
  process.stdout.write(`created ${n} partition${n === 1 ? '' : 's'} in ${dir}\n`);
  return 0;
}
