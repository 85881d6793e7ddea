/**
 * `shelfsense users add|list|remove|passwd|token`: manage the users in the central data dir.
 * Passwords come from stdin or an interactive prompt, never from the command line.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { AnySchema } from '@shelfsense/protocol';
import {
  type CentralConfig,
  CentralConfig as CentralConfigSchema,
  ensurePrivateDir,
  type Grant,
  loadConfigFile,
  ROLES,
  ShelfMap,
} from '@shelfsense/protocol';
import {
  type CommandSpec,
  type FlagSpec,
  GROUP_OPTIONS_HELP,
  runCommand,
  type Subcommand,
} from '@shelfsense/protocol/cli';
import { z } from 'zod';
import { AuthError, AuthErrorCodes, isAuthError } from './auth/errors.js';
import { PasswordInputError, readNewPassword } from './auth/password-input.js';
import { UserStore } from './auth/user-store.js';

const EXIT_USAGE = 2;

const where = {
  'data-dir': { type: 'string', short: 'd', value: 'DIR', description: 'the central data dir' },
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    description: 'the central config (its dataDir, from the current directory; checks sites and suppliers)',
  },
} as const;
const whereSchema = { 'data-dir': z.string().min(1).optional(), config: z.string().min(1).optional() };

const ROLE_HELP = 'agent | supplier | operator | technician | homeassistant | service | admin';
const addSpec = {
  name: 'users add',
  usage:
    '<name> --role ROLE [--site ID]… [--supplier ID] [--agent ID] [--prefix ID] (--data-dir DIR | --config FILE)',
  description: 'Add a user. The password is read from stdin (first line) or asked for on the terminal.',
  flags: {
    role: { type: 'string', short: 'r', value: 'ROLE', description: ROLE_HELP },
    site: {
      type: 'string',
      short: 's',
      multiple: true,
      value: 'ID',
      description: 'site (agent: one; operator, technician, homeassistant: one or more)',
    },
    supplier: { type: 'string', value: 'ID', description: 'supplier id (supplier role)' },
    agent: { type: 'string', value: 'ID', description: 'agent id (agent role; default: the user name)' },
    prefix: {
      type: 'string',
      value: 'ID',
      description: 'discovery prefix (homeassistant role; default: homeassistant)',
    },
    ...where,
  },
  schema: z.object({
    role: z.enum(ROLES, `one of ${ROLE_HELP}`),
    site: z.array(z.string()).optional(),
    supplier: z.string().optional(),
    agent: z.string().optional(),
    prefix: z.string().optional(),
    ...whereSchema,
  }),
  examples: [
    'echo "$PW" | shelfsense users add acme-portal --role supplier --supplier acme --config central.yaml',
    'shelfsense users add pi-1 --role agent --site store-1 --data-dir /var/lib/shelfsense',
    'shelfsense users add hass --role homeassistant --site store-1 --config central.yaml',
  ],
} satisfies CommandSpec<AnySchema>;

function nameOnly<E extends Record<string, FlagSpec>, S extends z.ZodRawShape>(
  name: string,
  usage: string,
  description: string,
  extra: E,
  extraSchema: S,
) {
  return {
    name,
    usage,
    description,
    flags: { ...extra, ...where },
    schema: z.object({ ...extraSchema, ...whereSchema }),
  };
}

const listSpec = nameOnly(
  'users list',
  '(--data-dir DIR | --config FILE)',
  'List users with their roles and scopes.',
  { json: { type: 'boolean', description: 'print JSON' } },
  { json: z.boolean().optional() },
);
const removeSpec = nameOnly(
  'users remove',
  '<name> (--data-dir DIR | --config FILE)',
  'Remove a user (its tokens stop working).',
  {},
  {},
);
const passwdSpec = nameOnly(
  'users passwd',
  '<name> (--data-dir DIR | --config FILE)',
  'Set a user’s password, read from stdin (first line) or asked for on the terminal. The user’s tokens stop working.',
  {},
  {},
);
const disableSpec = nameOnly(
  'users disable',
  '<name> (--data-dir DIR | --config FILE)',
  'Disable a user: its logins and tokens are refused (a running broker closes no connection: use the API for that).',
  {},
  {},
);
const enableSpec = nameOnly(
  'users enable',
  '<name> (--data-dir DIR | --config FILE)',
  'Enable a disabled user again; tokens issued before it was disabled stay refused.',
  {},
  {},
);
const revokeSpec = nameOnly(
  'users revoke',
  '<name> (--data-dir DIR | --config FILE)',
  'Refuse every token the user holds now; its password still works.',
  {},
  {},
);
const tokenSpec = nameOnly(
  'users token',
  '<name> [--ttl DURATION] (--data-dir DIR | --config FILE)',
  'Print a short-lived signed token the user can give MQTT in place of its password.',
  { ttl: { type: 'string', value: 'DURATION', description: 'lifetime, e.g. 15m (default 15m, at most 1d)' } },
  {
    ttl: z
      .string()
      .regex(/^\d+(ms|s|m|h|d)?$/, 'a duration such as 90s, 15m or 1h')
      .optional(),
  },
);

class UsageError extends Error {}

interface Where {
  'data-dir'?: string | undefined;
  config?: string | undefined;
}

function open(flags: Where): { store: UserStore; config: CentralConfig | null } {
  if (!flags['data-dir'] === !flags.config)
    throw new UsageError('give exactly one of --data-dir or --config');
  let config: CentralConfig | null = null;
  let dir: string;
  if (flags.config) {
    config = loadConfigFile(CentralConfigSchema, flags.config, 'central config') as CentralConfig;
    dir = resolve(config.dataDir);
  } else dir = resolve(flags['data-dir'] as string);
  // This process has no central store: its audit events wait in users.db until central takes them.
  const opts = { ...(config ? { scrypt: config.auth.scrypt } : {}), actor: cliActor(), pendingAudit: true };
  // Users are often added before central first runs: the data dir starts out private.
  try {
    ensurePrivateDir(dir);
  } catch (err) {
    throw new AuthError(AuthErrorCodes.STORE, `cannot create ${dir}: ${(err as Error).message}`);
  }
  return { store: new UserStore(dir, opts), config };
}

/** Who the audit trail names for a change made here: the command, and the account that ran it. */
function cliActor(): { user: string; role: null } {
  let who = '';
  try {
    who = userInfo().username;
  } catch {
    // No passwd entry (a bare container): the command alone.
  }
  return { user: who ? `shelfsense users (${who})` : 'shelfsense users', role: null };
}

