/**
 * `shelfsense config export|apply`: the catalogue as a YAML file, both ways. Export writes the
 * store's catalogue in force; apply validates a file, prints the diff and what it does to the open
 * orders, and (without --dry-run) applies it in one transaction. The store is the file central
 * uses, found from central.yaml; the command may run while central runs (SQLite WAL, one writer at
 * a time), and central takes the new catalogue on its next start.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type AnySchema,
  Catalogue,
  CentralConfig,
  catalogueOf,
  ErrorCodes,
  isShelfError,
  loadConfigFile,
  PRIVATE_FILE_MODE,
  ShelfError,
  withCatalogue,
} from '@shelfsense/protocol';
import {
  type CommandSpec,
  EXIT_USAGE,
  GROUP_OPTIONS_HELP,
  runCommand,
  type Subcommand,
} from '@shelfsense/protocol/cli';
import { z } from 'zod';
import { Store } from '../store/store.js';
import { applyCatalogue, planCatalogue } from './apply.js';
import { renderDiff, renderSummary } from './render.js';
import { catalogueYaml } from './yaml.js';

/** Test hook: milliseconds to hold the apply transaction open before its commit (fault tests). */
export const APPLY_PAUSE_ENV = 'SHELFSENSE_TEST_APPLY_PAUSE_MS';

const configFlag = {
  type: 'string',
  short: 'c',
  value: 'FILE',
  description:
    'central config naming the store (ingest.storeFile or dataDir/central.db); default central.yaml',
} as const;

const exportSpec = {
  name: 'config export',
  usage: '[--config FILE] [--out FILE]',
  description:
    'Writes the catalogue in force — suppliers, SKUs, sites with shelves and lanes, the replenishment\n' +
    'policies and the suppliers’ webhooks (secrets included: keep the file private) — as YAML. A store\n' +
    'with no catalogue yet exports central.yaml’s, which central seeds the store with on start.',
  flags: {
    config: configFlag,
    out: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      description: 'write here (mode 0600) instead of stdout',
    },
  },
  schema: z.object({ config: z.string().min(1).default('central.yaml'), out: z.string().min(1).optional() }),
  examples: [
    'shelfsense config export --config /etc/shelfsense/central.yaml --out catalogue.yaml',
    'shelfsense config export > catalogue.yaml',
  ],
} satisfies CommandSpec<AnySchema>;

const applySpec = {
  name: 'config apply',
  usage: 'FILE [--config FILE] [--dry-run] [--actor NAME]',
  description:
    'Validates FILE as a catalogue (an error names the field; exit 2, nothing applied), prints each\n' +
    'change (+ added, ~ changed, - removed) and what it does to open orders, then applies it as the\n' +
    'next version in one transaction. An open or acknowledged order whose lane is removed, given\n' +
    'another SKU, or whose SKU gets another supplier is cancelled with the reason; a shipped one is\n' +
    'kept and named. A running central takes the new catalogue up within a second.',
  flags: {
    config: configFlag,
    'dry-run': { type: 'boolean', short: 'n', description: 'print the diff and the effects; change nothing' },
    actor: {
      type: 'string',
      value: 'NAME',
      description: 'who applies it, for the record (default: your login)',
    },
  },
  schema: z.object({
    config: z.string().min(1).default('central.yaml'),
    'dry-run': z.boolean().default(false),
    actor: z.string().min(1).max(64).optional(),
  }),
  examples: [
    'shelfsense config apply catalogue.yaml --config /etc/shelfsense/central.yaml --dry-run',
    'shelfsense config apply catalogue.yaml --config /etc/shelfsense/central.yaml --actor alice',
  ],
} satisfies CommandSpec<AnySchema>;

function storeFileOf(config: CentralConfig): string {
  return config.ingest.storeFile ?? join(resolve(config.dataDir), 'central.db');
}

/** The positional arguments a command takes, by name; a missing or an extra one is a usage error. */
function takeArgs(positionals: string[], names: readonly string[]): string[] {
  const extra = positionals[names.length];
  if (extra !== undefined) throw new ShelfError(ErrorCodes.USAGE, `unexpected argument "${extra}"`);
  const missing = names[positionals.length];
  if (missing) throw new ShelfError(ErrorCodes.USAGE, `${missing} is required`);
  return positionals;
}

/** The login name, for the record; some containers have no passwd entry for their user. */
function loginName(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return process.env['USER'] || 'unknown';
  }
}

async function runExport(argv: string[]): Promise<number> {
  return runCommand(exportSpec, argv, async (flags, positionals) => {
    takeArgs(positionals, []);
    const config = loadConfigFile(CentralConfig, flags.config, 'central config');
    const file = storeFileOf(config);
    // Reading only: a store file that does not exist yet is not created by an export.
    let header = `# Shelfsense catalogue from ${flags.config}: the store has none yet (central seeds it on start)`;
    let catalogue = catalogueOf(config);
    if (existsSync(file)) {
      const store = Store.open({ file });
      try {
        const current = store.catalogue.current();
        if (current) {
          catalogue = current.catalogue;
          const at = new Date(current.appliedAt).toISOString();
          header = `# Shelfsense catalogue version ${current.version}, applied ${at} by ${current.actor}`;
        }
      } finally {
        store.close();
      }
    }
    const text = `${header}\n# Holds the suppliers' webhook secrets: keep it private.\n${catalogueYaml(catalogue)}`;
    if (flags.out) {
      writeFileSync(flags.out, text, { mode: PRIVATE_FILE_MODE });
      process.stderr.write(`wrote ${flags.out}\n`);
    } else process.stdout.write(text);
    return 0;
  });
}

