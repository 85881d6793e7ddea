/**
 * The technician wizards — tare, calibrate with a known mass, learn a unit weight from N items —
 * as data: what to do at each step, what to enter, how to check it, and how to read the agent's
 * answer (a calibration record with its residual error). The UI only walks through these.
 * Also the lane's reference points (one per mass calibrated), read back from its calibration
 * records, with each point's residual, the plot of the fitted curve, and removing a point.
 */
import { CommandArgs, type FittedPoint, fitPoints, suspectLimitG } from '@shelfsense/protocol';
import { formatGrams, formatResidual } from './format.js';

export const WIZARD_KINDS = ['tare', 'calibrate', 'learn-unit'] as const;
export type WizardKind = (typeof WIZARD_KINDS)[number];

export interface WizardInput {
  name: 'massG' | 'count';
  label: string;
  unit: string;
  min: number;
  max: number;
  step: number;
}

export interface WizardDef {
  title: string;
  /** What the technician does on the shelf before pressing the button, in order. */
  prepare: string[];
  input: WizardInput | null;
  /** The button that sends the command. */
  action: string;
}

export const WIZARDS: Readonly<Record<WizardKind, WizardDef>> = {
  tare: {
    title: 'Tare (set zero)',
    prepare: [
      'Take every item off the lane, so it is completely empty.',
      'Keep hands and boxes off the whole shelf until the result appears.',
    ],
    input: null,
    action: 'Tare now',
  },
  calibrate: {
    title: 'Calibrate with a known mass',
    prepare: [
      'Tare the empty lane first (use the Tare wizard).',
      'Place the reference mass in the middle of the lane.',
      'Enter its mass, then keep hands off the shelf until the result appears.',
      'Repeat with two or more different masses: each one adds a point to the curve.',
    ],
    input: { name: 'massG', label: 'Reference mass (grams)', unit: 'g', min: 1, max: 1_000_000, step: 0.1 },
    action: 'Calibrate now',
  },
  'learn-unit': {
    title: 'Learn unit weight',
    prepare: [
      'Tare the empty lane first (use the Tare wizard).',
      'Place a counted number of identical items on the lane — ten or more gives a better result.',
      'Enter how many items you placed, then keep hands off the shelf.',
    ],
    input: { name: 'count', label: 'Number of items placed', unit: 'items', min: 1, max: 10_000, step: 1 },
    action: 'Learn unit weight',
  },
};

export type InputCheck = { ok: true; value: number | null } | { ok: false; error: string };

/** Checks what the technician typed before anything is sent. */
export function checkInput(kind: WizardKind, text: string): InputCheck {
  const def = WIZARDS[kind].input;
  if (!def) return { ok: true, value: null };
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '') return { ok: false, error: `${def.label}: enter a number` };
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return { ok: false, error: `${def.label}: "${text}" is not a number` };
  if (def.name === 'count' && !Number.isInteger(n)) {
    return { ok: false, error: `${def.label}: must be a whole number` };
  }
  if (n < def.min || n > def.max) {
    return {
      ok: false,
      error: `${def.label}: must be between ${def.min} and ${def.max.toLocaleString('en')}`,
    };
  }
  return { ok: true, value: n };
}

/** The command arguments, validated by the same schema the agent uses. */
export function commandArgs(
  kind: WizardKind,
  shelf: string,
  lane: string,
  value: number | null,
): Record<string, unknown> {
  switch (kind) {
    case 'tare':
      return CommandArgs.tare.parse({ shelf, lane });
    case 'calibrate':
      return CommandArgs.calibrate.parse({ shelf, lane, massG: value });
    case 'learn-unit':
      return CommandArgs['learn-unit'].parse({ shelf, lane, count: value });
  }
}

export type Verdict = 'good' | 'fair' | 'poor' | 'unknown';

/**
 * How trustworthy a result is: the residual against the lane's unit weight. Under a tenth of an
 * item counts are exact; over a quarter of an item one miscount is likely, so repeat.
 */
export function verdict(residualG: number | null, unitWeightG: number | null): Verdict {
  if (residualG === null || !Number.isFinite(residualG)) return 'unknown';
  if (unitWeightG === null || unitWeightG <= 0) return 'unknown';
  const share = Math.abs(residualG) / unitWeightG;
  if (share < 0.1) return 'good';
  if (share < 0.25) return 'fair';
  return 'poor';
}

