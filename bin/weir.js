#!/usr/bin/env node
// The weir command line. The code lives in dist/, built by `npm run build` (run on install).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('weir: error: the package is not built; run `npm run build` first');
  process.exit(1);
}
const { main: run } = await import(main.href);
// Exit explicitly: a failed run does not close its connectors, whose sockets would keep us alive.
process.exit(await run(process.argv.slice(2)));
