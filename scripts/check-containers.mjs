#!/usr/bin/env node
// Builds the two images and runs them as compose.yaml's default and demo profiles do — central,
// then the demo's agent user, a simulated shelf over TCP and the agent — and checks that each
// health check turns healthy, that the agent's readings reach central (its outbox confirmed by
// central's stored mark), and that the processes run unprivileged. Records what it measured in
// docs/containers.md (between the check-containers markers) unless --no-docs.
//
//   node scripts/check-containers.mjs [--base IMAGE] [--engine podman|docker] [--from-git REF]
//                                     [--cluster [--nats-image I] [--postgres-image I]]
//                                     [--keep] [--no-docs]
//
// --base: the image both Dockerfiles start from (default node:24-bookworm-slim; where no image
// registry can be reached, deploy/docker/local-base.sh builds a stand-in). --from-git: build
// from that commit's tree rather than the working tree. --cluster: also the cluster profile
// (cluster-init, Postgres, NATS, a worker, a web node), with compose.yaml's images for NATS and
// Postgres unless named (deploy/docker/stand-ins builds them from Debian's packages).
// --keep: leave containers and volumes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `usage: npm run check:containers -- [--base IMAGE] [--engine podman|docker] [--from-git REF]
                                     [--cluster [--nats-image I] [--postgres-image I]]
                                     [--keep] [--no-docs]

Builds the central and agent images, runs them as compose.yaml's default and demo profiles do
(and with --cluster its cluster profile), checks that each health check turns healthy, that the
agent's readings reach central, and that nothing runs as root; records the figures in
docs/containers.md unless --no-docs. Needs podman or a Docker engine; where no registry can be
reached, deploy/docker/local-base.sh builds a stand-in --base (docs/containers.md).`;
let parsed;
try {
  parsed = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      base: { type: 'string', default: 'node:24-bookworm-slim' },
      engine: { type: 'string' },
      'from-git': { type: 'string' },
      cluster: { type: 'boolean', default: false },
      'nats-image': { type: 'string' },
      'postgres-image': { type: 'string' },
      keep: { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
    },
  });
} catch (err) {
  console.error(`check-containers: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
const opts = parsed.values;
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const tag = `check-${process.pid}`;
const say = (msg) => process.stderr.write(`check-containers: ${msg}\n`);

function sh(cmd, args, { allowFail = false, input } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0 && !allowFail)
    throw new Error(`${cmd} ${args.join(' ')} → ${r.status}\n${(r.stderr || r.stdout || '').slice(-3000)}`);
  return { code: r.status, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- the engine and the flags this host needs ------------------------------------------------------
const engine =
  opts.engine ?? ['podman', 'docker'].find((e) => sh(e, ['info'], { allowFail: true }).code === 0);
if (!engine) {
  say('no container engine answers here (podman info and docker info both fail)');
  process.exit(2);
}
if (sh(engine, ['image', 'exists', opts.base], { allowFail: true }).code !== 0 && engine === 'podman') {
  if (sh(engine, ['pull', opts.base], { allowFail: true }).code !== 0) {
    say(
      `cannot find or pull ${opts.base}; build a stand-in with deploy/docker/local-base.sh and pass --base`,
    );
    process.exit(2);
  }
}
/**
 * Flags the runtime needs. Inside some VMs and containers crun may not raise the file and process
 * limits it copies from the host, nor handle cgroups v1 and v2 mounted together; runc and the
 * host's own limits do.
 */
function runFlags() {
  const probe = (flags) =>
    sh(engine, ['run', '--rm', ...flags, opts.base, 'node', '-e', '0'], { allowFail: true });
  if (probe([]).code === 0) return [];
  // The host's hard limits, which the runtime may keep but not exceed.
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const hard = (name, fallback) => {
    const v = new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)?.[1];
    return v && /^\d+$/.test(v) ? Math.min(Number(v), fallback) : fallback;
  };
  const nofile = hard('Max open files', 65536);
  const nproc = hard('Max processes', 4096);
  const flags = [
    ...(engine === 'podman' ? ['--runtime', 'runc'] : []),
    '--ulimit',
    `nofile=${nofile}:${nofile}`,
    '--ulimit',
    `nproc=${nproc}:${nproc}`,
  ];
  const r = probe(flags);
  if (r.code !== 0) throw new Error(`${engine} cannot run ${opts.base} here: ${r.err.split('\n').at(-1)}`);
  return flags;
}
const flags = runFlags();
if (flags.length) say(`runtime flags for this host: ${flags.join(' ')}`);

