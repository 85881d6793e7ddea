/**
 * docs/grafana.md and docs/grafana/shelfsense.json hold InfluxQL that users paste into Grafana.
 * Every query of both is run here against a real influxd holding history written by the store,
 * with Grafana's macros expanded as Grafana would: each must be valid and return data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type HistoryPoint, InfluxHistoryStore } from '@shelfsense/central/history';
import { InfluxHistoryConfig } from '@shelfsense/protocol';
import { InfluxDB } from 'influx';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxd, type TestInfluxd } from '../../helpers/influxd.js';
import { ROOT } from '../../helpers/proc.js';
import { BASE_TS, Points } from './fixtures.js';

const DB = 'grafana';
const FROM = BASE_TS - 3_600_000;
const TO = BASE_TS + 3 * 3_600_000;
const MINUTE = 60_000;

interface Dashboard {
  panels: { title: string; targets: { query: string }[] }[];
  templating: { list: { name: string; query: string }[] };
  annotations: { list: { name: string; target?: { query?: string } }[] };
}

/** Grafana's expansion: the time range, the interval, and each variable as a regex (All: `.*`). */
function expand(q: string, vars: Record<string, string>): string {
  let out = q
    .replaceAll('$timeFilter', `time >= ${FROM}ms AND time <= ${TO}ms`)
    .replaceAll('$__interval', '5m');
  for (const [k, v] of Object.entries(vars)) out = out.replaceAll(`$${k}`, v);
  return out;
}

interface RawAnswer {
  results: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[];
}

describe('Grafana queries', () => {
  let influxd: TestInfluxd;
  let raw: InfluxDB;
  let picked = 0;
  beforeAll(async () => {
    influxd = await startInfluxd();
    raw = new InfluxDB({ host: influxd.host, port: influxd.port, database: DB });
    const config = InfluxHistoryConfig.parse({
      host: influxd.host,
      port: influxd.port,
      database: DB,
      retention: '7d',
      setup: true,
    });
    const store = new InfluxHistoryStore({ config, log: pino({ level: 'silent' }) });
    await store.start();
    const pts = new Points();
    const batch: HistoryPoint[] = [];
    const lanes = [
      { site: 's1', shelf: 'a', lane: 'l1' },
      { site: 's1', shelf: 'a', lane: 'l2' },
      { site: 's2', shelf: 'b', lane: 'l1' },
    ];
    for (let m = 0; m < 120; m++) {
      const ts = BASE_TS + m * MINUTE;
      for (const lane of lanes) {
        const units = 24 - (m % 24);
        batch.push(pts.level(lane, ts, { units, fill: units / 24, stable: m % 7 !== 0 }));
        if (m % 24 === 23) batch.push(pts.event(lane, ts + 1, { kind: 'restock', delta: 23, units: 24 }));
        else {
          batch.push(pts.event(lane, ts + 1, { kind: 'pick', delta: -1, units: units - 1 }));
          if (lane.site === 's1') picked++;
        }
      }
      if (m % 5 === 0) {
        for (const shelf of ['a', 'b']) {
          batch.push(
            pts.health(shelf === 'a' ? 's1' : 's2', shelf, ts, { rejects: { checksum: m, seq_lost: 1 } }),
          );
        }
      }
      if (m % 60 === 30) batch.push(pts.calibration(lanes[0] as (typeof lanes)[0], ts + 2));
    }
    for (let i = 0; i < batch.length; i += 1_000) await store.write(batch.slice(i, i + 1_000));
    await store.stop();
  });
  afterAll(async () => {
    await influxd?.close();
  });

  const run = async (q: string): Promise<RawAnswer['results'][number]> => {
    const answer = (await raw.queryRaw(q, { precision: 'ms' })) as RawAnswer;
    const r = answer.results[0] ?? {};
    expect(r.error, `${q}\n→ ${r.error}`).toBeUndefined();
    return r;
  };

  const dashboard = JSON.parse(readFileSync(join(ROOT, 'docs/grafana/shelfsense.json'), 'utf8')) as Dashboard;
  const vars = { site: 's1', shelf: '.*', supplier: '.*' };

  it('[GRAFANA-DASHBOARD] every panel, variable and annotation query of the dashboard returns data', async () => {
    const queries = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, q: t.query }))),
      ...dashboard.templating.list.map((v) => ({ where: `variable ${v.name}`, q: v.query })),
      ...dashboard.annotations.list
        .filter((a) => a.target?.query)
        .map((a) => ({ where: a.name, q: a.target?.query as string })),
    ];
    expect(queries.length).toBe(13);
    for (const { where, q } of queries) {
      const r = await run(expand(q, vars));
      expect(r.series?.length ?? 0, `${where}: no data`).toBeGreaterThan(0);
    }
  });

  it('[GRAFANA-DASHBOARD] the pick total panel adds up the picks written', async () => {
    const panel = dashboard.panels.find((p) => p.title === 'Picks and restocks in range');
    const r = await run(expand(panel?.targets[0]?.query ?? '', vars));
    expect(r.series?.[0]?.values[0]?.[1]).toBe(picked);
  });

  it('[GRAFANA-DOCS] every InfluxQL example in docs/grafana.md runs and returns data', async () => {
    const md = readFileSync(join(ROOT, 'docs/grafana.md'), 'utf8');
    const examples = [...md.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => (m[1] as string).trim());
    expect(examples.length).toBeGreaterThanOrEqual(10);
    for (const q of examples) {
      const r = await run(expand(q.replace(/\s*\n\s*/g, ' '), vars));
      expect(r.series?.length ?? 0, `no data for: ${q}`).toBeGreaterThan(0);
    }
  });
});
