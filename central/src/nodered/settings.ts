/**
 * The settings object handed to `RED.init`: where Node-RED keeps its files, where it is mounted,
 * who may log in, how it logs (through pino, quiet by default), and the `shelfsense` key through
 * which the Shelfsense nodes reach the central side.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { NodeRedConfig } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { AdminAuthSettings } from './admin-auth.js';
import type { ShelfsenseNodeApi } from './node-api.js';

/**
 * The Shelfsense node package (node-red-contrib-shelfsense), resolved as a dependency so the same
 * code finds it in the workspace and in an installed central.
 */
export const NODES_DIR = dirname(
  createRequire(import.meta.url).resolve('node-red-contrib-shelfsense/package.json'),
);

const CREDENTIAL_SECRET_FILE = 'node-red-credential.secret';

/** Node-RED's numeric log levels (@node-red/util log.js). */
const NR = { fatal: 10, error: 20, warn: 30, info: 40, debug: 50, trace: 60, audit: 98, metric: 99 };
const NR_LEVEL_OF_PINO: Record<string, keyof typeof NR | 'off'> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
  silent: 'off',
};

interface NodeRedLogMessage {
  level: number;
  msg?: unknown;
  event?: string;
  type?: string;
  id?: string;
  [k: string]: unknown;
}

/**
 * Flow credentials are encrypted with this key. Node-RED would invent one and keep it beside the
 * credentials, so the secret lives in central's data dir instead (mode 0600), created once.
 */
export function credentialSecret(dataDir: string): string {
  const file = join(dataDir, CREDENTIAL_SECRET_FILE);
  let secret = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (secret.length < 32) {
    mkdirSync(dataDir, { recursive: true });
    secret = randomBytes(32).toString('hex');
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return secret;
}

/** Warnings Node-RED gives on every fresh start, which need nobody's attention. */
const ROUTINE = [/^Encrypted credentials not found/, /^Projects disabled/];

/** A Node-RED logging handler writing to a pino child logger. */
function logHandler(log: Logger) {
  return () => (m: NodeRedLogMessage) => {
    const where = { ...(m.type ? { nodeType: m.type } : {}), ...(m.id ? { nodeId: m.id } : {}) };
    if (m.level === NR.audit) {
      // Audit events: logins, deploys, refused permissions. Failures matter to operations.
      const { level: _l, ...rest } = m;
      if (String(m.event ?? '').includes('fail')) log.warn(rest, `node-red audit: ${m.event}`);
      else log.debug(rest, `node-red audit: ${m.event}`);
      return;
    }
    const text = typeof m.msg === 'string' ? m.msg.trim() : m.msg instanceof Error ? m.msg.message : m.msg;
    if (text === '' || text === undefined) return;
    const line = String(text);
    const level = m.level === NR.warn && ROUTINE.some((r) => r.test(line)) ? NR.info : m.level;
    if (level <= NR.fatal) log.fatal(where, line);
    else if (level <= NR.error) log.error(where, line);
    else if (level <= NR.warn) log.warn(where, line);
    else if (level <= NR.info) log.info(where, line);
    else if (level <= NR.debug) log.debug(where, line);
    else log.trace(where, line);
  };
}

export interface SettingsInput {
  config: NodeRedConfig;
  userDir: string;
  dataDir: string;
  auth: AdminAuthSettings;
  api: ShelfsenseNodeApi;
  log: Logger;
}

export function nodeRedSettings(s: SettingsInput): Record<string, unknown> {
  const level = NR_LEVEL_OF_PINO[s.log.level] ?? 'warn';
  return {
    userDir: s.userDir,
    flowFile: s.config.flowFile,
    credentialSecret: credentialSecret(s.dataDir),
    httpAdminRoot: s.config.path,
    httpNodeRoot: s.config.httpNodePath ?? false,
    nodesDir: [NODES_DIR],
    adminAuth: s.auth,
    // Same origin only: no CORS headers from the editor's admin API or from flows' endpoints. The
    // `cors` middleware Node-RED uses allows every origin (`*`) for a CORS setting without an
    // `origin`; `origin: false` makes it add nothing.
    httpAdminCors: { origin: false },
    httpNodeCors: { origin: false },
    // The nodes' way to the central side (RED.settings.shelfsense); not sent to the editor.
    shelfsense: s.api,
    functionGlobalContext: {},
    logging: {
      console: { level: 'off' },
      shelfsense: { level, metrics: false, audit: level !== 'off', handler: logHandler(s.log) },
    },
    // No calls home and no tours in a central server (projects are off unless switched on).
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    runtimeState: { enabled: false },
    editorTheme: {
      page: { title: 'Shelfsense flows' },
      header: { title: 'Shelfsense flows' },
      tours: false,
    },
    externalModules: {
      autoInstall: false,
      palette: { allowInstall: s.config.allowPaletteInstall },
      modules: { allowInstall: s.config.allowPaletteInstall },
    },
  };
}
