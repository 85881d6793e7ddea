/**
 * The JSON Schemas of the config files (schemas/*.schema.json, written by scripts/schemas.mjs):
 * the committed files are what the zod schemas generate now, a real JSON Schema validator (ajv)
 * accepts the example configs with them and refuses what the zod schemas refuse, and each example
 * names its schema on its first line for YAML editors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { AgentConfig, CentralConfig, loadConfigFile } from '@shelfsense/protocol';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { KINDS, SCHEMAS_DIR, schemaFiles } from '../../../scripts/schemas.mjs';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** The example configs and the kind of file each is. */
const EXAMPLES = [
  { file: 'deploy/agent.example.yaml', kind: 'agent' },
  { file: 'deploy/central.example.yaml', kind: 'central' },
  { file: 'deploy/docker/agent.yaml', kind: 'agent' },
  { file: 'deploy/docker/central.yaml', kind: 'central' },
  { file: 'deploy/docker/central.cluster.yaml', kind: 'central' },
  { file: 'deploy/docker/demo-scenario.yaml', kind: 'scenario' },
];

const FIX = 'run `npm run schemas` and commit schemas/';

function validator(kind: string) {
  const ajv = new Ajv({ allErrors: true, strict: true, formats: { email: true } });
  return ajv.compile(JSON.parse(readFileSync(join(SCHEMAS_DIR, `${kind}.schema.json`), 'utf8')));
}

/** An example as an editor sees it: a `!secret` is its placeholder text, as long as a secret. */
function editorView(file: string): unknown {
  return parseYaml(readFileSync(join(ROOT, file), 'utf8'), {
    customTags: [{ tag: '!secret', resolve: (name: string) => `secret:${name}`.padEnd(32, '.') }],
  });
}

describe('config JSON Schemas', () => {
  it('the committed schemas are what the zod schemas generate', () => {
    const want = schemaFiles();
    const committed = readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.schema.json'));
    expect(committed.sort(), `schemas/ holds other files than it would: ${FIX}`).toEqual(
      Object.keys(want).sort(),
    );
    for (const [name, text] of Object.entries(want)) {
      // Compared as JSON: the script writes them in the repository's format (biome).
      const have = JSON.parse(readFileSync(join(SCHEMAS_DIR, name), 'utf8'));
      // A zod schema changed (a field added, a default moved) without the schema files following.
      expect(isDeepStrictEqual(have, JSON.parse(text)), `schemas/${name} is stale: ${FIX}`).toBe(true);
    }
  });

  it('one per kind of config file, each a draft-07 schema ajv compiles in strict mode', () => {
    expect(KINDS.map((k) => k.kind)).toEqual(['agent', 'central', 'catalogue', 'scenario']);
    for (const { kind } of KINDS) {
      const schema = JSON.parse(readFileSync(join(SCHEMAS_DIR, `${kind}.schema.json`), 'utf8'));
      expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
      expect(() => validator(kind)).not.toThrow();
    }
  });

  it.each(EXAMPLES)(
    '$file names its schema on its first line, and the schema accepts it',
    ({ file, kind }) => {
      const first = readFileSync(join(ROOT, file), 'utf8').split('\n')[0] as string;
      expect(first.startsWith('# yaml-language-server: $schema=')).toBe(true);
      // A path relative to the file, as editors resolve it.
      const target = resolve(dirname(join(ROOT, file)), first.split('$schema=')[1] as string);
      expect(target).toBe(join(SCHEMAS_DIR, `${kind}.schema.json`));
      const validate = validator(kind);
      const ok = validate(editorView(file));
      expect(validate.errors ?? [], `${file} against schemas/${kind}.schema.json`).toEqual([]);
      expect(ok).toBe(true);
    },
  );

  it('the examples load, the central one with its secrets from secrets.example.yaml', () => {
    expect(
      loadConfigFile(AgentConfig, join(ROOT, 'deploy/agent.example.yaml'), 'agent config', { env: {} }),
    ).toBeTruthy();
    const central = loadConfigFile(
      CentralConfig,
      join(ROOT, 'deploy/central.example.yaml'),
      'central config',
      {
        env: {},
        secretsFile: join(ROOT, 'deploy/secrets.example.yaml'),
      },
    );
    expect(central.replenishment.webhooks.suppliers[0]?.secret).toMatch(/^replace-with/);
  });

  it('refuses what the zod schema refuses: an unknown field, a wrong type, a missing field', () => {
    const validate = validator('agent');
    const good = {
      agent: { id: 'pi-1', site: 's1' },
      sources: [{ path: '/dev/ttyUSB0' }],
      broker: { url: 'mqtt://c:1883' },
    };
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, brokre: {} })).toBe(false);
    expect(validate({ ...good, broker: { url: 'mqtt://c:1883', keepaliveS: 'often' } })).toBe(false);
    expect(validate({ ...good, sources: [] })).toBe(false);
    const { agent: _agent, ...noAgent } = good;
    expect(validate(noAgent)).toBe(false);
    // Durations as the files write them: a number of ms or text.
    expect(validate({ ...good, signal: { stableMs: '2s', confirmMs: 300 } })).toBe(true);
    expect(validate({ ...good, signal: { stableMs: 'soon' } })).toBe(false);
  });
});
