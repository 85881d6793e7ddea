// Placeholder until the Postgres implementation lands; see ../alerts.ts for the SQLite one.
import type { AlertsRepository, AsyncRepository } from '../repositories.js';
import type { PgDb } from './db.js';

export const ALERTS_SCHEMA = '';

export interface PgAlertsRepo extends AsyncRepository<AlertsRepository> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: placeholder
export class PgAlertsRepo {
  constructor(readonly db: PgDb) {}
}
