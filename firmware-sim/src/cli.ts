/**
 * `shelfsense sim`: simulated shelf firmware on pseudo-terminals, serial devices or TCP ports.
 * Everything it serves is printed on stdout, one JSON object per line, so scripts and tests can
 * read the paths, ports and control URL; logs go to stderr.
 */

import { existsSync } from 'node:fs';
import { ErrorCodes, LogLevel, ShelfError } from '@shelfsense/protocol';
import { type CommandSpec, numberFlag, runCommand, type Subcommand } from '@shelfsense/protocol/cli';
import { z } from 'zod';
import { Dur } from './actions.js';
import { BUILTIN_NAMES, BUILTINS } from './builtins.js';
import { isSimError } from './errors.js';
import { McuRunner } from './mcu.js';
import { type ShelfOptions, type Simulator, type SimulatorOptions, startSimulator } from './simulator.js';
import { TEMPERATURE_PRESETS } from './spec.js';

const flagsSchema = z.strictObject({
  scenario: z.string().min(1).optional(),
  seed: z.optional(
    numberFlag(
      z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1),
    ),
  ),
  shelves: z.optional(numberFlag(z.number().int().min(1).max(64))),
  serial: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, _ and -, 1–32 characters'))
    .optional(),
  lanes: z.optional(numberFlag(z.number().int().min(1).max(8))),
  rate: z.enum(['10', '80'], { error: '10 or 80' }).transform(Number).optional(),
  speed: z.optional(numberFlag(z.number().positive().max(1_000_000))),
  virtual: z.boolean().optional(),
  tcp: z.optional(numberFlag(z.number().int().min(0).max(65_535))),
  host: z.string().min(1).optional(),
  device: z.array(z.string().min(1)).optional(),
  'pty-dir': z.string().min(1).optional(),
  'control-port': z.optional(numberFlag(z.number().int().min(0).max(65_535))),
  truth: z.string().min(1).optional(),
  duration: z
    .string()
    .transform((s) => (/^\d+$/.test(s) ? Number(s) : s))
    .pipe(Dur)
    .optional(),
  'log-level': z.optional(LogLevel),
  'list-scenarios': z.boolean().optional(),
  mcu: z.string().min(1).optional(),
  'mcu-type': z.enum(['atmega2560', 'atmega328p'], { error: 'atmega2560 or atmega328p' }).optional(),
  temperature: z.enum(['indoor', 'seasons', 'off'], { error: 'indoor, seasons or off' }).optional(),
  'temperature-sensor': z.enum(['on', 'off'], { error: 'on or off' }).optional(),
  'world-start': z
    .string()
    .transform((s) => (/^\d+$/.test(s) ? Number(s) : s))
    .pipe(Dur)
    .optional(),
});

