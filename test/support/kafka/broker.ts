/**
 * A real Apache Kafka broker for weir's tests: one JVM in KRaft combined mode on 127.0.0.1.
 *
 * The jars come from Maven Central through `pom.xml` next to this file and are cached outside the
 * source tree, in `${WEIR_CACHE_DIR:-~/.cache/weir}/kafka-<version>/jars`. The first run fetches
 * them with `mvn dependency:copy-dependencies`; later runs find the `.complete` marker and skip
 * Maven. Every broker gets a fresh temporary directory holding its properties, its data and its
 * logs (`server.log` from log4j at WARN, `jvm.out` with the JVM's stdout and stderr).
 *
 * No JVM outlives the process that started it: `stop()` sends SIGTERM and then SIGKILL, the
 * process's `exit`, SIGINT and SIGTERM kill every broker still running, and a small watchdog
 * process kills the JVM if its parent dies without running any handler (SIGKILL).
 *
 * @module
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

const here = fileURLToPath(new URL('.', import.meta.url));
const POM = join(here, 'pom.xml');
const LOG4J = join(here, 'log4j.properties');

/** The Kafka version the pom pins, read from `<kafka.version>` so the two cannot drift. */
export const KAFKA_VERSION = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'))?.[1] ?? 'unknown';

/** How long a broker may take to answer after its JVM is spawned. */
const START_TIMEOUT_MS = 90_000;
/** How long `stop()` waits after SIGTERM before sending SIGKILL. */
const STOP_GRACE_MS = 20_000;
/** How long the Maven fetch may take. */
const FETCH_TIMEOUT_MS = 15 * 60_000;

