#!/usr/bin/env node
// Writes tests/setup/durations.json from the JSON report `npm test` leaves in .tmp/: each test
// file that took 5 s or more, slowest first, for the sequencer that starts them first.
//
//   node scripts/test-durations.mjs [.tmp/vitest-report.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = process.argv[2] ?? join(root, '.tmp', 'vitest-report.json');
if (file === '--help' || file === '-h') {
  console.log('usage: node scripts/test-durations.mjs [REPORT]  (default .tmp/vitest-report.json)');
  process.exit(0);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const out = Object.fromEntries(
  report.testResults
    .map((r) => [relative(root, r.name), Math.round(r.endTime - r.startTime)])
    .filter(([, ms]) => ms >= 5_000)
    .sort((a, b) => b[1] - a[1]),
);
writeFileSync(join(root, 'tests', 'setup', 'durations.json'), `${JSON.stringify(out, null, 1)}\n`);
console.log(`tests/setup/durations.json: ${Object.keys(out).length} files`);
