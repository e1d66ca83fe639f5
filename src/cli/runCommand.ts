import { parseArgs } from 'node:util';
import { WeirError } from '../errors.js';
import { RecoveryConfig } from '../recovery/config.js';
import { runMain } from '../runtime/runMain.js';
import { loadFlow } from './loadFlow.js';
import { ProgressLine } from './progress.js';

const ENV = {
  'recovery-directory': 'WEIR_RECOVERY_DIRECTORY',
  'snapshot-interval': 'WEIR_SNAPSHOT_INTERVAL',
  'backup-interval': 'WEIR_BACKUP_INTERVAL',
  'workers-per-process': 'WEIR_WORKERS_PER_PROCESS',
  'background-commit-from': 'WEIR_BACKGROUND_COMMIT_FROM',
} as const;

function seconds(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new WeirError(`--${flag} must be a number of seconds >= 0, got '${raw}'`);
  return n;
}

/** `weir run`: loads the flow, runs it, and handles signals. Returns the exit status. */
export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'recovery-directory': { type: 'string', short: 'r' },
      'snapshot-interval': { type: 'string', short: 's' },
      'backup-interval': { type: 'string', short: 'b' },
      'workers-per-process': { type: 'string', short: 'w' },
      'background-commit-from': { type: 'string' },
      progress: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
    },
  });
  const opt = (k: keyof typeof ENV): string | undefined => values[k] ?? (process.env[ENV[k]] || undefined);
  if (positionals.length !== 1) throw new WeirError('usage: weir run <file>[:<variable>|:<factory>(args)] [-r DIR -s SECONDS -b SECONDS]');

  const workers = opt('workers-per-process');
  if (workers !== undefined) {
    const w = Number(workers);
    if (!Number.isInteger(w) || w < 1) throw new WeirError(`-w must be an integer >= 1, got '${workers}'`);
    if (w > 1) throw new WeirError(`-w ${w}: several workers are not available yet; run with -w 1`);
  }
  const dir = opt('recovery-directory');
  const snap = opt('snapshot-interval');
  const backup = opt('backup-interval');
  if (dir !== undefined && (snap === undefined || backup === undefined)) {
    throw new WeirError('-r needs -s (snapshot interval) and -b (backup interval), e.g. -r db_dir -s 30 -b 0');
  }
  const epochInterval = snap === undefined ? 10_000 : seconds('snapshot-interval', snap) * 1000;
  const bg = opt('background-commit-from');
  const backgroundCommitFrom = bg === undefined ? undefined : Number(bg);
  if (bg !== undefined && (bg.trim() === '' || Number.isNaN(backgroundCommitFrom) || backgroundCommitFrom! < 0)) {
    throw new WeirError(`--background-commit-from must be a number of state changes >= 0, got '${bg}'`);
  }
  const recovery =
    dir === undefined
      ? undefined
      : new RecoveryConfig(dir, { backupInterval: seconds('backup-interval', backup!) * 1000, backgroundCommitFrom });

  const flow = await loadFlow(positionals[0]!);

  const stop = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      process.stderr.write(`weir: ${sig}: stopping at the next epoch boundary (again to stop at once)\n`);
      stop.abort();
    } else {
      process.stderr.write(`weir: ${sig}: stopping now, without a final snapshot\n`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const envProgress = process.env.WEIR_PROGRESS;
  const showProgress = values['no-progress'] ? false : values.progress || envProgress === '1' || (envProgress !== '0' && process.stderr.isTTY === true);
  const progress = showProgress ? new ProgressLine(process.stderr) : undefined;
  try {
    const result = await runMain(flow, {
      epochInterval,
      recovery,
      signal: stop.signal,
      onProgress: progress ? (p) => progress.update(p) : undefined,
    });
    progress?.done();
    if (result.reason === 'stopped') process.stderr.write(`weir: stopped after epoch ${result.lastEpoch}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
