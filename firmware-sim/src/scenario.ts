/**
 * Scenario files (YAML or JSON): the shelves to simulate and the actions to play, scheduled in
 * scenario time (device time × speed). An event is an action (see actions.ts) plus its timing:
 *
 *   - { at: 10s, action: remove, lane: 0, count: 2 }
 *   - { at: 5s, every: 30s, jitter: 0.5, action: remove, lane: any, count: [1, 2] }
 */
import { SERIAL_NUMBER_PATTERN } from '@shelfsense/protocol';
import { z } from 'zod';
import { Action, Dur } from './actions.js';
import type { Rng } from './rng.js';
import { ModelParams, ShelfSpec } from './spec.js';

export const EventTiming = z.strictObject({
  /** First firing, scenario milliseconds (or a duration like `90s`) from the first frame. */
  at: Dur.default(0),
  /** Only on this shelf (serial number or index); every shelf when left out. */
  shelf: z
    .union([z.string().regex(SERIAL_NUMBER_PATTERN, 'a serial number'), z.number().int().min(0)])
    .optional(),
  /** Repeat with this period. */
  every: Dur.refine((v) => v > 0, 'more than 0 ms').optional(),
  /** Spread each period by ± this fraction, drawn from the scenario's seeded stream. */
  jitter: z.number().min(0).max(1).default(0),
  /** How many times in all (default: forever when `every` is set, else once). */
  times: z.number().int().min(1).optional(),
  /** No repeats after this scenario time. */
  until: Dur.optional(),
});
const TIMING_KEYS = ['at', 'shelf', 'every', 'jitter', 'times', 'until'] as const;

export type ScenarioEvent = z.output<typeof EventTiming> & { action: Action };

/** An event written flat — timing and action side by side — validated as the two schemas. */
export const ScenarioEvent = z.unknown().transform((value, ctx): ScenarioEvent => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'an event object such as {at: 10s, action: remove, lane: 0}' });
    return z.NEVER;
  }
  const timing: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if ((TIMING_KEYS as readonly string[]).includes(k)) timing[k] = v;
    else rest[k] = v;
  }
  const t = EventTiming.safeParse(timing);
  const a = Action.safeParse(rest);
  for (const issue of [...(t.error?.issues ?? []), ...(a.error?.issues ?? [])]) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  }
  if (!t.success || !a.success) return z.NEVER;
  return { ...t.data, action: a.data };
});

export const ScenarioFile = z.strictObject({
  name: z.string().max(64).optional(),
  description: z.string().max(2000).optional(),
  /** Built-in scenarios whose events come first (see builtins.ts). */
  extends: z.union([z.string(), z.array(z.string())]).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  rate: z.union([z.literal(10), z.literal(80)]).optional(),
  /** Model parameters for every shelf (each shelf's own `model` wins). */
  model: ModelParams.optional(),
  shelves: z.array(ShelfSpec).min(1).max(64).optional(),
  events: z.array(ScenarioEvent).default([]),
});
export type ScenarioFile = z.output<typeof ScenarioFile>;
export type ScenarioFileInput = z.input<typeof ScenarioFile>;

interface Pending {
  atMs: number;
  order: number;
  fired: number;
  event: ScenarioEvent;
}

/**
 * One shelf's queue of scenario events, ordered by time (then by file order). Repeating events are
 * put back after they fire.
 */
export class Scheduler {
  private readonly queue: Pending[] = [];
  private order = 0;

  constructor(
    events: readonly ScenarioEvent[],
    private readonly rng: Rng,
  ) {
    for (const e of events) this.insert({ atMs: e.at, order: this.order++, fired: 0, event: e });
  }

  /** Scenario time of the next due event; Infinity when none is left. */
  get nextAtMs(): number {
    return this.queue[0]?.atMs ?? Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.queue.length;
  }

  /** Adds a one-off action at scenario time `atMs` (used by restock and timed leans). */
  schedule(atMs: number, action: Action): void {
    this.insert({ atMs, order: this.order++, fired: 0, event: { at: atMs, jitter: 0, times: 1, action } });
  }

  /** Removes and returns the next action due at or before `nowMs`, re-queueing repeats. */
  take(nowMs: number): Action | undefined {
    const head = this.queue[0];
    if (!head || head.atMs > nowMs) return undefined;
    this.queue.shift();
    head.fired++;
    const e = head.event;
    const times = e.times ?? (e.every ? Number.POSITIVE_INFINITY : 1);
    if (e.every && head.fired < times) {
      const spread = e.jitter > 0 ? 1 + e.jitter * (2 * this.rng.next() - 1) : 1;
      const next = head.atMs + Math.max(1, e.every * spread);
      if (e.until === undefined || next <= e.until) {
        this.insert({ ...head, atMs: next, order: this.order++ });
      }
    }
    return e.action;
  }

  private insert(p: Pending): void {
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const q = this.queue[mid] as Pending;
      if (q.atMs < p.atMs || (q.atMs === p.atMs && q.order < p.order)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, p);
  }
}

/** The events that concern shelf `index` with serial `serial`. */
export function eventsForShelf(
  events: readonly ScenarioEvent[],
  index: number,
  serial: string,
): ScenarioEvent[] {
  return events.filter((e) => e.shelf === undefined || e.shelf === index || e.shelf === serial);
}
