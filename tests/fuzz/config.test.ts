/**
 * Fuzzing boundary 5 — config files: the agent's YAML config (resolveAgentConfig reading a real
 * file, and parseConfigText underneath) and the central config. Arbitrary text, arbitrary YAML and
 * JSON documents, and valid configs with one field broken: each is either parsed into a config whose
 * numbers are all finite, or refused with a ShelfError listing the offending paths. Nothing else is
 * ever thrown, and no input takes long.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAgentConfig } from '@shelfsense/agent';
import { AgentConfig, CentralConfig, ErrorCodes, isShelfError, parseConfigText } from '@shelfsense/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { mutated, nastyValue } from '../helpers/fuzz-arbitraries.js';
import {
  type CorpusEntry,
  FuzzTally,
  fcParams,
  fuzzRuns,
  fuzzTimeout,
  loadCorpus,
  ProcessGuard,
} from '../helpers/fuzz-support.js';

/** Longest one parse may take; far above the normal ~0.1 ms, far below a hang. */
const SLOW_MS = 2_000;

const guard = new ProcessGuard();
const emitWarning = process.emitWarning;
beforeAll(() => {
  guard.install();
  // The YAML parser warns about unknown tags and directives on stderr; thousands of them say nothing.
  process.emitWarning = ((w: string | Error, ...rest: never[]) => {
    if (typeof w === 'object' && w.name === 'YAMLWarning') return;
    if (typeof w === 'string' && /stringified due to JS Object restrictions/.test(w)) return;
    emitWarning.call(process, w, ...rest);
  }) as typeof process.emitWarning;
});
afterAll(() => {
  process.emitWarning = emitWarning;
  guard.dispose();
});

const VALID_AGENT = {
  agent: { id: 'pi-1', site: 'store-1' },
  sources: [{ path: '/dev/ttyUSB0' }, { url: 'tcp://10.0.0.5:2000' }, { discover: { vendorId: '0403' } }],
  broker: { url: 'mqtts://central:8883', username: 'pi-1', keepaliveS: 30, reconnectMs: '1s' },
  delivery: { trimOn: 'central', maxRecords: 1000, window: 50, redeliverMs: '10s' },
  stateDir: '/var/lib/shelfsense',
  signal: { medianWindow: 5, stableMs: '500ms', heartbeatMs: '1m', spikeG: 20 },
  shelves: [
    {
      serial: 'SH-1',
      shelf: 'shelf-1',
      lanes: [{ lane: 'L1', channels: [0, 1], sku: 'cola', unitWeightG: 350, capacity: 24 }],
      calibration: [{ channel: 0, offset: 1200, scale: 420 }],
    },
  ],
  commands: { settleTimeoutMs: '15s' },
  log: { level: 'info' },
  metrics: { port: 9100 },
};

const VALID_CENTRAL = {
  suppliers: [{ id: 'acme', name: 'ACME' }],
  skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
  sites: [
    {
      id: 'store-1',
      shelves: [
        {
          id: 'shelf-1',
          serial: 'SH-1',
          agent: 'pi-1',
          lanes: [{ id: 'L1', channels: [0], sku: 'cola', capacity: 24 }],
        },
      ],
    },
  ],
  dataDir: '/var/lib/shelfsense-central',
  timing: { offlineAfterMs: '2m' },
  mqtt: { port: 1883, host: '0.0.0.0' },
  http: { port: 8080 },
  replenishment: {
    defaults: { reorderPoint: 4, orderUpTo: 24, debounceMs: '1h' },
    lanes: [{ site: 'store-1', shelf: 'shelf-1', lane: 'L1', reorderPoint: 6 }],
  },
  commands: { timeoutMs: '20s' },
};

/** YAML-only trouble: aliases, tags, duplicate keys, special floats, deep nesting. */
const yamlTricks = fc.constantFrom(
  'a: &a [1,2]\nb: [*a,*a,*a,*a]\nc: [*b,*b,*b]\n',
  'x: &x [0]\ny: &y [*x,*x,*x,*x,*x,*x,*x,*x,*x]\nz: &z [*y,*y,*y,*y,*y,*y,*y,*y,*y]\nw: [*z,*z,*z,*z,*z,*z,*z,*z,*z]\n',
  'agent: !!binary aGVsbG8=\n',
  'agent: !!timestamp 2001-12-14\n',
  'agent: !!set {a, b}\n',
  'agent: !custom tag\n',
  'agent: {id: a}\nagent: {id: b}\n',
  'signal: {stableMs: .nan}\n',
  'signal: {stableMs: .inf}\n',
  'signal: {heartbeatMs: -.inf}\n',
  `signal: {heartbeatMs: ${'9'.repeat(400)}ms}\n`,
  `signal: {heartbeatMs: "${'9'.repeat(400)}ms"}\n`,
  `agent: ${'['.repeat(2_000)}${']'.repeat(2_000)}\n`,
  `agent: ${'{a: '.repeat(500)}1${'}'.repeat(500)}\n`,
  '--- a\n--- b\n',
  '%YAML 1.1\n---\nagent: yes\n',
  '? [a, b]\n: c\n',
  '<<: {agent: {id: a, site: b}}\n',
  '__proto__: {polluted: true}\nagent: {id: a, site: b}\n',
  '\ufeffagent: {id: a, site: b}\n',
  '\t\tagent:\n\t- x',
  '',
  '~',
  '[]',
  '"just a string"',
  '12',
);

