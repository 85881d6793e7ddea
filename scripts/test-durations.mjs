#!/usr/bin/env node
// Writes tests/setup/durations.json from the JSON reports `npm test` leaves in .tmp/: each test
// file that took 5 s or more, slowest first, for the sequencer that starts them first.
//
//   node scripts/test-durations.mjs [REPORT…]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: node scripts/test-durations.mjs [REPORT…]  (default .tmp/vitest-report-*.json)');
  process.exit(0);
}
const tmp = join(root, '.tmp');
const files = args.length
  ? args
  : readdirSync(tmp)
      .filter((f) => /^vitest-report-.*\.json$/.test(f))
      .map((f) => join(tmp, f));
const results = files.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')).testResults);
const out = Object.fromEntries(
  results
    .map((r) => [relative(root, r.name), Math.round(r.endTime - r.startTime)])
    .filter(([, ms]) => ms >= 5_000)
    .sort((a, b) => b[1] - a[1]),
);
writeFileSync(join(root, 'tests', 'setup', 'durations.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(`tests/setup/durations.json: ${Object.keys(out).length} files`);