function oneName(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError('give exactly one user name');
  return positionals[0] as string;
}

function grantFrom(f: z.infer<typeof addSpec.schema>, name: string): Grant {
  const sites = f.site ?? [];
  const need = (ok: boolean, msg: string) => {
    if (!ok) throw new UsageError(msg);
  };
  switch (f.role) {
    case 'agent':
      need(sites.length === 1, 'the agent role needs exactly one --site');
      return { role: 'agent', site: sites[0] as string, agent: f.agent ?? name };
    case 'supplier':
      need(f.supplier !== undefined, 'the supplier role needs --supplier');
      return { role: 'supplier', supplier: f.supplier as string };
    case 'operator':
    case 'technician':
      need(sites.length > 0, `the ${f.role} role needs at least one --site`);
      return { role: f.role, sites };
    case 'homeassistant':
      need(sites.length > 0, 'the homeassistant role needs at least one --site');
      return { role: f.role, sites, ...(f.prefix !== undefined ? { prefix: f.prefix } : {}) };
    default:
      return { role: f.role };
  }
}

function checkAgainstMap(grant: Grant, config: CentralConfig): void {
  const map = new ShelfMap(config);
  const sites = grant.role === 'agent' ? [grant.site] : 'sites' in grant ? grant.sites : [];
  for (const s of sites)
    if (!map.hasSite(s)) throw new UsageError(`--site: unknown site "${s}" in the config`);
  if (grant.role === 'supplier' && !map.hasSupplier(grant.supplier)) {
    throw new UsageError(`--supplier: unknown supplier "${grant.supplier}" in the config`);
  }
}

export function describeGrant(g: Grant): string {
  switch (g.role) {
    case 'agent':
      return `site=${g.site} agent=${g.agent}`;
    case 'supplier':
      return `supplier=${g.supplier}`;
    case 'operator':
    case 'technician':
      return `sites=${g.sites.join(',')}`;
    case 'homeassistant':
      return `sites=${g.sites.join(',')}${g.prefix !== undefined ? ` prefix=${g.prefix}` : ''}`;
    default:
      return '-';
  }
}

function parseTtl(text: string | undefined): number {
  if (!text) return 15 * 60_000;
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text) as RegExpExecArray;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms'] as number;
  return Number(m[1]) * unit;
}

