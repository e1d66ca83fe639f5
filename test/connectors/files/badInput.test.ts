import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import { CSVSource, FileSink, FileSource } from 'weir/connectors/files';
import * as op from 'weir/operators';
import type { Source } from 'weir/inputs';
import { TestingSink, TestingSource } from 'weir/testing';
import { rejection, tempDir } from './support.js';

function runSource(src: Source<unknown, unknown>): Promise<Error> {
  const flow = new Dataflow('bad');
  flow.pipe(op.input('in', src), op.output('out', new TestingSink<unknown>([])));
  return rejection(runMain(flow));
}

describe('bad input is reported with the step and the path', () => {
  it('a missing file', async () => {
    const p = join(tempDir(), 'missing.txt');
    for (const src of [new FileSource(p), new CSVSource(p)]) {
      const err = await runSource(src);
      expect(err.message).toBe(`step 'bad.in': cannot read '${p}': no such file or directory`);
    }
  });

  it('a directory where a file is expected', async () => {
    const d = tempDir();
    const err = await runSource(new FileSource(d));
    expect(err.message).toBe(`step 'bad.in': cannot read '${d}': it is a directory, not a file; use DirSource for a directory`);
  });

  it('a CSV row with the wrong number of fields, with its line number', async () => {
    const p = join(tempDir(), 'rows.csv');
    writeFileSync(p, 'a,b\n1,2\n3\n');
    const err = await runSource(new CSVSource(p));
    expect(err.message).toMatch(new RegExp(`^step 'bad.in': '${p}' line 3: expected 2 fields \\(as in the header\\), got 1`));
  });

  it('a sink path whose directory does not exist', async () => {
    const p = join(tempDir(), 'no', 'such', 'dir', 'out.txt');
    const flow = new Dataflow('bad');
    flow.pipe(op.input('in', new TestingSource([1])), op.output('out', new FileSink(p)));
    const err = await rejection(runMain(flow));
    expect(err.message).toMatch(new RegExp(`^step 'bad.out': cannot write '${p}': its directory '.*dir' does not exist`));
  });

  it('an unreadable file', (ctx) => {
    const d = tempDir();
    const p = join(d, 'secret.txt');
    writeFileSync(p, 'x\n');
    chmodSync(p, 0o000);
    const flowFile = join(process.cwd(), 'test/fixtures/files/readFile.ts');
    // Root reads anything, so as root the flow runs as an unprivileged user (nobody), which needs
    // to be able to read the repository.
    const asRoot = process.getuid?.() === 0;
    const as = asRoot ? { uid: 65534, gid: 65534 } : {};
    const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(flowFile)})`], as);
    if (probe.status !== 0) {
      console.warn('SKIPPED: the unreadable-file test needs an unprivileged user (nobody) that can read the repository');
      ctx.skip();
    }
    const r = spawnSync(process.execPath, ['bin/weir.js', 'run', flowFile], {
      env: { ...process.env, WEIR_TEST_INPUT: p, HOME: d },
      encoding: 'utf8',
      ...as,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`weir: error: step 'read_file.in': cannot read '${p}': permission denied`);
  });
});
