#!/usr/bin/env node
// Writes schemas/<kind>.schema.json, a JSON Schema (draft-07, what YAML editors read) of each kind
// of file Shelfsense loads (and of the webhook body it sends), generated from the zod schemas that validate it, so an editor offers
// the fields and flags mistakes as the file is written (docs/configuration.md). The files are
// committed; tests/unit/protocol/config-schemas.test.ts fails when one is stale.
//
//   npm run schemas          (runs from the TypeScript sources: no build needed)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScenarioFile } from '@shelfsense/firmware-sim';
import { AgentConfig, Catalogue, CentralConfig, OrderEvent, PurchaseOrderEvent } from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';

const require = createRequire(import.meta.url);

export const SCHEMAS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'schemas');

/** Each kind of file, its schema, and where it is described. */
export const KINDS = [
  { kind: 'agent', schema: AgentConfig, title: 'Shelfsense agent config', doc: 'docs/agent.md' },
  { kind: 'central', schema: CentralConfig, title: 'Shelfsense central config', doc: 'docs/central.md' },
  { kind: 'catalogue', schema: Catalogue, title: 'Shelfsense catalogue', doc: 'docs/catalogue.md' },
  {
    kind: 'scenario',
    schema: ScenarioFile,
    title: 'Shelfsense simulator scenario',
    doc: 'docs/simulator.md',
  },
];

/** What Shelfsense sends rather than loads: the output form (every field present). */
export const PAYLOADS = [
  {
    kind: 'webhook-order-event',
    schema: OrderEvent,
    title: 'Shelfsense order webhook body',
    doc: 'docs/webhooks.md',
  },
  {
    kind: 'webhook-purchase-order',
    schema: PurchaseOrderEvent,
    title: 'Shelfsense purchase order webhook body',
    doc: 'docs/purchase-orders.md',
  },
];

/** JSON Schema's own formats; zod names some checks as formats of its own (`starts_with`). */
const STANDARD_FORMATS = new Set([
  'email',
  'uri',
  'date-time',
  'date',
  'time',
  'uuid',
  'ipv4',
  'ipv6',
  'hostname',
]);

/** A copy without the formats no validator knows: each such check has a `pattern` beside it. */
function dropFormats(node) {
  if (Array.isArray(node)) return node.map(dropFormats);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'format' && typeof v === 'string' && !STANDARD_FORMATS.has(v)) continue;
    out[k] = dropFormats(v);
  }
  return out;
}

/** The text of each schema file, by file name. */
export function schemaFiles() {
  const files = {};
  const all = [
    ...KINDS.map((k) => ({ ...k, io: 'input' })),
    ...PAYLOADS.map((k) => ({ ...k, io: 'output' })),
  ];
  for (const { kind, schema, title, doc, io } of all) {
    const json = z.toJSONSchema(schema, {
      target: 'draft-7',
      // A file: what it may hold (defaults optional, durations as text), not what loading
      // returns. A payload: what is sent.
      io,
      // A refinement or a transform has no JSON Schema form: the schema checks the rest.
      unrepresentable: 'any',
    });
    const { $schema, ...rest } = dropFormats(json);
    // Later versions may add fields to a payload, and receivers are told to ignore them.
    if (io === 'output') delete rest.additionalProperties;
    const out = {
      $schema,
      title,
      description: `Generated from the zod schema by scripts/schemas.mjs (npm run schemas); see ${doc}. Do not edit.`,
      ...rest,
    };
    files[`${kind}.schema.json`] = `${JSON.stringify(out, null, 2)}\n`;
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(SCHEMAS_DIR, { recursive: true });
  const written = [];
  for (const [name, text] of Object.entries(schemaFiles())) {
    writeFileSync(join(SCHEMAS_DIR, name), text);
    written.push(join(SCHEMAS_DIR, name));
  }
  // In the repository's own JSON style, so `npm run lint` passes on them as written.
  const biome = spawnSync(
    process.execPath,
    [require.resolve('@biomejs/biome/bin/biome'), 'format', '--write', ...written],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  if (biome.status !== 0) {
    process.stderr.write(biome.stderr);
    process.exit(biome.status ?? 1);
  }
  for (const file of written) process.stdout.write(`wrote ${relative(process.cwd(), file)}\n`);
}
