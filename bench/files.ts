/**
 * File throughput: `FileSource` → `map` → `FileSink` over a generated 200 MB file, against a plain
 * `fs.createReadStream` + `readline` + write loop doing the same map, in the same run. Reports
 * MB/s of input and the ratio (target: weir at 0.7× the plain loop or better). The file lives in
 * the OS temporary directory and is deleted afterwards. Each variant runs twice; the best counts.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FileSink, FileSource } from '../connectors/files/index.js';
import { Dataflow, runMain } from '../src/index.js';
import * as op from '../src/operators/index.js';
import { RecoveryConfig, initDbDir } from '../src/recovery/index.js';

const SIZE = 200 * 1024 * 1024;
const transform = (line: string) => line.slice(2);

async function generate(path: string): Promise<number> {
  const ws = createWriteStream(path);
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliett'];
  let written = 0;
  let i = 0;
  while (written < SIZE) {
    let chunk = '';
    for (let j = 0; j < 10_000; j++, i++) {
      chunk += `${i},${words[i % 10]},${(i * 7919) % 100_003},${words[(i * 3) % 10]} ${words[(i * 7) % 10]} ünïcödé\n`;
    }
    written += Buffer.byteLength(chunk);
    if (!ws.write(chunk)) await once(ws, 'drain');
  }
  ws.end();
  await once(ws, 'finish');
  return statSync(path).size;
}

async function plain(input: string, output: string): Promise<void> {
  const rl = createInterface({ input: createReadStream(input), crlfDelay: Infinity });
  const ws = createWriteStream(output);
  for await (const line of rl) {
    if (!ws.write(transform(line) + '\n')) await once(ws, 'drain');
  }
  ws.end();
  await once(ws, 'finish');
}

async function weir(input: string, output: string, dbDir?: string): Promise<void> {
  const flow = new Dataflow('bench_files');
  flow.pipe(op.input('in', new FileSource(input)), op.map('map', transform), op.output('out', new FileSink(output)));
  await runMain(flow, { epochInterval: 1000, recovery: dbDir ? new RecoveryConfig(dbDir) : undefined });
}

async function best(run: () => Promise<void>): Promise<number> {
  let ms = Infinity;
  for (let i = 0; i < 2; i++) {
    const t = performance.now();
    await run();
    ms = Math.min(ms, performance.now() - t);
  }
  return ms;
}

/**
 * Runs the file benchmark.
 * @returns lines to print
 */
export async function benchFiles(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-files-'));
  try {
    const input = join(dir, 'in.txt');
    const bytes = await generate(input);
    const mb = bytes / (1024 * 1024);
    const plainMs = await best(() => plain(input, join(dir, 'plain.txt')));
    const weirMs = await best(() => weir(input, join(dir, 'weir.txt')));
    const recMs = await best(async () => {
      const db = join(dir, `db-${Date.now()}`);
      initDbDir(db, 1);
      await weir(input, join(dir, 'weir-rec.txt'), db);
    });
    const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(1)} MB/s`;
    return [
      `input: ${mb.toFixed(0)} MB, FileSource -> map -> FileSink vs createReadStream + readline + write`,
      `plain readline loop:          ${rate(plainMs)}`,
      `weir, recovery off:           ${rate(weirMs)}  (${(plainMs / weirMs).toFixed(2)}x the plain loop; target >= 0.7x)`,
      `weir, recovery on, 1 s epochs: ${rate(recMs)}  (${(plainMs / recMs).toFixed(2)}x)`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
