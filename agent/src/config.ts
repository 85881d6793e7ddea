/**
 * The agent's configuration: a YAML file (`--config`) or, for a quick start, flags alone, with
 * the environment's SHELFSENSE_AGENT_* overrides on top either way. The result goes through the
 * one AgentConfig schema, so defaults and errors are the same; every error names its field.
 */

import { readFileSync } from 'node:fs';
import {
  AgentConfig,
  type AgentConfigInput,
  applyEnvOverrides,
  configEnvOverrides,
  ErrorCodes,
  loadConfigFile,
  ShelfError,
  validateConfig,
} from '@shelfsense/protocol';

export interface AgentFlags {
  config?: string | undefined;
  source?: string[] | undefined;
  broker?: string | undefined;
  site?: string | undefined;
  id?: string | undefined;
  username?: string | undefined;
  'password-file'?: string | undefined;
  'state-dir'?: string | undefined;
  'trim-on'?: 'central' | 'broker' | undefined;
  'unit-weight'?: number | undefined;
  'log-level'?: string | undefined;
  'metrics-port'?: number | undefined;
}

function sourceFromFlag(s: string): AgentConfigInput['sources'][number] {
  return s.startsWith('tcp://') ? { url: s } : { path: s };
}

function readPassword(flags: AgentFlags): string | undefined {
  if (flags['password-file']) {
    try {
      return readFileSync(flags['password-file'], 'utf8').trim();
    } catch (err) {
      throw new ShelfError(ErrorCodes.FILE, `cannot read --password-file: ${(err as Error).message}`);
    }
  }
  // The environment keeps the password off the command line, where `ps` would show it.
  return process.env.SHELFSENSE_PASSWORD;
}

export function resolveAgentConfig(
  flags: AgentFlags,
): Readonly<AgentConfig> & { defaultUnitWeightG: number } {
  const unit = flags['unit-weight'] ?? 100;
  if (flags.config) {
    const quick = ['source', 'broker', 'site', 'id'] as const;
    const clash = quick.filter((k) => flags[k] !== undefined);
    if (clash.length) {
      throw new ShelfError(
        ErrorCodes.USAGE,
        `--config cannot be combined with ${clash.map((c) => `--${c}`).join(', ')}; put them in the file`,
      );
    }
    const cfg = loadConfigFile(AgentConfig, flags.config, 'agent config');
    const password = cfg.broker.password ?? readPassword(flags);
    return {
      ...cfg,
      broker: { ...cfg.broker, ...(password !== undefined ? { password } : {}) },
      log: { level: (flags['log-level'] as AgentConfig['log']['level']) ?? cfg.log.level },
      defaultUnitWeightG: unit,
    };
  }
  const missing = (['source', 'broker', 'site'] as const).filter((k) => !flags[k] || flags[k]?.length === 0);
  if (missing.length) {
    throw new ShelfError(
      ErrorCodes.USAGE,
      `give --config FILE, or ${missing.map((m) => `--${m}`).join(', ')} for a quick start`,
      missing.map((m) => ({ path: `--${m}`, message: 'required without --config' })),
    );
  }
  const password = readPassword(flags);
  const input: AgentConfigInput = {
    agent: { id: flags.id ?? 'agent-1', site: flags.site as string },
    sources: (flags.source ?? []).map(sourceFromFlag),
    broker: {
      url: brokerUrls(flags.broker as string),
      ...(flags.username ? { username: flags.username } : {}),
      ...(password !== undefined ? { password } : {}),
    },
    ...(flags['state-dir'] ? { stateDir: flags['state-dir'] } : {}),
    ...(flags['trim-on'] ? { delivery: { trimOn: flags['trim-on'] } } : {}),
    ...(flags['log-level'] ? { log: { level: flags['log-level'] as AgentConfig['log']['level'] } } : {}),
    ...(flags['metrics-port'] !== undefined ? { metrics: { port: flags['metrics-port'] } } : {}),
  };
  // The environment's overrides apply to a quick start as to a file; a flag given wins over them,
  // as --log-level wins over a file (docs/configuration.md).
  const overrides = configEnvOverrides(AgentConfig, 'agent config');
  const doc = overlay(applyEnvOverrides({}, overrides), input);
  return { ...validateConfig(AgentConfig, doc, 'agent flags', overrides), defaultUnitWeightG: unit };
}

/** `top` over `base`, mapping by mapping; a list or a value in `top` replaces `base`'s. */
function overlay(base: unknown, top: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(base) || !isMap(top)) return top === undefined ? base : top;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(top)) out[k] = overlay(base[k], v);
  return out;
}

/** `--broker a,b,c`: the nodes of one cluster, tried in turn; one URL stays a string. */
function brokerUrls(flag: string): string | string[] {
  const urls = flag
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  return urls.length === 1 ? (urls[0] as string) : urls;
}
