/** The cluster benchmark's tables, from its runs' results. */
import type { RunResult } from './cluster-run.js';

const f = (n: number | null | undefined, d = 0) =>
  n !== null && n !== undefined && Number.isFinite(n) ? n.toFixed(d) : '–';
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const head = (cols: string[], left = 1) =>
  [row(cols), row(cols.map((_, i) => (i < left ? '---' : '---:')))].join('\n');

const totalUs = (r: RunResult) =>
  (r.us.central ?? 0) + (r.us.workers ?? 0) + (r.us.nats ?? 0) + (r.us.postgres ?? 0);

function verdict(r: RunResult): string {
  if (r.loss) return `LOSS (${r.loss})`;
  if (r.genCpu > 90) return 'void: generator saturated';
  return 'yes';
}

export function throughputTable(rows: RunResult[]): string {
  return [
    head([
      'deployment',
      'readings',
      'committed',
      'readings/s committed while publishing',
      'readings/s, first publish → all committed',
      'backlog drain s',
      'parts CPU % while publishing',
      'generator CPU %',
      'webhook p50 / p99 ms under load',
      'webhooks under load',
      'p50 / p99 ms after the load',
      'webhooks after',
      'load',
      'every reading committed once',
    ]),
    ...rows.map((r) =>
      row([
        r.name,
        r.sent,
        r.committed,
        f(r.rate),
        f(r.rateDrained),
        f(r.drainS, 1),
        f(r.partsCpu),
        f(r.genCpu),
        `${f(r.under.p50)} / ${f(r.under.p99)}`,
        `${r.under.hooks}/${r.under.of}`,
        `${f(r.after.p50)} / ${f(r.after.p99)}`,
        `${r.after.hooks}/${r.after.of}`,
        f(r.load, 1),
        verdict(r),
      ]),
    ),
  ].join('\n');
}

export function costTable(rows: RunResult[]): string {
  return [
    head([
      'deployment',
      'central',
      'workers (sum)',
      'NATS (3 nodes)',
      'Postgres (all backends)',
      'total',
      'total / single central',
    ]),
    ...rows.map((r) => {
      const single = rows.find((x) => x.workers === null);
      return row([
        r.name,
        f(r.us.central),
        f(r.us.workers),
        f(r.us.nats),
        f(r.us.postgres),
        f(totalUs(r)),
        single ? f(totalUs(r) / totalUs(single), 2) : '–',
      ]);
    }),
  ].join('\n');
}

/** Postgres's work per committed reading, less what the parts do idle over the same time. */
export function pgTable(rows: RunResult[]): string {
  return [
    head([
      'deployment',
      'transactions per 1,000 readings (raw)',
      'readings per transaction',
      'rows inserted',
      'rows updated',
      'rows deleted',
      'WAL bytes',
      'idle: transactions/s',
      'idle CPU %: workers / NATS / Postgres',
    ]),
    ...rows.map((r) => {
      // A burst caught in the idle window (an engine rebuilt) would make the net figures negative.
      const n = r.pgNet && r.pgNet.xacts > 0 ? r.pgNet : null;
      return row([
        r.name,
        `${f((n?.xacts ?? Number.NaN) * 1000, 1)} (${f((r.pg?.xacts ?? Number.NaN) * 1000, 1)})`,
        f(1 / (n?.xacts ?? Number.NaN), 0),
        f(n?.inserted, 2),
        f(n?.updated, 2),
        f(n?.deleted, 2),
        f(n?.walBytes),
        f(r.idle?.xactsPerS, 1),
        `${f(r.idle?.pct.workers, 1)} / ${f(r.idle?.pct.nats, 1)} / ${f(r.idle?.pct.postgres, 1)}`,
      ]);
    }),
  ].join('\n');
}

/**
 * What a capacity model starts from: each part's CPU per reading, and the readings/s one core of
 * it would carry if nothing else ran there.
 */
export function capacityTable(rows: RunResult[]): string {
  const perCore = (us: number | null) => (us ? f(1e6 / us) : '–');
  return [
    'Capacity model inputs: CPU per committed reading of each part, and the readings/s one core would carry for that part alone (10⁶ / µs):',
    '',
    head([
      'deployment',
      'worker µs',
      'NATS µs (3 replicas)',
      'Postgres µs',
      'worker core',
      'NATS core (all 3 nodes)',
      'Postgres core',
      'whole pipeline on one core',
    ]),
    ...rows.map((r) =>
      row([
        r.name,
        f(r.us.workers ?? r.us.central, 1),
        f(r.us.nats, 1),
        f(r.us.postgres, 1),
        perCore(r.us.workers ?? r.us.central),
        perCore(r.us.nats),
        perCore(r.us.postgres),
        perCore(totalUs(r)),
      ]),
    ),
    '',
    'For the single central the "worker" column is the central process (ingest, rules and SQLite in one).',
  ].join('\n');
}
