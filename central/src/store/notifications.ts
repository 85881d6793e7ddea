/**
 * Notifications in the central store: each user's settings, every notice published (its key seen
 * once, so publishing it again queues nothing), and a durable queue of messages to send — one entry
 * per notice and recipient (a user's e-mail, a chat webhook), written in the transaction that
 * published the notice. Senders claim entries under a lease, as the webhook outbox does, so two
 * central processes never send the same entry; a failure is retried on a stored schedule.
 *
 * E-mail entries are claimed per user, all of that user's pending entries at once (a digest), when
 * the earliest of them falls due; chat entries one at a time.
 */
import { randomUUID } from 'node:crypto';
import type { NoticeKind, QuietHours } from '@shelfsense/protocol';
import type { Notice } from '../notify/notice.js';
import type { Db } from './database.js';

export const NOTIFY_CHANNELS = ['email', 'chat'] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

export const NOTIFY_STATES = ['pending', 'sent', 'dead', 'dropped'] as const;
/** pending → sent; dead once its attempts are spent; dropped when it may no longer go (scope, settings). */
export type NotifyState = (typeof NOTIFY_STATES)[number];

/** The schema (SQLite migration 10); Postgres has its own (pg/notifications.ts). */
export const NOTIFICATIONS_SQL = `
  -- Each user's notification settings; a user without a row has its role's defaults.
  CREATE TABLE notification_settings (
    user_name TEXT PRIMARY KEY,
    kinds TEXT NOT NULL,
    email TEXT,
    digest_minutes INTEGER NOT NULL,
    quiet_from TEXT,
    quiet_to TEXT,
    quiet_tz TEXT,
    updated_at INTEGER NOT NULL
  );
  -- Every notice published, by its key: a key seen again is not queued again.
  CREATE TABLE notices (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    site TEXT NOT NULL,
    body TEXT NOT NULL,
    ts INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX notices_created ON notices (created_at);
  -- One message to send per notice and recipient (a user for e-mail, a webhook's name for chat).
  CREATE TABLE notification_queue (
    id INTEGER PRIMARY KEY,
    notice_key TEXT NOT NULL REFERENCES notices (key) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'chat')),
    recipient TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead', 'dropped')),
    due_at INTEGER NOT NULL,
    retry_at INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,
    batch TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER,
    UNIQUE (notice_key, channel, recipient)
  );
  CREATE INDEX notification_queue_pending ON notification_queue (channel, state, recipient);
`;

export interface NotificationSettingsRow {
  user: string;
  kinds: NoticeKind[];
  email: string | null;
  digestMinutes: number;
  quietHours: QuietHours | null;
  updatedAt: number;
}

/** A message to queue with a notice: to whom, and not before when. */
export interface NewQueueEntry {
  channel: NotifyChannel;
  recipient: string;
  dueAt: number;
}

export interface QueueEntry {
  id: number;
  noticeKey: string;
  channel: NotifyChannel;
  recipient: string;
  state: NotifyState;
  /** Not before (the digest interval, the end of quiet hours). */
  dueAt: number;
  /** After a failed attempt: not before (0 when none failed). */
  retryAt: number;
  leaseUntil: number | null;
  /** The claim that last took it: one digest, one id. */
  batch: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
  notice: Notice;
}

/** Entries claimed together: one recipient's digest, or one chat message. */
export interface ClaimedBatch {
  batch: string;
  channel: NotifyChannel;
  recipient: string;
  entries: QueueEntry[];
}

export interface QueueQuery {
  channel?: NotifyChannel;
  recipient?: string;
  state?: NotifyState;
  limit?: number;
}

