/**
 * The catalogue as versioned data: the diff between two catalogues, what a change does to the
 * live orders, the first version seeded from central.yaml, applying a new one, and the
 * `shelfsense config` command built from them.
 */
export {
  type AppliedCatalogue,
  type ApplyOptions,
  applyCatalogue,
  type CataloguePlan,
  planCatalogue,
} from './apply.js';
export { APPLY_PAUSE_ENV, configCommand } from './cli.js';
export {
  type CatalogueChange,
  type ChangeKind,
  type ChangeWhat,
  countChanges,
  diffCatalogues,
  EMPTY_CATALOGUE,
  SECRET_FIELDS,
} from './diff.js';
export {
  CatalogueConflictError,
  type EditedCatalogue,
  type EditOptions,
  editCatalogue,
  type ObjectEdit,
} from './edit.js';
export { type EffectAction, liveOrderEffects, type OrderEffect, orderEffects, REASONS } from './effects.js';
export { renderDiff, renderSummary } from './render.js';
export { type EnsuredCatalogue, ensureCatalogue, SEED_ACTOR, summarize } from './seed.js';
