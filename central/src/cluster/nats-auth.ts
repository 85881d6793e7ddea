/**
 * Users and permissions of a NATS cluster, generated from `users.db` and the catalogue in force:
 * an `authorization { users: [...] }` block for each node's config to include.
 *
 * `users.db` keeps scrypt hashes, which nats-server cannot check (it takes a plain or a bcrypt
 * password, and 2.9 has no auth callout). So NATS gets credentials of its own: one random password
 * per user, kept in a private directory (one `<user>.password` file each, to hand to that agent,
 * service or integration) and given to NATS only as a bcrypt hash. Running again keeps every
 * password (and its hash) unless asked to rotate it; a removed or disabled user's file goes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir, type Grant, PRIVATE_FILE_MODE, type ShelfMap } from '@shelfsense/protocol';
import bcrypt from 'bcryptjs';
import { z } from 'zod';
import { type NatsPermissions, natsPermissions, type SubjectRules } from './nats-permissions.js';
import { DEVICES_ACCOUNT, partitionMappings, WORKER_USER, WORKERS_ACCOUNT } from './partition.js';

export interface NatsPrincipal {
  name: string;
  grant: Grant;
}

export interface NatsAuthUser extends NatsPrincipal {
  /** bcrypt, as nats-server checks it. */
  passwordHash: string;
}

/**
 * bcrypt's cost. The passwords are 32 random characters (192 bits), so no cost makes them easier
 * or harder to guess; a low one keeps a node's reconnect storm (one check per CONNECT) cheap.
 */
export const DEFAULT_BCRYPT_COST = 8;
export const PASSWORD_SUFFIX = '.password';
/** Beside the passwords: each one's hash, so a rerun need not hash (and change) it again. */
const HASHES_FILE = '.bcrypt.json';

const HashIndex = z.record(z.string(), z.strictObject({ sha256: z.string(), bcrypt: z.string() }));
type HashIndex = z.infer<typeof HashIndex>;

const GENERATED = /^[A-Za-z0-9_-]{32,128}$/;

export interface IssueOptions {
  /** Users whose password is replaced by a new one. */
  rotate?: readonly string[];
  cost?: number;
}

