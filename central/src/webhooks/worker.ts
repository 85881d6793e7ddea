/**
 * The webhook delivery worker: takes due events from the outbox, POSTs each to its supplier's URL
 * signed with the supplier's secret, and records the outcome — delivered on a 2xx, otherwise a
 * retry at a persisted time (exponential backoff with jitter, so it survives restarts), and
 * dead-lettered after the attempt limit. Delivery is at least once; the Idempotency-Key header is
 * the same on every attempt, so the supplier can process each event once.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { childLogger } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { WebhooksConfig } from '../rules/config.js';
import type { CentralStore, OutboxRepository } from '../store/repositories.js';
import { nextAttemptAt, parseRetryAfter } from './backoff.js';
import type { OutboxEntry } from './outbox.js';
import { signedHeaders } from './sign.js';

export interface WebhookWorkerOptions {
  store: CentralStore;
  config: WebhooksConfig;
  logger?: Logger;
  /** Central clock (ms); injectable for tests. */
  clock?: () => number;
  /** Source of jitter in [0, 1). */
  random?: () => number;
}

export interface AttemptOutcome {
  entry: OutboxEntry;
  status: number | null;
  error: string | null;
  /** When the next attempt is due (retry only). */
  nextAttemptAt?: number;
  /** How long the POST took, answered or failed (ms; absent when no request was made). */
  requestMs?: number;
}

type Events = {
  delivered: [AttemptOutcome];
  retry: [AttemptOutcome];
  dead: [AttemptOutcome];
  skipped: [AttemptOutcome];
};

interface Response {
  status: number;
  retryAfter: string | undefined;
  text: string;
}

export class WebhookWorker extends EventEmitter<Events> {
  readonly outbox: OutboxRepository;
  readonly counters = { attempts: 0, delivered: 0, retried: 0, dead: 0, skipped: 0 };
  private cfg: WebhooksConfig;
  private readonly log: Logger | undefined;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  private readonly inflight = new Map<number, { abort: AbortController; done: Promise<void> }>();
  /** Suppliers without a webhook already warned about: one warning each, not one per event. */
  private readonly unconfigured = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(o: WebhookWorkerOptions) {
    super();
    this.outbox = o.store.outbox;
    this.cfg = o.config;
    this.log = o.logger && childLogger(o.logger, 'webhooks');
    this.clock = o.clock ?? Date.now;
    this.random = o.random ?? Math.random;
  }

