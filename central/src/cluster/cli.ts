/**
 * `shelfsense cluster nats-auth`: the users and permissions of a NATS cluster, from central's
 * `users.db` and the catalogue in force (the store's, or central.yaml's while the store has none),
 * written as a config fragment each node includes. `shelfsense cluster worker`: one worker of the
 * cluster deployment. See docs/scale-out.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { USERS_FILE, UserStore } from '@shelfsense/broker';
import {
  type AnySchema,
  type Catalogue,
  CentralConfig,
  catalogueOf,
  ErrorCodes,
  LogLevel,
  loadConfigFile,
  PRIVATE_FILE_MODE,
  partMixin,
  rootLogger,
  ShelfError,
  ShelfMap,
  UserName,
} from '@shelfsense/protocol';
import {
  type CommandSpec,
  EXIT_USAGE,
  GROUP_OPTIONS_HELP,
  numberFlag,
  runCommand,
  type Subcommand,
  untilSignal,
} from '@shelfsense/protocol/cli';
import { pino } from 'pino';
import { z } from 'zod';
import { SyncPgStore } from '../store/pg/sync-store.js';
import { Store } from '../store/store.js';
import { DEFAULT_BCRYPT_COST, issueCredentials, type NatsPrincipal, renderNatsAuth } from './nats-auth.js';
import { MAX_PARTITIONS, WORKER_USER } from './partition.js';
import { importUsers } from './users.js';
import { startWebNode } from './web.js';
import { ClusterWorker } from './worker.js';

const natsAuthSpec = {
  name: 'cluster nats-auth',
  usage: '--out FILE --credentials DIR [--config FILE] [--partitions N] [--rotate USER]… [--bcrypt-cost N]',
  description:
    'Writes the users of a NATS cluster and their permissions — the roles of docs/security.md, from\n' +
    'users.db and the catalogue in force — as an `authorization` block for each node to include.\n' +
    'NATS cannot read users.db’s scrypt hashes: each enabled user gets a NATS password of its own,\n' +
    'kept in DIR as <user>.password (mode 0600; hand it to that client) and given to NATS as bcrypt.\n' +
    'Passwords are kept from one run to the next. Run it again after any change to users or the\n' +
    'catalogue, then reload the nodes (nats-server --signal reload).\n' +
    'With --partitions: two accounts, the users above and the workers (user shelfsense-worker, its\n' +
    'password in DIR too), which receive the readings split into N partitions.',
  flags: {
    config: {
      type: 'string',
      short: 'c',
      value: 'FILE',
      description:
        'central config (its dataDir holds users.db; its store the catalogue); default central.yaml',
    },
    out: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      description: 'the config fragment to write (mode 0600)',
    },
    credentials: {
      type: 'string',
      value: 'DIR',
      description: 'where each user’s NATS password is kept (created 0700)',
    },
    rotate: {
      type: 'string',
      multiple: true,
      value: 'USER',
      description: 'give this user a new NATS password (repeatable)',
    },
    partitions: {
      type: 'string',
      value: 'N',
      description: `also the workers' account, the readings in N partitions (1–${MAX_PARTITIONS})`,
    },
    'bcrypt-cost': {
      type: 'string',
      value: 'N',
      description: `bcrypt cost of the hashes, 4–14 (default ${DEFAULT_BCRYPT_COST})`,
    },
  },
  schema: z.object({
    config: z.string().min(1).default('central.yaml'),
    out: z.string({ error: 'required: the file to write' }).min(1),
    credentials: z.string({ error: 'required: the directory of NATS passwords' }).min(1),
    rotate: z.array(UserName).default([]),
    'bcrypt-cost': z.optional(numberFlag(z.number().int().min(4).max(14))),
    partitions: z.optional(numberFlag(z.number().int().min(1).max(MAX_PARTITIONS))),
  }),
  examples: [
    'shelfsense cluster nats-auth --config central.yaml --out nats-auth.conf --credentials nats-credentials',
    'shelfsense cluster nats-auth --config central.yaml --out nats-auth.conf --credentials nats-credentials --partitions 16',
  ],
} satisfies CommandSpec<AnySchema>;

/** The catalogue in force: the store's newest version, or central.yaml's while the store has none. */
function catalogueInForce(config: CentralConfig): { catalogue: Catalogue; from: string } {
  const file = config.ingest.storeFile ?? join(resolve(config.dataDir), 'central.db');
  // Reading only: a store file that does not exist yet is not created here.
  if (existsSync(file)) {
    const store = Store.open({ file });
    try {
      const current = store.catalogue.current();
      if (current) return { catalogue: current.catalogue, from: `catalogue version ${current.version}` };
    } finally {
      store.close();
    }
  }
  return { catalogue: catalogueOf(config), from: 'the central config’s catalogue (the store has none yet)' };
}

