#!/usr/bin/env node
// The big fuzz run: builds if needed, runs `vitest run tests/fuzz` with SHELFSENSE_FUZZ_RUNS inputs
// per boundary (default 100000, `--runs N`; `--seed N` sets SHELFSENSE_FUZZ_SEED), collects the
// figures each test writes to SHELFSENSE_FUZZ_REPORT, prints them as a table and places the table
// in docs/reliability.md (section "Fuzzing", markers bench:fuzz).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { placeSection, sectionBlock } from './bench-doc.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = join(ROOT, 'docs', 'reliability.md');
const DEFAULT_SEED = 20260101; // as tests/helpers/fuzz-support.ts

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 1) {
    console.error(`--${name} needs a whole number ≥ 1`);
    process.exit(2);
  }
  return v;
}

const USAGE = 'usage: npm run fuzz -- [--runs N] [--seed N] [--no-doc] [--help]';
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--runs' || a === '--seed') i++;
  else if (!['--no-doc', '--help', '-h'].includes(a)) {
    console.error(`fuzz: unknown argument ${a}\n${USAGE}`);
    process.exit(2);
  }
}
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const runs = arg('runs', 100_000);
const seed = arg('seed', Number(process.env.SHELFSENSE_FUZZ_SEED || DEFAULT_SEED));

if (!existsSync(join(ROOT, 'protocol', 'dist', 'main.js'))) {
  console.log('building …');
  const b = spawnSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const dir = mkdtempSync(join(tmpdir(), 'shelfsense-fuzz-'));
const report = join(dir, 'report.jsonl');
const started = Date.now();
const r = spawnSync('npx', ['vitest', 'run', 'tests/fuzz'], {
  cwd: ROOT,
  stdio: 'inherit',
  env: {
    ...process.env,
    SHELFSENSE_FUZZ_RUNS: String(runs),
    SHELFSENSE_FUZZ_SEED: String(seed),
    SHELFSENSE_FUZZ_REPORT: report,
  },
});
const rows = existsSync(report)
  ? readFileSync(report, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
rmSync(dir, { recursive: true, force: true });

const fmt = (n) => n.toLocaleString('en-US');
const table = [
  '| boundary | target | transport | inputs | rejected | accepted | crashes | duration | inputs/s |',
  '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (f) =>
      `| ${f.boundary} | ${f.target} | ${f.transport} | ${fmt(f.runs)} | ${fmt(f.rejects)} | ${fmt(f.accepted)} | ${f.crashes} | ${(f.durationMs / 1000).toFixed(1)} s | ${fmt(f.inputsPerSec)} |`,
  ),
].join('\n');
console.log(`\n${table}\n`);

if (r.status !== 0) {
  console.error(`fuzz run failed (vitest exit ${r.status}); docs/reliability.md left as it was`);
  process.exit(r.status ?? 1);
}
if (!process.argv.includes('--no-doc')) {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const commit = git.status === 0 ? git.stdout.trim() : 'unknown';
  const cpu = cpus();
  const header = [
    `Run ${new Date().toISOString().slice(0, 10)}, commit ${commit}, seed ${seed}, ${fmt(runs)} inputs per test`,
    `(\`node scripts/fuzz.mjs\`), ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version};`,
    `${((Date.now() - started) / 1000).toFixed(0)} s in all. "direct": the handler called in process for the part of`,
    'the run where the transport would dominate; every crash or escaped rejection fails the run.',
  ].join('\n');
  const text = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Reliability\n';
  writeFileSync(
    DOC,
    placeSection(text, { name: 'fuzz', title: 'Fuzzing' }, sectionBlock('fuzz', header, table)),
  );
  console.log(`figures placed in ${DOC}`);
}
