/**
 * Applying a catalogue: the diff against the store's catalogue in force (or central.yaml's, for a
 * store that has none yet), its effects on the live orders, then — in one transaction — the new
 * version row and the cancellation of every order the change leaves without a lane, SKU or
 * supplier. The cancellations go through the order service, so each writes its order event and
 * webhook outbox row as any cancel does. A crash before the commit leaves the old catalogue and
 * every order as they were; after it, the new catalogue and the cancellations, never a part.
 */
import { type Actor, type Catalogue, type CentralConfig, catalogueOf } from '@shelfsense/protocol';
import { OrderService } from '../orders/orders.js';
import type { CentralStore } from '../store/repositories.js';
import { catalogueAuditRows } from './audit.js';
import { type CatalogueChange, diffCatalogues } from './diff.js';
import { liveOrderEffects, type OrderEffect } from './effects.js';
import { ensureCatalogue, summarize } from './seed.js';

export interface CataloguePlan {
  /** The version compared against; 0 when the store has none and central.yaml's was used. */
  base: number;
  changes: CatalogueChange[];
  effects: OrderEffect[];
}

export interface AppliedCatalogue extends CataloguePlan {
  /** The version written; null when there was nothing to change. */
  version: number | null;
  /** True when central.yaml's catalogue was first written as version 1. */
  seeded: boolean;
}

export interface ApplyOptions {
  /** Who applies it: kept with the version, in the audit trail and on each cancelled order's event. */
  actor: string;
  /** The actor's role, as the audit trail records it; `admin` when not given (the CLI). */
  role?: string;
  now?: number;
  /**
   * Test hook: hold the transaction open this long just before it commits, so a fault test can
   * kill the process mid-apply. Zero (the default) in every other use.
   */
  pauseBeforeCommitMs?: number;
  /** Called once the transaction is about to pause (the fault test waits for it). */
  onPause?: () => void;
}

/** What applying `next` would change, read without writing anything. */
export function planCatalogue(store: CentralStore, config: CentralConfig, next: Catalogue): CataloguePlan {
  const current = store.catalogue.current();
  const base = current?.catalogue ?? catalogueOf(config);
  return {
    base: current?.version ?? 0,
    changes: diffCatalogues(base, next),
    effects: liveOrderEffects(next, store.orders),
  };
}

/** Applies `next` in one transaction; nothing is written when it changes nothing. */
export function applyCatalogue(
  store: CentralStore,
  config: CentralConfig,
  next: Catalogue,
  options: ApplyOptions,
): AppliedCatalogue {
  const now = options.now ?? Date.now();
  const orders = new OrderService(store);
  const actor: Actor = { user: options.actor, role: options.role ?? 'admin' };
  return store.transaction((): AppliedCatalogue => {
    // Read again inside the write lock: another apply or a new order may have come in meanwhile.
    const plan = planCatalogue(store, config, next);
    if (plan.changes.length === 0) return { ...plan, version: null, seeded: false };
    const before = store.catalogue.current()?.catalogue ?? catalogueOf(config);
    const seeded = plan.base === 0 && ensureCatalogue(store, config, undefined, now).seeded;
    const cancels = plan.effects.filter((e) => e.action === 'cancel');
    const version = store.catalogue.apply(next, options.actor, summarize(plan.changes, plan.effects), {
      now,
      cancelled: cancels.map((e) => ({ orderId: e.orderId, reason: e.reason })),
      touched: plan.changes.map((c) => ({ what: c.what, id: c.id, removed: c.kind === 'removed' })),
    });
    store.audit.appendAll(
      catalogueAuditRows(before, next, plan.changes, {
        actor: actor.user,
        role: actor.role,
        at: now,
        version,
      }),
    );
    for (const e of cancels) {
      orders.transition(e.orderId, 'cancelled', { actor, now, expectedState: e.state, reason: e.reason });
    }
    pause(options);
    return { ...plan, base: seeded ? 1 : plan.base, version, seeded };
  });
}

function pause(options: ApplyOptions): void {
  const ms = options.pauseBeforeCommitMs ?? 0;
  if (ms <= 0) return;
  options.onPause?.();
  // Blocks the thread inside the open transaction, as a long apply would.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