async function runNatsAuth(argv: string[]): Promise<number> {
  return runCommand(natsAuthSpec, argv, async (flags, positionals) => {
    noArguments(positionals);
    const config = loadConfigFile(CentralConfig, flags.config, 'central config');
    const dataDir = resolve(config.dataDir);
    if (!existsSync(join(dataDir, USERS_FILE)))
      throw new ShelfError(ErrorCodes.FILE, `dataDir: no ${USERS_FILE} in ${dataDir}; add users first`, [
        { path: 'dataDir', message: `no ${USERS_FILE}` },
      ]);
    const { catalogue, from } = catalogueInForce(config);
    const map = new ShelfMap({ ...config, ...catalogue });
    const users = new UserStore(dataDir, { pendingAudit: true });
    let principals: NatsPrincipal[];
    try {
      principals = users
        .list()
        .filter((u) => !u.disabled)
        .map((u) => ({ name: u.name, grant: u.grant }));
    } finally {
      users.close();
    }
    const unknown = flags.rotate.filter((n) => !principals.some((p) => p.name === n));
    if (unknown.length)
      throw new ShelfError(ErrorCodes.USAGE, `--rotate: no enabled user "${unknown[0]}"`, [
        { path: '--rotate', message: `no enabled user "${unknown[0]}"` },
      ]);
    if (flags.partitions !== undefined && principals.some((p) => p.name === WORKER_USER))
      throw new ShelfError(ErrorCodes.USAGE, `users.db: the user name ${WORKER_USER} is the workers'`, [
        { path: 'users', message: `${WORKER_USER} is reserved with --partitions` },
      ]);
    const names = principals.map((p) => p.name);
    const creds = await issueCredentials(
      flags.credentials,
      flags.partitions !== undefined ? [...names, WORKER_USER] : names,
      { rotate: flags.rotate, cost: flags['bcrypt-cost'] ?? DEFAULT_BCRYPT_COST },
    );
    const text = renderNatsAuth(
      principals.map((p) => ({ ...p, passwordHash: creds.hashes.get(p.name) as string })),
      map,
      [
        `NATS users of Shelfsense, from ${flags.config}: ${from}, users.db of ${dataDir}.`,
        'Written by `shelfsense cluster nats-auth`: run it again after a user or catalogue change.',
      ],
      flags.partitions !== undefined
        ? { partitions: flags.partitions, passwordHash: creds.hashes.get(WORKER_USER) as string }
        : undefined,
    );
    writeFileSync(flags.out, text, { mode: PRIVATE_FILE_MODE });
    process.stderr.write(
      `wrote ${flags.out}: ${principals.length} users (${from}); passwords in ${flags.credentials}: ` +
        `${creds.issued.length} new, ${creds.kept.length} kept, ${creds.removed.length} removed\n`,
    );
    return 0;
  });
}

/** The flags every long-running cluster command takes. */
const clusterFlags = {
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    description: 'central config with a `cluster` section',
  },
  'log-level': { type: 'string', value: 'LEVEL', description: 'override the config’s log level' },
} as const;
const clusterFlagsSchema = {
  config: z.string({ error: 'required: the central config' }).min(1),
  'log-level': z.optional(LogLevel),
};

