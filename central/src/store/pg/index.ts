export { type Param, PgDb, type Row, sqlState } from './db.js';
export { PG_MIGRATIONS, PG_SCHEMA_VERSION } from './migrations.js';
export { PgStore, PgStoreOptions, type PgStoreOptionsInput } from './store.js';
