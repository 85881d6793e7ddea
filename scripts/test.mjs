#!/usr/bin/env node
// The one test command: installs missing system packages (as root), builds the compiled
// JavaScript that child processes run, runs vitest, and ends with one line `N passed, N failed`.
// Extra arguments go to vitest (e.g. `npm test -- tests/unit`); `--help` or `-h` prints the usage.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { ensureSystemDeps } from './system-deps.mjs';

const USAGE = `usage: npm test [-- VITEST-ARGS…]

The one test command. In order:
  1. installs the system programs the tests use for real (socat, mosquitto, influxdb, chromium)
     with apt when run as root; otherwise names the missing ones and stops;
  2. builds every package (npm run build: dist/, the dashboard and the agent bundle);
  3. runs vitest over tests/ (unit, integration, e2e, and reduced fault and fuzz runs; the
     cluster's 1-vs-3-workers run only when named, or in npm run test:faults -- --cluster):
     two files at a time, then the fault files one at a time;
  4. ends with one line: N passed, N failed (exit code 1 if any failed or nothing ran).

Arguments after \`--\` go to vitest, e.g.
  npm test -- tests/unit                     only the unit tests
  npm test -- tests/integration/agent -t discovery
(npm test --help, without --, is npm's own help.)`;

// --help answers before anything is installed or built.
if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
  console.log(USAGE);
  process.exit(0);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
ensureSystemDeps();

const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('build failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

mkdirSync('.tmp', { recursive: true });
const extra = process.argv.slice(2);
// The cluster's 1-vs-3-workers run starts two whole cluster chains (about a minute on two cores),
// and the cut between NATS nodes takes about as long to heal: they run in
// `npm run test:faults -- --cluster`, and here only when asked for by name.
const named = extra.some((a) => !a.startsWith('-'));
const CLUSTER_ONLY = [
  '--exclude=tests/faults/cluster-determinism.test.ts',
  '--exclude=tests/faults/cluster-partition.test.ts',
];

/** One vitest run; returns its exit status and the JSON report's path. */
function vitest(name, args) {
  const report = join(root, '.tmp', `vitest-report-${name}.json`);
  rmSync(report, { force: true });
  const run = spawnSync(
    'npx',
    ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
    { stdio: 'inherit' },
  );
  return { status: run.status, report };
}

// The whole suite runs in two passes: two files at a time, then the fault files one at a time,
// because they time outages and recoveries that a second busy file on two cores would stretch.
const runs = named
  ? [vitest('named', extra)]
  : [
      vitest('parallel', ['--maxWorkers=2', '--exclude=tests/faults/**', ...extra]),
      vitest('faults', ['--maxWorkers=1', 'tests/faults', ...CLUSTER_ONLY, ...extra]),
    ];

function firstLine(message) {
  const text = stripVTControlCharacters(String(message ?? ''));
  return text.split('\n').find((l) => l.trim()) ?? '(no message)';
}

let passed = 0;
let failed = 0;
const failures = [];
for (const run of runs) {
  try {
    const r = JSON.parse(readFileSync(run.report, 'utf8'));
    passed += r.numPassedTests;
    let f = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
    for (const s of r.testResults ?? []) {
      const file = relative(root, s.name);
      // A suite that fails to load has no tests counted: count it as a failure.
      if (s.status === 'failed' && (s.assertionResults ?? []).length === 0) {
        f++;
        failures.push(`${file}: ${firstLine(s.message)}`);
      }
      for (const a of s.assertionResults ?? [])
        if (a.status === 'failed')
          failures.push(`${file} > ${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
    }
    if (run.status !== 0 && f === 0) f = 1;
    failed += f;
  } catch {
    failed += 1;
  }
}
// Repeated last, so a log's tail names what failed without scrolling back through the run.
for (const f of failures) console.log(`FAILED ${f}`);
if (passed === 0 && failed === 0) failed = 1; // a run that tested nothing is not a pass
console.log(`${passed} passed, ${failed} failed`);

process.exit(failed > 0 ? 1 : 0);
