// Placeholder until the Postgres implementation lands; see ../readings.ts for the SQLite one.
import type { AsyncRepository, ReadingsRepository } from '../repositories.js';
import type { PgDb } from './db.js';
import type { PgHistoryRepo } from './history.js';

export const READINGS_SCHEMA = '';

export interface PgReadingsRepo extends AsyncRepository<ReadingsRepository> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: placeholder
export class PgReadingsRepo {
  constructor(
    readonly db: PgDb,
    readonly history: PgHistoryRepo,
    readonly gapTimeoutMs: number,
  ) {}
}