export const VERDICT_TEXT: Readonly<Record<Verdict, string>> = {
  good: 'Good: counts on this lane will be exact.',
  fair: 'Fair: counting works, but repeating with the shelf undisturbed may improve it.',
  poor: 'Poor: repeat the step; check that nothing touches the shelf and the items are identical.',
  unknown: 'Check the residual against the item weight.',
};

export interface ResultSummary {
  residualG: number | null;
  lines: string[];
  verdict: Verdict;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

function unitWeightIn(v: unknown): number | null {
  const w = asRecord(v)['unitWeightG'];
  return typeof w === 'number' && Number.isFinite(w) ? w : null;
}

/** Reads the agent's answer (a calibration record) into lines for the result step. */
export function summarize(kind: WizardKind, data: unknown, unitWeightG: number | null): ResultSummary {
  const rec = asRecord(data);
  const residualG = typeof rec['residualG'] === 'number' ? rec['residualG'] : null;
  const lines: string[] = [];
  let weight = unitWeightG;
  if (kind === 'learn-unit') {
    // learn-unit records keep the unit weight per channel: take the first one that has it.
    const after =
      Object.values(asRecord(rec['after']))
        .map(unitWeightIn)
        .find((w) => w !== null) ?? null;
    const before =
      Object.values(asRecord(rec['before']))
        .map(unitWeightIn)
        .find((w) => w !== null) ?? null;
    if (after !== null) {
      lines.push(
        `Unit weight: ${formatGrams(after)}${before !== null ? ` (was ${formatGrams(before)})` : ''}`,
      );
      weight = after;
    }
  }
  if (kind === 'calibrate' && typeof rec['referenceG'] === 'number') {
    lines.push(`Reference mass: ${formatGrams(rec['referenceG'])}`);
  }
  // The record says how far the previous calibration was off (what was corrected) and the error
  // left afterwards on fresh readings; only the latter judges the result.
  const correctionG = typeof rec['correctionG'] === 'number' ? rec['correctionG'] : null;
  if (correctionG !== null) lines.push(`Corrected: ${formatResidual(correctionG)} (the previous error)`);
  lines.push(`Residual error: ${formatResidual(residualG)}`);
  return { residualG, lines, verdict: verdict(residualG, weight) };
}

// --- reference points -----------------------------------------------------------------------

/** The fields of a calibration record the points are read from. */
export interface PointSource {
  kind: string;
  ts: number;
  after: Record<string, unknown>;
}

export interface ChannelPoints {
  channel: number;
  /** In order of mass, each with its residual (see protocol calibration-fit). */
  points: FittedPoint[];
  /** When the record that holds them was made. */
  ts: number;
}

function pointsIn(v: unknown): { grams: number; counts: number }[] | null {
  const pts = asRecord(v)['points'];
  if (!Array.isArray(pts)) return null;
  return pts.flatMap((p) => {
    const r = asRecord(p);
    return typeof r['grams'] === 'number' && typeof r['counts'] === 'number'
      ? [{ grams: r['grams'], counts: r['counts'] }]
      : [];
  });
}

/**
 * Each channel's current points: those of the newest record (tare, calibrate or remove-point) that
 * holds the channel's calibration. Residuals are worked out again from the points, so a record
 * made before residuals were recorded reads the same. Channels in order.
 */
export function lanePoints(records: readonly PointSource[]): ChannelPoints[] {
  const newest = new Map<number, ChannelPoints>();
  for (const r of records) {
    if (r.kind === 'learn-unit') continue;
    for (const [key, cal] of Object.entries(asRecord(r.after))) {
      const channel = Number(key);
      const pts = pointsIn(cal);
      if (!Number.isInteger(channel) || pts === null) continue;
      const seen = newest.get(channel);
      if (!seen || r.ts > seen.ts) newest.set(channel, { channel, points: fitPoints(pts), ts: r.ts });
    }
  }
  return [...newest.values()].sort((a, b) => a.channel - b.channel);
}

/**
 * The remove-point arguments, by the agent's schema. The channel is always named: the records
 * say which channel a point is on, while the lane may have cells that hold no point.
 */
export function removePointArgs(
  shelf: string,
  lane: string,
  grams: number,
  channel: number,
): Record<string, unknown> {
  return CommandArgs['remove-point'].parse({ shelf, lane, grams, channel });
}

/** One line per point for the technician: the verdict on its residual. */
export function pointVerdict(p: FittedPoint): string {
  if (p.residualG === null) return 'One point: add another mass to check it';
  if (p.suspect) return 'Suspect: check the mass, then remove this point';
  return 'Agrees with the others';
}

/** How many points a lane's curve has, and what to do about it. */
export function pointsAdvice(points: readonly FittedPoint[]): string {
  if (points.length === 0) return 'No reference points yet: calibrate with a known mass.';
  if (points.length === 1) return 'One point: the curve is a straight line. Add a second mass to check it.';
  if (points.length === 2) {
    return points.some((p) => p.suspect)
      ? 'Two points disagree: add a third mass to tell which one is wrong.'
      : 'Two points agree.';
  }
  const bad = points.filter((p) => p.suspect).length;
  return bad === 0
    ? `${points.length} points agree.`
    : `${bad} of ${points.length} points ${bad === 1 ? 'is' : 'are'} suspect: remove ${bad === 1 ? 'it' : 'them'}.`;
}

export interface CurvePlot {
  width: number;
  height: number;
  /** The fitted curve's deviation from the straight line, through (0, 0) and every point. */
  curve: string;
  /** The band inside which a point is not suspect (widening with the mass). */
  band: string;
  zeroY: number;
  dots: { x: number; y: number; grams: number; residualG: number; suspect: boolean }[];
  /** Gridline values with their position. */
  xTicks: { at: number; grams: number }[];
  yTicks: { at: number; grams: number }[];
}

/** A "nice" step (1, 2 or 5 × 10^n) giving about `n` intervals over `span`. */
function niceStep(span: number, n: number): number {
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

const PAD = { left: 44, right: 16, top: 10, bottom: 24 };

/**
 * The plot of a channel's fitted curve: mass across, and up the grams by which the piecewise curve
 * through the points departs from the straight line through zero (each point's residual, with the
 * curve linear between them). A bad point is a spike out of the band; null under two points.
 */
export function curvePlot(points: readonly FittedPoint[], width = 320, height = 180): CurvePlot | null {
  const pts = points.filter((p): p is FittedPoint & { residualG: number } => p.residualG !== null);
  if (pts.length < 2) return null;
  const maxG = Math.max(...pts.map((p) => p.grams));
  const xStep = niceStep(maxG, 4);
  const xMax = Math.ceil(maxG / xStep) * xStep;
  const yNeed = Math.max(suspectLimitG(xMax), ...pts.map((p) => Math.abs(p.residualG))) * 1.15;
  const yStep = niceStep(yNeed, 3);
  const yMax = Math.ceil(yNeed / yStep) * yStep;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const x = (g: number) => round1(PAD.left + (g / xMax) * plotW);
  const y = (r: number) => round1(PAD.top + ((yMax - r) / (2 * yMax)) * plotH);
  const curve = [`M${x(0)} ${y(0)}`, ...pts.map((p) => `L${x(p.grams)} ${y(p.residualG)}`)].join(' ');
  const band = `M${x(0)} ${y(suspectLimitG(0))} L${x(xMax)} ${y(suspectLimitG(xMax))} L${x(xMax)} ${y(-suspectLimitG(xMax))} L${x(0)} ${y(-suspectLimitG(0))} Z`;
  const xTicks: CurvePlot['xTicks'] = [];
  for (let g = 0; g <= xMax + xStep / 2; g += xStep) xTicks.push({ at: x(g), grams: g });
  const yTicks: CurvePlot['yTicks'] = [];
  for (let r = -yMax; r <= yMax + yStep / 2; r += yStep) yTicks.push({ at: y(r), grams: r });
  return {
    width,
    height,
    curve,
    band,
    zeroY: y(0),
    dots: pts.map((p) => ({
      x: x(p.grams),
      y: y(p.residualG),
      grams: p.grams,
      residualG: p.residualG,
      suspect: p.suspect,
    })),
    xTicks,
    yTicks,
  };
}

const round1 = (v: number) => Math.round(v * 10) / 10;
