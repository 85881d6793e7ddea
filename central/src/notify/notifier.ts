/**
 * The Notifier: parts publish notices to it (`services.notifier?.publish(notice)`), and it queues
 * one message per recipient — each user whose grant and settings want the notice, each chat
 * webhook taking its kind and site — in one transaction with the subscription check, in the
 * central store. A key already published queues nothing. Called inside the caller's own
 * transaction, the notice commits (or rolls back) with the caller's change. It never throws: a
 * bad notice or a store error is logged, counted and answered in the result.
 */
import type { NotificationsConfig } from '@shelfsense/protocol';
import { childLogger, toIssues } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Clock } from '../service/part.js';
import type { CentralStore } from '../store/repositories.js';
import { Notice } from './notice.js';
import { type Recipient, recipientsOf } from './scope.js';

/** Where the notifier finds users (central's UserStore has these methods). */
export interface UserDirectory {
  list(): readonly Recipient[];
  get(name: string): Recipient | undefined;
}

export type PublishResult =
  /** Queued: `messages` e-mails and chat posts (0 when nobody wants it). */
  | { status: 'queued'; messages: number }
  /** The key was published before: nothing queued. */
  | { status: 'duplicate'; messages: 0 }
  | { status: 'invalid' | 'failed'; messages: 0; error: string };

export interface NotifierOptions {
  store: CentralStore;
  config: NotificationsConfig;
  users: () => UserDirectory | null;
  clock: Clock;
  logger?: Logger;
  /** Called after a notice queued messages (wakes the sender). */
  onQueued?: () => void;
}

export class Notifier {
  readonly counters = { published: 0, queued: 0, duplicates: 0, invalid: 0, failed: 0 };
  private config: NotificationsConfig;
  private readonly log: Logger | undefined;

  constructor(private readonly o: NotifierOptions) {
    this.config = o.config;
    this.log = o.logger && childLogger(o.logger, 'notifier');
  }

  reconfigure(config: NotificationsConfig): void {
    this.config = config;
  }

  publish(input: Notice): PublishResult {
    const parsed = Notice.safeParse(input);
    if (!parsed.success) {
      this.counters.invalid++;
      const error = toIssues(parsed.error)
        .map((i) => `${i.path || '(root)'}: ${i.message}`)
        .join('; ');
      this.log?.warn({ key: (input as { key?: unknown })?.key, error }, 'notice refused');
      return { status: 'invalid', messages: 0, error };
    }
    const notice = parsed.data;
    const now = this.o.clock.now();
    const users = this.users();
    const { store } = this.o;
    let messages: number | null;
    try {
      messages = store.transaction(() => {
        const repo = store.notifications;
        const entries = recipientsOf(
          notice,
          {
            users,
            settings: new Map(repo.allSettings().map((s) => [s.user, s])),
            defaultMinutes: this.config.digest.defaultMinutes,
            email: this.config.smtp !== undefined,
            chat: this.config.chat,
          },
          now,
        );
        return repo.addNotice(notice, entries, now) ? entries.length : null;
      });
    } catch (err) {
      this.counters.failed++;
      const error = (err as Error).message;
      this.log?.error({ key: notice.key, err: error }, 'notice not queued');
      return { status: 'failed', messages: 0, error };
    }
    if (messages === null) {
      this.counters.duplicates++;
      this.log?.debug({ key: notice.key }, 'notice published before: nothing queued');
      return { status: 'duplicate', messages: 0 };
    }
    this.counters.published++;
    this.counters.queued += messages;
    this.log?.debug({ key: notice.key, kind: notice.kind, messages }, 'notice queued');
    if (messages > 0) {
      try {
        this.o.onQueued?.();
      } catch (err) {
        this.log?.error({ err }, 'notifier listener failed');
      }
    }
    return { status: 'queued', messages };
  }

  private users(): readonly Recipient[] {
    try {
      return this.o.users()?.list() ?? [];
    } catch (err) {
      // Without users, chat webhooks still hear of the notice.
      this.log?.error({ err: (err as Error).message }, 'users not read: no e-mail for this notice');
      return [];
    }
  }
}
