/**
 * The `shelfsense` command: a small dispatcher that loads each subcommand from the package that
 * owns it, so a machine with only some packages installed (a central without the simulator, a
 * checkout without the benchmarks) runs what it has and says plainly which package is missing.
 */
import {
  EXIT_USAGE,
  GROUP_OPTIONS_HELP,
  isVersionFlag,
  type Subcommand,
  shelfsenseVersion,
} from '@shelfsense/protocol/cli';

/** Where each subcommand lives. */
export const SUBCOMMANDS: readonly { name: string; module: string; summary: string }[] = [
  { name: 'sim', module: '@shelfsense/firmware-sim/cli', summary: 'run simulated shelf firmware' },
  { name: 'agent', module: '@shelfsense/agent/cli', summary: 'run the edge agent (serial shelves → MQTT)' },
  {
    name: 'central',
    module: '@shelfsense/central/cli',
    summary: 'run the central side (broker, rules, API)',
  },
  {
    name: 'demo',
    module: '@shelfsense/demo/cli',
    summary: 'everything on one machine with simulated shelves',
  },
  {
    name: 'config',
    module: '@shelfsense/central/cli',
    summary: 'export the catalogue, or apply a changed one (--dry-run shows the diff)',
  },
  {
    name: 'cluster',
    module: '@shelfsense/central/cli',
    summary: 'the users and permissions of a NATS cluster (nats-auth)',
  },
  { name: 'users', module: '@shelfsense/broker/cli', summary: 'add, list, remove users and set passwords' },
  { name: 'bench', module: '@shelfsense/bench/cli', summary: 'run the benchmarks' },
];

export function topLevelHelp(): string {
  const width = Math.max(...SUBCOMMANDS.map((s) => s.name.length));
  return [
    'Usage: shelfsense <command> [options]',
    '',
    'Commands:',
    ...SUBCOMMANDS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`),
    '',
    ...GROUP_OPTIONS_HELP,
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
  if (isVersionFlag(name)) {
    process.stdout.write(`${shelfsenseVersion()}\n`);
    return 0;
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
  // A command made of actions (`users add`, `config apply`) answers --version before its action
  // too; each action's own flags parser answers it after.
  if (isVersionFlag(rest[0]) && rest.length === 1) {
    process.stdout.write(`${shelfsenseVersion()}\n`);
    return 0;
  }
  return cmd.run(rest);
}
