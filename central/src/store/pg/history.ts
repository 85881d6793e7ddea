// Placeholder until the Postgres implementation lands; see ../history.ts for the SQLite one.
import type { AsyncRepository, HistoryRepository } from '../repositories.js';
import type { PgDb } from './db.js';

export const HISTORY_SCHEMA = '';

export interface PgHistoryRepo extends AsyncRepository<HistoryRepository> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: placeholder
export class PgHistoryRepo {
  constructor(
    readonly db: PgDb,
    readonly intervalMs: number,
  ) {}
}
