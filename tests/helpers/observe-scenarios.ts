/**
 * Scenarios of what can be on a shelf besides its items — a foreign object, a misplaced item, a
 * hand, a lean, a SKU swapped under a configured unit weight, a lane with no trusted unit weight, a
 * cell unplugged while items are taken — each with the observations and counts the simulator's ground
 * truth implies. `runScenario` plays one through a ShelfEngine (the simulator's firmware model) into
 * a ShelfPipeline, in process, and scores it: every pick/restock event against the truth's items,
 * every observation against the scenario's expectation.
 */
import { ShelfPipeline, type ShelfPipelineOptions } from '@shelfsense/agent';
import {
  Action,
  type ActionInput,
  GroundTruth,
  resolveShelves,
  ShelfEngine,
  ShelfSpec,
} from '@shelfsense/firmware-sim';
import type { LaneSetting } from '@shelfsense/protocol';

export type LaneObservation = Parameters<NonNullable<ShelfPipelineOptions['onObservation']>>[0];

export interface ScenarioLane {
  unitWeightG: number;
  items: number;
  capacity?: number;
  /** Null: no SKU, so no trusted unit weight. */
  sku?: string | null;
  /** The unit weight the agent is told (default: the true one). */
  configuredG?: number;
}

export interface ExpectedObservation {
  kind: LaneObservation['kind'];
  lane: number;
  /** Cleared by the end (default true); false: still open at the end. */
  cleared?: boolean;
  otherLane?: number;
  cause?: 'cell';
  /** foreign-object: the whole items it weighs like. */
  items?: number;
  /** unit-weight: the unit weight the proposal must be within 1 % of, and its `wrong` flag. */
  unitWeightG?: number;
  wrong?: boolean;
}

export interface ObserveScenario {
  name: string;
  lanes: ScenarioLane[];
  /** Actions at device ms from the start (the pipeline has settled by 3 s). */
  steps: { at: number; action: ActionInput }[];
  /** Device ms to run. */
  durationMs: number;
  expected: ExpectedObservation[];
  /** At this device ms the technician accepts the lane's unit-weight proposal (new lane settings). */
  acceptAt?: { at: number; lane: number };
}

/** Three lanes, one cell each: 125 g, 42 g and 73 g items (none a whole count of another's). */
const SHELF: ScenarioLane[] = [
  { unitWeightG: 125, items: 12, capacity: 20 },
  { unitWeightG: 42, items: 20, capacity: 40 },
  { unitWeightG: 73, items: 10, capacity: 20 },
];

