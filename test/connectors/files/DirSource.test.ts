import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import { DirSource } from 'weir/connectors/files';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { TestingSink } from 'weir/testing';
import { globToRegExp } from '../../../connectors/files/glob.js';
import { drain, rejection, tempDir } from './support.js';

function tree(): string {
  const d = tempDir();
  mkdirSync(join(d, 'sub/deeper'), { recursive: true });
  writeFileSync(join(d, 'a.log'), 'a1\na2\n');
  writeFileSync(join(d, 'b.txt'), 'b1\n');
  writeFileSync(join(d, 'sub/c.log'), 'c1\nc2\nc3\n');
  writeFileSync(join(d, 'sub/deeper/d.log'), 'd1');
  return d;
}

describe('globToRegExp', () => {
  it('matches *, **, ?, classes and alternatives', () => {
    const m = (g: string, p: string) => globToRegExp(g).test(p);
    expect(m('*.log', 'a.log')).toBe(true);
    expect(m('*.log', 'sub/a.log')).toBe(false);
    expect(m('**/*.log', 'a.log')).toBe(true);
    expect(m('**/*.log', 'x/y/a.log')).toBe(true);
    expect(m('sub/**', 'sub/x/y')).toBe(true);
    expect(m('?.{log,txt}', 'b.txt')).toBe(true);
    expect(m('[ab].log', 'c.log')).toBe(false);
    expect(m('[!ab].log', 'c.log')).toBe(true);
    expect(m('a+b(1).log', 'a+b(1).log')).toBe(true);
  });
});

describe('DirSource', () => {
  it('has one partition per matching file, named by its relative path', () => {
    const d = tree();
    expect(new DirSource(d, '**/*.log').listParts()).toEqual(['a.log', 'sub/c.log', 'sub/deeper/d.log']);
    expect(new DirSource(d, '*').listParts()).toEqual(['a.log', 'b.txt']);
    expect(new DirSource(d).listParts()).toHaveLength(4);
  });

  it('reads every file and resumes each from its own offset', async () => {
    const d = tree();
    const src = new DirSource(d, '**/*.log', { batchSize: 1 });
    const c = src.buildPart('f.in', 'sub/c.log', undefined);
    expect(await drain(c, 1)).toEqual(['c1']);
    expect(await drain(src.buildPart('f.in', 'sub/c.log', c.snapshot()))).toEqual(['c2', 'c3']);

    const db = tempDir();
    initDbDir(db, 2);
    const out: string[] = [];
    const flow = new Dataflow('dir');
    flow.pipe(op.input('in', new DirSource(d, '**/*.log')), op.output('out', new TestingSink(out)));
    await runMain(flow, { epochInterval: 0, recovery: new RecoveryConfig(db) });
    expect(out.sort()).toEqual(['a1', 'a2', 'c1', 'c2', 'c3', 'd1']);
  });

  it('says when the directory is missing, not a directory, or has no match', async () => {
    const d = tree();
    const run = (src: DirSource) => {
      const flow = new Dataflow('dir');
      flow.pipe(op.input('in', src), op.output('out', new TestingSink<unknown>([])));
      return rejection(runMain(flow));
    };
    const missing = await run(new DirSource(join(d, 'nope')));
    expect(missing.message).toMatch(/step 'dir.in'.*cannot read the directory '.*nope': no such file/);
    expect((await run(new DirSource(join(d, 'a.log')))).message).toMatch(/step 'dir.in'.*is not a directory/);
    expect((await run(new DirSource(d, '*.csv'))).message).toMatch(/step 'dir.in'.*no file in '.*' matches '\*.csv'/);
  });
});