export interface NotificationsRepository {
  settings(user: string): NotificationSettingsRow | undefined;
  allSettings(): NotificationSettingsRow[];
  saveSettings(row: NotificationSettingsRow): void;
  /**
   * Adds a notice and its queue entries in one transaction (joining the caller's); false, with
   * nothing written, when a notice with its key was added before.
   */
  addNotice(notice: Notice, entries: readonly NewQueueEntry[], now: number): boolean;
  /**
   * Leases the pending e-mail entries of up to `limit` recipients whose earliest entry is due (and
   * none of whose entries is leased or waiting for a retry), at most `maxEntries` each, oldest
   * first, counting one attempt on each.
   */
  claimDigests(now: number, limit: number, leaseMs: number, maxEntries: number): ClaimedBatch[];
  /** Leases up to `limit` due entries of a channel, one batch each, counting one attempt each. */
  claimEach(channel: NotifyChannel, now: number, limit: number, leaseMs: number): ClaimedBatch[];
  markSent(ids: readonly number[], now: number): number;
  /** A failed attempt: pending again from `retryAt`, or dead when that is null. */
  markFailed(ids: readonly number[], error: string, retryAt: number | null, now: number): number;
  /** Will not be sent (the recipient may no longer see it, or no longer wants it). */
  markDropped(ids: readonly number[], reason: string, now: number): number;
  /** Gives claimed entries back without counting the attempt, due again at `dueAt` when given. */
  release(ids: readonly number[], now: number, dueAt?: number): void;
  /** When the earliest pending entry may go (null when none is pending). */
  nextDueAt(): number | null;
  counts(): { channel: NotifyChannel; state: NotifyState; n: number }[];
  /** In id order. */
  list(q?: QueueQuery): QueueEntry[];
  /** Deletes notices created before `before` with no pending entry, and their entries; returns how many. */
  prune(before: number): number;
}

interface SettingsDbRow {
  user: string;
  kinds: string;
  email: string | null;
  digestMinutes: number;
  quietFrom: string | null;
  quietTo: string | null;
  quietTz: string | null;
  updatedAt: number;
}

export const SETTINGS_COLUMNS = `user_name AS "user", kinds, email, digest_minutes AS "digestMinutes",
  quiet_from AS "quietFrom", quiet_to AS "quietTo", quiet_tz AS "quietTz", updated_at AS "updatedAt"`;

export const QUEUE_COLUMNS = `q.id, q.notice_key AS "noticeKey", q.channel, q.recipient, q.state, q.due_at AS "dueAt",
  q.retry_at AS "retryAt", q.lease_until AS "leaseUntil", q.batch, q.attempts, q.last_error AS "lastError",
  q.created_at AS "createdAt", q.updated_at AS "updatedAt", q.sent_at AS "sentAt", n.body`;

type QueueDbRow = Omit<QueueEntry, 'notice'> & { body: string };

export function settingsOf(r: SettingsDbRow): NotificationSettingsRow {
  return {
    user: r.user,
    kinds: JSON.parse(r.kinds) as NoticeKind[],
    email: r.email,
    digestMinutes: r.digestMinutes,
    quietHours:
      r.quietFrom !== null && r.quietTo !== null && r.quietTz !== null
        ? { from: r.quietFrom, to: r.quietTo, timeZone: r.quietTz }
        : null,
    updatedAt: r.updatedAt,
  };
}

export function entryOf(r: QueueDbRow): QueueEntry {
  const { body, ...rest } = r;
  return { ...rest, notice: JSON.parse(body) as Notice };
}

/** One batch per recipient, entries in id order. */
export function batchesOf(entries: readonly QueueEntry[]): ClaimedBatch[] {
  const by = new Map<string, ClaimedBatch>();
  for (const e of entries) {
    const key = e.batch ?? String(e.id);
    let b = by.get(key);
    if (!b) {
      b = { batch: key, channel: e.channel, recipient: e.recipient, entries: [] };
      by.set(key, b);
    }
    b.entries.push(e);
  }
  for (const b of by.values()) b.entries.sort((x, y) => x.id - y.id);
  return [...by.values()];
}

export const newBatchId = () => `ntf_${randomUUID()}`;

/** SQLite takes no arrays: ids go in as a JSON array read back with json_each. */
const IDS = `(SELECT value FROM json_each(@ids))`;

