/**
 * Catalogue benchmark (not a test): what a large catalogue costs. It builds one of N lanes
 * (default 10,000: sites of 25 shelves of 4 lanes) and measures, on a real SQLite store file:
 *
 * - seeding it into an empty store (version 1, its audit row);
 * - `shelfsense config apply` of a file that changes 1 % of the lanes' capacities, as a person runs
 *   it (the compiled CLI in a process of its own: start, read, validate, diff, one transaction),
 *   and the same apply in process (diff, effects, the version row, revisions and audit rows);
 * - one object changed through the API's edit (what each save in the admin view costs);
 * - reloading the shelf map with it (what every part does when a version lands);
 * - ACL decisions (the broker's canPublish for an agent's level, canRead for a supplier's
 *   delivery) against the demo-sized map and the large one in the same run: a large catalogue
 *   must not slow the broker's hot path.
 *
 *   node --import tsx bench/central/catalogue-bench.ts [--lanes 10000] [--rounds 5]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { canPublish, canRead, type Principal } from '@shelfsense/broker';
import { applyCatalogue, editCatalogue, ensureCatalogue } from '@shelfsense/central/catalogue';
import { Store } from '@shelfsense/central/store';
import {
  type Catalogue,
  CentralConfig,
  parseTopic,
  ShelfMap,
  topics,
  withCatalogue,
} from '@shelfsense/protocol';
import { stringify } from 'yaml';
import { summaryLine } from '../../scripts/bench-doc.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { values: v } = parseArgs({
  options: {
    lanes: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '5' },
  },
});
const LANES = Number(v.lanes);
const ROUNDS = Math.max(1, Number(v.rounds));
if (!Number.isInteger(LANES) || LANES < 4) throw new Error('--lanes: a whole number of at least 4');

const SHELF_LANES = 4;
const SITE_SHELVES = 25;
const SUPPLIERS = 20;
const SKUS = 200;
/** Distinct lanes the ACL decisions cycle over: the small map's whole size. */
const DISTINCT = 8;

function makeCatalogue(lanes: number): Catalogue {
  const shelves = Math.ceil(lanes / SHELF_LANES);
  const sites = Math.ceil(shelves / SITE_SHELVES);
  let made = 0;
  return {
    suppliers: Array.from({ length: SUPPLIERS }, (_, i) => ({ id: `sup-${i}` })),
    skus: Array.from({ length: SKUS }, (_, i) => ({
      id: `sku-${i}`,
      unitWeightG: 100 + i,
      supplier: `sup-${i % SUPPLIERS}`,
    })),
    sites: Array.from({ length: sites }, (_, s) => ({
      id: `site-${s}`,
      shelves: Array.from({ length: Math.min(SITE_SHELVES, shelves - s * SITE_SHELVES) }, (_, h) => ({
        id: `shelf-${h}`,
        serial: `SN-${s}-${h}`,
        agent: `pi-${s}-${Math.floor(h / 5)}`,
        lanes: Array.from({ length: SHELF_LANES }, (_, l) => ({
          id: `L${l}`,
          channels: [l],
          sku: `sku-${made++ % SKUS}`,
          capacity: 24,
        })),
      })),
    })),
    replenishment: {
      defaults: { reorderPoint: 4, orderUpTo: 24 },
      skus: [],
      sites: [],
      lanes: [],
      webhooks: { suppliers: [] },
    },
  } as unknown as Catalogue;
}

/** The same catalogue with every 100th lane's capacity changed. */
function changed(c: Catalogue, capacity: number): Catalogue {
  const next = structuredClone(c) as { sites: { shelves: { lanes: { capacity?: number }[] }[] }[] };
  let n = 0;
  for (const site of next.sites)
    for (const shelf of site.shelves)
      for (const lane of shelf.lanes) if (n++ % 100 === 0) lane.capacity = capacity;
  return next as unknown as Catalogue;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** ns per ACL decision: an agent publishing a level, a supplier receiving one, over many lanes. */
function aclNs(map: ShelfMap, c: Catalogue, decisions: number): { publish: number; read: number } {
  const refs: { site: string; shelf: string; lane: string; agent: string; supplier: string }[] = [];
  const skus = new Map(c.skus.map((s) => [s.id, s.supplier]));
  for (const site of c.sites)
    for (const shelf of site.shelves)
      for (const lane of shelf.lanes)
        refs.push({
          site: site.id,
          shelf: shelf.id,
          lane: lane.id,
          agent: shelf.agent,
          supplier: skus.get(lane.sku) as string,
        });
  const sample = Array.from(
    { length: 1024 },
    (_, i) => refs[(i * 7919) % refs.length] as (typeof refs)[number],
  );
  const cases = sample.map((r) => {
    const topic = topics.level(r.site, r.shelf, r.lane);
    return {
      topic,
      parsed: parseTopic(topic),
      agent: { user: r.agent, grant: { role: 'agent', site: r.site, agent: r.agent } } as Principal,
      supplier: { user: r.supplier, grant: { role: 'supplier', supplier: r.supplier } } as Principal,
    };
  });
  let ok = 0;
  const run = (fn: (k: (typeof cases)[number]) => boolean) => {
    for (let i = 0; i < decisions / 10; i++)
      ok += fn(cases[i % cases.length] as (typeof cases)[number]) ? 1 : 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < decisions; i++) ok += fn(cases[i % cases.length] as (typeof cases)[number]) ? 1 : 0;
    return Number(process.hrtime.bigint() - t0) / decisions;
  };
  const publish = run((k) => canPublish(k.agent, k.topic, k.parsed, map).ok);
  const read = run((k) => canRead(k.supplier, k.topic, k.parsed, map));
  if (ok < decisions * 2) throw new Error(`ACL refused ${decisions * 2.2 - ok} decisions that should pass`);
  return { publish, read };
}