export const SCENARIOS: ObserveScenario[] = [
  {
    name: 'foreign object put down, items picked around it, lifted off',
    lanes: SHELF,
    steps: [
      { at: 3_000, action: { action: 'place', lane: 0, grams: 30.5 } },
      { at: 9_000, action: { action: 'remove', lane: 0, count: 2 } },
      { at: 13_000, action: { action: 'lift', lane: 0 } },
    ],
    durationMs: 17_000,
    expected: [{ kind: 'foreign-object', lane: 0 }],
  },
  {
    name: 'an item of lane 2 put back on lane 0, a pick meanwhile, then taken away',
    lanes: SHELF,
    steps: [
      { at: 3_000, action: { action: 'misplace', from: 2, to: 0 } },
      { at: 6_000, action: { action: 'remove', lane: 0, count: 1 } },
      { at: 10_000, action: { action: 'lift', lane: 0 } },
    ],
    durationMs: 14_000,
    expected: [{ kind: 'misplaced-item', lane: 0, otherLane: 2 }],
  },
  {
    name: 'a hand rests briefly, then a long wobbling lean',
    lanes: SHELF,
    steps: [
      { at: 3_000, action: { action: 'lean', lane: 1, grams: 60, ms: 700 } },
      { at: 7_000, action: { action: 'lean', lane: 2, grams: 90, ms: 6_000 } },
      { at: 15_000, action: { action: 'remove', lane: 2, count: 1 } },
    ],
    durationMs: 19_000,
    expected: [
      { kind: 'hand', lane: 1 },
      { kind: 'lean', lane: 2 },
    ],
  },
  {
    name: 'the SKU of lane 1 is swapped for 57 g items; the proposal is accepted',
    lanes: SHELF,
    steps: [
      { at: 3_000, action: { action: 'remove', lane: 1, count: 2 } },
      { at: 6_000, action: { action: 'sku-change', lane: 1, unitWeightG: 57, items: 6, itemMs: 1_500 } },
    ],
    durationMs: 22_000,
    acceptAt: { at: 18_000, lane: 1 },
    expected: [{ kind: 'unit-weight', lane: 1, unitWeightG: 57, wrong: true }],
  },
  {
    name: 'a lane without a SKU at a default 100 g learns its 42 g items from picks',
    lanes: [
      SHELF[0] as ScenarioLane,
      { unitWeightG: 42, items: 20, capacity: 40, sku: null, configuredG: 100 },
    ],
    steps: [
      { at: 3_000, action: { action: 'remove', lane: 1, count: 1 } },
      { at: 5_000, action: { action: 'remove', lane: 1, count: 2 } },
      { at: 7_000, action: { action: 'remove', lane: 1, count: 1 } },
      { at: 9_000, action: { action: 'remove', lane: 1, count: 3 } },
    ],
    durationMs: 16_000,
    acceptAt: { at: 12_000, lane: 1 },
    expected: [{ kind: 'unit-weight', lane: 1, unitWeightG: 42, wrong: false }],
  },
  {
    name: 'after some picks and restocks, a mass of two items and 8 g is put down and lifted off',
    lanes: SHELF,
    steps: [
      { at: 3_000, action: { action: 'remove', lane: 0, count: 1 } },
      { at: 4_500, action: { action: 'remove', lane: 0, count: 2 } },
      { at: 6_000, action: { action: 'add', lane: 0, count: 1 } },
      { at: 7_500, action: { action: 'remove', lane: 0, count: 1 } },
      { at: 9_000, action: { action: 'add', lane: 0, count: 3 } },
      { at: 10_500, action: { action: 'place', lane: 0, grams: 258 } },
      { at: 16_000, action: { action: 'remove', lane: 0, count: 1 } },
      { at: 19_000, action: { action: 'lift', lane: 0 } },
    ],
    durationMs: 23_000,
    expected: [{ kind: 'foreign-object', lane: 0, items: 2 }],
  },
  {
    name: 'a quick restock, one item every 0.6 s: counted, and neither a lean nor a hand',
    lanes: SHELF,
    steps: [
      { at: 3_000, action: { action: 'remove', lane: 1, count: 3 } },
      { at: 5_000, action: { action: 'restock', lane: 1, to: 30, itemMs: 600 } },
    ],
    durationMs: 16_000,
    expected: [],
  },
  {
    name: 'a cell unplugged, two items taken meanwhile, plugged back',
    lanes: SHELF,
    steps: [
      { at: 3_000, action: { action: 'unplug', channel: 2 } },
      { at: 4_000, action: { action: 'remove', lane: 2, count: 2 } },
      { at: 5_000, action: { action: 'replug', channel: 2 } },
      { at: 9_000, action: { action: 'remove', lane: 2, count: 1 } },
    ],
    durationMs: 13_000,
    expected: [{ kind: 'tamper', lane: 2, cause: 'cell' }],
  },
];

export function laneName(i: number): string {
  return `L${i}`;
}

export function scenarioShelf(sc: ObserveScenario, seed: number) {
  const spec = ShelfSpec.parse({
    serial: 'OBS-1',
    lanes: sc.lanes.map((l, i) => ({
      unitWeightG: l.unitWeightG,
      items: l.items,
      capacity: l.capacity ?? 40,
      channels: [i],
    })),
  });
  const [shelf] = resolveShelves({ seed, count: 1, specs: [spec] });
  if (!shelf) throw new Error('no shelf');
  return shelf;
}

export function laneSettings(sc: ObserveScenario): LaneSetting[] {
  return sc.lanes.map((l, i) => ({
    lane: laneName(i),
    channels: [i],
    sku: l.sku === undefined ? `sku-${i}` : l.sku,
    unitWeightG: l.configuredG ?? l.unitWeightG,
    capacity: l.capacity ?? 40,
  }));
}

export interface ScenarioResult {
  observations: LaneObservation[];
  events: { lane: string; kind: string; delta: number; units: number; frameSeq: number }[];
  truth: GroundTruth;
  serial: string;
  pipeline: ShelfPipeline;
  /** Descriptions of what disagrees with the expectation (empty: all good). */
  problems: string[];
  /** Plays on for `ms` more device time (no further steps). */
  more(ms: number): void;
}

/** Plays a scenario in process (ShelfEngine → ShelfPipeline) and scores it. */
export function runScenario(sc: ObserveScenario, seed: number): ScenarioResult {
  const shelf = scenarioShelf(sc, seed);
  const truth = new GroundTruth();
  const engine = new ShelfEngine({ shelf, hooks: { truth: (r) => truth.add(r) } });
  const observations: LaneObservation[] = [];
  const events: ScenarioResult['events'] = [];
  let settings = laneSettings(sc);
  const pipeline = new ShelfPipeline({
    channels: shelf.channels,
    calibrations: shelf.cells.map((c) => ({
      offset: c.offset + c.trayG * c.scale,
      scale: c.scale,
      points: [],
    })),
    lanes: settings,
    onEvent: (e) => events.push({ ...e }),
    onObservation: (o) => observations.push({ ...o }),
  });
  const steps = [...sc.steps].sort((a, b) => a.at - b.at);
  let next = 0;
  let accepted = false;
  const tickMs = engine.tickUs / 1000;
  const frames = Math.ceil(sc.durationMs / tickMs);
  for (let f = 0; f < frames; f++) {
    const ms = f * tickMs;
    while (next < steps.length && (steps[next] as { at: number }).at <= ms) {
      engine.apply(Action.parse((steps[next] as { action: ActionInput }).action), 'scenario');
      next++;
    }
    if (sc.acceptAt && !accepted && ms >= sc.acceptAt.at) {
      accepted = true;
      const lane = laneName(sc.acceptAt.lane);
      const proposal = [...observations]
        .reverse()
        .find((o) => o.lane === lane && o.kind === 'unit-weight')?.proposal;
      if (proposal) {
        settings = settings.map((s) => (s.lane === lane ? { ...s, unitWeightG: proposal.unitWeightG } : s));
        pipeline.setLanes(settings);
      }
    }
    pipeline.push(engine.tick());
  }
  const problems = score(sc, { observations, events, truth, serial: shelf.serial, pipeline });
  const more = (ms: number) => {
    for (let f = 0; f < Math.ceil(ms / tickMs); f++) pipeline.push(engine.tick());
  };
  return { observations, events, truth, serial: shelf.serial, pipeline, problems, more };
}