export interface IssuedCredentials {
  /** bcrypt hash per user name. */
  hashes: Map<string, string>;
  issued: string[];
  kept: string[];
  /** Password files of users no longer in the list, deleted. */
  removed: string[];
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Makes sure `dir` (0700) holds a password file (0600) for each name, and returns the bcrypt
 * hash of each. Existing passwords are kept unless rotated.
 */
export async function issueCredentials(
  dir: string,
  names: readonly string[],
  opts: IssueOptions = {},
): Promise<IssuedCredentials> {
  const abs = ensurePrivateDir(dir);
  const cost = opts.cost ?? DEFAULT_BCRYPT_COST;
  const rotate = new Set(opts.rotate ?? []);
  const indexFile = join(abs, HASHES_FILE);
  const index: HashIndex = existsSync(indexFile)
    ? (HashIndex.safeParse(JSON.parse(readFileSync(indexFile, 'utf8'))).data ?? {})
    : {};
  const out: IssuedCredentials = { hashes: new Map(), issued: [], kept: [], removed: [] };
  const next: HashIndex = {};
  for (const name of names) {
    const file = join(abs, `${name}${PASSWORD_SUFFIX}`);
    let password = !rotate.has(name) && existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    if (GENERATED.test(password)) out.kept.push(name);
    else {
      password = randomBytes(24).toString('base64url');
      writeFileSync(file, `${password}\n`, { mode: PRIVATE_FILE_MODE });
      out.issued.push(name);
    }
    const digest = sha256(password);
    // The stored hash stands while the password and the cost are the ones it was made with.
    const known = index[name];
    const reuse =
      known?.sha256 === digest && known.bcrypt.startsWith(`$2b$${String(cost).padStart(2, '0')}$`);
    const hash = reuse && known ? known.bcrypt : await bcrypt.hash(password, cost);
    next[name] = { sha256: digest, bcrypt: hash };
    out.hashes.set(name, hash);
  }
  const wanted = new Set(names);
  for (const f of readdirSync(abs)) {
    if (!f.endsWith(PASSWORD_SUFFIX)) continue;
    const name = f.slice(0, -PASSWORD_SUFFIX.length);
    if (wanted.has(name)) continue;
    rmSync(join(abs, f), { force: true });
    out.removed.push(name);
  }
  writeFileSync(indexFile, `${JSON.stringify(next, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
  return out;
}

/** A NATS config string: double-quoted, so a `$` in a hash or subject is not a variable. */
const q = (s: string) => JSON.stringify(s);
const list = (xs: readonly string[]) => `[${xs.map(q).join(', ')}]`;

function rules(r: SubjectRules): string {
  const parts = [
    ...(r.allow ? [`allow: ${list(r.allow)}`] : []),
    ...(r.deny ? [`deny: ${list(r.deny)}`] : []),
  ];
  return `{ ${parts.join(', ')} }`;
}

function describe(g: Grant): string {
  switch (g.role) {
    case 'agent':
      return `agent ${g.agent} at ${g.site}`;
    case 'supplier':
      return `supplier ${g.supplier}`;
    case 'operator':
    case 'technician':
      return `${g.role} of ${g.sites.join(', ')}`;
    case 'homeassistant':
      return `homeassistant of ${g.sites.join(', ')}`;
    default:
      return g.role;
  }
}

export interface WorkerAccount {
  /** Partitions of the readings (see partition.ts). */
  partitions: number;
  /** bcrypt hash of the workers' NATS password. */
  passwordHash: string;
}

/**
 * The users block, one user per principal, with `header` lines as comments on top. Without
 * `workers`: an `authorization` block (one account). With it: two accounts, the devices' and
 * people's, and the workers', which imports the readings partitioned (partition.ts).
 */
export function renderNatsAuth(
  users: readonly NatsAuthUser[],
  map: ShelfMap,
  header: readonly string[] = [],
  workers?: WorkerAccount,
): string {
  const lines = header.map((h) => `# ${h}`);
  const pad = workers ? '      ' : '    ';
  const userLines: string[] = [];
  for (const u of users) {
    const p: NatsPermissions = natsPermissions(u.grant, map);
    userLines.push(
      `${pad}# ${describe(u.grant)}`,
      `${pad}{`,
      `${pad}  user: ${q(u.name)}`,
      `${pad}  password: ${q(u.passwordHash)}`,
      // MQTT only: as a NATS client it could subscribe to `$MQTT.sub.>` and read every QoS 1
      // delivery; over MQTT the server refuses filters on that prefix.
      `${pad}  allowed_connection_types: ["MQTT"]`,
      `${pad}  permissions: {`,
      `${pad}    publish: ${rules(p.publish)}`,
      `${pad}    subscribe: ${rules(p.subscribe)}`,
      `${pad}  }`,
      `${pad}}`,
    );
  }
  if (!workers) {
    lines.push('authorization {', '  users: [', ...userLines, '  ]', '}', '');
    return lines.join('\n');
  }
  const m = partitionMappings(workers.partitions);
  lines.push(
    'accounts {',
    `  ${DEVICES_ACCOUNT}: {`,
    '    jetstream: enabled',
    '    users: [',
    ...userLines,
    '    ]',
    `    exports: [${m.exports.join(', ')}]`,
    '  }',
    `  # The workers: the readings partitioned, their stream and consumers; no device reaches it.`,
    `  ${WORKERS_ACCOUNT}: {`,
    '    jetstream: enabled',
    `    users: [{ user: ${q(WORKER_USER)}, password: ${q(workers.passwordHash)}, allowed_connection_types: ["STANDARD"] }]`,
    '    imports: [',
    ...m.imports.map((i) => `      ${i}`),
    '    ]',
    '  }',
    '}',
    '',
  );
  return lines.join('\n');
}
