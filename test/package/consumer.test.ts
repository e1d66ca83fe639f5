import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

const pkg = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: ROOT, encoding: 'utf8' })) as {
  exports: Record<string, unknown>;
};
const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'weir' : `weir/${k.slice(2)}`));

describe('the package as a consumer sees it', () => {
  it('installs from a path and every exported subpath imports and typechecks', () => {
    const dir = tempDir('weir-consumer-');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--offline', ROOT], { cwd: dir, stdio: 'pipe' });
    const lines = subpaths.map((s, i) => `import * as m${i} from '${s}';\nconsole.log('${s}', Object.keys(m${i}).length);`);
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'main.mjs'), lines.join('\n'));
    const out = execFileSync(process.execPath, ['src/main.mjs'], { cwd: dir, encoding: 'utf8' });
    for (const s of subpaths) expect(out).toMatch(new RegExp(`^${s} [1-9]`, 'm'));

    // A run with recovery whose commits go to the background writer thread, twice: the second resumes.
    const db = join(dir, 'db');
    writeFileSync(
      join(dir, 'src', 'recover.mjs'),
      [
        "import { Dataflow, runMain } from 'weir';",
        "import * as op from 'weir/operators';",
        "import { initDbDir, RecoveryConfig } from 'weir/recovery';",
        "import { TestingSource, TestingSink } from 'weir/testing';",
        "import { existsSync } from 'node:fs';",
        `if (!existsSync(${JSON.stringify(db)})) initDbDir(${JSON.stringify(db)}, 2);`,
        'const out = [];',
        "const flow = new Dataflow('consumer');",
        "flow.pipe(op.input('in', new TestingSource([1, 2, TestingSource.EOF(), 3])), op.keyOn('k', () => 'all'), op.statefulMap('sum', (s, x) => [(s ?? 0) + x, (s ?? 0) + x]), op.output('out', new TestingSink(out)));",
        `await runMain(flow, { epochInterval: 0, recovery: new RecoveryConfig(${JSON.stringify(db)}, { backgroundCommitFrom: 0 }) });`,
        'console.log(JSON.stringify(out));',
      ].join('\n'),
    );
    expect(execFileSync(process.execPath, ['src/recover.mjs'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('[["all",1],["all",3]]');
    expect(execFileSync(process.execPath, ['src/recover.mjs'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('[["all",6]]');

    // The types resolve from the package's own declarations, with strict TypeScript.
    writeFileSync(
      join(dir, 'src', 'flow.ts'),
      [
        "import { Dataflow, runMain } from 'weir';",
        "import * as op from 'weir/operators';",
        "import { TestingSource, TestingSink } from 'weir/testing';",
        'const out: [string, number][] = [];',
        "const flow = new Dataflow('consumer');",
        "flow.pipe(op.input('in', new TestingSource([1, 2, 3])), op.keyOn('k', () => 'all'), op.statefulMap('sum', (s: number | undefined, x: number) => [(s ?? 0) + x, (s ?? 0) + x]), op.output('out', new TestingSink(out)));",
        'export const done: Promise<unknown> = runMain(flow);',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false, types: [] }, include: ['src/flow.ts'] }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, stdio: 'pipe' });
  });
});