function docText(valid: object): fc.Arbitrary<string> {
  const docs = fc.oneof(
    { weight: 1, arbitrary: fc.constant<unknown>(valid) },
    { weight: 6, arbitrary: mutated(fc.constant<unknown>(valid)) },
    {
      weight: 2,
      arbitrary: mutated(fc.constant<unknown>(valid)).chain((d) => mutated(fc.constant(d))),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 1, arbitrary: nastyValue },
  );
  return fc.oneof(
    { weight: 4, arbitrary: docs.map((d) => safeYaml(d)) },
    { weight: 3, arbitrary: docs.map((d) => JSON.stringify(d) ?? 'null') },
    { weight: 2, arbitrary: yamlTricks },
    { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          docs.map((d) => safeYaml(d)),
          fc.nat(),
          fc.string({ maxLength: 4 }),
        )
        .map(([t, at, s]) => {
          const i = t.length ? at % t.length : 0;
          return t.slice(0, i) + s + t.slice(i + 1);
        }),
    },
  );
}

function safeYaml(d: unknown): string {
  try {
    return toYaml(d);
  } catch {
    return JSON.stringify(d) ?? 'null';
  }
}

/** Every number anywhere in a parsed config is finite. */
function allFinite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(allFinite);
  if (v && typeof v === 'object') return Object.values(v).every(allFinite);
  return true;
}

/** Parsed, or refused with a ShelfError whose issues name paths; returns whether it was refused. */
function parsedOrListed(run: () => unknown, input: string): boolean {
  const t0 = performance.now();
  let refused = false;
  try {
    const cfg = run();
    if (!allFinite(cfg))
      throw new Error(`parsed a config with a non-finite number from ${JSON.stringify(input)}`);
  } catch (err) {
    if (!isShelfError(err)) {
      throw new Error(`not a ShelfError for ${JSON.stringify(input).slice(0, 300)}: ${String(err)}`);
    }
    refused = true;
    if (err.code === ErrorCodes.INVALID) {
      expect(err.issues.length).toBeGreaterThan(0);
      for (const i of err.issues) expect(err.message).toContain(i.path || '(root)');
    } else expect(err.code).toBe(ErrorCodes.FILE);
  }
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) throw new Error(`took ${Math.round(ms)} ms for ${JSON.stringify(input).slice(0, 300)}`);
  return refused;
}

describe('config files under fuzzing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const agentRuns = fuzzRuns(1_500);
  it(
    'agent config: parsed, or an error listing paths',
    () => {
      const tally = new FuzzTally('config', 'parseConfigText(AgentConfig)', 'direct');
      fc.assert(
        fc.property(docText(VALID_AGENT), (text) => {
          if (parsedOrListed(() => parseConfigText(AgentConfig, text, 'agent config'), text)) tally.reject();
          else tally.accept();
        }),
        fcParams(agentRuns),
      );
      guard.check();
      const f = tally.report();
      expect(f.accepted).toBeGreaterThan(0);
      expect(f.rejects).toBeGreaterThan(0);
    },
    fuzzTimeout(agentRuns, 2),
  );

  const fileRuns = Math.min(fuzzRuns(300), 20_000);
  it(
    'agent config file through resolveAgentConfig, as `shelfsense agent --config` reads it',
    () => {
      const tally = new FuzzTally('config', 'resolveAgentConfig (file on disk)', 'direct');
      const file = join(dir, 'agent.yaml');
      fc.assert(
        fc.property(docText(VALID_AGENT), (text) => {
          writeFileSync(file, text);
          if (parsedOrListed(() => resolveAgentConfig({ config: file }), text)) tally.reject();
          else tally.accept();
        }),
        fcParams(fileRuns),
      );
      guard.check();
      tally.report();
    },
    fuzzTimeout(fileRuns, 3),
  );

  const centralRuns = fuzzRuns(1_500);
  it(
    'central config: parsed, or an error listing paths',
    () => {
      const tally = new FuzzTally('config', 'parseConfigText(CentralConfig)', 'direct');
      fc.assert(
        fc.property(docText(VALID_CENTRAL), (text) => {
          if (parsedOrListed(() => parseConfigText(CentralConfig, text, 'central config'), text))
            tally.reject();
          else tally.accept();
        }),
        fcParams(centralRuns),
      );
      guard.check();
      const f = tally.report();
      expect(f.accepted).toBeGreaterThan(0);
    },
    fuzzTimeout(centralRuns, 3),
  );

  it('replays the config regression corpus', () => {
    const entries = loadCorpus<{ schema: 'agent' | 'central'; text: string }>('config');
    for (const { note, input } of entries as CorpusEntry<{ schema: 'agent' | 'central'; text: string }>[]) {
      const schema = input.schema === 'agent' ? AgentConfig : CentralConfig;
      expect(
        () => parsedOrListed(() => parseConfigText(schema, input.text, 'config'), input.text),
        note,
      ).not.toThrow();
    }
  });
});
