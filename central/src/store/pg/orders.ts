// Placeholder until the Postgres implementation lands; see ../orders.ts for the SQLite one.
import type { AsyncRepository, OrdersRepository } from '../repositories.js';
import type { PgDb } from './db.js';

export const ORDERS_SCHEMA = '';

export interface PgOrdersRepo extends AsyncRepository<OrdersRepository> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: placeholder
export class PgOrdersRepo {
  constructor(readonly db: PgDb) {}
}
