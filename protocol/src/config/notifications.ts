/**
 * Notifications (docs/notifications.md): the central config's `notifications` — the SMTP relay
 * digests go through, the dashboard's address for links, chat webhooks — and a user's own
 * settings as `GET`/`PUT /api/me/notifications` carry them. Absent from the config, nothing is
 * sent.
 *
 *   notifications:
 *     smtp: { host: smtp.example.com, port: 587, user: shelfsense, password: !secret smtp, from: shelfsense@example.com }
 *     dashboardUrl: https://shelfsense.example.com
 *     digest: { defaultMinutes: 15 }
 *     chat: [{ name: ops, url: https://hooks.slack.com/services/…, kinds: [shelf-offline], format: slack }]
 */
import { Id } from '../payloads.js';
import * as z from '../zod.js';
import { Duration, TimerDuration } from './common.js';
import { RetryPolicy } from './replenishment.js';

/** What a notice is about. */
export const NOTICE_KINDS = [
  'stock-out',
  'shelf-offline',
  'sensor-fault',
  'purchase-order',
  'discrepancy',
  'shelf-object',
  'tamper',
  'unit-weight',
] as const;
export const NoticeKind = z.enum(NOTICE_KINDS);
export type NoticeKind = z.infer<typeof NoticeKind>;

/**
 * The kinds each role may receive: what it may see elsewhere. Alerts (stock-out, offline, sensor
 * fault; objects left or put back on the wrong lane, tamper, a wrong unit weight) go to the roles
 * that see alerts, purchase orders and discrepancies to the roles that see orders; suppliers see no
 * alerts. Any other role receives nothing.
 */
export const NOTICE_KINDS_BY_ROLE: Readonly<Record<string, readonly NoticeKind[]>> = {
  operator: NOTICE_KINDS,
  technician: ['stock-out', 'shelf-offline', 'sensor-fault', 'shelf-object', 'tamper', 'unit-weight'],
  supplier: ['purchase-order', 'discrepancy'],
  admin: NOTICE_KINDS,
};

/** What a user gets until it saves settings of its own (an admin: nothing until chosen). */
export const DEFAULT_NOTICE_KINDS_BY_ROLE: Readonly<Record<string, readonly NoticeKind[]>> = {
  operator: ['stock-out', 'shelf-offline', 'sensor-fault', 'discrepancy'],
  technician: ['shelf-offline', 'sensor-fault'],
  supplier: ['purchase-order', 'discrepancy'],
};

export const noticeKindsFor = (role: string): readonly NoticeKind[] => NOTICE_KINDS_BY_ROLE[role] ?? [];
export const defaultNoticeKindsFor = (role: string): readonly NoticeKind[] =>
  DEFAULT_NOTICE_KINDS_BY_ROLE[role] ?? [];

/** The longest digest interval: a day. */
export const MAX_DIGEST_MINUTES = 1_440;

const HttpUrl = z.string().check(
  z.regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL'),
  z.refine((u) => URL.canParse(u), 'a valid URL'),
);

/** `ops@example.com` or `Shelfsense <ops@example.com>`. */
const Sender = z
  .string()
  .check(
    z.regex(
      /^(?:[^<>\r\n]*<[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/,
      'an e-mail address, or a name and an address: Shelfsense <shelfsense@example.com>',
    ),
  );

export const SmtpConfig = z.strictObject({
  host: z.string().check(z.minLength(1)),
  /** 587 (submission, STARTTLS) by default; 465 with `secure: true`. */
  port: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(65_535)), 587),
  /** TLS from the first byte (port 465); otherwise STARTTLS when the relay offers it. */
  secure: z._default(z.boolean(), false),
  /** Refuse to send unless the connection is upgraded with STARTTLS. */
  requireTls: z._default(z.boolean(), false),
  /** A CA bundle (PEM) the relay's certificate is checked against, beside the system's. */
  caFile: z.optional(z.string().check(z.minLength(1))),
  user: z.optional(z.string().check(z.minLength(1))),
  /** Better from a secret: `!secret smtp_password` or `…__SMTP__PASSWORD_FILE`. */
  password: z.optional(z.string().check(z.minLength(1))),
  /** The sender of every message. */
  from: Sender,
  /** Connecting, the greeting and each command must each answer within this time. */
  timeoutMs: z._default(TimerDuration, 30_000),
});
export type SmtpConfig = z.infer<typeof SmtpConfig>;

/** A chat channel's incoming webhook (Slack, Mattermost, Teams, or anything taking JSON). */
export const ChatWebhook = z.strictObject({
  /** Names the webhook in logs and metrics (never its URL, which is a secret). */
  name: Id,
  url: HttpUrl,
  kinds: z.array(NoticeKind).check(z.minLength(1)),
  /** Only notices of these sites (default: every site). */
  sites: z.optional(z.array(Id).check(z.minLength(1))),
  /** `slack`: `{"text": "…"}` (Slack, Mattermost, Teams); `json`: the notice itself. */
  format: z._default(z.enum(['slack', 'json']), 'slack'),
});
export type ChatWebhook = z.infer<typeof ChatWebhook>;