function noArguments(positionals: readonly string[]): void {
  if (positionals[0] !== undefined)
    throw new ShelfError(ErrorCodes.USAGE, `unexpected argument "${positionals[0]}"`);
}

/** The process's structured log on stderr, at the config's level. */
function processLog(level: string, name: string) {
  return rootLogger(pino({ level, base: null, mixin: partMixin }, pino.destination(2)), name);
}

const workerSpec = {
  name: 'cluster worker',
  usage: '--config FILE [--id ID] [--log-level LEVEL]',
  description:
    'Runs one cluster worker: ingest and the rules for the partitions of the readings it leases,\n' +
    'from the NATS cluster’s JetStream into Postgres, as the `cluster` section of the config says\n' +
    '(docs/scale-out.md). Run as many as the load needs; they share the partitions between them\n' +
    'and take over those of a worker that stops or dies. Prints one JSON line when ready.',
  flags: {
    ...clusterFlags,
    id: {
      type: 'string',
      value: 'ID',
      description: 'this worker’s name among the workers (default host-pid)',
    },
  },
  schema: z.object({
    ...clusterFlagsSchema,
    id: z.optional(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . -, at most 64')),
  }),
  examples: ['shelfsense cluster worker --config /etc/shelfsense/central.yaml --id w1'],
} satisfies CommandSpec<AnySchema>;

/** A password file's first line. */
function secret(file: string | undefined, path: string): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').split('\n')[0]?.trim();
  } catch (err) {
    throw new ShelfError(ErrorCodes.FILE, `${path}: cannot read ${file}: ${(err as Error).message}`, [
      { path, message: 'unreadable' },
    ]);
  }
}

async function runWorker(argv: string[]): Promise<number> {
  return runCommand(workerSpec, argv, async (flags, positionals) => {
    noArguments(positionals);
    const loaded = loadConfigFile(CentralConfig, flags.config, 'central config');
    const cluster = loaded.cluster;
    if (!cluster)
      throw new ShelfError(ErrorCodes.INVALID, `cluster: ${flags.config} has no cluster section`, [
        { path: 'cluster', message: 'required to run a worker (see docs/scale-out.md)' },
      ]);
    const config = {
      ...loaded,
      cluster,
      ...(flags['log-level'] ? { log: { level: flags['log-level'] } } : {}),
    };
    const log = processLog(config.log.level, 'worker');
    const worker = new ClusterWorker({
      config,
      ...(flags.id ? { id: flags.id } : {}),
      natsPassword: secret(cluster.nats.passwordFile, 'cluster.nats.passwordFile'),
      mqttPassword: secret(cluster.mqtt.passwordFile, 'cluster.mqtt.passwordFile'),
      log,
    });
    await worker.start();
    process.stdout.write(
      `${JSON.stringify({ ready: true, worker: worker.id, partitions: worker.partitions })}\n`,
    );
    await untilSignal();
    await worker.stop();
    return 0;
  });
}

const webSpec = {
  name: 'cluster web',
  usage: '--config FILE [--log-level LEVEL]',
  description:
    'Runs one web node of the cluster deployment: the HTTP API and the dashboard on the Postgres\n' +
    'store, and MQTT over WebSocket at /mqtt for browsers, filled from the NATS cluster. Nodes keep\n' +
    'no state of their own: run as many as the load needs behind any load balancer. Listens where\n' +
    'the config’s `http` section says; prints one JSON line when ready.',
  flags: clusterFlags,
  schema: z.object(clusterFlagsSchema),
  examples: ['shelfsense cluster web --config /etc/shelfsense/central.yaml'],
} satisfies CommandSpec<AnySchema>;

/** The config with its cluster section, or a clear error naming it. */
function clusterConfig(file: string, level: z.infer<typeof LogLevel> | undefined) {
  const loaded = loadConfigFile(CentralConfig, file, 'central config');
  const cluster = loaded.cluster;
  if (!cluster)
    throw new ShelfError(ErrorCodes.INVALID, `cluster: ${file} has no cluster section`, [
      { path: 'cluster', message: 'required in the cluster deployment (see docs/scale-out.md)' },
    ]);
  return { ...loaded, cluster, ...(level ? { log: { level } } : {}) };
}