export const simSpec: CommandSpec<typeof flagsSchema> = {
  name: 'sim',
  usage: '[options]',
  description: [
    'Simulated load-cell shelf firmware speaking the Shelfsense serial protocol. Each shelf gets a',
    'pseudo-terminal (the agent opens the printed path), a serial device (--device) or a TCP port (--tcp).',
    'Prints one JSON line per shelf, the control API URL, then {"type":"ready"}; runs until SIGINT/SIGTERM',
    'or --duration of device time. With --mcu, each shelf runs the real firmware in simavr (build it',
    'with make -C firmware mega and make -C firmware/sim). Built-in scenarios: ' +
      BUILTIN_NAMES.join(', ') +
      '.',
  ].join('\n'),
  flags: {
    scenario: {
      type: 'string',
      value: 'NAME|FILE',
      description: 'built-in scenario or YAML/JSON file (default idle)',
    },
    seed: { type: 'string', value: 'N', description: 'seed of every random stream (default 1)' },
    shelves: {
      type: 'string',
      value: 'N',
      description: 'number of shelves (default: the scenario’s, else 1)',
    },
    serial: {
      type: 'string',
      multiple: true,
      value: 'S',
      description: 'serial number of the next shelf (repeatable)',
    },
    lanes: { type: 'string', value: 'N', description: 'lanes per generated shelf, 1–8 (default 4)' },
    rate: { type: 'string', value: '10|80', description: 'initial sample rate, samples/s (default 80)' },
    speed: {
      type: 'string',
      value: 'X',
      description: 'scenario events X times faster; the sample rate stays real',
    },
    virtual: { type: 'boolean', description: 'virtual time: frames as fast as the reader takes them' },
    tcp: {
      type: 'string',
      value: 'PORT',
      description: 'serve shelves over TCP from PORT up (0: a free port each)',
    },
    host: { type: 'string', value: 'ADDR', description: 'TCP bind address (default 127.0.0.1)' },
    device: {
      type: 'string',
      multiple: true,
      value: 'PATH',
      description: 'open this serial device for the next shelf',
    },
    'pty-dir': {
      type: 'string',
      value: 'DIR',
      description: 'where to make pty links (default: a temp directory)',
    },
    'control-port': {
      type: 'string',
      value: 'PORT',
      description: 'control API port on 127.0.0.1 (default 0: free)',
    },
    truth: { type: 'string', value: 'FILE', description: 'write the ground truth as JSON lines' },
    duration: { type: 'string', value: 'D', description: 'stop after this much device time (e.g. 90s, 1d)' },
    'log-level': {
      type: 'string',
      value: 'LEVEL',
      description: 'fatal|error|warn|info|debug|trace|silent (default warn)',
    },
    'list-scenarios': { type: 'boolean', description: 'list the built-in scenarios and exit' },
    mcu: {
      type: 'string',
      value: 'ELF',
      description: 'run this shelf firmware (AVR ELF) in simavr instead of the simulator’s own',
    },
    'mcu-type': {
      type: 'string',
      value: 'CHIP',
      description: 'atmega2560|atmega328p (default: from the ELF)',
    },
    temperature: {
      type: 'string',
      value: 'PRESET',
      description:
        'shelf temperature model: indoor (21 °C ±1.5 daily, ±2 yearly), seasons (15 °C ±3 daily, ±15 yearly) or off; the cells’ zero and span follow it',
    },
    'temperature-sensor': {
      type: 'string',
      value: 'on|off',
      description: 'send the temperature in the frames (protocol v1.1; default on with --temperature)',
    },
    'world-start': {
      type: 'string',
      value: 'D',
      description: 'time of year at boot, after midnight of the coldest day (e.g. 182d: midsummer)',
    },
  },
  schema: flagsSchema,
  examples: [
    'shelfsense sim                                  # one shelf on a pty, idle',
    'shelfsense sim --shelves 4 --scenario steady --seed 7',
    'shelfsense sim --tcp 0 --virtual --duration 1d --truth truth.jsonl',
    'shelfsense sim --scenario faults --speed 10',
    'shelfsense sim --device /dev/ttyUSB0 --serial SHELF-0001',
    'shelfsense sim --mcu firmware/build/mega/shelfsense.elf --lanes 8 --scenario steady',
    'shelfsense sim --temperature seasons --world-start 182d --scenario steady',
  ],
};

type Flags = z.output<typeof flagsSchema>;

function usage(flag: string, message: string): ShelfError {
  return new ShelfError(ErrorCodes.USAGE, `--${flag}: ${message}`, [{ path: `--${flag}`, message }]);
}

function shelfOptions(flags: Flags): ShelfOptions[] | number | undefined {
  const devices = flags.device ?? [];
  if (devices.length === 0) return flags.shelves;
  if (flags.tcp !== undefined) throw usage('device', 'cannot be combined with --tcp');
  for (const path of devices) if (!existsSync(path)) throw usage('device', `${path} does not exist`);
  if (flags.shelves !== undefined && flags.shelves !== devices.length) {
    throw usage('device', `${devices.length} devices given for ${flags.shelves} shelves; give one per shelf`);
  }
  return devices.map((path) => ({ path }));
}

/** The temperature flags as simulator options; the sensor and world start need the model. */
export function temperatureFlags(flags: Flags): Pick<SimulatorOptions, 'temperature' | 'temperatureSensor'> {
  const preset = flags.temperature;
  const on = preset !== undefined && preset !== 'off';
  if (!on && flags['temperature-sensor'] !== undefined) {
    throw usage('temperature-sensor', 'needs --temperature indoor or seasons');
  }
  if (!on && flags['world-start'] !== undefined) {
    throw usage('world-start', 'needs --temperature indoor or seasons');
  }
  if (preset === undefined) return {};
  if (preset === 'off') return { temperature: false };
  return {
    temperature: {
      ...TEMPERATURE_PRESETS[preset],
      ...(flags['world-start'] !== undefined ? { startMs: flags['world-start'] } : {}),
    },
    ...(flags['temperature-sensor'] !== undefined
      ? { temperatureSensor: flags['temperature-sensor'] === 'on' }
      : {}),
  };
}

