/**
 * The technician wizards — tare, calibrate with a known mass, learn a unit weight from N items —
 * as data: what to do at each step, what to enter, how to check it, and how to read the agent's
 * answer (a calibration record with its residual error). The UI only walks through these.
 */
import { CommandArgs } from '@shelfsense/protocol';
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
