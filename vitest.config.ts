import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import LongestFirst from './tests/setup/sequencer.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const workspaces: string[] = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).workspaces;

// Tests import each workspace package through its exports map, from its TypeScript source (the
// `source` condition); child processes run dist/.
const alias = workspaces.flatMap((dir) => {
  const pkg = JSON.parse(readFileSync(`${root}${dir}/package.json`, 'utf8'));
  return Object.entries(pkg.exports ?? {}).flatMap(([sub, target]) => {
    const source = typeof target === 'string' ? target : (target as { source?: string }).source;
    if (!source) return [];
    const find = new RegExp(`^${pkg.name}${sub === '.' ? '' : sub.slice(1)}$`);
    return [{ find, replacement: `${root}${dir}/${source.slice(2)}` }];
  });
});

export default defineConfig({
  resolve: { alias },
  test: {
    globalSetup: ['tests/setup/tmpdir.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    sequence: { sequencer: LongestFirst },
    reporters: ['default'],
    projects: [
      // Unit tests share their workers: most of an isolated unit file's time is its worker
      // starting and importing, and they touch no process-wide state another file reads.
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], isolate: false } },
      {
        extends: true,
        // Named by folder rather than by excluding tests/unit, so that `--exclude` on the command
        // line still applies to this project.
        // tests/cluster starts a real 3-node NATS cluster once per file (tests/helpers/nats.ts).
        test: { name: 'parts', include: ['tests/{integration,e2e,faults,fuzz,soak,cluster}/**/*.test.ts'] },
      },
    ],
  },
});