/** Loads the catalogue file; an invalid one prints one line per field and returns null. */
function loadCatalogue(path: string): Catalogue | null {
  try {
    return loadConfigFile(Catalogue, path, 'catalogue') as Catalogue;
  } catch (err) {
    if (!isShelfError(err) || err.code !== ErrorCodes.INVALID) throw err;
    for (const i of err.issues ?? []) process.stderr.write(`${path}: ${i.path || '(root)'}: ${i.message}\n`);
    process.stderr.write('invalid catalogue: nothing applied\n');
    return null;
  }
}

async function runApply(argv: string[]): Promise<number> {
  return runCommand(applySpec, argv, async (flags, positionals) => {
    const [path] = takeArgs(positionals, ['FILE']) as [string];
    const config = loadConfigFile(CentralConfig, flags.config, 'central config');
    const next = loadCatalogue(path);
    if (!next) return EXIT_USAGE;
    try {
      // The process settings may name the catalogue (an anonymous grant names a supplier).
      withCatalogue(config, next);
    } catch (err) {
      if (!isShelfError(err) || err.code !== ErrorCodes.INVALID) throw err;
      for (const i of err.issues ?? []) process.stderr.write(`${flags.config}: ${i.path}: ${i.message}\n`);
      process.stderr.write(`${path} does not agree with ${flags.config}: nothing applied\n`);
      return EXIT_USAGE;
    }
    const file = storeFileOf(config);
    const out = (line: string) => process.stdout.write(`${line}\n`);
    if (flags['dry-run']) {
      // A dry run never creates the store file; without one, the base is central.yaml's catalogue.
      const plan = withStore(existsSync(file) ? file : ':memory:', (store) =>
        planCatalogue(store, config, next),
      );
      out(
        `${path} against ${plan.base ? `version ${plan.base}` : `${flags.config} (the store has none yet)`}:`,
      );
      for (const line of renderDiff(plan.changes, plan.effects)) out(line);
      out(renderSummary(plan.changes, plan.effects));
      out('dry run: nothing applied');
      return 0;
    }
    const pauseMs = Number(process.env[APPLY_PAUSE_ENV] ?? 0) || 0;
    const result = withStore(file, (store) =>
      applyCatalogue(store, config, next, {
        actor: flags.actor ?? loginName(),
        pauseBeforeCommitMs: pauseMs,
        onPause: () =>
          process.stderr.write(`test hook: holding the apply transaction open for ${pauseMs} ms\n`),
      }),
    );
    out(`${path} against ${result.base ? `version ${result.base}` : flags.config}:`);
    for (const line of renderDiff(result.changes, result.effects)) out(line);
    out(renderSummary(result.changes, result.effects));
    if (result.version === null) out('nothing to apply');
    else {
      if (result.seeded) out(`${flags.config}'s catalogue was stored first, as version 1`);
      out(`applied as version ${result.version}; a running central takes it up within a second`);
    }
    return 0;
  });
}

function withStore<T>(file: string, fn: (store: Store) => T): T {
  const store = Store.open({ file });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

const HELP = [
  'Usage: shelfsense config <export|apply> [options]',
  '',
  'The catalogue — suppliers, SKUs, sites with shelves and lanes, replenishment policies and the',
  'suppliers’ webhooks — lives in central’s store, one version per change. central.yaml’s catalogue',
  'seeds a store that has none; after that, change it with these commands (see docs/catalogue.md).',
  '',
  'Commands:',
  '  export  write the catalogue in force as YAML',
  '  apply   validate a catalogue file, print the diff and its effect on open orders, apply it',
  '',
  ...GROUP_OPTIONS_HELP,
  '',
  'Run `shelfsense config export --help` or `shelfsense config apply --help` for their options.',
  '',
  'Examples:',
  ...[...exportSpec.examples.slice(0, 1), ...applySpec.examples].map((e) => `  ${e}`),
].join('\n');

export const configCommand: Subcommand = {
  name: 'config',
  summary: 'export the catalogue, or apply a changed one (--dry-run shows the diff)',
  async run(argv) {
    const [action, ...rest] = argv;
    if (action === 'export') return runExport(rest);
    if (action === 'apply') return runApply(rest);
    if (action === '--help' || action === '-h' || action === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    process.stderr.write(
      `${action === undefined ? 'shelfsense config: export or apply?' : `shelfsense config: unknown command "${action}"`}\n\n${HELP}\n`,
    );
    return EXIT_USAGE;
  },
};