/** Runs one action, turning bad input into one clear line and exit code 2. */
async function guarded(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof PasswordInputError ||
      (isAuthError(err) && err.code !== 'SHELF_ERR_USER_STORE')
    ) {
      process.stderr.write(`shelfsense ${name}: ${(err as Error).message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof AuthError) {
      process.stderr.write(`shelfsense ${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function withStore<T>(
  flags: Where,
  fn: (s: UserStore, c: CentralConfig | null) => Promise<T>,
): Promise<T> {
  const { store, config } = open(flags);
  try {
    return await fn(store, config);
  } finally {
    store.close();
  }
}

/** disable, enable, revoke: one user, one change, one line. */
function setState(
  spec: ReturnType<typeof nameOnly>,
  argv: string[],
  change: (store: UserStore, name: string) => unknown,
  done: string,
): Promise<number> {
  return runCommand(spec, argv, (flags, positionals) =>
    guarded(spec.name, async () => {
      const name = oneName(positionals);
      return withStore(flags as Where, async (store) => {
        if (!store.get(name)) throw new UsageError(`no user "${name}"`);
        change(store, name);
        process.stdout.write(`${done} ${name}\n`);
        return 0;
      });
    }),
  );
}

const ACTIONS: Record<string, (argv: string[]) => Promise<number>> = {
  add: (argv) =>
    runCommand(addSpec, argv, (flags, positionals) =>
      guarded(addSpec.name, async () => {
        const name = oneName(positionals);
        const grant = grantFrom(flags, name);
        return withStore(flags, async (store, config) => {
          if (config) checkAgainstMap(grant, config);
          if (store.get(name)) throw new UsageError(`user "${name}" already exists`);
          const password = await readNewPassword(`Password for ${name}`);
          await store.add(name, grant, password);
          process.stdout.write(`added ${name} (${grant.role} ${describeGrant(grant)})\n`);
          return 0;
        });
      }),
    ),
  list: (argv) =>
    runCommand(listSpec, argv, (flags, positionals) =>
      guarded(listSpec.name, async () => {
        if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
        return withStore(flags, async (store) => {
          const users = store.list();
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(users.map((u) => ({ name: u.name, ...u.grant })))}\n`);
            return 0;
          }
          const rows = [
            ['NAME', 'ROLE', 'SCOPE', 'STATE', 'CREATED'],
            ...users.map((u) => [
              u.name,
              u.grant.role,
              describeGrant(u.grant),
              u.disabled ? 'disabled' : u.hasPassword ? 'active' : 'no password',
              new Date(u.createdAt).toISOString(),
            ]),
          ];
          const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
          for (const r of rows)
            process.stdout.write(
              `${r
                .map((c, i) => c.padEnd(widths[i]!))
                .join('  ')
                .trimEnd()}\n`,
            );
          return 0;
        });
      }),
    ),
  remove: (argv) =>
    runCommand(removeSpec, argv, (flags, positionals) =>
      guarded(removeSpec.name, async () => {
        const name = oneName(positionals);
        return withStore(flags, async (store) => {
          store.remove(name);
          process.stdout.write(`removed ${name}\n`);
          return 0;
        });
      }),
    ),
  passwd: (argv) =>
    runCommand(passwdSpec, argv, (flags, positionals) =>
      guarded(passwdSpec.name, async () => {
        const name = oneName(positionals);
        return withStore(flags, async (store) => {
          if (!store.get(name)) throw new UsageError(`no user "${name}"`);
          await store.setPassword(name, await readNewPassword(`New password for ${name}`));
          process.stdout.write(`password changed for ${name}; its tokens no longer work\n`);
          return 0;
        });
      }),
    ),
  disable: (argv) => setState(disableSpec, argv, (s, name) => s.setDisabled(name, true), 'disabled'),
  enable: (argv) => setState(enableSpec, argv, (s, name) => s.setDisabled(name, false), 'enabled'),
  revoke: (argv) => setState(revokeSpec, argv, (s, name) => s.revokeTokens(name), 'every token revoked for'),
  token: (argv) =>
    runCommand(tokenSpec, argv, (flags, positionals) =>
      guarded(tokenSpec.name, async () => {
        const name = oneName(positionals);
        return withStore(flags, async (store) => {
          process.stdout.write(`${store.issueToken(name, parseTtl(flags.ttl), store.actor)}\n`);
          return 0;
        });
      }),
    ),
};

export function usersHelp(): string {
  return [
    'Usage: shelfsense users <add|list|remove|passwd|disable|enable|revoke|token> [options]',
    '',
    'Manage the users of the central side (stored, hashed, in the data dir).',
    '',
    'Actions:',
    '  add     add a user with a role and scope',
    '  list    list users',
    '  remove  remove a user',
    '  passwd  set a user’s password (its tokens stop working)',
    '  disable refuse a user’s logins and tokens',
    '  enable  let a disabled user log in again',
    '  revoke  refuse every token a user holds now',
    '  token   print a short-lived signed token for a user',
    '',
    ...GROUP_OPTIONS_HELP,
    '',
    'Run `shelfsense users <action> --help` for the options of an action.',
  ].join('\n');
}

export const usersCommand: Subcommand = {
  name: 'users',
  summary: 'add, list, remove, disable users and set passwords',
  async run(argv) {
    const [action, ...rest] = argv;
    if (!action || action === '--help' || action === '-h' || action === 'help') {
      process.stdout.write(`${usersHelp()}\n`);
      return action ? 0 : EXIT_USAGE;
    }
    const run = ACTIONS[action];
    if (!run) {
      process.stderr.write(`shelfsense users: unknown action "${action}"\n\n${usersHelp()}\n`);
      return EXIT_USAGE;
    }
    return run(rest);
  },
};
