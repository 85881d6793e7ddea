export { type Param, PgDb, type Row, sqlState } from './db.js';
export { type Lease, type LeaseRound, PgLeasesRepo } from './leases.js';
export { PG_MIGRATIONS, PG_SCHEMA_VERSION } from './migrations.js';
export { PgStore, PgStoreOptions, type PgStoreOptionsInput } from './store.js';
export { type Sync, SyncPgStore, type SyncPgStoreOptions } from './sync-store.js';
export { PgSecretsRepo, PgUsersRepo, USERS_SCHEMA } from './users.js';
