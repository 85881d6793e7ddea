/**
 * `npm run soak`: a simulated store week on the real chain (see run.ts), judged by the bounds in
 * report.ts. Prints a progress line per simulated day, then the summary table and the verdicts;
 * exits 1 when a verdict fails. With docs on (the default) the result goes into docs/reliability.md
 * between the `bench:soak` markers.
 *
 *   node --import tsx tests/soak/soak.ts [--days 7] [--shelves 50] [--seed 1] [--max-speed 10]
 *     [--open-hour-ms 40000] [--closed-hour-ms 4000] [--no-docs] [--keep] [--help]
 *
 * Needs the compiled JavaScript (`npx tsc -b tsconfig.build.json`); scripts/soak.mjs builds first.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { placeSection, sectionBlock } from '../../scripts/bench-doc.mjs';
import { ROOT } from '../helpers/proc.js';
import { MIN_DAYS_FOR_SLOPE, RSS_SLOPE_BOUND_MB_PER_DAY } from './bounds.js';

const USAGE = `usage: npm run soak -- [--days N] [--shelves N] [--seed N] [--max-speed X] [--open-hour-ms N]
         [--closed-hour-ms N] [--no-docs] [--keep]

A simulated store week on the real chain: simulator (virtual time, TCP) → compiled agent →
compiled central (aedes, ingest, rules, orders, SQLite) → webhook supplier who ships and restocks.
Checks: counts exact against the ground truth, nothing lost, orders 1:1 with needs, and RSS after
a forced GC growing by less than ${RSS_SLOPE_BOUND_MB_PER_DAY} MB per simulated day (agent and central;
judged on runs of ${MIN_DAYS_FOR_SLOPE} days or more).

  --days N            simulated days (default 7)
  --shelves N         simulated shelves, 4 lanes each (default 50, at most 64)
  --seed N            seed of the week and the simulator (default 1)
  --max-speed X       device time at most X × the wall clock (default 10)
  --open-hour-ms N    device time of a simulated hour while the store is open (default 40000)
  --closed-hour-ms N  device time of a simulated hour while it is closed (default 4000)
  --no-docs           leave docs/reliability.md alone
  --keep              keep the working directory (central.db, configs, memory samples)
  --help              this text`;

const Args = z.object({
  days: z.coerce.number().int().min(1).max(60),
  shelves: z.coerce.number().int().min(1).max(64),
  seed: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  'max-speed': z.coerce.number().positive().max(1_000),
  'open-hour-ms': z.coerce.number().int().min(5_000).max(3_600_000),
  'closed-hour-ms': z.coerce.number().int().min(500).max(3_600_000),
});

const OPTIONS = {
  days: { type: 'string', default: '7' },
  shelves: { type: 'string', default: '50' },
  seed: { type: 'string', default: '1' },
  'max-speed': { type: 'string', default: '10' },
  'open-hour-ms': { type: 'string', default: '40000' },
  'closed-hour-ms': { type: 'string', default: '4000' },
  'no-docs': { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

function parse() {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>;
  try {
    parsed = parseArgs({ options: OPTIONS, strict: true });
  } catch (err) {
    console.error(`soak: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const r = Args.safeParse(parsed.values);
  if (!r.success) {
    for (const i of r.error.issues) console.error(`soak: --${i.path.join('.')}: ${i.message}`);
    process.exit(2);
  }
  return { ...r.data, docs: !parsed.values['no-docs'], keep: parsed.values.keep };
}

function machine(): string {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${cpu}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; Node ${process.version}`;
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const args = parse();
  // Loaded after the flags are read, so --help works before the packages are built.
  const { runSoak } = await import('./run.js');
  const { summaryTable, verdicts } = await import('./report.js');
  const load0 = loadavg()[0] as number;
  console.error(
    `soak: ${args.days} simulated days, ${args.shelves} shelves, seed ${args.seed}, device time ≤ ${args['max-speed']}× wall clock`,
  );
  const result = await runSoak({
    days: args.days,
    shelves: args.shelves,
    seed: args.seed,
    maxSpeed: args['max-speed'],
    openHourMs: args['open-hour-ms'],
    closedHourMs: args['closed-hour-ms'],
    keepDir: args.keep,
    log: (line) => console.error(`soak: ${line}`),
  });
  const table = summaryTable(result);
  // Memory settles over the first simulated days (caches, SQLite pages, JIT): a slope over the
  // second half of a shorter run measures the warm-up, not a leak.
  const memory = args.days >= MIN_DAYS_FOR_SLOPE;
  const checks = verdicts(result, { memory });
  const lines = checks.map((v) => `- ${v.ok ? 'PASS' : 'FAIL'}: ${v.check} — ${v.detail}`);
  if (!memory)
    lines.push(`- RSS slope not judged: fewer than ${MIN_DAYS_FOR_SLOPE} simulated days (still warming up)`);
  const load1 = loadavg()[0] as number;
  console.log(`\n${table}\n\n${lines.join('\n')}`);
  if (args.keep) console.error(`soak: working directory kept: ${result.dir}`);
  if (args.docs) {
    const cmd =
      `npm run soak -- --days ${args.days} --shelves ${args.shelves} --seed ${args.seed} --max-speed ${args['max-speed']} ` +
      `--open-hour-ms ${args['open-hour-ms']} --closed-hour-ms ${args['closed-hour-ms']}`;
    const header = [
      `${new Date().toISOString().slice(0, 10)}, commit ${commit()}, seed ${args.seed}; ${machine()}; ` +
        `load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end.`,
      '',
      `Command: \`${cmd}\``,
    ].join('\n');
    const file = join(ROOT, 'docs/reliability.md');
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = '# Reliability\n';
    }
    const block = sectionBlock('soak', header, `${table}\n\n${lines.join('\n')}`);
    writeFileSync(file, placeSection(text, { name: 'soak', title: 'Soak' }, block));
    console.error('soak: recorded in docs/reliability.md');
  }
  return checks.every((v) => v.ok) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(`soak: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  },
);
