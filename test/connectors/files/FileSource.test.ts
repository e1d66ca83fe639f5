import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import { FileConnectorError, FileSource } from 'weir/connectors/files';
import { EOF } from 'weir/inputs';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { TestingSink } from 'weir/testing';
import { drain, rejection, tempDir } from './support.js';

function file(content: string | Buffer): string {
  const p = join(tempDir(), 'in.txt');
  writeFileSync(p, content);
  return p;
}

describe('FileSource', () => {
  it('reads lines: LF, CRLF, a BOM, empty lines and a last line without newline', async () => {
    const p = file('\uFEFFa\r\nb\n\nc\r\nlast');
    const part = new FileSource(p).buildPart('f.in', p, undefined);
    expect(await drain(part)).toEqual(['a', 'b', '', 'c', 'last']);
    expect(await part.nextBatch()).toBe(EOF);
    expect(part.snapshot()).toBe(Buffer.byteLength('\uFEFFa\r\nb\n\nc\r\nlast'));
  });

  it('keeps multi-byte UTF-8 characters whole across every chunk boundary', async () => {
    const lines = ['héllo wörld', '日本語のテキスト', '🙂🙃 emoji', 'ascii', '€uro'];
    const p = file(lines.join('\n') + '\n');
    for (const chunkSize of [1, 2, 3, 5, 7, 64]) {
      const part = new FileSource(p, { chunkSize, batchSize: 2 }).buildPart('f.in', p, undefined);
      expect(await drain(part)).toEqual(lines);
    }
  });

  it('cuts batches of exactly batchSize lines, except the last', async () => {
    const p = file(Array.from({ length: 25 }, (_, i) => `l${i}`).join('\n'));
    const part = new FileSource(p, { batchSize: 10, chunkSize: 16 }).buildPart('f.in', p, undefined);
    const sizes: number[] = [];
    for (let b = await part.nextBatch(); b !== EOF; b = await part.nextBatch()) sizes.push(b.length);
    expect(sizes).toEqual([10, 10, 5]);
  });

  it('resumes at the stored byte offset, on a line boundary', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ✓`);
    const p = file(lines.join('\r\n') + '\r\n');
    const src = new FileSource(p, { batchSize: 7, chunkSize: 50 });
    const first = src.buildPart('f.in', p, undefined);
    const head = await drain(first, 3);
    const offset = first.snapshot();
    const rest = await drain(src.buildPart('f.in', p, offset));
    expect(head).toEqual(lines.slice(0, 21));
    expect([...head, ...rest]).toEqual(lines);
  });

  it('reads a line longer than its buffer', async () => {
    const long = 'x'.repeat(10_000);
    const p = file(`a\n${long}\nb\n`);
    expect(await drain(new FileSource(p, { chunkSize: 64 }).buildPart('f.in', p, undefined))).toEqual(['a', long, 'b']);
  });

  it('continues after EOF with recovery: a second run reads only appended lines', async () => {
    const p = file('1\n2\n3\n');
    const db = tempDir();
    initDbDir(db, 1);
    const run = async () => {
      const out: unknown[] = [];
      const flow = new Dataflow('cont');
      flow.pipe(op.input('in', new FileSource(p)), op.output('out', new TestingSink(out)));
      await runMain(flow, { epochInterval: 0, recovery: new RecoveryConfig(db) });
      return out;
    };
    expect(await run()).toEqual(['1', '2', '3']);
    appendFileSync(p, '4\n5\n');
    expect(await run()).toEqual(['4', '5']);
  });

  it('follows a growing file with tail, polling via nextAwake', async () => {
    const p = file('a\npart');
    const part = new FileSource(p, { tail: true, pollInterval: 30 }).buildPart('f.in', p, undefined);
    expect(await part.nextBatch()).toEqual(['a']);
    const awake = part.nextAwake!();
    expect(awake).toBeGreaterThan(Date.now());
    expect(await part.nextBatch()).toEqual([]);
    appendFileSync(p, 'ial\nb\n');
    expect(await part.nextBatch()).toEqual(['partial', 'b']);
    expect(part.snapshot()).toBe(Buffer.byteLength('a\npartial\nb\n'));
    part.close!();
  });

  it('stops a tailing flow at a graceful stop, with the lines appended meanwhile', async () => {
    const p = file('');
    const out: string[] = [];
    const stop = new AbortController();
    const flow = new Dataflow('tail');
    flow.pipe(
      op.input('in', new FileSource(p, { tail: true, pollInterval: 10 })),
      op.inspect('watch', (_step: string, x: string) => {
        if (x === 'end') stop.abort();
      }),
      op.output('out', new TestingSink(out)),
    );
    const done = runMain(flow, { epochInterval: 20, signal: stop.signal });
    setTimeout(() => appendFileSync(p, 'x\ny\n'), 50);
    setTimeout(() => appendFileSync(p, 'end\n'), 100);
    expect((await done).reason).toBe('stopped');
    expect(out).toEqual(['x', 'y', 'end']);
  });

  it('reports a stored offset past the end of a file that shrank', async () => {
    const p = file('a\nb\n');
    const err = await rejection(() => new FileSource(p).buildPart('f.in', p, 100));
    expect(err).toBeInstanceOf(FileConnectorError);
    expect(err.message).toContain("step 'f.in'");
    expect(err.message).toContain(p);
    expect(err.message).toMatch(/shrank/);
  });

  it('reports a stored offset that is not at the start of a line', async () => {
    const p = file('abc\ndef\n');
    const err = await rejection(() => new FileSource(p).buildPart('f.in', p, 2));
    expect(err.message).toMatch(/not at the start of a line/);
    expect(err.message).toContain(p);
  });

  it('reports a tailed file that shrinks', async () => {
    const p = file('abc\ndef\n');
    const part = new FileSource(p, { tail: true }).buildPart('f.in', p, undefined);
    await drain(part, 1);
    writeFileSync(p, 'a\n');
    const err = await rejection(async () => part.nextBatch());
    expect(err.message).toMatch(/shrank/);
    expect(err.message).toContain("step 'f.in'");
  });
});
