/**
 * `npm run bench`: every benchmark, each comparing weir with a hand-written baseline in the same
 * run. Figures are ratios within one run; absolute numbers depend on the machine.
 * Pass names to run only some: `npm run bench -- seed windowing`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchSeed } from './seed.js';

type Bench = () => Promise<string[]>;

async function optional(file: string, name: string): Promise<Bench | undefined> {
  if (!existsSync(fileURLToPath(new URL(file, import.meta.url)))) return undefined;
  const mod = (await import(file)) as Record<string, Bench>;
  return mod[name];
}

const benches: [string, Bench | undefined][] = [
  ['seed', benchSeed],
  ['windowing', await optional('./windowing.ts', 'benchWindowing')],
  ['files', await optional('./files.ts', 'benchFiles')],
  ['kafka', await optional('./kafka.ts', 'benchKafka')],
];

const only = process.argv.slice(2);
for (const [name, run] of benches) {
  if (!run || (only.length > 0 && !only.includes(name))) continue;
  console.log(`== ${name}`);
  for (const line of await run()) console.log(line);
  console.log('');
}
