/**
 * The audit rows of a catalogue change: one per object added, changed or removed, with the
 * object's own fields before and after (secrets named, never copied) and the site it belongs to,
 * so an operator reading the audit trail sees its sites' rows.
 */
import type { Catalogue } from '@shelfsense/protocol';
import type { AuditInput } from '../store/audit.js';
import { type CatalogueChange, catalogueObjects, ownFields } from './diff.js';

export interface AuditContext {
  actor: string;
  role: string | null;
  at: number;
  version: number;
}

/** The site an object of the catalogue belongs to, or null for suppliers, SKUs and SKU policies. */
export function siteOf(change: Pick<CatalogueChange, 'what' | 'id'>): string | null {
  switch (change.what) {
    case 'site':
    case 'shelf':
    case 'lane':
      return change.id.split('/')[0] ?? null;
    case 'policy': {
      const m = /^(?:lane|site) ([^/]+)/.exec(change.id);
      return m ? (m[1] as string) : null;
    }
    default:
      return null;
  }
}

export function catalogueAuditRows(
  before: Catalogue,
  after: Catalogue,
  changes: readonly CatalogueChange[],
  ctx: AuditContext,
): AuditInput[] {
  const was = catalogueObjects(before);
  const now = catalogueObjects(after);
  return changes.map((c) => {
    const prior = was.get(c.what)?.get(c.id);
    const next = now.get(c.what)?.get(c.id);
    return {
      at: ctx.at,
      actor: ctx.actor,
      role: ctx.role,
      action: `catalogue.${c.kind}`,
      target: c.what,
      targetId: c.id,
      site: siteOf(c),
      before: prior && c.kind !== 'added' ? ownFields(c.what, prior) : null,
      after: next && c.kind !== 'removed' ? ownFields(c.what, next) : null,
      detail: { version: ctx.version, ...(c.fields ? { fields: c.fields } : {}) },
    };
  });
}