  /** A changed catalogue: the suppliers' webhooks (URL, secret) apply from the next attempt. */
  reconfigure(config: WebhooksConfig): void {
    this.cfg = config;
    this.unconfigured.clear();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops claiming, aborts requests in flight (their attempts are given back), closes sockets. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const f of this.inflight.values()) f.abort.abort();
    await Promise.allSettled([...this.inflight.values()].map((f) => f.done));
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Wakes the worker now (call after committing an order change). */
  notify(): void {
    if (this.running) this.schedule(0);
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
        this.log?.error({ err }, 'webhook cycle failed');
        this.schedule(this.cfg.pollMs);
      }
    }, delayMs);
  }

  /** Claims what is due (up to the free concurrency) and schedules the next wake-up. */
  private cycle(): void {
    if (!this.running) return;
    const free = this.cfg.concurrency - this.inflight.size;
    if (free > 0) {
      const now = this.clock();
      for (const entry of this.outbox.claimDue(now, free, this.cfg.timeoutMs + 5_000)) this.launch(entry);
    }
    if (this.inflight.size >= this.cfg.concurrency) return; // a completion will call us again
    const next = this.outbox.nextDueAt();
    const wait =
      next === null ? this.cfg.pollMs : Math.max(0, Math.min(this.cfg.pollMs, next - this.clock()));
    // Something due right now but blocked (in flight elsewhere): don't spin.
    this.schedule(wait === 0 && this.inflight.size > 0 ? this.cfg.pollMs : Math.max(wait, 1));
  }

  private launch(entry: OutboxEntry): void {
    const abort = new AbortController();
    const done = this.attempt(entry, abort.signal)
      // A store error mid-attempt: the lease runs out and the entry is tried again later.
      .catch((err: unknown) => this.log?.error({ err, eventId: entry.eventId }, 'webhook attempt failed'))
      .finally(() => {
        this.inflight.delete(entry.id);
        if (this.running) this.schedule(0);
      });
    this.inflight.set(entry.id, { abort, done });
  }

  private async attempt(entry: OutboxEntry, signal: AbortSignal): Promise<void> {
    const target = this.cfg.suppliers.find((s) => s.supplier === entry.supplier);
    if (!target) {
      const error = `no webhook configured for supplier ${entry.supplier}`;
      this.outbox.markSkipped(entry.id, error, this.clock());
      this.counters.skipped++;
      if (this.unconfigured.has(entry.supplier)) {
        this.log?.debug({ eventId: entry.eventId, supplier: entry.supplier }, 'webhook skipped');
      } else {
        this.unconfigured.add(entry.supplier);
        this.log?.warn(
          { eventId: entry.eventId, supplier: entry.supplier },
          `${error}: its order events are not sent, only marked skipped in the outbox (warned once` +
            ' per supplier; shelfsense_central_webhook_outbox{state="skipped"} counts them). To send' +
            ' them, add the supplier to replenishment.webhooks.suppliers in the central config (the' +
            ' demo: --webhook URL)',
        );
      }
      this.safely(() => this.emit('skipped', { entry, status: null, error }));
      return;
    }
    this.counters.attempts++;
    const headers = signedHeaders(target.secret, entry.body, {
      timestamp: this.clock(),
      idempotencyKey: entry.idempotencyKey,
      eventId: entry.eventId,
      attempt: entry.attempts,
    });
    let res: Response | null = null;
    let error: string | null = null;
    const sentAt = performance.now();
    try {
      res = await this.post(target.url, headers, entry.body, signal);
    } catch (err) {
      error = (err as Error).message || String(err);
    }
    const requestMs = performance.now() - sentAt;
    if (signal.aborted && !this.running) {
      this.outbox.release(entry.id, this.clock());
      return;
    }
    const now = this.clock();
    if (res && res.status >= 200 && res.status < 300) {
      this.outbox.markDelivered(entry.id, res.status, now);
      this.counters.delivered++;
      this.log?.debug({ eventId: entry.eventId, status: res.status }, 'webhook delivered');
      this.safely(() => this.emit('delivered', { entry, status: res.status, error: null, requestMs }));
      return;
    }
    const status = res?.status ?? null;
    const reason = error ?? `HTTP ${status}${res?.text ? `: ${res.text}` : ''}`;
    const retryAfter =
      res && (status === 429 || status === 503) ? parseRetryAfter(res.retryAfter, now) : null;
    const next = nextAttemptAt(entry.attempts, now, this.cfg.retry, this.random, retryAfter);
    this.outbox.markFailed(entry.id, { status, error: reason }, next, now);
    if (next === null) {
      this.counters.dead++;
      this.log?.error(
        { eventId: entry.eventId, supplier: entry.supplier, attempts: entry.attempts, reason },
        'webhook dead-lettered',
      );
      this.safely(() => this.emit('dead', { entry, status, error: reason, requestMs }));
    } else {
      this.counters.retried++;
      this.log?.warn(
        { eventId: entry.eventId, attempt: entry.attempts, reason, next },
        'webhook failed; will retry',
      );
      this.safely(() => this.emit('retry', { entry, status, error: reason, nextAttemptAt: next, requestMs }));
    }
  }

  private post(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<Response> {
    const u = new URL(url);
    const secure = u.protocol === 'https:';
    const lib = secure ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = lib.request(
        u,
        {
          method: 'POST',
          headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
          agent: secure ? this.agents.https : this.agents.http,
          signal,
          timeout: this.cfg.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < 512) chunks.push(c);
            size += c.length;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: res.headers['retry-after'],
              text: Buffer.concat(chunks).toString('utf8').slice(0, 200),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.cfg.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log?.error({ err }, 'webhook listener failed');
    }
  }
}
