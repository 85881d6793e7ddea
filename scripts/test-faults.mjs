#!/usr/bin/env node
// `npm run test:faults`: the fault-injection suite (tests/faults) on the real chain — simulator,
// agent, central's broker, ingest and rules, SQLite, a webhook receiver — with its figures.
// Builds the compiled JavaScript the child processes run, runs the suite with a report file,
// prints the report as a table, and with --full (or --docs) records it in docs/reliability.md
// between `<!-- bench:faults:begin -->` and `<!-- bench:faults:end -->`.
//
//   node scripts/test-faults.mjs            reduced set (seconds-long faults, as in `npm test`)
//   node scripts/test-faults.mjs --full     minute-long cuts and outages, more kills; writes the doc
//   node scripts/test-faults.mjs --docs     reduced set, and write the doc anyway
//   node scripts/test-faults.mjs --cluster  the cluster deployment's faults instead (tests/faults/
//                                           cluster*: NATS node kill -9 and cut off, worker killed
//                                           mid-batch, Postgres restart, 1 vs 3 workers); its own
//                                           section `bench:faults-cluster` (with --full or --docs)
//   … --no-build                            run on the compiled files already in dist/
//
// Exits non-zero if a case failed, or if any figure that must be 0 (readings lost, duplicate,
// false or missed orders; for the cluster also duplicated readings, lane order, webhooks missing
// or conflicting) is not.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { placeSection, sectionBlock } from './bench-doc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const DOC = process.env.SHELFSENSE_FAULTS_DOC || 'docs/reliability.md';
const argv = process.argv.slice(2);
const cluster = argv.includes('--cluster');
// The cluster files have their own figures and section; the single-process run leaves them out.
const CLUSTER_FILES = 'tests/faults/cluster*.test.ts';
const SECTION = cluster
  ? { name: 'faults-cluster', title: 'Fault injection on the cluster' }
  : { name: 'faults', title: 'Fault injection' };
const ZERO = [
  'readingsLost',
  'duplicateOrders',
  'falseOrders',
  'missedOrders',
  ...(cluster ? ['readingsDuplicated', 'laneOrderViolations', 'webhooksMissing', 'webhooksConflicting'] : []),
];

const USAGE = 'usage: npm run test:faults -- [--cluster] [--full] [--docs] [--no-build] [--help]';
const known = new Set(['--cluster', '--full', '--docs', '--no-build', '--help', '-h']);
const unknown = argv.filter((a) => !known.has(a));
if (unknown.length) {
  console.error(`test-faults: unknown argument ${unknown[0]}`);
  console.error(USAGE);
  process.exit(2);
}
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(
    `${USAGE}\n\n` +
      'Builds, runs the fault-injection suite (tests/faults) on the real chain and prints its table.\n' +
      '  --cluster   the cluster deployment (NATS cluster, workers, Postgres) instead\n' +
      '  --full      minute-long cuts and outages, more kills; records the table in docs/reliability.md\n' +
      '  --docs      the reduced set, and record it anyway\n' +
      '  --no-build  run on the compiled files already in dist/',
  );
  process.exit(0);
}
const full = argv.includes('--full');
const docs = full || argv.includes('--docs');
const mode = full ? 'full' : 'reduced';

function machine() {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const ram = (totalmem() / 2 ** 30).toFixed(1);
  return `${cpu}, ${availableParallelism()} cores, ${ram} GiB RAM; Node ${process.version}`;
}

