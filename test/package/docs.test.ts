import { readFileSync } from 'node:fs';
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

describe('doc comments', () => {
  it('every public name has a doc comment with an example', () => {
    const json = join(tempDir('weir-docs-json-'), 'api.json');
    const typedoc = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--json', json, '--out', join(json, '..', 'html')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const api = JSON.parse(readFileSync(json, 'utf8')) as { children: Reflection[] };
    const kinds = new Set([128, 64, 256, 2097152, 32]); // class, function, interface, type alias, variable
    const missing: string[] = [];
    for (const mod of api.children) {
      for (const c of mod.children ?? []) {
        if (!kinds.has(c.kind)) continue;
        const comment = JSON.stringify(c.comment ?? c.signatures?.[0]?.comment ?? {});
        if (!/Example/.test(comment)) missing.push(`${mod.name}: ${c.name}`);
      }
    }
    expect(missing).toEqual([]);
  }, 120_000);
});

interface Reflection {
  name: string;
  kind: number;
  comment?: unknown;
  signatures?: { comment?: unknown }[];
  children?: Reflection[];
}
