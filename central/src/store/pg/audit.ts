// Placeholder until the Postgres implementation lands; see ../audit.ts for the SQLite one.
import type { AsyncRepository, AuditRepository } from '../repositories.js';
import type { PgDb } from './db.js';

export const AUDIT_SCHEMA = '';

export interface PgAuditRepo extends AsyncRepository<AuditRepository> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: placeholder
export class PgAuditRepo {
  constructor(readonly db: PgDb) {}
}