export class NotificationsRepo implements NotificationsRepository {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      settings: db.prepare<[string], SettingsDbRow>(
        `SELECT ${SETTINGS_COLUMNS} FROM notification_settings WHERE user_name = ?`,
      ),
      allSettings: db.prepare<[], SettingsDbRow>(
        `SELECT ${SETTINGS_COLUMNS} FROM notification_settings ORDER BY user_name`,
      ),
      saveSettings: db.prepare(
        `INSERT INTO notification_settings
           (user_name, kinds, email, digest_minutes, quiet_from, quiet_to, quiet_tz, updated_at)
         VALUES (@user, @kinds, @email, @digestMinutes, @quietFrom, @quietTo, @quietTz, @updatedAt)
         ON CONFLICT (user_name) DO UPDATE SET kinds = excluded.kinds, email = excluded.email,
           digest_minutes = excluded.digest_minutes, quiet_from = excluded.quiet_from,
           quiet_to = excluded.quiet_to, quiet_tz = excluded.quiet_tz, updated_at = excluded.updated_at`,
      ),
      addNotice: db.prepare(
        `INSERT INTO notices (key, kind, site, body, ts, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO NOTHING`,
      ),
      enqueue: db.prepare(
        `INSERT INTO notification_queue (notice_key, channel, recipient, due_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      dueRecipients: db
        .prepare<{ now: number; limit: number }, string>(
          `SELECT recipient FROM notification_queue WHERE channel = 'email' AND state = 'pending'
           GROUP BY recipient
           HAVING min(due_at) <= @now AND max(retry_at) <= @now AND max(coalesce(lease_until, 0)) <= @now
           ORDER BY min(due_at), recipient LIMIT @limit`,
        )
        .pluck(),
      leaseRecipient: db.prepare(
        `UPDATE notification_queue SET lease_until = @until, batch = @batch, attempts = attempts + 1,
           updated_at = @now
         WHERE id IN (SELECT id FROM notification_queue WHERE channel = 'email' AND state = 'pending'
                      AND recipient = @recipient ORDER BY id LIMIT @max)`,
      ),
      dueEach: db
        .prepare<{ channel: string; now: number; limit: number }, number>(
          `SELECT id FROM notification_queue WHERE channel = @channel AND state = 'pending'
             AND due_at <= @now AND retry_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
           ORDER BY due_at, id LIMIT @limit`,
        )
        .pluck(),
      leaseOne: db.prepare(
        `UPDATE notification_queue SET lease_until = @until, batch = @batch, attempts = attempts + 1,
           updated_at = @now WHERE id = @id AND state = 'pending'`,
      ),
      byBatch: db.prepare<[string], QueueDbRow>(
        `SELECT ${QUEUE_COLUMNS} FROM notification_queue q JOIN notices n ON n.key = q.notice_key
         WHERE q.batch = ? AND q.state = 'pending' ORDER BY q.id`,
      ),
      sent: db.prepare(
        `UPDATE notification_queue SET state = 'sent', lease_until = NULL, last_error = NULL,
           sent_at = @now, updated_at = @now WHERE id IN ${IDS} AND state = 'pending'`,
      ),
      failed: db.prepare(
        `UPDATE notification_queue SET state = @state, lease_until = NULL, last_error = @error,
           retry_at = @retryAt, updated_at = @now WHERE id IN ${IDS} AND state = 'pending'`,
      ),
      release: db.prepare(
        `UPDATE notification_queue SET lease_until = NULL, attempts = max(0, attempts - 1),
           due_at = coalesce(@dueAt, due_at), updated_at = @now WHERE id IN ${IDS} AND state = 'pending'`,
      ),
      nextDue: db
        .prepare<[], number | null>(
          `SELECT min(max(due_at, retry_at, coalesce(lease_until, 0))) FROM notification_queue
           WHERE state = 'pending'`,
        )
        .pluck(),
      counts: db.prepare<[], { channel: NotifyChannel; state: NotifyState; n: number }>(
        `SELECT channel, state, count(*) AS n FROM notification_queue GROUP BY channel, state
         ORDER BY channel, state`,
      ),
      prune: db.prepare(
        `DELETE FROM notices WHERE created_at < ? AND NOT EXISTS
           (SELECT 1 FROM notification_queue q WHERE q.notice_key = notices.key AND q.state = 'pending')`,
      ),
    };
  }

  settings(user: string): NotificationSettingsRow | undefined {
    const r = this.q.settings.get(user);
    return r ? settingsOf(r) : undefined;
  }

  allSettings(): NotificationSettingsRow[] {
    return this.q.allSettings.all().map(settingsOf);
  }

  saveSettings(row: NotificationSettingsRow): void {
    this.q.saveSettings.run({
      user: row.user,
      kinds: JSON.stringify(row.kinds),
      email: row.email,
      digestMinutes: row.digestMinutes,
      quietFrom: row.quietHours?.from ?? null,
      quietTo: row.quietHours?.to ?? null,
      quietTz: row.quietHours?.timeZone ?? null,
      updatedAt: row.updatedAt,
    });
  }

  addNotice(notice: Notice, entries: readonly NewQueueEntry[], now: number): boolean {
    return this.db
      .transaction(() => {
        const r = this.q.addNotice.run(
          notice.key,
          notice.kind,
          notice.site,
          JSON.stringify(notice),
          notice.ts,
          now,
        );
        if (r.changes !== 1) return false;
        for (const e of entries) this.q.enqueue.run(notice.key, e.channel, e.recipient, e.dueAt, now, now);
        return true;
      })
      .immediate();
  }

  claimDigests(now: number, limit: number, leaseMs: number, maxEntries: number): ClaimedBatch[] {
    return this.db
      .transaction(() => {
        const out: ClaimedBatch[] = [];
        for (const recipient of this.q.dueRecipients.all({ now, limit })) {
          const batch = newBatchId();
          this.q.leaseRecipient.run({ until: now + leaseMs, batch, now, recipient, max: maxEntries });
          out.push(...batchesOf(this.q.byBatch.all(batch).map(entryOf)));
        }
        return out;
      })
      .immediate();
  }

  claimEach(channel: NotifyChannel, now: number, limit: number, leaseMs: number): ClaimedBatch[] {
    return this.db
      .transaction(() => {
        const out: ClaimedBatch[] = [];
        for (const id of this.q.dueEach.all({ channel, now, limit })) {
          const batch = newBatchId();
          this.q.leaseOne.run({ until: now + leaseMs, batch, now, id });
          out.push(...batchesOf(this.q.byBatch.all(batch).map(entryOf)));
        }
        return out;
      })
      .immediate();
  }

  markSent(ids: readonly number[], now: number): number {
    return this.q.sent.run({ ids: JSON.stringify(ids), now }).changes;
  }

  markFailed(ids: readonly number[], error: string, retryAt: number | null, now: number): number {
    return this.q.failed.run({
      ids: JSON.stringify(ids),
      state: retryAt === null ? 'dead' : 'pending',
      error: error.slice(0, 1_000),
      retryAt: retryAt ?? now,
      now,
    }).changes;
  }

  markDropped(ids: readonly number[], reason: string, now: number): number {
    return this.q.failed.run({
      ids: JSON.stringify(ids),
      state: 'dropped',
      error: reason.slice(0, 1_000),
      retryAt: now,
      now,
    }).changes;
  }

  release(ids: readonly number[], now: number, dueAt?: number): void {
    this.q.release.run({ ids: JSON.stringify(ids), now, dueAt: dueAt ?? null });
  }

  nextDueAt(): number | null {
    return this.q.nextDue.get() ?? null;
  }

  counts(): { channel: NotifyChannel; state: NotifyState; n: number }[] {
    return this.q.counts.all();
  }

  list(q: QueueQuery = {}): QueueEntry[] {
    const parts: string[] = [];
    const params: Record<string, string | number> = {};
    for (const k of ['channel', 'recipient', 'state'] as const) {
      const v = q[k];
      if (v !== undefined) {
        parts.push(`q.${k} = @${k}`);
        params[k] = v;
      }
    }
    params['limit'] = Math.max(1, Math.min(q.limit ?? 1_000, 100_000));
    const w = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    return (
      this.db
        .prepare(
          `SELECT ${QUEUE_COLUMNS} FROM notification_queue q JOIN notices n ON n.key = q.notice_key
           ${w} ORDER BY q.id LIMIT @limit`,
        )
        .all(params) as QueueDbRow[]
    ).map(entryOf);
  }

  prune(before: number): number {
    return this.q.prune.run(before).changes;
  }
}
