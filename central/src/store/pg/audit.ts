/**
 * The audit log on Postgres (see ../audit.ts): who did what and when, appended and never changed.
 * The schema refuses UPDATE, DELETE and TRUNCATE whoever sends them, so neither a bug in a
 * process nor a hand at psql can rewrite the past; JSON is kept as the text that was written.
 */
import {
  AUDIT_MAX_LIMIT,
  type AuditEntry,
  type AuditInput,
  type AuditQuery,
  type AuditRow,
  auditEntry,
  auditJson,
} from '../audit.js';
import type { AsyncRepository, AuditRepository } from '../repositories.js';
import type { Param, PgDb } from './db.js';

export const AUDIT_SCHEMA = `
  -- Who did what, when: catalogue changes, logins, tokens, user changes, order actions.
  CREATE TABLE audit_log (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT,
    action TEXT NOT NULL,
    target TEXT,
    target_id TEXT,
    site TEXT,
    before TEXT,
    after TEXT,
    detail TEXT
  );
  CREATE INDEX audit_log_at ON audit_log (at);
  CREATE INDEX audit_log_site ON audit_log (site, seq);
  CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
    END
  $$;
  -- Statement-level, so a statement is refused even when it matches no row, and INSERT ... ON
  -- CONFLICT DO UPDATE and MERGE (which fire the UPDATE and DELETE statement triggers) are too.
  CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
  CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
  -- ALWAYS: they fire even under session_replication_role = replica, which skips ordinary triggers.
  ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_change;
  ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;
`;

export class PgAuditRepo implements AsyncRepository<AuditRepository> {
  constructor(readonly db: PgDb) {}

  async append(entry: AuditInput): Promise<number> {
    const row = await this.db.one<{ seq: number }>(
      `INSERT INTO audit_log (at, actor, role, action, target, target_id, site, before, after, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq`,
      [
        entry.at,
        entry.actor,
        entry.role ?? null,
        entry.action,
        entry.target ?? null,
        entry.targetId ?? null,
        entry.site ?? null,
        auditJson(entry.before),
        auditJson(entry.after),
        auditJson(entry.detail),
      ],
    );
    return row?.seq as number;
  }

  async appendAll(entries: Iterable<AuditInput>): Promise<void> {
    const list = [...entries];
    if (list.length === 0) return;
    const col = <T>(f: (e: AuditInput) => T) => list.map(f);
    // One statement, so all rows or none; ORDER BY the position numbers them in the given order.
    await this.db.run(
      `INSERT INTO audit_log (at, actor, role, action, target, target_id, site, before, after, detail)
       SELECT at, actor, role, action, target, target_id, site, before, after, detail
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                   $8::text[], $9::text[], $10::text[])
         WITH ORDINALITY AS t (at, actor, role, action, target, target_id, site, before, after, detail, n)
       ORDER BY n`,
      [
        col((e) => e.at),
        col((e) => e.actor),
        col((e) => e.role ?? null),
        col((e) => e.action),
        col((e) => e.target ?? null),
        col((e) => e.targetId ?? null),
        col((e) => e.site ?? null),
        col((e) => auditJson(e.before)),
        col((e) => auditJson(e.after)),
        col((e) => auditJson(e.detail)),
      ] as unknown as Param[],
    );
  }

  async list(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: Param[] = [];
    const bind = (v: Param) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (q.from !== undefined) where.push(`at >= ${bind(q.from)}`);
    if (q.to !== undefined) where.push(`at <= ${bind(q.to)}`);
    if (q.actor !== undefined) where.push(`actor = ${bind(q.actor)}`);
    if (q.action !== undefined) {
      const exact = q.action.includes('.') && !q.action.endsWith('.');
      const area = q.action.replace(/\.$/, '');
      // A prefix compared as text, not LIKE: `_` and `%` in an action are plain characters.
      if (exact) where.push(`action = ${bind(q.action)}`);
      else
        where.push(
          `(action = ${bind(area)} OR left(action, ${bind(area.length + 1)}) = ${bind(`${area}.`)})`,
        );
    }
    if (q.target !== undefined) where.push(`target = ${bind(q.target)}`);
    if (q.targetId !== undefined) where.push(`target_id = ${bind(q.targetId)}`);
    if (q.sites !== undefined) {
      if (q.sites.length === 0) return [];
      where.push(`site = ANY(${bind(q.sites)}::text[])`);
    }
    if (q.beforeSeq !== undefined) where.push(`seq < ${bind(q.beforeSeq)}`);
    const asked = q.limit !== undefined && Number.isFinite(q.limit) ? Math.floor(q.limit) : 100;
    const limit = Math.max(1, Math.min(asked, AUDIT_MAX_LIMIT));
    const rows = await this.db.query<AuditRow>(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY seq DESC LIMIT ${bind(limit)}`,
      params,
    );
    return rows.map(auditEntry);
  }
}
