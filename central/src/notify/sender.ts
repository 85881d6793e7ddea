/**
 * The sender loop: claims what is due from the notification queue under a lease (so two central
 * processes never send the same digest), sends each user's digest through the SMTP relay and each
 * chat post to its webhook, and records the outcome — sent, retried at a stored time (exponential
 * backoff with jitter, so it survives restarts), or dead after the attempt limit or a refusal for
 * good. Before sending, a digest is checked again against the user's grant and settings of the
 * moment: a notice the user may no longer see or no longer wants is dropped, and a digest falling
 * in the user's quiet hours (set since it was queued) waits for their end.
 *
 * Delivery is at least once: a process killed after the relay took a digest and before it was
 * marked sent sends it again when the lease runs out (with the same Message-ID).
 */
import { EventEmitter } from 'node:events';
import type { NotificationsConfig } from '@shelfsense/protocol';
import { childLogger } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../service/part.js';
import type {
  ClaimedBatch,
  NotificationsRepository,
  NotifyChannel,
  QueueEntry,
} from '../store/notifications.js';
import { nextAttemptAt, parseRetryAfter } from '../webhooks/backoff.js';
import { chatBody, renderDigest } from './digest.js';
import type { UserDirectory } from './notifier.js';
import { quietUntil } from './quiet.js';
import { mayReceive, subscriptionOf } from './scope.js';
import type { ChatTransport, MailTransport, SendOutcome } from './transports.js';

/** Digests and chat posts in flight at once. */
const CONCURRENCY = 4;

export interface SenderOptions {
  repo: NotificationsRepository;
  config: NotificationsConfig;
  /** The SMTP relay; null without `notifications.smtp`. */
  mail: MailTransport | null;
  chat: ChatTransport;
  users: () => UserDirectory | null;
  clock: Clock;
  random?: () => number;
  logger?: Logger;
}

export interface SendEvent {
  channel: NotifyChannel;
  recipient: string;
  /** Notices in the message. */
  notices: number;
  error?: string;
}

type Events = { sent: [SendEvent]; failed: [SendEvent]; dropped: [SendEvent] };

const zero = (): Record<NotifyChannel, number> => ({ email: 0, chat: 0 });

