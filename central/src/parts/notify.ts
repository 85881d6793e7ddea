/**
 * Notifications (docs/notifications.md): the Notifier other parts publish notices to
 * (`services.notifier`), the alerts it turns into notices, and the sender loop that e-mails
 * digests and posts to chat webhooks. Runs when `notifications` is configured and enabled; one
 * notifier per process (a second notify part finding one stands aside). Every central process
 * may run it: the queue's leases keep two from sending the same message.
 */
import { UserStore } from '@shelfsense/broker';
import { Gauge } from 'prom-client';
import { AlertWatcher } from '../notify/alerts.js';
import { Notifier, type UserDirectory } from '../notify/notifier.js';
import { NotificationSender } from '../notify/sender.js';
import { type ChatTransport, type MailTransport, postChat, smtpTransport } from '../notify/transports.js';
import type { Clock, Part, PartContext } from '../service/part.js';
import { mirrorCounter } from '../service/prom.js';

export const NOTIFICATIONS_SENT_METRIC = 'shelfsense_central_notifications_sent_total';
export const NOTIFICATIONS_FAILED_METRIC = 'shelfsense_central_notifications_failed_total';
export const NOTIFICATION_QUEUE_METRIC = 'shelfsense_central_notification_queue';

export interface NotifyPartOptions {
  /** The clock queueing and sending read (default: the part context's). */
  clock?: Clock;
  /** Instead of the configured SMTP relay. */
  mail?: MailTransport;
  /** Instead of posting with fetch. */
  chat?: ChatTransport;
}

export function notifyPart(options: NotifyPartOptions = {}): Part {
  let sender: NotificationSender | null = null;
  let watcher: AlertWatcher | null = null;
  let mail: MailTransport | null = null;
  let own: UserStore | null = null;
  const offs: (() => void)[] = [];
  return {
    name: 'notify',
    start(ctx) {
      const config = ctx.config.notifications;
      if (!config?.enabled) return;
      if (ctx.services.notifier) {
        ctx.log.info('a notifier runs already in this process: this one stands aside');
        return;
      }
      const clock = options.clock ?? ctx.clock;
      /** Central's users (the broker's or the API's store), else a store of its own over users.db. */
      const users = (): UserDirectory => {
        if (ctx.services.users) return ctx.services.users;
        own ??= new UserStore(ctx.dataDir, { scrypt: ctx.config.auth.scrypt, login: ctx.config.auth.login });
        return own;
      };
      mail = options.mail ?? (config.smtp ? smtpTransport(config.smtp) : null);
      const s = new NotificationSender({
        repo: ctx.store.notifications,
        config,
        mail,
        chat: options.chat ?? postChat,
        users,
        clock,
        logger: ctx.log,
      });
      sender = s;
      const notifier = new Notifier({
        store: ctx.store,
        config,
        users,
        clock,
        logger: ctx.log,
        onQueued: () => s.notify(),
      });
      const skus = new Map(ctx.config.skus.map((k) => [k.id, k.name]));
      watcher = new AlertWatcher({
        store: ctx.store,
        map: ctx.map,
        clock,
        publish: (n) => {
          const r = notifier.publish(n);
          return r.status === 'queued' || r.status === 'duplicate';
        },
        skuName: (sku) => skus.get(sku),
        catchUpMs: config.catchUpMs,
        scanMs: config.alertScanMs,
        log: ctx.log,
      });
      const rules = ctx.services.rules;
      if (rules) {
        const onAlert = watcher.onAlert;
        rules.on('alert', onAlert);
        offs.push(() => rules.off('alert', onAlert));
      }
      metrics(ctx, s);
      ctx.services.notifier = notifier;
      offs.push(() => {
        if (ctx.services.notifier === notifier) delete ctx.services.notifier;
      });
      watcher.start();
      s.start();
      prune(ctx, config.retainMs, clock, offs);
      ctx.log.info({ email: mail !== null, chat: config.chat.map((c) => c.name) }, 'notifications on');
    },
    async stop() {
      for (const off of offs.splice(0)) off();
      watcher?.stop();
      watcher = null;
      await sender?.stop();
      sender = null;
      mail?.close();
      mail = null;
      own?.close();
      own = null;
    },
  };
}

function metrics(ctx: PartContext, sender: NotificationSender): void {
  const { registry, store } = ctx;
  // A central started again in one process registers them anew.
  for (const name of [NOTIFICATIONS_SENT_METRIC, NOTIFICATIONS_FAILED_METRIC, NOTIFICATION_QUEUE_METRIC])
    registry.removeSingleMetric(name);
  mirrorCounter(
    registry,
    NOTIFICATIONS_SENT_METRIC,
    'notification messages sent (an e-mail digest counts once), by channel',
    () => sender.counters.sent,
    'channel',
  );
  mirrorCounter(
    registry,
    NOTIFICATIONS_FAILED_METRIC,
    'notification sends that failed (each failed attempt), by channel',
    () => sender.counters.failed,
    'channel',
  );
  new Gauge({
    name: NOTIFICATION_QUEUE_METRIC,
    help: 'notification queue entries by channel and state',
    labelNames: ['channel', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of store.notifications.counts()) this.set({ channel: r.channel, state: r.state }, r.n);
    },
  });
}

/** Notices older than `retainMs`, with nothing left to send, are deleted hourly. */
function prune(ctx: PartContext, retainMs: number, clock: Clock, offs: (() => void)[]): void {
  const run = () => {
    try {
      const n = ctx.store.notifications.prune(clock.now() - retainMs);
      if (n > 0) ctx.log.debug({ notices: n }, 'old notices pruned');
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, 'old notices not pruned');
    }
  };
  run();
  const timer = setInterval(run, 3_600_000);
  timer.unref();
  offs.push(() => clearInterval(timer));
}