/** A running (or stopped, restartable) test broker. */
export interface TestBroker {
  /** Bootstrap addresses, e.g. `['127.0.0.1:40123']`. */
  readonly brokers: string[];
  /** The PLAINTEXT port. */
  readonly port: number;
  /** The KRaft controller port. */
  readonly controllerPort: number;
  /** The broker's temporary directory (properties, data in `data/`, logs). */
  readonly dir: string;
  /** Whether the JVM is running. */
  readonly running: boolean;
  /** Stops the JVM: SIGTERM, then SIGKILL after a grace period. Keeps the data for `start()`. */
  stop(): Promise<void>;
  /** Kills the JVM at once with SIGKILL (a crash). Keeps the data for `start()`. */
  kill(): Promise<void>;
  /** Starts a stopped broker again on the same ports and data directory, and waits until ready. */
  start(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
  /** Stops the JVM and removes the temporary directory. */
  dispose(): Promise<void>;
  /** The last lines of the broker's logs, for error messages. */
  logTail(lines?: number): string;
}

/** The cache directory for this Kafka version: `${WEIR_CACHE_DIR:-~/.cache/weir}/kafka-<version>`. */
export function kafkaCacheDir(): string {
  const root = process.env.WEIR_CACHE_DIR || join(homedir(), '.cache', 'weir');
  return join(root, `kafka-${KAFKA_VERSION}`);
}

function commandWorks(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return r.error === undefined && r.status === 0;
}

function pomDigest(): string {
  return createHash('sha256').update(readFileSync(POM)).digest('hex');
}

/** Whether the jars for the current pom are already in the cache. */
export function jarsCached(): boolean {
  const marker = join(kafkaCacheDir(), 'jars', '.complete');
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === pomDigest();
}

/**
 * What is missing to run a broker here: `undefined` when a broker can run, or a short reason.
 * Maven is needed only while the jars are not cached.
 */
export function brokerUnavailableReason(): string | undefined {
  if (!commandWorks('java', ['-version'])) return 'no Java on this machine';
  if (!jarsCached() && !commandWorks('mvn', ['-v'])) return 'no Maven on this machine (and no cached Kafka jars)';
  return undefined;
}

/**
 * Makes sure the broker's jars are in the cache and returns their directory. The first call
 * fetches them from Maven Central; it writes them to a scratch directory and renames it into
 * place, then writes the `.complete` marker, so a failed or concurrent fetch never leaves a
 * half-filled cache behind.
 */
export function ensureKafkaJars(): string {
  const base = kafkaCacheDir();
  const jars = join(base, 'jars');
  if (jarsCached()) return jars;
  mkdirSync(base, { recursive: true });
  const scratch = mkdtempSync(join(base, 'jars.fetch-'));
  const started = Date.now();
  process.stderr.write(`weir: fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${jars} (first run only)\n`);
  const r = spawnSync(
    'mvn',
    ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${scratch}`, '-DincludeScope=runtime'],
    { encoding: 'utf8', timeout: FETCH_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error !== undefined || r.status !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(
      `could not fetch the Kafka ${KAFKA_VERSION} jars with Maven (${r.error?.message ?? `exit code ${r.status}`}):\n${out}`,
    );
  }
  writeFileSync(join(scratch, '.complete'), `${pomDigest()}\n`);
  rmSync(jars, { recursive: true, force: true });
  try {
    renameSync(scratch, jars);
  } catch (err) {
    // Another run filled the cache first: use theirs.
    rmSync(scratch, { recursive: true, force: true });
    if (!jarsCached()) throw err;
  }
  process.stderr.write(`weir: fetched the Kafka jars in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return jars;
}

/** A free TCP port on 127.0.0.1, as the OS hands it out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1_000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

// Every JVM this process has started and not yet seen exit, killed on the way out, and the
// directories of brokers not yet disposed, removed on the way out.
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let handlersInstalled = false;

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

function removeDirsNow(): void {
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    } catch (err) {
      process.stderr.write(`weir: could not remove the test broker's directory ${dir}: ${(err as Error).message}\n`);
    }
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    killAllNow();
    removeDirsNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAllNow();
      removeDirsNow();
      // Keep the default behaviour (exit) when nobody else handles the signal.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

// Kills the JVM and removes the broker's directory when the parent process dies without running
// its handlers (SIGKILL), and exits on its own when the JVM is gone.
const WATCHDOG = `
const [parent, child] = process.argv.slice(1, 3).map(Number);
const dir = process.argv[3];
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
setInterval(() => {
  if (!alive(child)) process.exit(0);
  if (!alive(parent)) {
    try { process.kill(child, 'SIGKILL'); } catch {}
    setTimeout(() => { require('fs').rmSync(dir, { recursive: true, force: true }); process.exit(0); }, 1000);
  }
}, 500);
`;

function startWatchdog(jvmPid: number, dir: string): void {
  const dog = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), String(jvmPid), dir], {
    stdio: 'ignore',
    detached: true,
  });
  dog.unref();
}

function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return [
    '# Written by weir test/support/kafka/broker.ts',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    'log.cleaner.dedupe.buffer.size=1048577',
    'num.partitions=1',
    'auto.create.topics.enable=false',
    // Tests write records with fixed event times (2024): the default 7-day retention would delete
    // them at the next retention check (30 s after start, then every 5 minutes), mid-test.
    'log.retention.ms=-1',
    // Tests drop producers on purpose to simulate crashes; let their transactions abort quickly.
    'transaction.abort.timed.out.transaction.cleanup.interval.ms=5000',
    '',
  ].join('\n');
}

/** Options for {@link startBroker}. */
export interface StartBrokerOptions {
  /** How long to wait for the broker to answer, in ms. Default 90 s. */
  startTimeoutMs?: number;
}

/**
 * Starts a fresh single-node Kafka (KRaft combined mode) on free ports of 127.0.0.1 and waits
 * until it answers a kafkajs `describeCluster()`.
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<TestBroker> {
  const jars = ensureKafkaJars();
  const classpath = `${join(jars, '*')}`;
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'weir-kafka-'));
  dirs.add(dir);
  const dataDir = join(dir, 'data');
  const propsFile = join(dir, 'server.properties');
  const logFile = join(dir, 'server.log');
  const jvmOut = join(dir, 'jvm.out');
  writeFileSync(propsFile, serverProperties(port, controllerPort, dataDir));
  const log4jArgs = [`-Dlog4j.configuration=file:${LOG4J}`, `-Dweir.kafka.log.file=${logFile}`];
  const timeout = options.startTimeoutMs ?? START_TIMEOUT_MS;

  // A random 16-byte id in base64url, as `kafka-storage random-uuid` prints; one starting with '-'
  // would be read as an option.
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  const fmt = spawnSync(
    'java',
    ['-cp', classpath, ...log4jArgs, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (fmt.error !== undefined || fmt.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw new Error(
      `kafka StorageTool format failed (${fmt.error?.message ?? `exit code ${fmt.status}`}):\n${fmt.stdout ?? ''}${fmt.stderr ?? ''}`,
    );
  }

  const brokers = [`127.0.0.1:${port}`];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const logTail = (lines = 40) =>
    [`--- ${jvmOut}`, tail(jvmOut, lines), `--- ${logFile}`, tail(logFile, lines)].join('\n');

  const spawnJvm = () => {
    installExitHandlers();
    const out = openSync(jvmOut, 'a');
    const proc = spawn('java', ['-Xmx512m', '-Xms128m', '-cp', classpath, ...log4jArgs, 'kafka.Kafka', propsFile], {
      cwd: dir,
      stdio: ['ignore', out, out],
      detached: false,
    });
    closeSync(out);
    live.add(proc);
    exited = new Promise<void>((resolve) => {
      proc.once('exit', () => {
        live.delete(proc);
        resolve();
      });
      proc.once('error', () => {
        live.delete(proc);
        resolve();
      });
    });
    if (proc.pid !== undefined) startWatchdog(proc.pid, dir);
    child = proc;
    return proc;
  };

  const waitReady = async (proc: ChildProcess) => {
    const deadline = Date.now() + timeout;
    let lastError = 'the port never answered';
    const gone = () => proc.exitCode !== null || proc.signalCode !== null;
    while (Date.now() < deadline) {
      if (gone()) {
        throw new Error(`the Kafka broker exited during startup (code ${proc.exitCode}, signal ${proc.signalCode}):\n${logTail()}`);
      }
      if (await portAnswers(port)) {
        const admin = new Kafka({
          clientId: 'weir-test-broker-probe',
          brokers,
          logLevel: logLevel.NOTHING,
          connectionTimeout: 2_000,
          requestTimeout: 5_000,
          retry: { retries: 0 },
        }).admin();
        try {
          await admin.connect();
          const cluster = await admin.describeCluster();
          if (cluster.brokers.length > 0) return;
          lastError = 'describeCluster() returned no brokers';
        } catch (err) {
          lastError = `describeCluster() failed: ${(err as Error).message}`;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      }
      await sleep(250);
    }
    throw new Error(`the Kafka broker on ${brokers[0]} was not ready within ${timeout / 1000} s (${lastError}):\n${logTail()}`);
  };

  const stopWith = async (signal: 'SIGTERM' | 'SIGKILL') => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    if (signal === 'SIGTERM') {
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_GRACE_MS).unref());
      if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') proc.kill('SIGKILL');
    }
    await exited;
    child = undefined;
  };

  const start = async () => {
    if (child !== undefined) return;
    const proc = spawnJvm();
    try {
      await waitReady(proc);
    } catch (err) {
      await stopWith('SIGKILL');
      throw err;
    }
  };

  const broker: TestBroker = {
    brokers,
    port,
    controllerPort,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    start,
    restart: async () => {
      await stopWith('SIGTERM');
      await start();
    },
    dispose: async () => {
      await stopWith('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
    logTail,
  };

  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
    throw err;
  }
  return broker;
}
