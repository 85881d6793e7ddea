/**
 * Built-in scenarios, selectable by name (`--scenario lean`), and the loader that turns a name, a
 * YAML/JSON file or an object into a validated scenario. Each built-in is an ordinary scenario
 * document, so any of them can be copied into a file and edited.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ErrorCodes, type Issue, parseWith, ShelfError } from '@shelfsense/protocol';
import { parse as parseYaml } from 'yaml';
import { type ScenarioEvent, ScenarioFile, type ScenarioFileInput } from './scenario.js';

export interface Builtin {
  description: string;
  scenario: ScenarioFileInput;
}

const steadyPicking = { at: '5s', every: '20s', jitter: 0.8, action: 'remove', lane: 'any', count: [1, 2] };
const faultEvents = [
  { at: '2s', every: '7s', jitter: 0.5, action: 'garbage', bytes: [8, 40] },
  { at: '1s', every: '5s', jitter: 0.5, action: 'corrupt', lines: 1 },
  { at: '3s', every: '6s', jitter: 0.5, action: 'drop', lines: [1, 3] },
  { at: '30s', every: '180s', action: 'unplug', channel: 0 },
  { at: '60s', every: '180s', action: 'replug', channel: 0 },
  { at: '100s', every: '180s', action: 'vanish', ms: '2s' },
];

export const BUILTINS: Readonly<Record<string, Builtin>> = {
  idle: {
    description: 'nothing moves: a steady load with noise, drift, creep and rare HX711 junk',
    scenario: {},
  },
  steady: {
    description: 'steady picking: every ~20 s one or two items leave a random lane',
    scenario: { events: [steadyPicking] },
  },
  restock: {
    description:
      'brisk picking for a minute, then a delivery fills every lane to capacity one item at a time (0.6 s apart), then steady picking',
    scenario: {
      events: [
        { at: '2s', every: '3s', until: '58s', action: 'remove', lane: 'any', count: [1, 3] },
        { at: '60s', action: 'restock', lane: 'all', itemMs: 600 },
        { ...steadyPicking, at: '150s' },
      ],
    },
  },
  lean: {
    description:
      'a hand leans on a random lane every ~30 s for 2–6 s with a wobbling force of 150–900 g (no whole number of items)',
    scenario: {
      events: [
        {
          at: '10s',
          every: '30s',
          jitter: 0.3,
          action: 'lean',
          lane: 'any',
          grams: [150, 900],
          ms: [2000, 6000],
        },
      ],
    },
  },
  move: {
    description: 'every ~60 s an item is taken from one lane and put down on another',
    scenario: {
      events: [{ at: '15s', every: '60s', jitter: 0.3, action: 'move', from: 'any', to: 'any', count: 1 }],
    },
  },
  unplug: {
    description:
      'the cell on channel 0 is unplugged at 20 s (reads 8388607) and plugged back at 80 s; every 120 s',
    scenario: {
      events: [
        { at: '20s', every: '120s', action: 'unplug', channel: 0 },
        { at: '80s', every: '120s', action: 'replug', channel: 0 },
      ],
    },
  },
  garbage: {
    description: 'a burst of 8–40 random bytes (a line of junk) every ~5 s',
    scenario: { events: [{ at: '2s', every: '5s', jitter: 0.5, action: 'garbage', bytes: [8, 40] }] },
  },
  corrupt: {
    description: 'every ~3 s one line has a digit altered after its CRC was computed',
    scenario: { events: [{ at: '1s', every: '3s', jitter: 0.5, action: 'corrupt', lines: 1 }] },
  },
  drop: {
    description: 'every ~4 s one to three frames are never sent (the sequence number jumps)',
    scenario: { events: [{ at: '1s', every: '4s', jitter: 0.5, action: 'drop', lines: [1, 3] }] },
  },
  vanish: {
    description: 'the port disappears for 2 s at 15 s and every 60 s after',
    scenario: { events: [{ at: '15s', every: '60s', action: 'vanish', ms: '2s' }] },
  },
  faults: {
    description:
      'every fault together: garbage, corrupted and dropped lines, an unplugged cell, a vanishing port',
    scenario: { events: faultEvents },
  },
  demo: {
    description:
      'a day in the shop: steady picking, now and then a hand on the shelf or an item put back on the wrong lane',
    scenario: {
      events: [
        { ...steadyPicking, every: '30s' },
        {
          at: '45s',
          every: '5m',
          jitter: 0.5,
          action: 'lean',
          lane: 'any',
          grams: [150, 600],
          ms: [2000, 5000],
        },
        { at: '3m', every: '15m', jitter: 0.5, action: 'move', from: 'any', to: 'any', count: 1 },
      ],
    },
  },
};

export const BUILTIN_NAMES = Object.keys(BUILTINS);

/**
 * A scenario from a built-in name, a YAML/JSON file path, or an object. `extends` pulls in the
 * events of built-ins before the scenario's own. Throws ShelfError (SHELF_ERR_INVALID naming the
 * field, or SHELF_ERR_FILE) on anything wrong.
 */
export function loadScenario(ref: string | ScenarioFileInput): ScenarioFile {
  if (typeof ref !== 'string') return resolveExtends(parseWith(ScenarioFile, ref, 'scenario'), 'scenario');
  const builtin = BUILTINS[ref];
  if (builtin) return parseWith(ScenarioFile, builtin.scenario, `built-in scenario ${ref}`);
  if (!existsSync(ref)) {
    throw new ShelfError(
      ErrorCodes.FILE,
      `scenario "${ref}" is neither a built-in (${BUILTIN_NAMES.join(', ')}) nor a file`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(ref, 'utf8'));
  } catch (err) {
    throw new ShelfError(
      ErrorCodes.FILE,
      `scenario file ${ref} is not valid YAML or JSON: ${(err as Error).message}`,
    );
  }
  const what = `scenario file ${ref}`;
  return resolveExtends(parseWith(ScenarioFile, doc ?? {}, what), what);
}

function resolveExtends(s: ScenarioFile, what: string): ScenarioFile {
  if (s.extends === undefined) return s;
  const names = typeof s.extends === 'string' ? [s.extends] : s.extends;
  const events: ScenarioEvent[] = [];
  const issues: Issue[] = [];
  names.forEach((name, i) => {
    const b = BUILTINS[name];
    const path = typeof s.extends === 'string' ? 'extends' : `extends.${i}`;
    if (!b) issues.push({ path, message: `no built-in scenario "${name}" (${BUILTIN_NAMES.join(', ')})` });
    else events.push(...parseWith(ScenarioFile, b.scenario, `built-in scenario ${name}`).events);
  });
  if (issues.length > 0) {
    throw new ShelfError(
      ErrorCodes.INVALID,
      `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return { ...s, extends: undefined, events: [...events, ...s.events] };
}
