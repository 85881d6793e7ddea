/**
 * The `audit_log` table: who did what and when — every catalogue change (with the object before
 * and after, secrets named but never copied), login and failed login, token issued, user change
 * and order action. Rows are only ever appended: the schema's triggers refuse UPDATE and DELETE,
 * so not even a bug in this process can rewrite the past.
 */
import type { Db } from './database.js';
import type { AuditRepository } from './repositories.js';

/** What an audit row records; `seq` is given by the store. */
export interface AuditInput {
  at: number;
  /** The user name, or a process (`central.yaml`, `central`) when no user acted. */
  actor: string;
  role?: string | null;
  /** Dotted, area first: `catalogue.changed`, `login.failed`, `order.acknowledged`, `user.disabled` … */
  action: string;
  /** The kind of object acted on: `lane`, `supplier`, `user`, `order` … */
  target?: string | null;
  targetId?: string | null;
  /** The site the object belongs to, so an operator can be shown its sites' rows only. */
  site?: string | null;
  before?: unknown;
  after?: unknown;
  /** Anything else worth keeping: the address of a login, a catalogue version, a reason. */
  detail?: Readonly<Record<string, unknown>> | null;
}

export interface AuditEntry {
  seq: number;
  at: number;
  actor: string;
  role: string | null;
  action: string;
  target: string | null;
  targetId: string | null;
  site: string | null;
  before: unknown;
  after: unknown;
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  /** Inclusive bounds on `at`, epoch ms. */
  from?: number;
  to?: number;
  actor?: string;
  /** An exact action, or an area when it ends with `.` or has no dot (`login` matches `login.failed`). */
  action?: string;
  target?: string;
  targetId?: string;
  /** Only these sites' rows; undefined for every row, site or not. */
  sites?: readonly string[];
  /** Rows older than this sequence number (paging backwards from the newest). */
  beforeSeq?: number;
  /** At most this many rows, newest first; default 100, at most 10,000. */
  limit?: number;
}

/** A row of `audit_log` as both stores return it, JSON columns as text. */
export type AuditRow = {
  seq: number;
  at: number;
  actor: string;
  role: string | null;
  action: string;
  target: string | null;
  target_id: string | null;
  site: string | null;
  before: string | null;
  after: string | null;
  detail: string | null;
};

export const AUDIT_MAX_LIMIT = 10_000;

/** A JSON column's text (null for none). */
export const auditJson = (v: unknown): string | null =>
  v === undefined || v === null ? null : JSON.stringify(v);
const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

/** An entry from its row. */
export function auditEntry(r: AuditRow): AuditEntry {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    role: r.role,
    action: r.action,
    target: r.target,
    targetId: r.target_id,
    site: r.site,
    before: parse(r.before),
    after: parse(r.after),
    detail: parse(r.detail) as Record<string, unknown> | null,
  };
}

export class AuditRepo implements AuditRepository {
  private readonly insert;

  constructor(private readonly db: Db) {
    this.insert = db.prepare(
      `INSERT INTO audit_log (at, actor, role, action, target, target_id, site, before, after, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  append(entry: AuditInput): number {
    const r = this.insert.run(
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
    );
    return Number(r.lastInsertRowid);
  }

  appendAll(entries: Iterable<AuditInput>): void {
    this.db.transaction(() => {
      for (const e of entries) this.append(e);
    })();
  }

  list(q: AuditQuery = {}): AuditEntry[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (q.from !== undefined) add('at >= ?', q.from);
    if (q.to !== undefined) add('at <= ?', q.to);
    if (q.actor !== undefined) add('actor = ?', q.actor);
    if (q.action !== undefined) {
      const exact = q.action.includes('.') && !q.action.endsWith('.');
      const area = q.action.replace(/\.$/, '');
      if (exact) add('action = ?', q.action);
      else add('(action = ? OR substr(action, 1, ?) = ?)', area, area.length + 1, `${area}.`);
    }
    if (q.target !== undefined) add('target = ?', q.target);
    if (q.targetId !== undefined) add('target_id = ?', q.targetId);
    if (q.sites !== undefined) {
      if (q.sites.length === 0) return [];
      add(`site IN (${q.sites.map(() => '?').join(', ')})`, ...q.sites);
    }
    if (q.beforeSeq !== undefined) add('seq < ?', q.beforeSeq);
    const asked = q.limit !== undefined && Number.isFinite(q.limit) ? Math.floor(q.limit) : 100;
    // Interpolated, not bound (SQLite wants LIMIT as an integer), so it is clamped to one here.
    const limit = Math.max(1, Math.min(asked, AUDIT_MAX_LIMIT));
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY seq DESC LIMIT ${limit}`;
    return this.db
      .prepare<unknown[], AuditRow>(sql)
      .all(...args)
      .map(auditEntry);
  }
}
