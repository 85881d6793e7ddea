// Placeholder until the Postgres implementation lands; see ../outbox.ts for the SQLite one.
import type { AsyncRepository, OutboxRepository } from '../repositories.js';
import type { PgDb } from './db.js';

export const OUTBOX_SCHEMA = '';

export interface PgOutboxRepo extends AsyncRepository<OutboxRepository> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: placeholder
export class PgOutboxRepo {
  constructor(readonly db: PgDb) {}
}
