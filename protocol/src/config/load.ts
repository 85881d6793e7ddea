import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { output } from 'zod/v4/core';
import { ErrorCodes, isShelfError, ShelfError } from '../errors.js';
import { deepFreeze, formatIssues, parseWith } from '../validate.js';
import type { AnySchema } from '../zod.js';
import { applyEnvOverrides, blameOverrides, type EnvOverride, envOverrides } from './env.js';
import { SECRETS_FILE_NAME, secretTag } from './secrets.js';

/**
 * The environment prefix of each kind of config file, keyed by the name its loaders give it, so
 * every loader of one kind of file takes the same variables (docs/configuration.md).
 */
export const CONFIG_ENV_PREFIXES: Readonly<Record<string, string>> = {
  'agent config': 'SHELFSENSE_AGENT_',
  'central config': 'SHELFSENSE_CENTRAL_',
  catalogue: 'SHELFSENSE_CATALOGUE_',
};

export interface ConfigLoadOptions {
  /**
   * Where overrides are read: `process.env` for a file (loadConfigFile), none for a text
   * (parseConfigText) unless given. `false`: none.
   */
  env?: Readonly<Record<string, string | undefined>> | false;
  /** The overrides' prefix; default CONFIG_ENV_PREFIXES[what]. Without one, no overrides apply. */
  envPrefix?: string;
  /** Where `!secret NAME` is looked up; for a file, secrets.yaml beside it. */
  secretsFile?: string;
}

/**
 * Reads a YAML (or JSON) file, resolves its `!secret`s, applies the environment's overrides,
 * validates it with `schema`, and returns the frozen result. Every problem is reported with its
 * field path (and the variable that set it); nothing half-valid is returned.
 */
export function loadConfigFile<S extends AnySchema>(
  schema: S,
  file: string,
  what: string,
  options: ConfigLoadOptions = {},
): Readonly<output<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ShelfError(ErrorCodes.FILE, `cannot read ${what} ${file}: ${(err as Error).message}`);
  }
  return parseConfig(schema, text, what, `${what} ${file}`, {
    env: process.env,
    secretsFile: join(dirname(file), SECRETS_FILE_NAME),
    ...options,
  });
}

export function parseConfigText<S extends AnySchema>(
  schema: S,
  text: string,
  what: string,
  options: ConfigLoadOptions = {},
): Readonly<output<S>> {
  return parseConfig(schema, text, what, what, options);
}

/**
 * The overrides `env` makes to a config of this kind, checked against `schema`: for a config
 * built from flags rather than a file (the agent's quick start), applied with applyEnvOverrides.
 */
export function configEnvOverrides(
  schema: AnySchema,
  what: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): EnvOverride[] {
  const prefix = CONFIG_ENV_PREFIXES[what];
  return prefix ? envOverrides(schema, prefix, env) : [];
}

/** Validates `doc` naming, in each error, the variable behind an overridden field. */
export function validateConfig<S extends AnySchema>(
  schema: S,
  doc: unknown,
  what: string,
  overrides: readonly EnvOverride[] = [],
): Readonly<output<S>> {
  try {
    return deepFreeze(parseWith(schema, doc ?? {}, what));
  } catch (err) {
    if (!isShelfError(err, ErrorCodes.INVALID) || overrides.length === 0) throw err;
    const issues = blameOverrides(err.issues, overrides);
    throw new ShelfError(ErrorCodes.INVALID, `invalid ${what}: ${formatIssues(issues)}`, issues);
  }
}

function parseConfig<S extends AnySchema>(
  schema: S,
  text: string,
  what: string,
  where: string,
  options: ConfigLoadOptions,
): Readonly<output<S>> {
  const secrets = secretTag(options.secretsFile);
  let doc: unknown;
  try {
    // Errors throw; warnings (an unknown tag, a stray directive) are not printed to stderr behind
    // the structured logs: what such a document means is judged by the schema.
    doc = parseYaml(text, { logLevel: 'error', customTags: [secrets.tag] });
  } catch (err) {
    throw new ShelfError(ErrorCodes.FILE, `${where} is not valid YAML: ${(err as Error).message}`);
  }
  try {
    secrets.check();
  } catch (err) {
    if (isShelfError(err)) throw new ShelfError(err.code, `${where}: ${err.message}`, err.issues);
    throw err;
  }
  const prefix = options.envPrefix ?? CONFIG_ENV_PREFIXES[what];
  let overrides: EnvOverride[] = [];
  try {
    overrides = options.env && prefix ? envOverrides(schema, prefix, options.env) : [];
    if (overrides.length) doc = applyEnvOverrides(doc, overrides);
  } catch (err) {
    if (isShelfError(err)) throw new ShelfError(err.code, `${where}: ${err.message}`, err.issues);
    throw err;
  }
  return validateConfig(schema, doc, where, overrides);
}