async function runWeb(argv: string[]): Promise<number> {
  return runCommand(webSpec, argv, async (flags, positionals) => {
    noArguments(positionals);
    const config = clusterConfig(flags.config, flags['log-level']);
    const log = processLog(config.log.level, 'web');
    const central = await startWebNode({ config, log });
    process.stdout.write(`${JSON.stringify({ ready: true, http: central.httpPort })}\n`);
    await untilSignal();
    await central.stop();
    return 0;
  });
}

const importUsersSpec = {
  name: 'cluster import-users',
  usage: '--config FILE [--data-dir DIR]',
  description:
    'Copies the users of a users.db (made with `shelfsense users`) into the cluster’s Postgres, where\n' +
    'every web node logs people in: password hash, role, scope, state and revocation time as they\n' +
    'are. A name the cluster already has is left alone. How a cluster gets its first admin, or a\n' +
    'single central’s users when it moves to the cluster.',
  flags: {
    config: clusterFlags.config,
    'data-dir': {
      type: 'string',
      value: 'DIR',
      description: 'where users.db is (default: the config’s dataDir)',
    },
  },
  schema: z.object({
    config: clusterFlagsSchema.config,
    'data-dir': z.optional(z.string().min(1)),
  }),
  examples: ['shelfsense cluster import-users --config /etc/shelfsense/central.yaml'],
} satisfies CommandSpec<AnySchema>;

async function runImportUsers(argv: string[]): Promise<number> {
  return runCommand(importUsersSpec, argv, async (flags, positionals) => {
    noArguments(positionals);
    const config = clusterConfig(flags.config, undefined);
    const dataDir = resolve(flags['data-dir'] ?? config.dataDir);
    if (!existsSync(join(dataDir, USERS_FILE)))
      throw new ShelfError(ErrorCodes.FILE, `--data-dir: no ${USERS_FILE} in ${dataDir}`, [
        { path: '--data-dir', message: `no ${USERS_FILE}` },
      ]);
    const pg = config.cluster.postgres;
    const store = SyncPgStore.open({ url: pg.url, schema: pg.schema, poolSize: 1 });
    try {
      const r = importUsers(dataDir, store);
      process.stderr.write(
        `copied ${r.copied.length} users into ${pg.schema}${r.kept.length ? `; kept ${r.kept.length} it had: ${r.kept.join(', ')}` : ''}\n`,
      );
    } finally {
      store.close();
    }
    return 0;
  });
}

const HELP = [
  'Usage: shelfsense cluster <nats-auth|worker|web|import-users> [options]',
  '',
  'The deployment past one machine: NATS, workers, Postgres, web nodes (see docs/scale-out.md).',
  '',
  'Commands:',
  '  nats-auth  write the users and permissions of a NATS cluster from users.db and the catalogue',
  '  worker     run a worker: ingest and rules for its partitions, from JetStream into Postgres',
  '  web        run a web node: the HTTP API, the dashboard and browsers’ MQTT, on Postgres',
  '  import-users  copy the users of a users.db into the cluster’s Postgres',
  '',
  ...GROUP_OPTIONS_HELP,
  '',
  'Run `shelfsense cluster <command> --help` for its options.',
].join('\n');

export const clusterCommand: Subcommand = {
  name: 'cluster',
  summary: 'the cluster deployment: NATS users and permissions, workers, web nodes',
  async run(argv) {
    const [action, ...rest] = argv;
    if (action === 'nats-auth') return runNatsAuth(rest);
    if (action === 'worker') return runWorker(rest);
    if (action === 'web') return runWeb(rest);
    if (action === 'import-users') return runImportUsers(rest);
    if (action === '--help' || action === '-h' || action === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    process.stderr.write(
      `${action === undefined ? 'shelfsense cluster: nats-auth, worker, web or import-users?' : `shelfsense cluster: unknown command "${action}"`}\n\n${HELP}\n`,
    );
    return EXIT_USAGE;
  },
};
