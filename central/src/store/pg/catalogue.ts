// Placeholder until the Postgres implementation lands; see ../catalogue.ts for the SQLite one.
import type { AsyncRepository, CatalogueRepository } from '../repositories.js';
import type { PgDb } from './db.js';

export const CATALOGUE_SCHEMA = '';

export interface PgCatalogueRepo extends AsyncRepository<CatalogueRepository> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: placeholder
export class PgCatalogueRepo {
  constructor(readonly db: PgDb) {}
}
