/**
 * Notifications on Postgres (see ../notifications.ts): users' settings, notices by key, and the
 * send queue, claimed by any number of central processes at once. A claim leases rows in one
 * UPDATE; a second process claiming the same rows waits for the first one's row locks and then
 * finds them leased (Postgres re-checks the lease on the committed row), so no entry is claimed
 * twice.
 */
import type { Notice } from '../../notify/notice.js';
import {
  batchesOf,
  type ClaimedBatch,
  entryOf,
  type NewQueueEntry,
  type NotificationSettingsRow,
  type NotificationsRepository,
  type NotifyChannel,
  type NotifyState,
  newBatchId,
  QUEUE_COLUMNS,
  type QueueEntry,
  type QueueQuery,
  SETTINGS_COLUMNS,
  settingsOf,
} from '../notifications.js';
import type { AsyncRepository } from '../repositories.js';
import type { Param, PgDb, Row } from './db.js';

export const NOTIFICATIONS_SCHEMA = `
  -- Each user's notification settings; a user without a row has its role's defaults.
  CREATE TABLE notification_settings (
    user_name TEXT PRIMARY KEY,
    kinds TEXT NOT NULL,
    email TEXT,
    digest_minutes INTEGER NOT NULL,
    quiet_from TEXT,
    quiet_to TEXT,
    quiet_tz TEXT,
    updated_at BIGINT NOT NULL
  );
  -- Every notice published, by its key: a key seen again is not queued again.
  CREATE TABLE notices (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    site TEXT NOT NULL,
    body TEXT NOT NULL,
    ts BIGINT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX notices_created ON notices (created_at);
  -- One message to send per notice and recipient (a user for e-mail, a webhook's name for chat).
  CREATE TABLE notification_queue (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_key TEXT NOT NULL REFERENCES notices (key) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'chat')),
    recipient TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead', 'dropped')),
    due_at BIGINT NOT NULL,
    retry_at BIGINT NOT NULL DEFAULT 0,
    lease_until BIGINT,
    batch TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sent_at BIGINT,
    UNIQUE (notice_key, channel, recipient)
  );
  CREATE INDEX notification_queue_pending ON notification_queue (channel, state, recipient);
`;

type SettingsRec = Parameters<typeof settingsOf>[0] & Row;
type QueueRec = Parameters<typeof entryOf>[0] & Row;

const FROM_QUEUE = 'FROM notification_queue q JOIN notices n ON n.key = q.notice_key';

export class PgNotificationsRepo implements AsyncRepository<NotificationsRepository> {
  constructor(private readonly db: PgDb) {}

  async settings(user: string): Promise<NotificationSettingsRow | undefined> {
    const r = await this.db.one<SettingsRec>(
      `SELECT ${SETTINGS_COLUMNS} FROM notification_settings WHERE user_name = $1`,
      [user],
    );
    return r ? settingsOf(r) : undefined;
  }

  async allSettings(): Promise<NotificationSettingsRow[]> {
    const rows = await this.db.query<SettingsRec>(
      `SELECT ${SETTINGS_COLUMNS} FROM notification_settings ORDER BY user_name`,
    );
    return rows.map(settingsOf);
  }

  async saveSettings(row: NotificationSettingsRow): Promise<void> {
    await this.db.run(
      `INSERT INTO notification_settings
         (user_name, kinds, email, digest_minutes, quiet_from, quiet_to, quiet_tz, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (user_name) DO UPDATE SET kinds = excluded.kinds, email = excluded.email,
         digest_minutes = excluded.digest_minutes, quiet_from = excluded.quiet_from,
         quiet_to = excluded.quiet_to, quiet_tz = excluded.quiet_tz, updated_at = excluded.updated_at`,
      [
        row.user,
        JSON.stringify(row.kinds),
        row.email,
        row.digestMinutes,
        row.quietHours?.from ?? null,
        row.quietHours?.to ?? null,
        row.quietHours?.timeZone ?? null,
        row.updatedAt,
      ],
    );
  }

  addNotice(notice: Notice, entries: readonly NewQueueEntry[], now: number): Promise<boolean> {
    return this.db.transaction(async () => {
      // A second process adding the same key waits for the first's row, then adds nothing.
      const added = await this.db.run(
        `INSERT INTO notices (key, kind, site, body, ts, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (key) DO NOTHING`,
        [notice.key, notice.kind, notice.site, JSON.stringify(notice), notice.ts, now],
      );
      if (added !== 1) return false;
      for (const e of entries) {
        await this.db.run(
          `INSERT INTO notification_queue (notice_key, channel, recipient, due_at, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING`,
          [notice.key, e.channel, e.recipient, e.dueAt, now],
        );
      }
      return true;
    });
  }

