#!/usr/bin/env node
// `npm run bench`: builds the compiled JavaScript the benchmarks run, then runs each benchmark
// script that exists (agent, broker, central pipeline), prints its output and records it in
// docs/benchmarks.md between the markers of its section, with the machine, the versions and the
// command that reproduces it.
//
//   npm run bench                          every benchmark
//   npm run bench -- agent                 one (or several: agent broker)
//   npm run bench -- agent --duration 2m   flags after the names go to that benchmark
//   npm run bench -- --no-build --no-docs  skip the build / leave docs/benchmarks.md alone
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { placeSection, sectionBlock, summaryTable } from './bench-doc.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const BENCHES = [
  { name: 'agent', title: 'Agent', script: 'bench/agent/agent-bench.ts' },
  { name: 'broker', title: 'Broker', script: 'bench/broker/broker-bench.ts' },
  { name: 'pipeline', title: 'Central pipeline', script: 'bench/central/pipeline-bench.ts' },
  { name: 'catalogue', title: 'Catalogue', script: 'bench/central/catalogue-bench.ts' },
  { name: 'cluster', title: 'Cluster', script: 'bench/cluster/cluster-bench.ts' },
];
// SHELFSENSE_BENCH_DOC: write elsewhere (the benchmark's own test does).
const DOC = process.env.SHELFSENSE_BENCH_DOC || 'docs/benchmarks.md';

function usage(message) {
  console.error(`bench: ${message}`);
  console.error(
    `usage: npm run bench -- [${BENCHES.map((b) => b.name).join('|')}]… [--no-build] [--no-docs] [flags]`,
  );
  process.exit(2);
}

/**
 * The flags a benchmark script takes, read from its `parseArgs({ options: { … } })` (name → type),
 * or null if it cannot be read: the scripts stay the one place their flags are declared.
 */
function benchFlags(bench) {
  if (!existsSync(bench.script)) return null;
  const src = readFileSync(bench.script, 'utf8');
  const at = src.indexOf('parseArgs({');
  if (at < 0) return null;
  const block = src.slice(at, src.indexOf('\n});', at));
  const flags = new Map();
  for (const m of block.matchAll(/^\s+(?:([\w]+)|'([\w-]+)'): \{ type: '(string|boolean)'/gm))
    flags.set(m[1] ?? m[2], m[3]);
  return flags.size ? flags : null;
}

function help(chosen) {
  console.log(
    `usage: npm run bench -- [${BENCHES.map((b) => b.name).join('|')}]… [--no-build] [--no-docs] [flags]\n\n` +
      'Builds (npm run build), runs each chosen benchmark (default: all) and records its output in\n' +
      `${DOC}. Flags after one benchmark's name go to that benchmark; see docs/benchmarks.md.`,
  );
  for (const bench of chosen) {
    const flags = benchFlags(bench);
    const list = flags
      ? [...flags].map(([n, t]) => `--${n}${t === 'string' ? ' V' : ''}`).join(' ')
      : '(see its script)';
    console.log(`\n  ${bench.name.padEnd(9)} ${bench.script}\n            ${list}`);
  }
  process.exit(0);
}

// Leading names choose benchmarks; --no-build / --no-docs / --help are ours; the rest go to the
// benchmark.
const argv = process.argv.slice(2);
const names = [];
while (argv.length && !argv[0].startsWith('-')) names.push(argv.shift());
const own = new Set(['--no-build', '--no-docs', '--help', '-h']);
const flags = argv.filter((a) => !own.has(a));
const build = !argv.includes('--no-build');
const docs = !argv.includes('--no-docs');
for (const n of names) if (!BENCHES.some((b) => b.name === n)) usage(`unknown benchmark "${n}"`);
const chosen = names.length ? BENCHES.filter((b) => names.includes(b.name)) : BENCHES;
if (flags.length && chosen.length !== 1) usage('flags need exactly one benchmark name before them');
// A mistyped flag is refused now, not after the build.
const known = chosen.length === 1 ? benchFlags(chosen[0]) : null;
for (let i = 0; known && i < flags.length; i++) {
  const name = /^--([\w-]+)(=.*)?$/.exec(flags[i]);
  const type = name && known.get(name[1]);
  if (!type) usage(`unknown flag ${flags[i]} for the ${chosen[0].name} benchmark`);
  if (type === 'string' && name[2] === undefined) i++; // its value
}
if (argv.includes('--help') || argv.includes('-h')) help(chosen);

function firstLine(cmd, args) {
  try {
    const out = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${out.stdout ?? ''}${out.stderr ?? ''}`.split('\n')[0].trim();
  } catch {
    return '';
  }
}

function machine() {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const ram = (totalmem() / 2 ** 30).toFixed(1);
  const mosquittoBin =
    ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto';
  const mosquitto = /version (\S+)/.exec(firstLine(mosquittoBin, ['-h']))?.[1] ?? 'not installed';
  let nodeRed = 'not installed';
  try {
    nodeRed = JSON.parse(readFileSync('node_modules/node-red/package.json', 'utf8')).version;
  } catch {}
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {}
  return (
    `${cpu}, ${availableParallelism()} cores, ${ram} GiB RAM; Node ${process.version}, ` +
    `Mosquitto ${mosquitto}, Node-RED ${nodeRed}${commit ? `; commit ${commit}` : ''}`
  );
}

/** Runs one benchmark with tsx, its stdout shown live and kept; stderr passes through. */
function run(bench, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', bench.script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), out }));
  });
}

function record(bench, args, output, startedAt) {
  const command = ['npm run bench --', bench.name, ...args].join(' ');
  const when = startedAt.toISOString().slice(0, 16).replace('T', ' ');
  const header =
    `Measured ${when} UTC on ${machine()}; load average ${loadavg()[0].toFixed(1)} at the end. ` +
    `Reproduce: \`${command}\`.`;
  const text = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  let next = placeSection(text, bench, sectionBlock(bench.name, header, output));
  // The summary: every benchmark's headline figures next to their peers, latest run of each.
  const summary = summaryTable(next);
  if (summary) {
    const note =
      `Ratios are Shelfsense / the peer measured in the same run (medians of the runs each section ` +
      `states). Updated ${when} UTC from the sections below; each section says how it was measured.`;
    next = placeSection(next, { name: 'summary', title: 'Summary' }, sectionBlock('summary', note, summary));
  }
  writeFileSync(DOC, next);
}

if (build) {
  console.error('bench: building (npm run build)…');
  // The build's chatter goes to stderr: stdout carries only the benchmarks' results.
  const b = spawnSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 2, 2] });
  if (b.status !== 0)
    console.error('bench: the build failed; running on the compiled files already in dist/');
}

let failed = 0;
for (const bench of chosen) {
  if (!existsSync(bench.script)) {
    console.error(`bench: ${bench.name}: ${bench.script} does not exist yet, skipped`);
    continue;
  }
  console.error(`\nbench: ${bench.name} (${bench.script})`);
  const startedAt = new Date();
  const { code, out } = await run(bench, flags);
  if (code !== 0) {
    failed++;
    console.error(`bench: ${bench.name} failed (exit ${code}); ${DOC} left as it was for it`);
  } else if (docs) {
    record(bench, flags, out, startedAt);
    console.error(`bench: ${bench.name}: recorded in ${DOC}`);
  }
}
process.exit(failed ? 1 : 0);
