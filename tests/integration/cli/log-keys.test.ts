/**
 * Every log line of the real processes — `shelfsense demo`, and `central`, `sim` and `agent` each
 * on its own — is one JSON object with each key once, read by a parser that refuses a duplicate
 * key (JSON.parse would keep the last one silently). Lines are named by one dotted `part`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { addUser } from '../../helpers/central.js';
import { type CliProcess, killAll, spawnCli } from '../../helpers/proc.js';
import { parseStrictJson } from './strict-json.js';

const BIN = 'cli/bin/shelfsense.js';
const dir = mkdtempSync(join(tmpdir(), 'shelfsense-log-keys-'));

afterEach(killAll);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops the process and parses each stderr line strictly; names the first bad line. */
async function logLines(p: CliProcess): Promise<Record<string, unknown>[]> {
  await p.kill('SIGTERM', 15_000);
  const lines = p
    .stderr()
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.map((line) => {
    try {
      return parseStrictJson(line) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`${(err as Error).message} in log line: ${line}`);
    }
  });
}

describe('strict JSON', () => {
  it('refuses a duplicate key, at any depth, and reads what JSON.parse reads', () => {
    expect(() => parseStrictJson('{"part":"demo","part":"central"}')).toThrow(/duplicate key "part"/);
    expect(() => parseStrictJson('{"a":[{"b":1,"b":2}]}')).toThrow(/duplicate key "b"/);
    expect(() => parseStrictJson('{"a":1,}')).toThrow();
    expect(() => parseStrictJson('{"a":1} x')).toThrow();
    const ok =
      '{"level":30,"part":"demo.central","n":-1.5e3,"s":"a\\"\\u00e9","x":[true,false,null,{}],"e":{}}';
    expect(parseStrictJson(ok)).toEqual(JSON.parse(ok));
  });
});

describe('[log keys once] every log line carries each key once', () => {
  it('shelfsense demo at debug: simulator, agent and central in one process', async () => {
    const p = spawnCli(BIN, [
      'demo',
      '--http-port',
      '0',
      '--mqtt-port',
      '0',
      '--log-level',
      'debug',
      '--dir',
      join(dir, 'demo'),
    ]);
    await p.waitForLine(/"ready":true/, 60_000);
    await sleep(4_000); // readings, levels and ingest at work
    const entries = await logLines(p);
    expect(entries.length).toBeGreaterThan(20);
    const parts = new Set(entries.map((e) => e.part));
    for (const e of entries) expect(String(e.part)).toMatch(/^demo(\.|$)/);
    // the nested parts that used to repeat `part` are there, each named by its path
    expect([...parts]).toEqual(expect.arrayContaining([expect.stringMatching(/^demo\.central\./)]));
    expect([...parts]).toEqual(expect.arrayContaining([expect.stringMatching(/^demo\.agent/)]));
  }, 120_000);

  it('shelfsense central, sim and agent, each its own process, at debug', async () => {
    const dataDir = join(dir, 'central');
    addUser(dataDir, 'pi-1', ['--role', 'agent', '--site', 'store-1', '--agent', 'pi-1'], 'agent-password-1');
    const config = join(dir, 'central.yaml');
    writeFileSync(
      config,
      [
        `dataDir: ${JSON.stringify(dataDir)}`,
        'http: { host: 127.0.0.1, port: 0 }',
        'mqtt: { host: 127.0.0.1, port: 0 }',
        'suppliers: [{ id: acme }]',
        'skus: [{ id: cola, unitWeightG: 350, supplier: acme }]',
        'sites:',
        '  - id: store-1',
        '    shelves:',
        '      - id: shelf-1',
        '        serial: LOGKEYS-1',
        '        agent: pi-1',
        '        lanes: [{ id: L0, channels: [0], sku: cola, capacity: 20 }]',
        '',
      ].join('\n'),
    );
    const central = spawnCli(BIN, ['central', '--config', config, '--log-level', 'debug']);
    const ready = JSON.parse(await central.waitForLine(/"ready":true/, 60_000)) as { mqtt: number };

    const sim = spawnCli(BIN, [
      'sim',
      '--tcp',
      '0',
      '--serial',
      'LOGKEYS-1',
      '--scenario',
      'steady',
      '--log-level',
      'debug',
    ]);
    const shelf = JSON.parse(await sim.waitForLine(/"type":"shelf"/, 30_000)) as { port: number };
    await sim.waitForLine(/"type":"ready"/, 30_000);

    const passwordFile = join(dir, 'agent.password');
    writeFileSync(passwordFile, 'agent-password-1\n');
    const agent = spawnCli(BIN, [
      'agent',
      '--source',
      `tcp://127.0.0.1:${shelf.port}`,
      '--broker',
      `mqtt://127.0.0.1:${ready.mqtt}`,
      '--site',
      'store-1',
      '--id',
      'pi-1',
      '-u',
      'pi-1',
      '--password-file',
      passwordFile,
      '--state-dir',
      join(dir, 'agent-state'),
      '--log-level',
      'debug',
    ]);
    await agent.waitForLine(/"ready":true/, 30_000);
    await sleep(4_000);

    const byProcess = {
      agent: await logLines(agent),
      sim: await logLines(sim),
      central: await logLines(central),
    };
    for (const [name, entries] of Object.entries(byProcess)) {
      expect(entries.length, `${name} log lines`).toBeGreaterThan(0);
      for (const e of entries)
        expect(String(e.part), JSON.stringify(e)).toMatch(new RegExp(`^${name}(\\.|$)`));
    }
    // the agent's own keys are bound once at its root, beside its part
    expect(byProcess.agent.some((e) => e.agent === 'pi-1' && e.site === 'store-1')).toBe(true);
  }, 150_000);
});
