import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Dataflow, runMain } from 'weir';
import * as op from 'weir/operators';
import { RecoveryConfig, initDbDir } from 'weir/recovery';
import { TestingSink, TestingSource, type TestingMarker } from 'weir/testing';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'weir-seed-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function seedFlow(inp: (number | TestingMarker)[], out: unknown[]): Dataflow {
  const flow = new Dataflow('recovery');
  flow.pipe(
    op.input('inp', new TestingSource(inp)),
    op.keyOn('key_stream', () => 'ALL'),
    op.statefulMap('running_count', (sum: number | undefined, x: number) => {
      const next = (sum ?? 0) + x;
      return [next, next];
    }),
    op.output('out', new TestingSink(out)),
  );
  return flow;
}

describe('the seed tutorial', () => {
  for (const parts of [1, 3]) {
    it(`resumes state and input position with ${parts} partition(s)`, async () => {
      const db = tempDir();
      initDbDir(db, parts);
      const inp: number[] = [0, 1, 2];
      const out: unknown[] = [];
      const recovery = new RecoveryConfig(db);
      await runMain(seedFlow(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual([['ALL', 0], ['ALL', 1], ['ALL', 3]]);
      inp.push(3, 4);
      out.length = 0;
      await runMain(seedFlow(inp, out), { epochInterval: 0, recovery });
      expect(out).toEqual([['ALL', 6], ['ALL', 10]]);
    });
  }
});
