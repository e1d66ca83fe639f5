import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import { type CsvBadRow, CSVSource, type CsvPosition, FileConnectorError } from 'weir/connectors/files';
import type { StatefulSourcePartition } from 'weir/inputs';
import * as op from 'weir/operators';
import { TestingSink } from 'weir/testing';
import { drain, rejection, tempDir } from './support.js';

type Row = Record<string, string>;

function file(content: string): string {
  const p = join(tempDir(), 'in.csv');
  writeFileSync(p, content);
  return p;
}

const build = (src: CSVSource, resume?: CsvPosition) =>
  src.buildPart('f.in', src.path, resume) as Promise<StatefulSourcePartition<Row, CsvPosition, CsvBadRow>>;

describe('CSVSource', () => {
  it('reads records keyed by the header, with quoted commas, quotes and line breaks', async () => {
    const p = file('\uFEFFname,note,n\r\nann,"hello, world",1\r\n"bo ""b""","two\r\nlines",2\r\n\r\ncé,plain,3');
    const rows = await drain(await build(new CSVSource(p)));
    expect(rows).toEqual([
      { name: 'ann', note: 'hello, world', n: '1' },
      { name: 'bo "b"', note: 'two\r\nlines', n: '2' },
      { name: 'cé', note: 'plain', n: '3' },
    ]);
  });

  it('resumes on record boundaries, whatever the chunk size', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ id: String(i), text: i % 3 === 0 ? `multi\nline ${i}, ü` : `t${i}` }));
    const csv = 'id,text\n' + rows.map((r) => `${r.id},"${r.text}"`).join('\n') + '\n';
    const p = file(csv);
    for (const chunkSize of [3, 17, 4096]) {
      const src = new CSVSource(p, { batchSize: 7, chunkSize });
      const first = await build(src);
      const head = await drain(first, 4);
      const pos = first.snapshot();
      expect(Buffer.from(csv).subarray(0, pos.offset).toString().endsWith(`${rows[27]!.id},"${rows[27]!.text}"\n`)).toBe(true);
      const rest = await drain(await build(src, pos));
      expect([...head, ...rest]).toEqual(rows);
    }
  });

  it('takes column names for a file without a header', async () => {
    const p = file('1,a\n2,b\n');
    expect(await drain(await build(new CSVSource(p, { columns: ['n', 'c'] })))).toEqual([
      { n: '1', c: 'a' },
      { n: '2', c: 'b' },
    ]);
  });

  it('fails on a row with the wrong number of fields, giving its line number', async () => {
    const p = file('a,b\n1,2\n"x\ny",3\n4,5,6\n');
    const err = await rejection(async () => drain(await build(new CSVSource(p))));
    expect(err).toBeInstanceOf(FileConnectorError);
    expect((err as FileConnectorError).line).toBe(5);
    expect(err.message).toContain("step 'f.in'");
    expect(err.message).toContain(`${p}' line 5`);
    expect(err.message).toMatch(/expected 2 fields.*got 3/);
  });

  it('gives absolute line numbers after a resume', async () => {
    const p = file('a,b\n1,2\n3,4\n\n5\n');
    const src = new CSVSource(p, { batchSize: 1 });
    const first = await build(src);
    await drain(first, 1);
    const err = await rejection(async () => drain(await build(src, first.snapshot())));
    expect(err.message).toContain("line 5:");
  });

  it('skips bad rows when asked, sending them down the .errors stream', async () => {
    const p = file('a,b\n1,2\n3\n4,5\n6,7,8\n');
    const part = await new CSVSource(p, { onError: 'skip-and-report', batchSize: 1 }).buildPart('f.in', p, undefined);
    expect(await part.nextBatch()).toEqual([{ a: '1', b: '2' }]);
    expect(part.takeErrors!()).toEqual([]);
    expect(await part.nextBatch()).toEqual([{ a: '4', b: '5' }]);
    expect(part.takeErrors!().map((e) => e.line)).toEqual([3]);

    const out: unknown[] = [];
    const bad: CsvBadRow[] = [];
    const flow = new Dataflow('csv');
    const rows = flow.pipe(op.input('in', new CSVSource(p, { onError: 'skip-and-report' })));
    rows.pipe(op.output('out', new TestingSink(out)));
    rows.errors.pipe(op.output('bad', new TestingSink(bad)));
    await runMain(flow, { epochInterval: 0 });
    expect(out).toEqual([
      { a: '1', b: '2' },
      { a: '4', b: '5' },
    ]);
    expect(bad.map((e) => [e.line, e.fields, e.stepId, e.path])).toEqual([
      [3, ['3'], 'csv.in', p],
      [5, ['6', '7', '8'], 'csv.in', p],
    ]);
    expect(bad[0]!.message).toBe('expected 2 fields (as in the header), got 1');
  });

  it('fails on malformed quoting with a line number', async () => {
    const p = file('a,b\n1,"2\n');
    const err = await rejection(async () => drain(await build(new CSVSource(p))));
    expect(err.message).toMatch(/is not valid CSV near line \d/);
    expect(err.message).toContain(p);
  });

  it('reports a duplicate column name', async () => {
    const p = file('a,a\n1,2\n');
    const err = await rejection(build(new CSVSource(p)));
    expect(err.message).toMatch(/names the column "a" twice/);
  });

  it('reports a stored position past the end of the file', async () => {
    const p = file('a,b\n1,2\n');
    const err = await rejection(build(new CSVSource(p), { offset: 99, line: 3 }));
    expect(err.message).toMatch(/shrank/);
  });

  it('runs in a flow, with an empty file giving no records', async () => {
    const p = file('a,b\n1,2\n');
    const empty = file('');
    const out: unknown[] = [];
    const flow = new Dataflow('csv');
    const a = flow.pipe(op.input('a', new CSVSource(p)));
    const b = flow.pipe(op.input('b', new CSVSource(empty)));
    a.pipe(op.merge('m', b), op.output('out', new TestingSink(out)));
    await runMain(flow, { epochInterval: 0 });
    expect(out).toEqual([{ a: '1', b: '2' }]);
  });
});