const dir = mkdtempSync(join(tmpdir(), 'shelfsense-catalogue-bench-'));
try {
  const big = makeCatalogue(LANES);
  const small = makeCatalogue(8);
  const config = CentralConfig.parse({ dataDir: dir, parts: { broker: false } });
  const storeFile = join(dir, 'central.db');
  const seeded = withCatalogue(config, big);
  writeFileSync(join(dir, 'central.yaml'), stringify({ dataDir: dir }));

  const t0 = process.hrtime.bigint();
  const store = Store.open(storeFile);
  ensureCatalogue(store, seeded);
  const seedMs = ms(t0);

  const inProcess: number[] = [];
  const cli: number[] = [];
  const mapReload: number[] = [];
  const edit: number[] = [];
  const map = new ShelfMap(big);
  for (let r = 0; r < ROUNDS; r++) {
    // In process: diff, effects, one transaction with the version row, revisions and audit rows.
    const a = process.hrtime.bigint();
    const applied = applyCatalogue(store, config, changed(big, 30 + 2 * r), { actor: 'bench' });
    inProcess.push(ms(a));
    if (applied.version === null) throw new Error('the apply changed nothing');

    // As a person runs it: the compiled CLI, a process of its own.
    const file = join(dir, `catalogue-${r}.yaml`);
    writeFileSync(file, stringify(changed(big, 31 + 2 * r)));
    const b = process.hrtime.bigint();
    const out = spawnSync(
      process.execPath,
      [
        join(root, 'cli/bin/shelfsense.js'),
        'config',
        'apply',
        file,
        '--config',
        join(dir, 'central.yaml'),
        '--actor',
        'bench',
      ],
      { encoding: 'utf8' },
    );
    cli.push(ms(b));
    if (out.status !== 0) throw new Error(`config apply failed (${out.status}): ${out.stderr}`);

    // One object, as the admin view saves it: the whole catalogue validated, one version written.
    const c = process.hrtime.bigint();
    editCatalogue(
      store,
      config,
      {
        what: 'policy',
        id: 'defaults',
        op: 'put',
        revision: store.catalogue.revision('policy', 'defaults'),
        change: (d) => {
          (d.replenishment.defaults as { reorderPoint?: number }).reorderPoint = 5 + (r % 2);
          return ['replenishment', 'defaults'];
        },
      },
      { actor: 'bench', role: 'admin', view: () => null },
    );
    edit.push(ms(c));

    const d = process.hrtime.bigint();
    map.reload(big);
    mapReload.push(ms(d));
  }
  store.close();

  // Alternated, medians of three each: the order of the runs must not decide the ratio.
  const decisions = 2_000_000;
  const smallMap = new ShelfMap(small);
  const runs: { small: { publish: number; read: number }; big: { publish: number; read: number } }[] = [];
  for (let i = 0; i < 3; i++)
    runs.push({ small: aclNs(smallMap, small, decisions), big: aclNs(map, big, decisions) });
  const pick = (which: 'small' | 'big') => ({
    publish: median(runs.map((r) => r[which].publish)),
    read: median(runs.map((r) => r[which].read)),
  });
  const smallAcl = pick('small');
  const bigAcl = pick('big');

  const lanes = LANES.toLocaleString('en-US');
  console.log(
    `Catalogue of ${lanes} lanes (${big.sites.length} sites, ${Math.ceil(LANES / SHELF_LANES)} shelves, ${SKUS} SKUs); medians of ${ROUNDS} rounds.\n`,
  );
  console.log('| step | ms |');
  console.log('| --- | ---: |');
  console.log(`| seed into an empty store (version 1) | ${round(seedMs)} |`);
  console.log(
    `| apply, 1 % of lanes changed, in process (diff, one transaction, audit rows) | ${round(median(inProcess))} |`,
  );
  console.log(
    `| \`shelfsense config apply\` of the same, a process of its own (start to exit) | ${round(median(cli))} |`,
  );
  console.log(`| one object changed, as the admin view saves it | ${round(median(edit))} |`);
  console.log(`| shelf map reload | ${round(median(mapReload), 2)} |`);
  console.log(
    `\nACL decisions, ns each (medians of 3 alternated runs of 2,000,000 over the same ${DISTINCT} distinct lanes, spread over the map):\n`,
  );
  console.log('| decision | 8-lane map | ' + `${lanes}-lane map | ratio |`);
  console.log('| --- | ---: | ---: | ---: |');
  console.log(
    `| agent publishes a level (canPublish) | ${round(smallAcl.publish)} | ${round(bigAcl.publish)} | ${round(bigAcl.publish / smallAcl.publish, 2)} |`,
  );
  console.log(
    `| supplier receives a level (canRead) | ${round(smallAcl.read)} | ${round(bigAcl.read)} | ${round(bigAcl.read / smallAcl.read, 2)} |`,
  );
  console.log();
  console.log(
    summaryLine('catalogue', [
      {
        measure: `config apply of a ${lanes}-lane catalogue, s`,
        ours: round(median(cli) / 1000, 2),
        target: '—',
      },
      {
        measure: `ACL canPublish, ns (${lanes} lanes vs 8)`,
        ours: round(bigAcl.publish),
        peer: round(smallAcl.publish),
        peerName: '8-lane map',
        target: '≤ 1.5 ×',
        met: bigAcl.publish <= 1.5 * smallAcl.publish,
      },
      {
        measure: `ACL canRead, ns (${lanes} lanes vs 8)`,
        ours: round(bigAcl.read),
        peer: round(smallAcl.read),
        peerName: '8-lane map',
        target: '≤ 1.5 ×',
        met: bigAcl.read <= 1.5 * smallAcl.read,
      },
    ]),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
