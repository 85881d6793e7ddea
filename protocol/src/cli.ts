/**
 * The `shelfsense` command: a small dispatcher that loads each subcommand from the package that
 * owns it, so a Raspberry Pi with only the agent and this contract installed still runs
 * `shelfsense agent`, and says plainly which package is missing for the others.
 */
import { parseArgs } from 'node:util';
import type { output } from 'zod/v4/core';
import { ErrorCodes, isShelfError, ShelfError } from './errors.js';
import { formatIssues, toIssues } from './validate.js';
import type { AnySchema } from './zod.js';
import * as z from './zod.js';

export interface Subcommand {
  name: string;
  summary: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Where each subcommand lives. */
export const SUBCOMMANDS: readonly { name: string; module: string; summary: string }[] = [
  { name: 'sim', module: '@shelfsense/firmware-sim/cli', summary: 'run simulated shelf firmware' },
  { name: 'agent', module: '@shelfsense/agent/cli', summary: 'run the edge agent (serial shelves → MQTT)' },
  { name: 'central', module: '@shelfsense/broker/cli', summary: 'run the central side (broker, rules, API)' },
  {
    name: 'demo',
    module: '@shelfsense/broker/cli',
    summary: 'everything on one machine with simulated shelves',
  },
  { name: 'users', module: '@shelfsense/broker/cli', summary: 'add, list, remove users and set passwords' },
  { name: 'bench', module: '@shelfsense/broker/cli', summary: 'run the benchmarks' },
];

export const EXIT_USAGE = 2;

export function topLevelHelp(): string {
  const width = Math.max(...SUBCOMMANDS.map((s) => s.name.length));
  return [
    'Usage: shelfsense <command> [options]',
    '',
    'Commands:',
    ...SUBCOMMANDS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`),
    '',
    'Run `shelfsense <command> --help` for the options of a command.',
  ].join('\n');
}

export async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${topLevelHelp()}\n`);
    return name ? 0 : EXIT_USAGE;
  }
  const entry = SUBCOMMANDS.find((s) => s.name === name);
  if (!entry) {
    process.stderr.write(`shelfsense: unknown command "${name}"\n\n${topLevelHelp()}\n`);
    return EXIT_USAGE;
  }
  let mod: { commands?: Record<string, Subcommand> };
  try {
    mod = (await import(entry.module)) as typeof mod;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (
      code === 'ERR_MODULE_NOT_FOUND' &&
      String((err as Error).message).includes(entry.module.split('/cli')[0]!)
    ) {
      const pkg = entry.module.replace(/\/cli$/, '');
      process.stderr.write(
        `shelfsense ${name}: the package ${pkg} is not installed on this machine; install it to use this command\n`,
      );
      return EXIT_USAGE;
    }
    throw err;
  }
  const cmd = mod.commands?.[name];
  if (!cmd) throw new Error(`${entry.module} does not provide the "${name}" command`);
  return cmd.run(rest);
}

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

export function commandHelp(spec: CommandSpec<AnySchema>): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.value ? ` ${f.value}` : ''}`;
    return [left, f.description] as const;
  });
  rows.push(['-h, --help', 'show this help']);
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
  | { help: true }
  | { help: false; flags: output<S>; positionals: string[] };

/**
 * Parses argv against the spec, then validates the values with the spec's zod schema.
 * Throws ShelfError(SHELF_ERR_USAGE) naming the flag at fault.
 */
export function parseFlags<S extends AnySchema>(spec: CommandSpec<S>, argv: string[]): ParsedFlags<S> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
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
  const { help: _help, ...values } = parsed.values;
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

/** A flag holding a number written as text. */
export const numberFlag = <S extends AnySchema<number, number>>(schema: S) =>
  z.pipe(z.pipe(z.string().check(z.regex(/^-?\d+(\.\d+)?$/, 'a number')), z.transform(Number)), schema);

/**
 * Runs a subcommand body with the conventions every command shares: --help prints and exits 0;
 * usage and validation errors print one clear line and exit 2.
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
