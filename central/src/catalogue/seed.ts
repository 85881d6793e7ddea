/**
 * The first catalogue of a store: central.yaml's. A store that has a catalogue keeps it — from
 * then on the store's versions are the catalogue, and central.yaml's copy only seeds a new store.
 */
import { type Catalogue, type CentralConfig, catalogueOf } from '@shelfsense/protocol';
import type { CatalogueSummary } from '../store/catalogue.js';
import type { CentralStore } from '../store/repositories.js';
import { type CatalogueChange, countChanges, diffCatalogues, EMPTY_CATALOGUE } from './diff.js';
import type { OrderEffect } from './effects.js';

export const SEED_ACTOR = 'central.yaml';

/** What a version row records about its change: counts only, never content. */
export function summarize(
  changes: readonly CatalogueChange[],
  effects: readonly OrderEffect[],
): CatalogueSummary {
  const cancelled = effects.filter((e) => e.action === 'cancel').length;
  return { ...countChanges(changes), cancelled, kept: effects.length - cancelled };
}

export interface EnsuredCatalogue {
  version: number;
  catalogue: Catalogue;
  /** True when this call wrote version 1 from the config. */
  seeded: boolean;
}

/** The store's catalogue; when it has none, the config's, written as version 1 first. */
export function ensureCatalogue(
  store: CentralStore,
  config: CentralConfig,
  actor = SEED_ACTOR,
  now = Date.now(),
): EnsuredCatalogue {
  return store.transaction(() => {
    const current = store.catalogue.current();
    if (current) return { version: current.version, catalogue: current.catalogue, seeded: false };
    const catalogue = catalogueOf(config);
    const summary = summarize(diffCatalogues(EMPTY_CATALOGUE, catalogue), []);
    const version = store.catalogue.apply(catalogue, actor, summary, { now });
    // One row for the whole seed: it is the starting point, not a change anyone made.
    store.audit.append({ at: now, actor, action: 'catalogue.seeded', detail: { version, ...summary } });
    return { version, catalogue, seeded: true };
  });
}
