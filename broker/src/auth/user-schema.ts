/**
 * The tables of `users.db`. Version 1 is the `users` table as first shipped; each later step is
 * applied once, in an IMMEDIATE transaction, so a `shelfsense users` process and a running
 * central opening the same file at the same time cannot both apply it. Columns are only ever
 * added with defaults, so an older central still reads a newer file.
 */
import type Database from 'better-sqlite3';

const V1 = `CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  grant_json TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT`;

interface Step {
  version: number;
  apply(db: Database.Database): void;
}

function hasColumn(db: Database.Database, table: string, column: string): boolean {
  return db
    .prepare<[], { name: string }>(`PRAGMA table_info(${table})`)
    .all()
    .some((c) => c.name === column);
}

const STEPS: readonly Step[] = [
  {
    version: 2,
    apply(db) {
      // A disabled user keeps its row (and its audit history) but cannot log in.
      if (!hasColumn(db, 'users', 'disabled'))
        db.exec('ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0');
      // Tokens issued before this time (epoch ms) are refused: revoking is one write.
      if (!hasColumn(db, 'users', 'tokens_after'))
        db.exec('ALTER TABLE users ADD COLUMN tokens_after INTEGER NOT NULL DEFAULT 0');
      db.exec(`CREATE TABLE IF NOT EXISTS reset_tokens (
        hash TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT`);
      db.exec('CREATE INDEX IF NOT EXISTS reset_tokens_name ON reset_tokens (name)');
      // Audit events of processes without central's store (the CLI), until central takes them.
      db.exec(`CREATE TABLE IF NOT EXISTS audit_pending (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event TEXT NOT NULL
      ) STRICT`);
    },
  },
];

export const USERS_SCHEMA_VERSION = STEPS[STEPS.length - 1]?.version ?? 1;

export function migrateUsers(db: Database.Database): void {
  db.exec(V1);
  const version = () => db.pragma('user_version', { simple: true }) as number;
  if (version() >= USERS_SCHEMA_VERSION) return;
  db.transaction(() => {
    const from = version();
    for (const step of STEPS) if (step.version > from) step.apply(db);
    db.pragma(`user_version = ${USERS_SCHEMA_VERSION}`);
  }).immediate();
}
