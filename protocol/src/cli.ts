/**
 * What every `shelfsense` subcommand is made of: flags declared once, parsed and validated with
 * zod, a `--help` built from the declaration, and one way to report errors and exit codes.
 */
import { parseArgs } from 'node:util';
import type { output } from 'zod/v4/core';
import { TimerDuration } from './config/common.js';
import { ErrorCodes, isShelfError, ShelfError } from './errors.js';
import { formatIssues, toIssues } from './validate.js';
import { shelfsenseVersion } from './version.js';
import type { AnySchema } from './zod.js';
import * as z from './zod.js';

export { shelfsenseVersion };

export interface Subcommand {
  name: string;
  summary: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

export const EXIT_USAGE = 2;

// --- flags ---------------------------------------------------------------------------------------

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Shown in --help, e.g. `PATH`. */
  value?: string;
  description: string;
}

export interface CommandSpec<S extends AnySchema> {
  name: string;
  usage: string;
  description: string;
  flags: Record<string, FlagSpec>;
  /** Validates and converts the raw flag values (strings and booleans) keyed by flag name. */
  schema: S;
  examples?: string[];
}

/** The options a command made of actions (`users`, `config`) takes itself, for its --help. */
export const GROUP_OPTIONS_HELP: readonly string[] = [
  'Options:',
  '  -V, --version  print the Shelfsense version and exit',
  '  -h, --help     show this help',
];

export function commandHelp(spec: CommandSpec<AnySchema>): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.value ? ` ${f.value}` : ''}`;
    return [left, f.description] as const;
  });
  rows.push(['-V, --version', 'print the Shelfsense version and exit'], ['-h, --help', 'show this help']);
  const width = Math.max(...rows.map((r) => r[0].length));
  return [
    `Usage: shelfsense ${spec.name} ${spec.usage}`,
    '',
    spec.description,
    '',
    'Options:',
    ...rows.map(([l, d]) => `  ${l.padEnd(width)}  ${d}`),
    ...(spec.examples?.length ? ['', 'Examples:', ...spec.examples.map((e) => `  ${e}`)] : []),
  ].join('\n');
}

export type ParsedFlags<S extends AnySchema> =
  | { help: true; version?: false }
  | { help: false; version: true }
  | { help: false; version?: false; flags: output<S>; positionals: string[] };

/** True when argv asks for the version the way every command takes it: `--version` or `-V`. */
export function isVersionFlag(arg: string | undefined): boolean {
  return arg === '--version' || arg === '-V';
}

/**
 * Parses argv against the spec, then validates the values with the spec's zod schema.
 * Throws ShelfError(SHELF_ERR_USAGE) naming the flag at fault.
 */
export function parseFlags<S extends AnySchema>(spec: CommandSpec<S>, argv: string[]): ParsedFlags<S> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'V' },
  };
  for (const [name, f] of Object.entries(spec.flags)) {
    options[name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ShelfError(ErrorCodes.USAGE, `shelfsense ${spec.name}: ${(err as Error).message}`);
  }
  if (parsed.values.help) return { help: true };
  if (parsed.values.version) return { help: false, version: true };
  const { help: _help, version: _version, ...values } = parsed.values;
  const result = z.safeParse(spec.schema, values);
  if (!result.success) {
    const issues = toIssues(result.error).map((i) => ({
      ...i,
      path: i.path ? `--${i.path.split('.')[0]}` : '',
    }));
    throw new ShelfError(ErrorCodes.USAGE, `shelfsense ${spec.name}: ${formatIssues(issues)}`, issues);
  }
  return { help: false, flags: result.data, positionals: parsed.positionals };
}

/** A duration flag: milliseconds (`1500`) or text (`1.5s`, `2m`). */
export const durationFlag = z.pipe(
  z.pipe(
    z.string(),
    z.transform((s) => (/^\d+$/.test(s) ? Number(s) : s)),
  ),
  TimerDuration,
);

/** Resolves on the first SIGINT or SIGTERM: how a long-running command waits to be stopped. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

/** A flag holding a number written as text. */
export const numberFlag = <S extends AnySchema<number, number>>(schema: S) =>
  z.pipe(z.pipe(z.string().check(z.regex(/^-?\d+(\.\d+)?$/, 'a number')), z.transform(Number)), schema);

/**
 * Runs a subcommand body with the conventions every command shares: --help and --version print
 * and exit 0; usage and validation errors print one clear line and exit 2.
 */
export async function runCommand<S extends AnySchema>(
  spec: CommandSpec<S>,
  argv: string[],
  body: (flags: output<S>, positionals: string[]) => Promise<number>,
): Promise<number> {
  let parsed: ParsedFlags<S>;
  try {
    parsed = parseFlags(spec, argv);
  } catch (err) {
    if (isShelfError(err)) {
      process.stderr.write(`${err.message}\nRun \`shelfsense ${spec.name} --help\` for usage.\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(`${commandHelp(spec)}\n`);
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`${shelfsenseVersion()}\n`);
    return 0;
  }
  try {
    return await body(parsed.flags, parsed.positionals);
  } catch (err) {
    if (
      isShelfError(err) &&
      (err.code === ErrorCodes.INVALID || err.code === ErrorCodes.FILE || err.code === ErrorCodes.USAGE)
    ) {
      process.stderr.write(`shelfsense ${spec.name}: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
