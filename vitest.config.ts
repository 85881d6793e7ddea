import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));
const parts = 'protocol|firmware-sim|agent|broker|dashboard';

// Tests import each workspace package from its TypeScript source; child processes run dist/.
export default defineConfig({
  resolve: {
    alias: [
      { find: new RegExp(`^@shelfsense/(${parts})$`), replacement: `${root}$1/src/index.ts` },
      { find: new RegExp(`^@shelfsense/(${parts})/cli$`), replacement: `${root}$1/src/cli.ts` },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/setup/tmpdir.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
