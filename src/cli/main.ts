import { parseArgs } from 'node:util';
import { WeirError } from '../errors.js';
import { initDbDir } from '../recovery/initDbDir.js';
import { inspectStore } from '../recovery/inspect.js';
import { formatItem } from '../operators/items.js';
import { runCommand } from './runCommand.js';

/** The text of `weir --help`. */
export const HELP = `weir: an RxJS-native stream processor

Usage:
  weir run <file>[:<variable>|:<factory>(args)] [options]
      Run a dataflow. <file> may be TypeScript or JavaScript; the flow is the export named
      <variable> (default: flow), or what <factory>(args) returns (args are JSON values).
  weir recovery init <dir> <count>
      Create a recovery directory with <count> partition files part-0.sqlite3 ...
  weir recovery inspect <dir> [--step ID] [--key KEY] [--json]
      Show each partition's progress and the latest stored state of every key (read-only).
  weir --help | --version

Options of run (each also read from the environment variable shown):
  -r, --recovery-directory DIR   keep snapshots in DIR and resume from them   WEIR_RECOVERY_DIRECTORY
  -s, --snapshot-interval SECS   epoch length: snapshot every SECS seconds    WEIR_SNAPSHOT_INTERVAL
  -b, --backup-interval SECS     keep older snapshots this long, for backups  WEIR_BACKUP_INTERVAL
  -w, --workers-per-process N    workers (only 1 is available yet)            WEIR_WORKERS_PER_PROCESS
      --background-commit-from N write commits of N or more state changes on a background
                                 thread (default 10000; 0 always)             WEIR_BACKGROUND_COMMIT_FROM
      --progress / --no-progress show progress on stderr (default: when it is a terminal)  WEIR_PROGRESS
  -r needs -s and -b. Without -r, -s still sets the epoch length (default 10 s).

A first SIGINT or SIGTERM stops at the next epoch boundary, after a final snapshot;
a second one stops at once. Exit status: 0 at EOF or after a graceful stop, 1 on error.

Examples:
  weir recovery init db_dir 1
  weir recovery inspect db_dir --step recovery.running_count
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
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      step: { type: 'string' },
      key: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [sub, dir, count] = positionals;
  if (values.help || sub === undefined) {
    process.stdout.write('Usage: weir recovery init <dir> <count>\n       weir recovery inspect <dir> [--step ID] [--key KEY] [--json]\n');
    return values.help ? 0 : 2;
  }
  if (sub === 'inspect') {
    if (dir === undefined || positionals.length !== 2) throw new WeirError('usage: weir recovery inspect <dir> [--step ID] [--key KEY] [--json]');
    printInspection(dir, values.step, values.key, values.json === true);
    return 0;
  }
  if (sub !== 'init') throw new WeirError(`unknown recovery command '${sub}'; try: weir recovery init <dir> <count>, or weir recovery inspect <dir>`);
  if (dir === undefined || count === undefined || positionals.length !== 3) {
    throw new WeirError('usage: weir recovery init <dir> <count>');
  }
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1) throw new WeirError(`the partition count must be an integer >= 1, got '${count}'`);
  initDbDir(dir, n);
  process.stdout.write(`created ${n} partition${n === 1 ? '' : 's'} in ${dir}\n`);
  return 0;
}

function printInspection(dir: string, stepId: string | undefined, stateKey: string | undefined, json: boolean): void {
  const { partitions, states } = inspectStore(dir, { stepId, stateKey });
  if (json) {
    const replacer = (_k: string, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v instanceof Set ? [...v] : v;
    process.stdout.write(`${JSON.stringify({ partitions, states }, replacer, 2)}\n`);
    return;
  }
  for (const p of partitions) {
    process.stdout.write(
      `# ${p.file}: partition ${p.partIndex} of ${p.partCount}, execution ${p.exNum}, resumes at epoch ${p.frontier}, ` +
        `GC watermark ${p.commitEpoch}, ${p.rows} snapshots stored\n`,
    );
  }
  for (const s of states) {
    const state = s.state === undefined ? '(tombstone)' : formatItem(s.state);
    process.stdout.write(`${s.stepId}\t${s.stateKey}\tepoch ${s.epoch}\t${state}\n`);
  }
}
