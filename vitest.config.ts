import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// In-process tests import 'weir' and its subpaths from the TypeScript sources, so a test never
// runs stale build output. Child processes (the CLI) run the built package instead.
const alias = [
  { find: /^weir$/, replacement: src('./src/index.ts') },
  { find: /^weir\/operators$/, replacement: src('./src/operators/index.ts') },
  { find: /^weir\/recovery$/, replacement: src('./src/recovery/index.ts') },
  { find: /^weir\/inputs$/, replacement: src('./src/inputs.ts') },
  { find: /^weir\/outputs$/, replacement: src('./src/outputs.ts') },
  { find: /^weir\/testing$/, replacement: src('./src/testing/index.ts') },
  { find: /^weir\/windowing$/, replacement: src('./src/windowing/index.ts') },
  { find: /^weir\/connectors\/(.*)$/, replacement: src('./connectors/$1/index.ts') },
];

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.kafka.test.ts'],
          globalSetup: ['test/support/buildOnce.ts'],
          testTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'kafka',
          include: ['test/**/*.kafka.test.ts'],
          globalSetup: ['test/support/buildOnce.ts', 'test/support/kafka/globalSetup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
