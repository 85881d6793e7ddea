/**
 * Everything that can happen to a shelf, as one zod schema: scenario files schedule these actions in
 * device time, and the control API applies them at once. One schema, so a scenario step and an HTTP
 * body are written the same way.
 */
import { Duration, type Issue, MAX_CHANNELS } from '@shelfsense/protocol';
import { z } from 'zod';

const Index = z
  .number()
  .int()
  .min(0)
  .max(MAX_CHANNELS - 1);
/** A lane index, or `any` for one chosen at random (from the scenario's seeded stream). */
export const LaneRef = z.union([Index, z.literal('any')], { error: 'a lane index 0–7 or "any"' });
const LaneOrAll = z.union([Index, z.literal('all')], { error: 'a lane index 0–7 or "all"' });

/** A duration: milliseconds, or text such as `250ms`, `5s`, `2m`, `1h`, `1d`. */
export const Dur = z.union(Duration.def.options, {
  error: 'a duration: milliseconds, or text such as 250ms, 5s, 2m, 1h or 1d',
});

/** A whole number, or `[min, max]` for one drawn at random, both inclusive. */
const IntRange = (min: number, max: number) =>
  z.union(
    [
      z.number().int().min(min).max(max),
      z
        .tuple([z.number().int().min(min).max(max), z.number().int().min(min).max(max)])
        .refine(([a, b]) => a <= b, 'a range [min, max] with min ≤ max'),
    ],
    { error: `a whole number ${min}–${max} or a range [min, max]` },
  );
const NumRange = z.union(
  [
    z.number().finite(),
    z.tuple([z.number().finite(), z.number().finite()]).refine(([a, b]) => a <= b, 'a range [min, max]'),
  ],
  { error: 'a number or a range [min, max]' },
);
const DurationRange = z.union([Dur, z.tuple([Dur, Dur])], { error: 'a duration or a range [min, max]' });

const Items = IntRange(1, 100_000);

export const Action = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('remove'), lane: LaneRef, count: Items.default(1) }),
  z.strictObject({ action: z.literal('add'), lane: LaneRef, count: Items.default(1) }),
  z.strictObject({ action: z.literal('set'), lane: Index, count: z.number().int().min(0).max(100_000) }),
  z.strictObject({ action: z.literal('move'), from: LaneRef, to: LaneRef, count: Items.default(1) }),
  z.strictObject({ action: z.literal('place'), lane: Index, grams: z.number().positive().max(100_000) }),
  // Items of lane `from` put down on lane `to` (taken earlier, put back in the wrong place): extra
  // mass on `to`, nothing taken from `from`.
  z.strictObject({ action: z.literal('misplace'), from: Index, to: Index, count: Items.default(1) }),
  // The lane's items swapped for another product without telling the agent: emptied at once, then
  // `items` of `unitWeightG` put in one at a time, `itemMs` apart.
  z.strictObject({
    action: z.literal('sku-change'),
    lane: Index,
    unitWeightG: z.number().positive().max(100_000),
    items: z.number().int().min(0).max(100_000),
    itemMs: Dur.default(600),
  }),
  z.strictObject({ action: z.literal('lift'), lane: Index, grams: z.number().positive().optional() }),
  z.strictObject({ action: z.literal('lean'), lane: LaneRef, grams: NumRange, ms: DurationRange.optional() }),
  z.strictObject({ action: z.literal('release'), lane: LaneOrAll.default('all') }),
  z.strictObject({
    action: z.literal('restock'),
    lane: LaneOrAll.default('all'),
    to: z.number().int().min(0).max(100_000).optional(),
    itemMs: Dur.default(600),
  }),
  z.strictObject({ action: z.literal('unplug'), channel: Index }),
  z.strictObject({ action: z.literal('replug'), channel: Index }),
  z
    .strictObject({
      action: z.literal('cell'),
      channel: Index,
      offset: z.number().int().min(-8_388_608).max(8_388_607).optional(),
      scale: z.number().finite().optional(),
      trayG: z.number().min(0).max(100_000).optional(),
    })
    .refine((a) => a.offset !== undefined || a.scale !== undefined || a.trayG !== undefined, {
      message: 'give offset, scale or trayG',
      path: ['offset'],
    }),
  z.strictObject({ action: z.literal('garbage'), bytes: IntRange(1, 150).default([8, 40]) }),
  z.strictObject({ action: z.literal('corrupt'), lines: IntRange(1, 10_000).default(1) }),
  z.strictObject({ action: z.literal('drop'), lines: IntRange(1, 100_000).default(1) }),
  z.strictObject({ action: z.literal('vanish'), ms: Dur.refine((v) => v > 0, 'more than 0 ms') }),
]);
export type Action = z.output<typeof Action>;
export type ActionInput = z.input<typeof Action>;
export type ActionName = Action['action'];

export const ACTION_NAMES: readonly ActionName[] = Action.options.map((o) => o.shape.action.value);

/** Checks an action's lane and channel numbers against a shelf; one issue per bad field. */
export function checkAction(action: Action, lanes: number, channels: number): Issue[] {
  const issues: Issue[] = [];
  const lane = (field: string, v: unknown) => {
    if (typeof v === 'number' && v >= lanes) {
      issues.push({ path: field, message: `no lane ${v} on this shelf (it has ${lanes})` });
    }
  };
  if ('lane' in action) lane('lane', action.lane);
  if (action.action === 'move' || action.action === 'misplace') {
    lane('from', action.from);
    lane('to', action.to);
    if (typeof action.from === 'number' && action.from === action.to) {
      issues.push({ path: 'to', message: 'must differ from "from"' });
    }
  }
  if ('channel' in action && action.channel >= channels) {
    issues.push({
      path: 'channel',
      message: `no channel ${action.channel} on this shelf (it has ${channels})`,
    });
  }
  return issues;
}
