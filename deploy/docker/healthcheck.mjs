#!/usr/bin/env node
// The images' HEALTHCHECK: no curl or wget in a slim image, so node itself asks.
//
//   healthcheck.mjs URL                   200 from URL (central's /healthz, the agent's /metrics)
//   healthcheck.mjs worker CONFIG         this container's cluster worker heartbeats in Postgres
//
// A cluster worker serves no HTTP: it is healthy while its row in cluster_workers (default id
// host-pid, the container's hostname) was seen within its lease.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';

const [what, arg] = process.argv.slice(2);
const fail = (why) => {
  process.stderr.write(`unhealthy: ${why}\n`);
  process.exit(1);
};

/** A duration as the config writes it: ms, or `10s`, `2m` … */
function ms(d) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(String(d));
  const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return m ? Number(m[1]) * units[m[2]] : Number(d);
}

if (what === 'worker') {
  const require = createRequire('/app/package.json');
  const { parse } = require('yaml');
  const { Client } = require('pg');
  const cluster = parse(readFileSync(arg ?? '/etc/shelfsense/central.yaml', 'utf8'))?.cluster;
  if (!cluster?.postgres?.url) fail('no cluster.postgres.url in the config');
  const schema = cluster.postgres.schema ?? 'shelfsense';
  const leaseMs = ms(cluster.leaseMs ?? 10_000);
  // The entrypoint exports PGPASSWORD for the worker; a health check runs without it. (A password
  // option would lose to the connection string's empty one: node-postgres reads the variable.)
  const file = process.env.PGPASSWORD_FILE;
  if (file) process.env.PGPASSWORD = readFileSync(file, 'utf8').trim();
  const client = new Client({ connectionString: cluster.postgres.url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    const { rows } = await client.query(
      `SELECT max(seen_at)::bigint AS seen FROM "${schema}".cluster_workers WHERE id LIKE $1`,
      [`${hostname()}-%`],
    );
    const seen = Number(rows[0]?.seen ?? 0);
    if (Date.now() - seen > leaseMs)
      fail(`worker ${hostname()} last seen ${seen ? new Date(seen).toISOString() : 'never'}`);
  } catch (err) {
    fail(err.message);
  } finally {
    await client.end().catch(() => {});
  }
} else if (what?.startsWith('http')) {
  const res = await fetch(what, { signal: AbortSignal.timeout(4_000) }).catch((err) => fail(err.message));
  if (res.status !== 200) fail(`${what} answered ${res.status}`);
} else {
  fail('usage: healthcheck.mjs URL | worker CONFIG');
}
