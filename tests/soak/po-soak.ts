/**
 * The purchase-order week (see po-run.ts), judged by po-report.ts: prints a progress line per
 * simulated day, then the summary table and the verdicts; exits 1 when one fails. With docs on (the
 * default) the result goes into docs/reliability.md between the `bench:po-week` markers.
 *
 *   npx tsc -b tsconfig.build.json && node agent/scripts/bundle.mjs
 *   node --import tsx tests/soak/po-soak.ts [--days 7] [--shelves 12] [--seed 1] [--max-speed 4]
 *     [--open-hour-ms 50000] [--closed-hour-ms 10000] [--lead-s 100] [--jitter 0.05] [--lead-min 2]
 *     [--no-docs] [--keep] [--help]
 *
 * Central's clock is the wall clock and a schedule's cut-offs fall on whole minutes, so the week's
 * pace is set by them: at most 21 cycles a week, one a wall minute, three a simulated day — about
 * 21 minutes for the default week.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { placeSection, sectionBlock } from '../../scripts/bench-doc.mjs';
import { ROOT } from '../helpers/proc.js';

const USAGE = `usage: node --import tsx tests/soak/po-soak.ts [--days N] [--shelves N] [--seed N] [--max-speed X]
         [--open-hour-ms N] [--closed-hour-ms N] [--lead-s S] [--jitter J] [--lead-min M]
         [--short-rate P] [--declared-short-rate P] [--no-docs] [--keep]

A simulated store week with purchase orders on the real chain (simulator → bundled agent → compiled
central → a webhook supplier who acknowledges, ships and delivers): acme on a delivery schedule of
cut-offs a wall minute apart, crunchy without one. Checks: every need on exactly one PO line, one
webhook per PO version, a discrepancy for exactly the lines delivered short, and the learned lead
time within 10 % of the supplier's true mean. Build first: npx tsc -b tsconfig.build.json and
node agent/scripts/bundle.mjs.

  --days N                 simulated days (default 7)
  --shelves N              simulated shelves, 4 lanes each (default 12)
  --seed N                 seed of the week, the simulator and the supplier (default 1)
  --max-speed X            device time at most X × the wall clock (default 4: a day in ~3 min)
  --open-hour-ms N         device time of a simulated hour while the store is open (default 50000)
  --closed-hour-ms N       ... and while it is closed (default 10000)
  --lead-s S               acme's true mean lead time, wall seconds (default 100)
  --jitter J               each lead is S × (1 ± J), uniform (default 0.05)
  --lead-min M             the schedule's cut-off → delivery, minutes (default 2)
  --short-rate P           chance a PO has a line delivered short (default 0.3)
  --declared-short-rate P  chance a PO has a line shipped short, as declared (default 0.2)
  --no-docs                leave docs/reliability.md alone
  --keep                   keep the working directory (central.db, configs)
  --help                   this text`;

const Share = z.coerce.number().min(0).max(1);
const Args = z.object({
  days: z.coerce.number().int().min(1).max(7),
  shelves: z.coerce.number().int().min(1).max(64),
  seed: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  'max-speed': z.coerce.number().positive().max(100),
  'open-hour-ms': z.coerce.number().int().min(5_000).max(3_600_000),
  'closed-hour-ms': z.coerce.number().int().min(500).max(3_600_000),
  'lead-s': z.coerce.number().positive().max(3_600),
  jitter: z.coerce.number().min(0).max(0.9),
  'lead-min': z.coerce.number().int().min(1).max(60),
  'short-rate': Share,
  'declared-short-rate': Share,
});

const OPTIONS = {
  days: { type: 'string', default: '7' },
  shelves: { type: 'string', default: '12' },
  seed: { type: 'string', default: '1' },
  'max-speed': { type: 'string', default: '4' },
  'open-hour-ms': { type: 'string', default: '50000' },
  'closed-hour-ms': { type: 'string', default: '10000' },
  'lead-s': { type: 'string', default: '100' },
  jitter: { type: 'string', default: '0.05' },
  'lead-min': { type: 'string', default: '2' },
  'short-rate': { type: 'string', default: '0.3' },
  'declared-short-rate': { type: 'string', default: '0.2' },
  'no-docs': { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

function parse() {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>;
  try {
    parsed = parseArgs({ options: OPTIONS, strict: true });
  } catch (err) {
    console.error(`po-soak: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const r = Args.safeParse(parsed.values);
  if (!r.success) {
    for (const i of r.error.issues) console.error(`po-soak: --${i.path.join('.')}: ${i.message}`);
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
  const { runPoWeek } = await import('./po-run.js');
  const { poSummaryTable, poVerdicts } = await import('./po-report.js');
  const load0 = loadavg()[0] as number;
  console.error(
    `po-soak: ${args.days} simulated days, ${args.shelves} shelves, seed ${args.seed}, ` +
      `device time ≤ ${args['max-speed']}× wall clock, true lead ${args['lead-s']} s ± ${args.jitter * 100} %`,
  );
  const result = await runPoWeek({
    days: args.days,
    shelves: args.shelves,
    seed: args.seed,
    maxSpeed: args['max-speed'],
    openHourMs: args['open-hour-ms'],
    closedHourMs: args['closed-hour-ms'],
    lead: { meanMs: args['lead-s'] * 1000, jitter: args.jitter },
    leadMin: args['lead-min'],
    shortRate: args['short-rate'],
    declaredShortRate: args['declared-short-rate'],
    keepDir: args.keep,
    log: (line) => console.error(`po-soak: ${line}`),
  });
  const table = poSummaryTable(result);
  const checks = poVerdicts(result, { convergence: 0.1, minShortLines: 1 });
  const lines = checks.map((v) => `- ${v.ok ? 'PASS' : 'FAIL'}: ${v.check} — ${v.detail}`);
  const load1 = loadavg()[0] as number;
  console.log(`\n${table}\n\n${lines.join('\n')}`);
  if (args.keep) console.error(`po-soak: working directory kept: ${result.dir}`);
  if (args.docs) {
    const cmd =
      `node --import tsx tests/soak/po-soak.ts --days ${args.days} --shelves ${args.shelves} --seed ${args.seed} ` +
      `--max-speed ${args['max-speed']} --open-hour-ms ${args['open-hour-ms']} --closed-hour-ms ${args['closed-hour-ms']} ` +
      `--lead-s ${args['lead-s']} --jitter ${args.jitter} --lead-min ${args['lead-min']}`;
    const header = [
      `${new Date().toISOString().slice(0, 10)}, commit ${commit()}, seed ${args.seed}; ${machine()}; ` +
        `load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end.`,
      '',
      `Command: \`${cmd}\``,
    ].join('\n');
    const file = join(ROOT, 'docs/reliability.md');
    const text = readFileSync(file, 'utf8');
    const block = sectionBlock('po-week', header, `${table}\n\n${lines.join('\n')}`);
    writeFileSync(file, placeSection(text, { name: 'po-week', title: 'Purchase-order week' }, block));
    console.error('po-soak: recorded in docs/reliability.md');
  }
  return checks.every((v) => v.ok) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    console.error(`po-soak: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  },
);