export class NotificationSender extends EventEmitter<Events> {
  /** Messages sent, failed attempts, and entries dropped, by channel. */
  readonly counters = { sent: zero(), failed: zero(), dropped: zero() };
  private cfg: NotificationsConfig;
  private mail: MailTransport | null;
  private readonly log: Logger | undefined;
  private readonly random: () => number;
  private readonly inflight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(private readonly o: SenderOptions) {
    super();
    this.cfg = o.config;
    this.mail = o.mail;
    this.log = o.logger && childLogger(o.logger, 'sender');
    this.random = o.random ?? Math.random;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops claiming; chat posts in flight are aborted (their attempts given back), digests finish. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const f of this.inflight.values()) f.abort.abort();
    await Promise.allSettled([...this.inflight.values()].map((f) => f.done));
  }

  /** Looks for due messages now (after a notice was queued, or the clock moved). */
  notify(): void {
    if (this.running) this.schedule(0);
  }

  /** Resolves once nothing is in flight (tests, and a stop that waits). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.values()].map((f) => f.done));
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.cycle();
      } catch (err) {
        // The store may be closing under us; try again later rather than die.
        this.log?.error({ err }, 'notification cycle failed');
        this.schedule(this.cfg.pollMs);
      }
    }, delayMs);
    this.timer.unref();
  }

  private cycle(): void {
    if (!this.running) return;
    const { repo, clock } = this.o;
    let free = CONCURRENCY - this.inflight.size;
    if (free > 0) {
      const now = clock.now();
      const lease = Math.max(this.cfg.timeoutMs, this.mail ? (this.cfg.smtp?.timeoutMs ?? 0) * 3 : 0) + 5_000;
      const digests = repo.claimDigests(now, free, lease, this.cfg.digest.maxNotices);
      for (const b of digests) this.launch(b);
      free -= digests.length;
      if (free > 0) for (const b of repo.claimEach('chat', now, free, lease)) this.launch(b);
    }
    if (this.inflight.size >= CONCURRENCY) return; // a completion calls us again
    const next = repo.nextDueAt();
    const wait = next === null ? this.cfg.pollMs : Math.max(0, Math.min(this.cfg.pollMs, next - clock.now()));
    // Something due now but not claimable (leased elsewhere, or in flight here): don't spin.
    this.schedule(wait === 0 ? Math.min(this.cfg.pollMs, 1_000) : wait);
  }

  private launch(b: ClaimedBatch): void {
    const abort = new AbortController();
    const done = (b.channel === 'email' ? this.sendDigest(b) : this.sendChat(b, abort.signal))
      // A store error mid-send: the lease runs out and the batch is tried again later.
      .catch((err: unknown) => this.log?.error({ err, recipient: b.recipient }, 'notification send failed'))
      .finally(() => {
        this.inflight.delete(b.batch);
        if (this.running) this.schedule(0);
      });
    this.inflight.set(b.batch, { abort, done });
  }

  private async sendDigest(b: ClaimedBatch): Promise<void> {
    const { repo, clock } = this.o;
    const now = clock.now();
    const user = this.o.users()?.get(b.recipient);
    if (!user || user.disabled) {
      this.drop(
        b,
        b.entries.map((e) => e.id),
        user ? 'user disabled' : 'no such user',
      );
      return;
    }
    const sub = subscriptionOf(user, repo.settings(user.name), this.cfg.digest.defaultMinutes);
    const keep = b.entries.filter(
      (e) => sub.kinds.includes(e.notice.kind) && mayReceive(user.grant, e.notice),
    );
    const gone = b.entries.filter((e) => !keep.includes(e));
    if (gone.length)
      this.drop(
        b,
        gone.map((e) => e.id),
        'no longer subscribed, or out of the user’s scope',
      );
    if (keep.length === 0) return;
    const ids = keep.map((e) => e.id);
    if (!sub.email) {
      this.drop(b, ids, 'no e-mail address');
      return;
    }
    const until = quietUntil(now, sub.quietHours);
    if (until > now) {
      repo.release(ids, now, until);
      this.log?.debug({ recipient: b.recipient, until }, 'digest held for quiet hours');
      return;
    }
    if (!this.mail) {
      this.fail(b, keep, { ok: false, error: 'no SMTP relay configured', permanent: false });
      return;
    }
    const digest = renderDigest({
      user: user.name,
      notices: keep.map((e) => e.notice),
      dashboardUrl: this.cfg.dashboardUrl,
      timeZone: sub.quietHours?.timeZone,
    });
    const out = await this.mail.send({
      to: sub.email,
      ...digest,
      messageId: `<${b.batch}@shelfsense>`,
    });
    if (out.ok) this.sent(b, ids, keep.length);
    else this.fail(b, keep, out);
  }

  private async sendChat(b: ClaimedBatch, signal: AbortSignal): Promise<void> {
    const { repo, clock } = this.o;
    const ids = b.entries.map((e) => e.id);
    const hook = this.cfg.chat.find((h) => h.name === b.recipient);
    const entry = b.entries[0];
    if (!hook || !entry) {
      this.drop(b, ids, 'chat webhook no longer configured');
      return;
    }
    const out = await this.o.chat({
      url: hook.url,
      body: chatBody(hook.format, entry.notice, this.cfg.dashboardUrl),
      idempotencyKey: `${entry.notice.key}:${hook.name}`,
      timeoutMs: this.cfg.timeoutMs,
      signal,
    });
    if (signal.aborted && !this.running) {
      repo.release(ids, clock.now());
      return;
    }
    if (out.ok) this.sent(b, ids, 1);
    else this.fail(b, b.entries, out);
  }

  private sent(b: ClaimedBatch, ids: number[], notices: number): void {
    this.o.repo.markSent(ids, this.o.clock.now());
    this.counters.sent[b.channel]++;
    this.log?.debug({ channel: b.channel, recipient: b.recipient, notices }, 'notification sent');
    this.safely(() => this.emit('sent', { channel: b.channel, recipient: b.recipient, notices }));
  }

  /**
   * A failed attempt. Each entry has its own attempt budget (a notice may join a digest that failed
   * before): one whose budget is spent, or any refused for good, goes dead; the rest retry together.
   */
  private fail(
    b: ClaimedBatch,
    entries: readonly QueueEntry[],
    out: Extract<SendOutcome, { ok: false }>,
  ): void {
    const now = this.o.clock.now();
    const { retry } = this.cfg;
    const dead = entries.filter((e) => out.permanent || e.attempts >= retry.maxAttempts);
    const live = entries.filter((e) => !dead.includes(e));
    const attempts = Math.max(0, ...live.map((e) => e.attempts));
    const retryAfter = out.status === 429 || out.status === 503 ? parseRetryAfter(out.retryAfter, now) : null;
    const next = live.length ? nextAttemptAt(attempts, now, retry, this.random, retryAfter) : null;
    if (dead.length)
      this.o.repo.markFailed(
        dead.map((e) => e.id),
        out.error,
        null,
        now,
      );
    if (live.length)
      this.o.repo.markFailed(
        live.map((e) => e.id),
        out.error,
        next,
        now,
      );
    this.counters.failed[b.channel]++;
    const fields = { channel: b.channel, recipient: b.recipient, attempts, error: out.error };
    if (dead.length) this.log?.error({ ...fields, notices: dead.length }, 'notification given up');
    if (live.length)
      this.log?.warn({ ...fields, notices: live.length, next }, 'notification failed; will retry');
    this.safely(() =>
      this.emit('failed', {
        channel: b.channel,
        recipient: b.recipient,
        notices: entries.length,
        error: out.error,
      }),
    );
  }

  private drop(b: ClaimedBatch, ids: number[], reason: string): void {
    this.o.repo.markDropped(ids, reason, this.o.clock.now());
    this.counters.dropped[b.channel] += ids.length;
    this.log?.info(
      { channel: b.channel, recipient: b.recipient, notices: ids.length, reason },
      'notification dropped',
    );
    this.safely(() =>
      this.emit('dropped', {
        channel: b.channel,
        recipient: b.recipient,
        notices: ids.length,
        error: reason,
      }),
    );
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log?.error({ err }, 'notification listener failed');
    }
  }
}
