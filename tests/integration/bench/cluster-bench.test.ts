/**
 * `npm run bench -- cluster` end to end, scaled down (4 agents × 2 lanes for 2 s, one worker): the
 * single central, a 3-node NATS cluster, Postgres and a worker all run for real. Proves the
 * benchmark completes with every reading committed once and every order's webhook received on
 * both deployments, prints each part's CPU per reading and the Postgres figures, and records its
 * tables in the benchmarks document between the cluster's markers. No figure is checked: timings
 * belong to the benchmark, not to a test.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, ROOT, spawnCli } from '../../helpers/proc.js';
import { withTimeout } from '../../helpers/wait.js';

let dir: string | undefined;

afterEach(async () => {
  await killAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const between = (text: string, name: string) =>
  text.slice(text.indexOf(`<!-- bench:${name}:begin -->`), text.indexOf(`<!-- bench:${name}:end -->`));

describe('cluster benchmark', () => {
  it('[bench-cluster] measures the single central and one worker on the same load, nothing lost, and records the tables', async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
    const doc = join(dir, 'benchmarks.md');
    copyFileSync(join(ROOT, 'docs/benchmarks.md'), doc);
    const args = ['cluster', '--no-build', '--workers', '1', '--agents', '4', '--lanes', '2'];
    args.push(
      '--duration',
      '2s',
      '--cross',
      '2',
      '--latency-lanes',
      '2',
      '--idle',
      '500ms',
      '--partitions',
      '4',
    );
    const bench = spawnCli('scripts/bench.mjs', args, { env: { SHELFSENSE_BENCH_DOC: doc } });
    const exit = await withTimeout(bench.exited, 150_000, 'the benchmark');
    const out = bench.lines.join('\n');
    expect(exit.code, bench.stderr()).toBe(0);

    expect(out).toContain('cost of distribution, not capacity');
    for (const name of ['single central (embedded aedes, SQLite)', 'cluster, 1 worker']) {
      // Every reading committed once, and both orders' webhooks, under load and after it.
      // The first table (throughput, loss and latency) comes first.
      const line = bench.lines.find((l) => l.startsWith(`| ${name} | `));
      expect(line, name).toBeDefined();
      expect(line).toMatch(
        /\| 2\/2 \| [\d–]+ \/ [\d–]+ \| 2\/2 \| [\d.]+ \| (yes|void: generator saturated) \|$/,
      );
    }
    // CPU per reading of each part of the cluster, and Postgres's work per reading.
    expect(out).toMatch(/\| cluster, 1 worker \| – \| \d+ \| \d+ \| \d+ \| \d+ \| [\d.]+ \|/);
    expect(out).toContain('| deployment | transactions per 1,000 readings (raw) |');
    expect(out).toContain('Capacity model inputs');

    const block = between(readFileSync(doc, 'utf8'), 'cluster');
    expect(block).toContain('Reproduce: `npm run bench -- cluster --workers 1 --agents 4');
    expect(block).toContain('| cluster, 1 worker |');
    expect(between(readFileSync(doc, 'utf8'), 'summary')).toMatch(
      /\| cluster \| readings\/s committed, 1 worker/,
    );
  }, 180_000);
});