function commit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function runVitest(reportFile) {
  return new Promise((resolve) => {
    const env = { ...process.env, SHELFSENSE_FAULTS_REPORT: reportFile };
    if (full) env.SHELFSENSE_FAULTS = 'full';
    else delete env.SHELFSENSE_FAULTS;
    // Two files at once: each chain is mostly waiting on real time, so two fit on two cores. A
    // cluster chain is three NATS nodes, Postgres and workers: one at a time.
    const files = cluster
      ? ['tests/faults/cluster', '--maxWorkers=1']
      : ['tests/faults', `--exclude=${CLUSTER_FILES}`, '--maxWorkers=2'];
    const child = spawn('npx', ['vitest', 'run', ...files], {
      stdio: ['ignore', 2, 2],
      env,
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function readRows(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

const fmt = (v) => (v === null || v === undefined ? '—' : String(v));

function notes(n) {
  if (!n) return '';
  return Object.entries(n)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function clusterTable(rows) {
  const cols = [
    ['Case', (r) => r.case],
    ['Workers', (r) => r.workers],
    ['Readings accepted', (r) => r.readingsAccepted],
    ['Lost', (r) => r.readingsLost],
    ['Duplicated', (r) => r.readingsDuplicated],
    ['Lane order broken', (r) => r.laneOrderViolations],
    ['Duplicate orders', (r) => r.duplicateOrders],
    ['False orders', (r) => r.falseOrders],
    ['Missed orders', (r) => r.missedOrders],
    ['Webhook events', (r) => r.webhookEvents],
    ['Webhooks missing', (r) => r.webhooksMissing],
    ['Key conflicts', (r) => r.webhooksConflicting],
    ['Recovery (ms)', (r) => fmt(r.recoveryMs)],
    ['Notes', (r) => notes({ late: r.lateReadings, resent: r.webhooksResent, ...r.notes })],
  ];
  const text = (i) => i === 0 || i === cols.length - 1;
  return [
    `| ${cols.map(([h]) => h).join(' | ')} |`,
    `|${cols.map((_, i) => (text(i) ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${cols.map(([, f]) => f(r)).join(' | ')} |`),
  ].join('\n');
}

function table(rows) {
  const head = [
    'Case',
    'Readings accepted',
    'Readings lost',
    'Duplicate orders',
    'False orders',
    'Missed orders',
    'Recovery (ms)',
    'Notes',
  ];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 || i === 7 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${[
        r.case,
        r.readingsAccepted,
        r.readingsLost,
        r.duplicateOrders,
        r.falseOrders,
        r.missedOrders,
        fmt(r.recoveryMs),
        notes(r.notes),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

if (!argv.includes('--no-build')) {
  console.error('test-faults: building (npm run build)…');
  const b = spawnSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 2, 2] });
  if (b.status !== 0) {
    console.error('test-faults: the build failed');
    process.exit(1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'shelfsense-faults-'));
const reportFile = join(dir, 'report.jsonl');
const startedAt = new Date();
console.error(`test-faults: running ${cluster ? CLUSTER_FILES : 'tests/faults'} (${mode})…`);
const code = await runVitest(reportFile);
// Completion order depends on scheduling: list the cases by fault, the same every run.
const ORDER = cluster
  ? ['worker', 'NATS node kill', 'Postgres', 'NATS node cut', 'same scenario']
  : ['central', 'network', 'agent', 'serial', 'junk', 'webhook', 'outbox'];
const rank = (r) => {
  const i = ORDER.findIndex((p) => r.case.startsWith(p));
  return i < 0 ? ORDER.length : i;
};
const rows = readRows(reportFile).sort((a, b) => rank(a) - rank(b));
rmSync(dir, { recursive: true, force: true });

const bad = rows.filter((r) => ZERO.some((k) => r[k] !== 0));
const output = rows.length ? (cluster ? clusterTable(rows) : table(rows)) : '_No case reported figures._';
console.log(output);

if (docs) {
  const when = startedAt.toISOString().slice(0, 16).replace('T', ' ');
  const flags = `${cluster ? ' --cluster' : ''}${full ? ' --full' : ' --docs'}`;
  const header =
    `Recorded ${when} UTC, commit ${commit()}, ${mode} mode, on ${machine()}; ` +
    `load average ${loadavg()[0].toFixed(1)} at the end. ` +
    `Reproduce: \`node scripts/test-faults.mjs${flags}\`. ` +
    (cluster
      ? 'Every column from Lost to Key conflicts except Webhook events must be 0; recovery is the ' +
        'time from the end of the fault until Postgres holds, and the agent has trimmed, every ' +
        'reading it had accepted. Notes: late = readings committed after a newer one of their lane ' +
        "(the agent's resending after an outage; the rules ignore them as old), resent = webhook " +
        'requests repeated under the same key (at least once), downMs/cutMs = length of the fault.'
      : 'Readings lost, duplicate, false and missed orders must be 0; recovery is the time from the end ' +
        'of the fault until central holds every reading the agent had accepted (for the webhook cases: ' +
        'until the receiver has the order; for the serial cases: until central shows the true counts).');
  const text = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Reliability\n';
  writeFileSync(DOC, placeSection(text, SECTION, sectionBlock(SECTION.name, header, output)));
  console.error(`test-faults: wrote the figures to ${DOC}`);
}

for (const r of bad) {
  const which = ZERO.filter((k) => r[k] !== 0).map((k) => `${k} ${r[k]}`);
  console.error(`test-faults: ${r.case}: ${which.join(', ')} (must be 0)`);
}
const failed = code !== 0 || bad.length > 0 || rows.length === 0;
console.log(`${rows.length} cases, ${bad.length} with a non-zero loss or order figure; vitest exit ${code}`);
process.exit(failed ? 1 : 0);