function print(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function runSim(flags: Flags): Promise<number> {
  if (flags['list-scenarios']) {
    for (const [name, b] of Object.entries(BUILTINS))
      print({ type: 'scenario', name, description: b.description });
    return 0;
  }
  let sim: Simulator;
  try {
    sim = await startSimulator({
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      ...(flags.scenario !== undefined ? { scenario: flags.scenario } : {}),
      ...(flags.serial ? { serials: flags.serial } : {}),
      ...(flags.lanes !== undefined ? { lanes: flags.lanes } : {}),
      ...(flags.rate !== undefined ? { rate: flags.rate as 10 | 80 } : {}),
      ...(flags.speed !== undefined ? { speed: flags.speed } : {}),
      ...(flags.tcp !== undefined ? { transport: 'tcp' as const, tcpPort: flags.tcp } : {}),
      ...(flags.host !== undefined ? { tcpHost: flags.host } : {}),
      ...(flags['pty-dir'] !== undefined ? { ptyDir: flags['pty-dir'] } : {}),
      ...(flags.truth !== undefined ? { truthFile: flags.truth } : {}),
      ...(flags.duration !== undefined ? { durationMs: flags.duration } : {}),
      ...(flags.mcu !== undefined
        ? { mcu: { elf: flags.mcu, ...(flags['mcu-type'] ? { mcu: flags['mcu-type'] } : {}) } }
        : {}),
      ...temperatureFlags(flags),
      shelves: shelfOptions(flags),
      virtual: flags.virtual ?? false,
      control: { port: flags['control-port'] ?? 0 },
      logLevel: flags['log-level'] ?? 'warn',
    });
  } catch (err) {
    // A missing socat, a busy port or an absent device is not a usage error: say so plainly.
    if (isSimError(err)) {
      process.stderr.write(`shelfsense sim: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  announce(sim);
  const how = await new Promise<'signal' | 'done'>((resolve) => {
    const onSignal = () => resolve('signal');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    sim.finished.then(() => resolve('done'));
  });
  const failed = sim.shelves.flatMap((s) =>
    s.runner instanceof McuRunner && s.runner.error ? [s.runner.error] : [],
  );
  if (failed.length > 0) {
    for (const err of failed) process.stderr.write(`shelfsense sim: ${err.message}\n`);
    await sim.stop();
    return 1;
  }
  if (how === 'done') {
    await Promise.all(sim.shelves.map((s) => s.transport?.flush()));
    print({
      type: 'done',
      shelves: sim.shelves.map((s) => ({ serial: s.serial, ...s.engine.stats, overruns: s.runner.overruns })),
    });
  }
  await sim.stop();
  return 0;
}

function announce(sim: Simulator): void {
  for (const s of sim.shelves) {
    print({
      type: 'shelf',
      serial: s.serial,
      index: s.index,
      firmware: s.runner instanceof McuRunner ? s.runner.elf : s.firmware,
      channels: s.channels,
      lanes: s.lanes,
      ...(s.path !== undefined ? { path: s.path } : {}),
      ...(s.tcpPort !== undefined ? { host: s.host, port: s.tcpPort } : {}),
    });
  }
  if (sim.controlUrl) print({ type: 'control', url: sim.controlUrl });
  print({ type: 'ready', seed: sim.seed, virtual: sim.virtual, shelves: sim.shelves.length });
}

export const commands: Record<string, Subcommand> = {
  sim: {
    name: 'sim',
    summary: 'run simulated shelf firmware',
    run: (argv) =>
      runCommand(simSpec, argv, async (flags, positionals) => {
        if (positionals.length > 0) {
          throw new ShelfError(
            ErrorCodes.USAGE,
            `unexpected argument "${positionals[0]}" (options start with --)`,
          );
        }
        return runSim(flags);
      }),
  },
};