export const NotificationsConfig = z
  .strictObject({
    /** `false` keeps the settings but sends nothing and queues nothing. */
    enabled: z._default(z.boolean(), true),
    /** Without it, no e-mail goes out (chat webhooks still do). */
    smtp: z.optional(SmtpConfig),
    /** Where the dashboard is, for links in messages (`https://shelfsense.example.com`). */
    dashboardUrl: z.optional(HttpUrl),
    digest: z.prefault(
      z.strictObject({
        /** A user's digest interval until it chooses one (0: each notice at once). */
        defaultMinutes: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(MAX_DIGEST_MINUTES)), 0),
        /** Notices in one e-mail at most; more go in the next. */
        maxNotices: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(1_000)), 100),
      }),
      {},
    ),
    chat: z._default(z.array(ChatWebhook), []),
    /** Failed sends are retried with backoff, then given up (a message that failed for good is kept). */
    retry: z.prefault(RetryPolicy, {}),
    /** How often the sender looks for due messages when nothing woke it. */
    pollMs: z._default(TimerDuration, 5_000),
    /** One chat POST must answer within this time. */
    timeoutMs: z._default(TimerDuration, 10_000),
    /** Alerts opened this long before central started are still notified (once). */
    catchUpMs: z._default(Duration, 3_600_000),
    /** How often alerts opened by another process (a cluster worker) are looked for. */
    alertScanMs: z._default(TimerDuration, 10_000),
    /** Notices and their sent messages are kept this long. */
    retainMs: z._default(Duration, 30 * 86_400_000),
  })
  .check(
    z.superRefine((c, ctx) => {
      const names = new Set<string>();
      c.chat.forEach((w, i) => {
        if (names.has(w.name))
          ctx.issues.push({
            code: 'custom',
            path: ['chat', i, 'name'],
            message: `duplicate chat webhook "${w.name}"`,
            input: w.name,
          });
        names.add(w.name);
      });
      if (c.catchUpMs >= c.retainMs)
        ctx.issues.push({
          code: 'custom',
          path: ['catchUpMs'],
          message: 'must be shorter than retainMs, or an alert could be notified twice',
          input: c.catchUpMs,
        });
    }),
  );
export type NotificationsConfig = z.infer<typeof NotificationsConfig>;
export type NotificationsConfigInput = z.input<typeof NotificationsConfig>;

// --- a user's settings (GET / PUT /api/me/notifications) ---------------------------------------------

const Clock = z
  .string()
  .check(z.regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'a time of day as HH:MM, 00:00 to 23:59'));

/** An IANA time zone the runtime knows (`Europe/Berlin`, `UTC`), not an offset. */
export function isIanaTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const QuietTimeZone = z
  .string()
  .check(
    z.maxLength(64),
    z.refine(isIanaTimeZone, 'an IANA time zone such as Europe/Berlin, America/New_York or UTC'),
  );

/**
 * Hours in which no e-mail is sent: what falls in them waits for their end. `from` after `to`
 * spans midnight (22:00 to 07:00).
 */
export const QuietHours = z
  .strictObject({ from: Clock, to: Clock, timeZone: QuietTimeZone })
  .check(z.refine((q) => q.from !== q.to, { message: 'from and to must differ', path: ['to'] }));
export type QuietHours = z.infer<typeof QuietHours>;

export const NotificationSettingsBody = z.strictObject({
  /** The kinds to receive; only those the role may get (`available`). */
  kinds: z.array(NoticeKind).check(
    z.maxLength(NOTICE_KINDS.length),
    z.refine((k) => new Set(k).size === k.length, 'each kind once'),
  ),
  /** Where e-mail goes; null: no e-mail. */
  email: z.nullable(z.email('an e-mail address').check(z.maxLength(254))),
  /** 0: each notice at once; otherwise at most one e-mail per this many minutes. */
  digestMinutes: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(MAX_DIGEST_MINUTES))),
  quietHours: z.optional(z.nullable(QuietHours)),
});
export type NotificationSettingsBody = z.infer<typeof NotificationSettingsBody>;

export const NotificationSettings = z.object({
  kinds: z.array(NoticeKind),
  email: z.nullable(z.string()),
  digestMinutes: z.number(),
  quietHours: z.nullable(QuietHours),
  /** False while the user has not saved settings: these are its role's defaults. */
  saved: z.boolean(),
  updatedAt: z.nullable(z.number()),
  /** The kinds this user's role may receive. */
  available: z.array(NoticeKind),
  /** Whether this central sends e-mail at all (notifications on, an SMTP relay configured). */
  emailEnabled: z.boolean(),
});
export type NotificationSettings = z.infer<typeof NotificationSettings>;