/** Every way the run disagrees with the scenario's ground truth and expectations. */
export function score(
  sc: ObserveScenario,
  r: Pick<ScenarioResult, 'observations' | 'events' | 'truth' | 'serial' | 'pipeline'>,
): string[] {
  const problems: string[] = [];
  // No pick or restock whose delta disagrees with what really left or arrived.
  const lastFrame = new Map<string, number>();
  for (const e of r.events) {
    const i = Number(e.lane.slice(1));
    const items = (seq: number) => r.truth.at(r.serial, seq)?.lanes[i]?.items ?? -1;
    if (e.kind !== 'adjust') {
      const before = lastFrame.get(e.lane);
      const truthDelta = before === undefined ? Number.NaN : items(e.frameSeq) - items(before);
      if (truthDelta !== e.delta || items(e.frameSeq) !== e.units) {
        problems.push(
          `${e.kind} ${e.delta} to ${e.units} on ${e.lane} at frame ${e.frameSeq}: truth ${items(e.frameSeq)} (${truthDelta})`,
        );
      }
    }
    lastFrame.set(e.lane, e.frameSeq);
  }
  // Counts at the end match the truth (a held lane keeps its last count: only when none is held).
  const end = r.truth.current(r.serial);
  sc.lanes.forEach((_, i) => {
    const lane = r.pipeline.lane(laneName(i));
    const want = end?.lanes[i]?.items;
    if (lane?.units !== want || lane?.state !== 'ok') {
      problems.push(`${laneName(i)} ends at ${lane?.units} (${lane?.state}), truth ${want}`);
    }
  });
  // Each expected observation opened (and cleared unless said otherwise); nothing else opened.
  const opened = r.observations.filter((o) => o.state === 'open');
  for (const x of sc.expected) {
    const lane = laneName(x.lane);
    const mine = opened.filter((o) => o.kind === x.kind && o.lane === lane);
    if (mine.length === 0) {
      problems.push(`no ${x.kind} on ${lane}`);
      continue;
    }
    const o = mine[mine.length - 1] as LaneObservation;
    if (x.otherLane !== undefined && o.otherLane !== laneName(x.otherLane))
      problems.push(`${x.kind} on ${lane}: otherLane ${o.otherLane}`);
    if (x.cause && o.cause !== x.cause) problems.push(`${x.kind} on ${lane}: cause ${o.cause}`);
    if (x.items !== undefined && Math.round(o.items ?? -1) !== x.items)
      problems.push(`${x.kind} on ${lane}: items ${o.items}`);
    if (x.unitWeightG !== undefined) {
      const p = o.proposal;
      if (!p || Math.abs(p.unitWeightG - x.unitWeightG) > 0.01 * x.unitWeightG || p.wrong !== x.wrong)
        problems.push(
          `unit-weight on ${lane}: ${JSON.stringify(p)}, truth ${x.unitWeightG} g wrong=${x.wrong}`,
        );
    }
    const cleared = r.observations.some((c) => c.state === 'cleared' && c.id === o.id);
    if ((x.cleared ?? true) !== cleared) problems.push(`${x.kind} on ${lane}: cleared ${cleared}`);
  }
  for (const o of opened) {
    const expected = sc.expected.some((x) => x.kind === o.kind && laneName(x.lane) === o.lane);
    // Objects put down by a scenario step may first be taken for a hand or an object while the
    // steps of a swapped SKU are too few to tell: those are retracted (cleared) once they are.
    const retracted = r.observations.some((c) => c.state === 'cleared' && c.id === o.id);
    if (
      !expected &&
      !(retracted && o.kind === 'foreign-object' && sc.expected.some((x) => x.kind === 'unit-weight'))
    )
      problems.push(`unexpected ${o.kind} on ${o.lane} (${o.grams} g, ${o.detail})`);
  }
  return problems;
}