  async claimDigests(
    now: number,
    limit: number,
    leaseMs: number,
    maxEntries: number,
  ): Promise<ClaimedBatch[]> {
    // One batch id per recipient: this claim's id and the recipient.
    const rows = await this.db.query<QueueRec>(
      `WITH due AS (
         SELECT recipient FROM notification_queue WHERE channel = 'email' AND state = 'pending'
         GROUP BY recipient
         HAVING min(due_at) <= $1 AND max(retry_at) <= $1 AND max(coalesce(lease_until, 0)) <= $1
         ORDER BY min(due_at), recipient LIMIT $2
       ), pick AS (
         SELECT q.id, row_number() OVER (PARTITION BY q.recipient ORDER BY q.id) AS rn
         FROM notification_queue q JOIN due ON due.recipient = q.recipient
         WHERE q.channel = 'email' AND q.state = 'pending'
       ), claimed AS (
         UPDATE notification_queue w SET lease_until = $3, batch = $4 || ':' || w.recipient,
           attempts = w.attempts + 1, updated_at = $1
         FROM pick WHERE w.id = pick.id AND pick.rn <= $5 AND w.state = 'pending'
           AND (w.lease_until IS NULL OR w.lease_until <= $1)
         RETURNING w.*
       )
       SELECT ${QUEUE_COLUMNS} FROM claimed q JOIN notices n ON n.key = q.notice_key`,
      [now, Math.max(0, Math.floor(limit)), now + leaseMs, newBatchId(), Math.max(1, Math.floor(maxEntries))],
    );
    return batchesOf(rows.map(entryOf));
  }

  async claimEach(
    channel: NotifyChannel,
    now: number,
    limit: number,
    leaseMs: number,
  ): Promise<ClaimedBatch[]> {
    const rows = await this.db.query<QueueRec>(
      `WITH due AS (
         SELECT id FROM notification_queue WHERE channel = $2 AND state = 'pending'
           AND due_at <= $1 AND retry_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
         ORDER BY due_at, id LIMIT $3
         FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE notification_queue w SET lease_until = $4, batch = $5 || ':' || w.id,
           attempts = w.attempts + 1, updated_at = $1
         FROM due WHERE w.id = due.id
         RETURNING w.*
       )
       SELECT ${QUEUE_COLUMNS} FROM claimed q JOIN notices n ON n.key = q.notice_key`,
      [now, channel, Math.max(0, Math.floor(limit)), now + leaseMs, newBatchId()],
    );
    return batchesOf(rows.map(entryOf));
  }

  markSent(ids: readonly number[], now: number): Promise<number> {
    return this.db.run(
      `UPDATE notification_queue SET state = 'sent', lease_until = NULL, last_error = NULL, sent_at = $2,
         updated_at = $2 WHERE id = ANY($1::bigint[]) AND state = 'pending'`,
      [ids, now],
    );
  }

  markFailed(ids: readonly number[], error: string, retryAt: number | null, now: number): Promise<number> {
    return this.end(ids, retryAt === null ? 'dead' : 'pending', error, retryAt ?? now, now);
  }

  markDropped(ids: readonly number[], reason: string, now: number): Promise<number> {
    return this.end(ids, 'dropped', reason, now, now);
  }

  async release(ids: readonly number[], now: number, dueAt?: number): Promise<void> {
    await this.db.run(
      `UPDATE notification_queue SET lease_until = NULL, attempts = greatest(0, attempts - 1),
         due_at = coalesce($3, due_at), updated_at = $2 WHERE id = ANY($1::bigint[]) AND state = 'pending'`,
      [ids, now, dueAt ?? null],
    );
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.db.one<{ at: number | null }>(
      `SELECT min(greatest(due_at, retry_at, coalesce(lease_until, 0))) AS at FROM notification_queue
       WHERE state = 'pending'`,
    );
    return row?.at ?? null;
  }

  counts(): Promise<{ channel: NotifyChannel; state: NotifyState; n: number }[]> {
    return this.db.query<{ channel: NotifyChannel; state: NotifyState; n: number }>(
      `SELECT channel, state, count(*) AS n FROM notification_queue GROUP BY channel, state
       ORDER BY channel, state`,
    );
  }

  async list(q: QueueQuery = {}): Promise<QueueEntry[]> {
    const parts: string[] = [];
    const params: Param[] = [];
    for (const k of ['channel', 'recipient', 'state'] as const) {
      const v = q[k];
      if (v === undefined) continue;
      params.push(v);
      parts.push(`q.${k} = $${params.length}`);
    }
    params.push(Math.max(1, Math.min(q.limit ?? 1_000, 100_000)));
    const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    const rows = await this.db.query<QueueRec>(
      `SELECT ${QUEUE_COLUMNS} ${FROM_QUEUE} ${w} ORDER BY q.id LIMIT $${params.length}`,
      params,
    );
    return rows.map(entryOf);
  }

  prune(before: number): Promise<number> {
    return this.db.run(
      `DELETE FROM notices WHERE created_at < $1 AND NOT EXISTS
         (SELECT 1 FROM notification_queue q WHERE q.notice_key = notices.key AND q.state = 'pending')`,
      [before],
    );
  }

  private end(ids: readonly number[], state: NotifyState, error: string, retryAt: number, now: number) {
    return this.db.run(
      `UPDATE notification_queue SET state = $2, lease_until = NULL, last_error = $3, retry_at = $4,
         updated_at = $5 WHERE id = ANY($1::bigint[]) AND state = 'pending'`,
      [ids, state, error.slice(0, 1_000), retryAt, now],
    );
  }
}
