/**
 * The diff as a person reads it in a terminal: one line per change, `+` added, `~` changed,
 * `-` removed, with what it does to the lane's open order. An effect on a lane the diff does not
 * list (its SKU moved to another supplier) gets a line of its own, marked `!`. Secrets are only
 * ever "secret changed".
 */
import { type CatalogueChange, type ChangeKind, countChanges, SECRET_FIELDS } from './diff.js';
import type { OrderEffect } from './effects.js';

const MARK: Record<ChangeKind, string> = { added: '+', changed: '~', removed: '-' };

function show(v: unknown): string {
  if (v === undefined || v === null) return '(none)';
  if (typeof v === 'string') return v;
  return JSON.stringify(v).replaceAll(',', ', ');
}

function fieldText(c: CatalogueChange): string {
  return (c.fields ?? [])
    .map((f) => {
      if (SECRET_FIELDS.has(f)) return `${f} changed`;
      const v = c.values?.[f];
      return `${f} ${show(v?.from)} → ${show(v?.to)}`;
    })
    .join('; ');
}

function effectText(e: OrderEffect): string {
  return e.action === 'cancel'
    ? `cancels order ${e.orderId}: ${e.reason}`
    : `keeps order ${e.orderId}, ${e.reason}: it is ${e.state} and cannot be cancelled; receive it by hand`;
}

/** One line per change, then one per effect on a lane the changes do not name. */
export function renderDiff(changes: readonly CatalogueChange[], effects: readonly OrderEffect[]): string[] {
  const byLane = new Map<string, OrderEffect[]>();
  for (const e of effects) byLane.set(e.lane, [...(byLane.get(e.lane) ?? []), e]);
  const lines = changes.map((c) => {
    let line = `${MARK[c.kind]} ${c.what} ${c.id}`;
    if (c.kind === 'changed') line += `: ${fieldText(c)}`;
    const on = c.what === 'lane' ? byLane.get(c.id) : undefined;
    if (on) {
      byLane.delete(c.id);
      line += ` (${on.map(effectText).join('; ')})`;
    }
    return line;
  });
  for (const [lane, on] of byLane) lines.push(`! lane ${lane} (${on.map(effectText).join('; ')})`);
  return lines;
}

/** `2 added, 1 changed, 0 removed; 1 open order cancelled` (and how many were kept, if any). */
export function renderSummary(changes: readonly CatalogueChange[], effects: readonly OrderEffect[]): string {
  if (changes.length === 0) return 'no changes';
  const n = countChanges(changes);
  const cancelled = effects.filter((e) => e.action === 'cancel').length;
  const kept = effects.length - cancelled;
  const orders = `${cancelled} open order${cancelled === 1 ? '' : 's'} cancelled`;
  return (
    `${n.added} added, ${n.changed} changed, ${n.removed} removed; ${orders}` +
    (kept ? `, ${kept} kept (already shipped)` : '')
  );
}
