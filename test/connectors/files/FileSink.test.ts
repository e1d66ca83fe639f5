import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import { DirSink, FileConnectorError, FileSink, FileSource } from 'weir/connectors/files';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { rejection, tempDir } from './support.js';

describe('FileSink', () => {
  it('writes one line per item, strings as they are and the rest as JSON', async () => {
    const p = join(tempDir(), 'out.txt');
    const part = new FileSink<unknown>(p).buildPart('f.out', p, undefined);
    await part.writeBatch(['a', 1, { b: [2] }, ['k', 'v']], 1);
    expect(await part.snapshot(1)).toBe(readFileSync(p).length);
    expect(readFileSync(p, 'utf8')).toBe('a\n1\n{"b":[2]}\n["k","v"]\n');
    await part.writeBatch(['é'], 2);
    await part.close!();
    expect(readFileSync(p, 'utf8')).toBe('a\n1\n{"b":[2]}\n["k","v"]\né\n');
  });

  it('empties the file on a fresh start and truncates it to the stored length on resume', async () => {
    const p = join(tempDir(), 'out.txt');
    writeFileSync(p, 'old content\n');
    const sink = new FileSink<string>(p, { format: (s) => `<${s}>` });
    const first = sink.buildPart('f.out', p, undefined);
    expect(readFileSync(p, 'utf8')).toBe('');
    await first.writeBatch(['a', 'b'], 1);
    const len = await first.snapshot(1);
    await first.writeBatch(['c'], 2);
    await first.snapshot(2); // epoch 2 written but, say, never committed
    const resumed = sink.buildPart('f.out', p, len);
    expect(readFileSync(p, 'utf8')).toBe('<a>\n<b>\n');
    await resumed.writeBatch(['c2'], 2);
    await resumed.close!();
    expect(readFileSync(p, 'utf8')).toBe('<a>\n<b>\n<c2>\n');
  });

  it('gathers text up to bufferSize before writing, and writes everything at snapshot', async () => {
    const p = join(tempDir(), 'out.txt');
    const buffered = new FileSink<string>(p).buildPart('f.out', p, undefined);
    await buffered.writeBatch(['a'], 1);
    expect(readFileSync(p, 'utf8')).toBe('');
    await buffered.snapshot(1);
    expect(readFileSync(p, 'utf8')).toBe('a\n');
    const direct = new FileSink<string>(p, { bufferSize: 0 }).buildPart('f.out', p, 2);
    await direct.writeBatch(['b'], 2);
    expect(readFileSync(p, 'utf8')).toBe('a\nb\n');
    expect(() => new FileSink(p, { bufferSize: -1 })).toThrow(/bufferSize must be an integer >= 0/);
  });

  it('reports an output file shorter than the stored length', () => {
    const p = join(tempDir(), 'out.txt');
    writeFileSync(p, 'abc');
    const err = (() => {
      try {
        new FileSink(p).buildPart('f.out', p, 10);
      } catch (e) {
        return e as Error;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(FileConnectorError);
    expect(err.message).toMatch(/step 'f.out'.*is 3 bytes long, but the last snapshot stored 10/);
  });

  it('gives exactly-once output across a crash with recovery', async () => {
    const d = tempDir();
    const inp = join(d, 'in.txt');
    const outp = join(d, 'out.txt');
    writeFileSync(inp, Array.from({ length: 1000 }, (_, i) => String(i)).join('\n') + '\n');
    const db = join(d, 'db');
    initDbDir(db, 2);
    let crashAt: number | undefined = 637;
    const run = () => {
      const flow = new Dataflow('sum');
      flow.pipe(
        op.input('in', new FileSource(inp, { batchSize: 50 })),
        op.map('num', (s: string) => {
          if (Number(s) === crashAt) throw new Error('crash');
          return Number(s);
        }),
        op.keyOn('key', (n: number) => String(n % 3)),
        op.statefulMap('sum', (s: number | undefined, n: number) => [(s ?? 0) + n, (s ?? 0) + n]),
        op.map('line', ([k, s]: [string, number]) => `${k}:${s}`),
        op.output('out', new FileSink(outp)),
      );
      return runMain(flow, { epochInterval: 0, recovery: new RecoveryConfig(db) });
    };
    await expect(run()).rejects.toThrow(/crash/);
    expect(readFileSync(outp, 'utf8').split('\n').length).toBeGreaterThan(100);
    crashAt = undefined;
    await run();
    const sums = [0, 0, 0];
    const expected = Array.from({ length: 1000 }, (_, i) => `${i % 3}:${(sums[i % 3]! += i)}`);
    // Within a batch statefulMap emits grouped by key; compare per key, and the totals.
    const got = readFileSync(outp, 'utf8').trimEnd().split('\n');
    expect(got).toHaveLength(1000);
    for (const k of ['0', '1', '2']) expect(got.filter((l) => l.startsWith(`${k}:`))).toEqual(expected.filter((l) => l.startsWith(`${k}:`)));
  });

  it('says when the directory does not exist or the path is a directory', () => {
    const d = tempDir();
    const msg = (p: string) => {
      try {
        new FileSink(p).buildPart('f.out', p, undefined);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(msg(join(d, 'nope', 'out.txt'))).toMatch(/step 'f.out'.*cannot write '.*out.txt': its directory '.*nope' does not exist/);
    expect(msg(d)).toMatch(/step 'f.out'.*it is a directory/);
  });
});

describe('DirSink', () => {
  it('writes each key to the file assignFile picks, one file per partition', async () => {
    const d = tempDir();
    const sink = new DirSink<number>(d, 2, { fileNamer: (i, n) => `out-${i}-of-${n}.txt`, assignFile: (k) => (k < 'm' ? 0 : 1) });
    expect(sink.listParts()).toEqual(['out-0-of-2.txt', 'out-1-of-2.txt']);
    expect(sink.partFn(['apple', 1])).toBe(0);
    expect(sink.partFn(['zebra', 1])).toBe(1);
    const db = join(d, 'db');
    initDbDir(db, 1);
    const flow = new Dataflow('dirsink');
    const inp = join(d, 'in.txt');
    writeFileSync(inp, 'apple 1\nzebra 2\nbanana 3\nmango 4\n');
    flow.pipe(
      op.input('in', new FileSource(inp)),
      op.map('split', (l: string) => {
        const [k, v] = l.split(' ');
        return [k!, Number(v)] as [string, number];
      }),
      op.output('out', sink),
    );
    await runMain(flow, { epochInterval: 0, recovery: new RecoveryConfig(db) });
    expect(readFileSync(join(d, 'out-0-of-2.txt'), 'utf8')).toBe('1\n3\n');
    expect(readFileSync(join(d, 'out-1-of-2.txt'), 'utf8')).toBe('2\n4\n');
  });

  it('rejects a bad assignFile answer and a missing directory', async () => {
    const d = tempDir();
    expect(() => new DirSink(d, 2, { assignFile: () => 5 }).partFn(['k', 1])).toThrow(/must return an integer from 0 to 1, got 5/);
    const err = await rejection(async () => new DirSink(join(d, 'nope'), 1).buildPart('f.out', 'part_0', undefined));
    expect(err.message).toMatch(/step 'f.out'.*its directory '.*nope' does not exist/);
  });
});