// --- build ----------------------------------------------------------------------------------------
let context = ROOT;
let scratch = null;
if (opts['from-git']) {
  scratch = mkdtempSync(join(tmpdir(), 'shelfsense-context-'));
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive "${opts['from-git']}" | tar -x -C "${scratch}"`]);
  context = scratch;
}
const images = { central: `shelfsense-central:${version}`, agent: `shelfsense-agent:${version}` };
const figures = {
  engine: `${engine} ${sh(engine, ['--version']).out.split(' ').at(-1)}`,
  base: opts.base,
  baseSizeMB: Math.round(
    Number(sh(engine, ['image', 'inspect', '--format', '{{.Size}}', opts.base]).out) / 1e6,
  ),
};
for (const [name, image] of Object.entries(images)) {
  say(`building ${image} …`);
  const t0 = Date.now();
  sh(engine, [
    'build',
    ...flags,
    // Podman's default OCI format has no HEALTHCHECK: it would drop it.
    ...(engine === 'podman' ? ['--format', 'docker'] : []),
    '--build-arg',
    `BASE=${opts.base}`,
    '-f',
    join(context, `deploy/docker/${name}.Dockerfile`),
    '-t',
    image,
    context,
  ]);
  figures[`${name}BuildS`] = Math.round((Date.now() - t0) / 1000);
  figures[`${name}SizeMB`] = Math.round(
    Number(sh(engine, ['image', 'inspect', '--format', '{{.Size}}', image]).out) / 1e6,
  );
}
if (scratch) rmSync(scratch, { recursive: true, force: true });

// --- run ------------------------------------------------------------------------------------------
const net = `shelfsense-${tag}`;
const names = {
  central: `central-${tag}`,
  init: `demo-init-${tag}`,
  sim: `sim-${tag}`,
  agent: `agent-${tag}`,
  ...(opts.cluster
    ? { postgres: `postgres-${tag}`, nats: `nats-${tag}`, worker: `worker-${tag}`, web: `web-${tag}` }
    : {}),
};
const vols = {
  data: `central-data-${tag}`,
  secrets: `demo-secrets-${tag}`,
  state: `agent-state-${tag}`,
  ...(opts.cluster
    ? {
        clusterData: `cluster-data-${tag}`,
        clusterSecrets: `cluster-secrets-${tag}`,
        pg: `postgres-data-${tag}`,
        natsData: `nats-data-${tag}`,
      }
    : {}),
};
const compose = parseYaml(readFileSync(join(ROOT, 'compose.yaml'), 'utf8'), { merge: true });
const cfg = (f) => `${join(ROOT, 'deploy/docker', f)}:/etc/shelfsense/${f}:ro`;

function cleanup() {
  if (opts.keep) return say(`kept: containers *-${tag}, network ${net}, volumes *-${tag}`);
  // -v: the anonymous volumes of the images' VOLUME too.
  for (const n of Object.values(names)) sh(engine, ['rm', '-f', '-v', n], { allowFail: true });
  sh(engine, ['network', 'rm', net], { allowFail: true });
  for (const v of Object.values(vols)) sh(engine, ['volume', 'rm', '-f', v], { allowFail: true });
}

/** Polls the container's health check until it passes; returns the seconds it took. */
async function healthy(name, timeoutMs) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    // Podman runs health checks from systemd timers, which a host without systemd lacks: run it.
    const ok =
      engine === 'podman'
        ? sh(engine, ['healthcheck', 'run', name], { allowFail: true }).code === 0
        : sh(engine, ['inspect', '--format', '{{.State.Health.Status}}', name]).out === 'healthy';
    if (ok) return (Date.now() - t0) / 1000;
    const state = sh(engine, ['inspect', '--format', '{{.State.Status}}', name], { allowFail: true }).out;
    if (state === 'exited')
      throw new Error(`${name} exited:\n${sh(engine, ['logs', name], { allowFail: true }).err}`);
    await sleep(500);
  }
  throw new Error(
    `${name} not healthy within ${timeoutMs / 1000} s:\n${sh(engine, ['logs', name], { allowFail: true }).err}`,
  );
}

const inContainer = (name, js) => sh(engine, ['exec', name, 'node', '-e', js]).out;
const rssMB = (name) =>
  Math.round(
    Number(/VmRSS:\s+(\d+)/.exec(sh(engine, ['exec', name, 'cat', '/proc/1/status']).out)?.[1] ?? 0) / 1024,
  );

/** compose.yaml's health check of a service, as the engine's --health-cmd takes it. */
function healthCmd(service) {
  const test = compose.services[service].healthcheck.test.slice(1);
  return ['--health-cmd', engine === 'podman' ? JSON.stringify(test) : test.join(' ')];
}

/** The cluster profile, service by service as compose.yaml starts them. */
async function cluster(runArgs) {
  const natsImage = opts['nats-image'] ?? compose.services.nats.image;
  const postgresImage = opts['postgres-image'] ?? compose.services.postgres.image;
  figures.clusterImages = `${natsImage}, ${postgresImage}`;
  const clusterCfg = `${join(ROOT, 'deploy/docker/central.cluster.yaml')}:/etc/shelfsense/central.yaml:ro`;
  const secrets = [
    '-v',
    `${vols.clusterSecrets}:/run/shelfsense:ro`,
    '-e',
    'PGPASSWORD_FILE=/run/shelfsense/postgres.password',
  ];
  say('cluster: cluster-init, Postgres, NATS …');
  const t0 = Date.now();
  sh(engine, [
    'run',
    '--rm',
    ...flags,
    '--network',
    net,
    '--entrypoint',
    'sh',
    '-v',
    `${vols.clusterData}:/var/lib/shelfsense`,
    '-v',
    `${vols.clusterSecrets}:/run/shelfsense`,
    '-v',
    `${join(ROOT, 'deploy/docker/cluster-init.sh')}:/opt/shelfsense/cluster-init.sh:ro`,
    '-v',
    clusterCfg,
    images.central,
    '/opt/shelfsense/cluster-init.sh',
  ]);
  sh(engine, [
    ...runArgs(names.postgres, 'postgres'),
    ...Object.entries(compose.services.postgres.environment).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    '-v',
    `${vols.pg}:/var/lib/postgresql/data`,
    '-v',
    `${vols.clusterSecrets}:/run/shelfsense:ro`,
    ...healthCmd('postgres'),
    postgresImage,
  ]);
  sh(engine, [
    ...runArgs(names.nats, 'nats'),
    '-v',
    `${vols.natsData}:/data`,
    '-v',
    `${vols.clusterSecrets}:/etc/nats/auth:ro`,
    '-v',
    `${join(ROOT, 'deploy/docker/nats.conf')}:/etc/nats/shelfsense.conf:ro`,
    ...healthCmd('nats'),
    natsImage,
    ...compose.services.nats.command,
  ]);
  await healthy(names.postgres, 60_000);
  await healthy(names.nats, 60_000);
  say('cluster: worker, web node …');
  sh(engine, [
    ...runArgs(names.worker, 'worker'),
    ...secrets,
    '-v',
    clusterCfg,
    ...healthCmd('worker'),
    images.central,
    ...compose.services.worker.command,
  ]);
  figures.workerHealthyS = await healthy(names.worker, 90_000);
  const [entry, ...entryArgs] = compose.services.web.entrypoint;
  sh(engine, [
    ...runArgs(names.web, 'web'),
    ...secrets,
    '-v',
    `${vols.clusterData}:/var/lib/shelfsense`,
    '-v',
    clusterCfg,
    '--entrypoint',
    entry,
    images.central,
    ...entryArgs,
  ]);
  figures.webHealthyS = await healthy(names.web, 90_000);
  figures.clusterUpS = (Date.now() - t0) / 1000;
  // The first admin, made by cluster-init and imported by the web node, reads the catalogue.
  figures.clusterApi = inContainer(
    names.web,
    [
      "const pw = require('fs').readFileSync('/run/shelfsense/admin.password', 'utf8');",
      "const base = 'http://127.0.0.1:8080/api';",
      "fetch(base + '/login', { method: 'POST', headers: { 'content-type': 'application/json' },",
      "  body: JSON.stringify({ username: 'admin', password: pw }) })",
      '  .then((r) => r.json())',
      "  .then((j) => fetch(base + '/lanes', { headers: { authorization: 'Bearer ' + j.token } }))",
      "  .then(async (r) => console.log(r.status + ' ' + (await r.json()).length + ' lanes'));",
    ].join('\n'),
  );
  if (!/^200 [1-9]/.test(figures.clusterApi)) throw new Error(`web node API: ${figures.clusterApi}`);
  figures.workerRssMB = rssMB(names.worker);
  figures.webRssMB = rssMB(names.web);
}

let failed = false;
try {
  sh(engine, ['network', 'create', net]);
  for (const v of Object.values(vols)) sh(engine, ['volume', 'create', v]);
  const runArgs = (name, alias) => [
    'run',
    '-d',
    ...flags,
    '--name',
    name,
    '--network',
    net,
    '--network-alias',
    alias,
  ];

  say('central …');
  sh(engine, [
    ...runArgs(names.central, 'central'),
    '-v',
    `${vols.data}:/var/lib/shelfsense`,
    '-v',
    cfg('central.yaml'),
    images.central,
  ]);
  figures.centralHealthyS = await healthy(names.central, 120_000);
  figures.centralUid = sh(engine, ['exec', names.central, 'id', '-u']).out;

  say('demo: the agent user, a simulated shelf, the agent …');
  const init = sh(engine, [
    'run',
    '--rm',
    ...flags,
    '--network',
    net,
    '--entrypoint',
    'sh',
    '-v',
    `${vols.data}:/var/lib/shelfsense`,
    '-v',
    `${vols.secrets}:/run/shelfsense/demo`,
    '-v',
    `${join(ROOT, 'deploy/docker/demo-init.sh')}:/opt/shelfsense/demo-init.sh:ro`,
    '-v',
    cfg('central.yaml'),
    images.central,
    '/opt/shelfsense/demo-init.sh',
  ]);
  if (!/added pi-1/.test(`${init.out}\n${init.err}`))
    throw new Error(`demo-init added no user: ${init.out} ${init.err}`);
  sh(engine, [
    ...runArgs(names.sim, 'sim'),
    '-v',
    cfg('demo-scenario.yaml'),
    images.central,
    'sim',
    '--scenario',
    '/etc/shelfsense/demo-scenario.yaml',
    '--tcp',
    '7000',
    '--host',
    '0.0.0.0',
  ]);
  const agentStart = Date.now();
  sh(engine, [
    ...runArgs(names.agent, 'agent'),
    '-v',
    `${vols.state}:/var/lib/shelfsense-agent`,
    '-v',
    `${vols.secrets}:/run/shelfsense/demo:ro`,
    '-v',
    cfg('agent.yaml'),
    images.agent,
    '--config',
    '/etc/shelfsense/agent.yaml',
    '--password-file',
    '/run/shelfsense/demo/pi-1.password',
  ]);
  figures.agentHealthyS = await healthy(names.agent, 60_000);
  figures.agentUid = sh(engine, ['exec', names.agent, 'id', '-u']).out;
  // Delivered: records trimmed from the outbox once central's stored mark passed them.
  const delivered = () =>
    Number(
      inContainer(
        names.agent,
        "fetch('http://127.0.0.1:9464/metrics').then(r=>r.text()).then(t=>console.log((/^shelfsense_agent_delivered_total (\\d+)/m.exec(t)||[0,0])[1]))",
      ),
    );
  for (;;) {
    if (delivered() > 0) break;
    if (Date.now() - agentStart > 90_000) throw new Error('no reading delivered to central within 90 s');
    await sleep(1000);
  }
  figures.firstDeliveredS = (Date.now() - agentStart) / 1000;
  await sleep(10_000);
  figures.deliveredAfter10s = delivered();
  figures.centralRssMB = rssMB(names.central);
  figures.agentRssMB = rssMB(names.agent);
  figures.simRssMB = rssMB(names.sim);
  if (figures.centralUid === '0' || figures.agentUid === '0') throw new Error('a process runs as root');
  if (opts.cluster) await cluster(runArgs);
} catch (err) {
  failed = true;
  say(`FAILED: ${err.message}`);
} finally {
  cleanup();
}

process.stdout.write(`${JSON.stringify({ ok: !failed, ...figures })}\n`);
if (!failed && !opts['no-docs']) {
  const doc = join(ROOT, 'docs/containers.md');
  const text = readFileSync(doc, 'utf8');
  const begin = '<!-- check-containers:begin -->';
  const end = '<!-- check-containers:end -->';
  const table = [
    begin,
    `Last run: ${new Date().toISOString().slice(0, 10)}, ${figures.engine}, base \`${figures.base}\` ` +
      `(${figures.baseSizeMB} MB)${flags.length ? `, runtime flags \`${flags.join(' ')}\`` : ''}.`,
    '',
    '| | central | agent |',
    '| --- | ---: | ---: |',
    `| build (s) | ${figures.centralBuildS} | ${figures.agentBuildS} |`,
    `| image size (MB) | ${figures.centralSizeMB} | ${figures.agentSizeMB} |`,
    `| start to healthy (s) | ${figures.centralHealthyS.toFixed(1)} | ${figures.agentHealthyS.toFixed(1)} |`,
    `| resident memory after the first readings (MB) | ${figures.centralRssMB} | ${figures.agentRssMB} |`,
    `| user id | ${figures.centralUid} | ${figures.agentUid} |`,
    '',
    `The agent's first reading was committed by central ${figures.firstDeliveredS.toFixed(1)} s after the agent started; ` +
      `${figures.deliveredAfter10s} records delivered 10 s later. The simulator: ${figures.simRssMB} MB.`,
    ...(opts.cluster
      ? [
          '',
          `The cluster profile (${figures.clusterImages}): from cluster-init to a healthy web node in ` +
            `${figures.clusterUpS.toFixed(1)} s; the worker healthy ${figures.workerHealthyS.toFixed(1)} s after ` +
            `its start, the web node ${figures.webHealthyS.toFixed(1)} s after its own; the first admin's ` +
            `\`GET /api/lanes\`: ${figures.clusterApi}. Resident memory: worker ${figures.workerRssMB} MB, ` +
            `web node ${figures.webRssMB} MB.`,
        ]
      : []),
    end,
  ].join('\n');
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) writeFileSync(doc, text.slice(0, i) + table + text.slice(j + end.length));
  say('recorded in docs/containers.md');
}
process.exitCode = failed ? 1 : 0;
