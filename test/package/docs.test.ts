import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

describe('the API docs', () => {
  it('build with typedoc with zero warnings, every public name documented', () => {
    const out = join(tempDir('weir-docs-'), 'api');
    const typedoc = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--out', out], { cwd: ROOT, encoding: 'utf8' });
    const output = `${r.stdout}\n${r.stderr}`;
    expect(output).not.toMatch(/warning/i);
    expect(r.status, output).toBe(0);
  }, 120_000);
});
