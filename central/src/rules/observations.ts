/**
 * What a lane observation means for alerts, in plain words. A hand is brief by definition and a
 * lean is a force, not a thing left behind, so neither opens an alert (the dashboard shows them);
 * a foreign object, another lane's item and tamper do, and a unit-weight proposal does when it
 * says the configured unit weight is wrong. The `cleared` record clears the alert.
 */
import type { AlertEvent, ObservationPayload } from '@shelfsense/protocol';

type AlertKind = AlertEvent['kind'];

/** The alert an observation record opens or clears, or null for none. */
export function observationAlertKind(p: ObservationPayload): AlertKind | null {
  switch (p.kind) {
    case 'hand':
    case 'lean':
      return null;
    case 'unit-weight':
      // A proposal that agrees with the configured weight is no news; its clearing may still end one.
      return p.state === 'cleared' || p.proposal?.wrong ? 'unit-weight' : null;
    default:
      return p.kind;
  }
}

const grams = (g: number): string => `${Math.round(Math.abs(g))} g`;
const items = (n: number | null): string =>
  n === null ? '' : ` (about ${Math.round(Math.abs(n) * 10) / 10} item${Math.abs(n) === 1 ? '' : 's'})`;

/** The alert's message for an `open` observation. */
export function observationMessage(p: ObservationPayload): string {
  switch (p.kind) {
    case 'hand':
      return `a hand rests on the lane: ${grams(p.grams)}`;
    case 'lean':
      return `something leans on the lane: ${grams(p.grams)}${items(p.items)}`;
    case 'foreign-object':
      return `something that is not this lane's item was left on it: ${grams(p.grams)}${items(p.items)}`;
    case 'misplaced-item':
      return p.otherLane
        ? `an item of lane ${p.otherLane} was put on this lane: ${grams(p.grams)}`
        : `an item of another lane was put on this lane: ${grams(p.grams)}`;
    case 'tamper':
      return p.cause === 'closed'
        ? `the weight changed by ${grams(p.grams)} while the store was closed`
        : `a load cell was disconnected and reconnected under a different load: ${grams(p.grams)}`;
    case 'unit-weight': {
      const w = p.proposal;
      if (!w) return `the lane's unit weight may be wrong`;
      return `the unit weight looks wrong: picks and restocks step by ${Math.round(w.unitWeightG * 10) / 10} g (${Math.round(w.confidence * 100)} % sure, ${w.steps} steps)`;
    }
  }
}

/** The observations of one kind still open on a lane, given its records oldest first. */
export function openObservations(rows: readonly { observation: string; state: string }[]): Set<string> {
  const open = new Set<string>();
  for (const r of rows) {
    if (r.state === 'open') open.add(r.observation);
    else open.delete(r.observation);
  }
  return open;
}
