/**
 * Outbox benchmark (not a test): appends per second under each fsync mode, sequential reads,
 * trims as central marks arrive (every 200 records) and as PUBACKs arrive (every record), and the
 * time to reopen (validate) a backlog.
 *
 *   node --import tsx bench/agent/outbox-bench.ts [--records 50000] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Outbox, type OutboxOptions } from '@shelfsense/agent';
import { pino } from 'pino';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '50000' }, json: { type: 'boolean', default: false } },
});
const N = Number(values.records);
const logger = pino({ level: 'silent' });
const TOPIC = 'shelfsense/v1/store-12/shelf-3/lane-2/level';
const results: Record<string, string | number> = {};

/** A level payload of realistic size (~220 bytes as JSON). */
function payload(i: number): Record<string, unknown> {
  return {
    agent: 'pi-store-12',
    serial: 'SHELF-000123',
    sku: 'SKU-4711',
    units: i % 40,
    grams: 1234.5 + (i % 97),
    fill: (i % 40) / 40,
    stable: true,
    confidence: 0.97,
    state: 'ok',
    ts: Date.now(),
    frameSeq: i,
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'shelfsense-outbox-bench-'));
}

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

async function appendRun(label: string, options: OutboxOptions, count: number): Promise<string> {
  const dir = tempDir();
  const outbox = await Outbox.open(dir, { logger, ...options });
  const t0 = performance.now();
  for (let i = 0; i < count; i++) outbox.append({ topic: TOPIC, payload: payload(i), qos: 1, retain: true });
  const ms = performance.now() - t0;
  results[`append/s ${label}`] = rate(count, ms);
  results[`µs/append ${label}`] = Number(((ms * 1000) / count).toFixed(1));
  await outbox.close();
  return dir;
}

async function main(): Promise<void> {
  const rss0 = process.memoryUsage().rss;
  rmSync(await appendRun('fsync=append', { fsync: 'append' }, Math.min(N, 2000)), { recursive: true });
  rmSync(await appendRun('fsync=none', { fsync: 'none' }, N), { recursive: true });
  const dir = await appendRun('fsync=interval(5ms)', {}, N);

  // Reopen: every segment is validated (CRC) once.
  let t0 = performance.now();
  let outbox = await Outbox.open(dir, { logger });
  results['reopen ms'] = Math.round(performance.now() - t0);
  results['reopen records/s'] = rate(N, performance.now() - t0);
  const stats = outbox.stats();
  results['bytes/record on disk'] = Math.round(stats.diskBytes / stats.queued);

  // Sequential reads, as a publisher catching up on a backlog.
  t0 = performance.now();
  let after = 0;
  let read = 0;
  for (;;) {
    const batch = outbox.peek(after, 200);
    if (batch.length === 0) break;
    read += batch.length;
    after = batch.at(-1)!.seq;
  }
  results['peek records/s (batches of 200)'] = rate(read, performance.now() - t0);

  // Trims as central's stored mark arrives every 200 records.
  t0 = performance.now();
  let trims = 0;
  for (let s = 200; s <= N / 2; s += 200, trims++) outbox.trimThrough(s);
  results['trims/s (mark every 200)'] = rate(trims, performance.now() - t0);

  // Trims on every PUBACK (broker mode).
  t0 = performance.now();
  let one = 0;
  for (let s = N / 2 + 1; s <= N; s++, one++) outbox.trimThrough(s);
  results['trims/s (every record)'] = rate(one, performance.now() - t0);
  results['segments left'] = outbox.stats().segments;
  await outbox.close();

  // Steady state: append then trim right behind, like a connected agent.
  outbox = await Outbox.open(dir, { logger });
  t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const seq = outbox.append({ topic: TOPIC, payload: payload(i) });
    outbox.peek(seq - 1, 1);
    outbox.trimThrough(seq);
  }
  results['append+peek+trim cycles/s'] = rate(N, performance.now() - t0);
  await outbox.close();
  rmSync(dir, { recursive: true });
  results['rss MB (process)'] = Math.round(process.memoryUsage().rss / 1e6);
  results['rss growth MB'] = Math.round((process.memoryUsage().rss - rss0) / 1e6);

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ bench: 'outbox', records: N, results })}\n`);
  } else {
    process.stdout.write(`outbox bench, ${N} records\n`);
    const width = Math.max(...Object.keys(results).map((k) => k.length));
    for (const [k, v] of Object.entries(results)) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
  }
}

await main();
