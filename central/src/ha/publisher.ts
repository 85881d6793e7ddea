/**
 * Publishes Home Assistant discovery for the shelf map, retained, and keeps it current:
 *
 * - at start, every lane's sensors; sensors of lanes that left the map since the last run get an
 *   empty retained config, which removes them from Home Assistant (the topics published last time
 *   are remembered in the data dir);
 * - again whenever Home Assistant announces itself `online` on `<prefix>/status` (its birth
 *   message), and after central's client reconnects, since a broker may have lost retained messages.
 *
 * stop() leaves the retained configs in place, so Home Assistant keeps its entities across central
 * restarts.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CentralConfig, HomeAssistantConfig } from '@shelfsense/protocol';
import { childLogger, ensurePrivateDir, PRIVATE_FILE_MODE } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type DiscoveryMessage, discoveryMessages } from './discovery.js';
import { HomeAssistantError, HomeAssistantErrorCodes } from './errors.js';
import type { DiscoveryTransport } from './transport.js';

export const PUBLISHED_FILE = 'ha-discovery.json';

const Published = z.strictObject({ topics: z.array(z.string().min(1)) });

export interface HomeAssistantPublisherOptions {
  transport: DiscoveryTransport;
  map: Pick<CentralConfig, 'sites' | 'skus'>;
  config: HomeAssistantConfig;
  /** Where the list of published topics is kept. */
  dataDir: string;
  log: Logger;
  /** start() fails if the broker has not taken the first publish in this time (default 15 s). */
  publishTimeoutMs?: number;
  /**
   * Births closer together than this are answered by one republish after the interval (default
   * 5 s), so a client repeating `online` cannot make central publish every config again and again.
   */
  birthMinIntervalMs?: number;
}

export interface HomeAssistantCounters {
  /** Discovery configs published (each republish counts again). */
  published: number;
  /** Stale configs removed. */
  removed: number;
  /** Birth messages from Home Assistant. */
  births: number;
  /** Births that came within the minimum interval and were answered by one later republish. */
  coalesced: number;
  failures: number;
}

export class HomeAssistantPublisher {
  readonly messages: readonly DiscoveryMessage[];
  readonly counters: HomeAssistantCounters = {
    published: 0,
    removed: 0,
    births: 0,
    coalesced: 0,
    failures: 0,
  };
  private lastBirthRepublish = Number.NEGATIVE_INFINITY;
  private birthTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  private readonly file: string;
  private readonly stops: (() => void | Promise<void>)[] = [];
  private publishing: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly o: HomeAssistantPublisherOptions) {
    this.log = childLogger(o.log, 'home-assistant');
    this.messages = discoveryMessages(o.map, o.config);
    this.file = join(o.dataDir, PUBLISHED_FILE);
  }

  /** The birth/status topic Home Assistant publishes on. */
  get statusTopic(): string {
    return `${this.o.config.prefix}/status`;
  }

  async start(): Promise<void> {
    const t = this.o.transport;
    this.stopped = false;
    try {
      await this.withTimeout(this.removeStale().then(() => this.publishAll()));
      if (this.o.config.followBirth) {
        const off = await t.subscribe(this.statusTopic, (payload) => {
          if (payload.toString('utf8').trim() !== 'online') return;
          this.counters.births++;
          this.onBirth();
        });
        this.stops.push(off);
        this.stops.push(() => {
          if (this.birthTimer) clearTimeout(this.birthTimer);
          this.birthTimer = null;
        });
      }
      this.stops.push(t.onReconnect(() => this.republish()));
      this.log.info({ sensors: this.messages.length }, 'home assistant discovery published');
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async withTimeout(work: Promise<void>): Promise<void> {
    const ms = this.o.publishTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HomeAssistantError(
              HomeAssistantErrorCodes.PUBLISH,
              `the broker did not take the discovery messages within ${ms} ms`,
            ),
          ),
        ms,
      );
    });
    try {
      await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onBirth(): void {
    const wait = this.lastBirthRepublish + (this.o.birthMinIntervalMs ?? 5_000) - Date.now();
    if (wait <= 0) {
      this.lastBirthRepublish = Date.now();
      this.log.info('home assistant is online: publishing discovery again');
      this.republish();
      return;
    }
    this.counters.coalesced++;
    this.birthTimer ??= setTimeout(() => {
      this.birthTimer = null;
      this.lastBirthRepublish = Date.now();
      this.log.info(
        { coalesced: this.counters.coalesced },
        'home assistant births: publishing discovery again',
      );
      this.republish();
    }, wait);
  }

  /** Publishes everything again, once more after any run in progress (never two at a time). */
  republish(): void {
    if (this.stopped) return;
    if (this.publishing) {
      this.again = true;
      return;
    }
    this.publishing = this.publishAll()
      .catch((err: Error) => {
        this.counters.failures++;
        this.log.warn({ err: err.message }, 'home assistant discovery: publish failed');
      })
      .finally(() => {
        this.publishing = null;
        if (this.again) {
          this.again = false;
          this.republish();
        }
      });
  }

  private async publishAll(): Promise<void> {
    for (const m of this.messages) {
      await this.o.transport.publish(m.topic, JSON.stringify(m.config), true);
      this.counters.published++;
    }
  }

  /** Empty retained configs for what the last run published and this one does not. */
  private async removeStale(): Promise<void> {
    const current = new Set(this.messages.map((m) => m.topic));
    const before = this.readPublished();
    for (const topic of before) {
      if (current.has(topic)) continue;
      await this.o.transport.publish(topic, '', true);
      this.counters.removed++;
      this.log.info({ topic }, 'home assistant discovery: removed a sensor no longer in the map');
    }
    this.writePublished([...current]);
  }

  private readPublished(): string[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    const r = Published.safeParse(parseJson(text));
    if (!r.success) {
      this.log.warn(
        { file: this.file },
        'home assistant discovery: list of published topics unreadable; ignored',
      );
      return [];
    }
    // Only our own topics (per-site node ids, and the single node id of earlier versions): never
    // empty something another integration published.
    const own = `${this.o.config.prefix}/sensor/${this.o.config.nodeId}`;
    return r.data.topics.filter((t) => t.startsWith(`${own}-`) || t.startsWith(`${own}/`));
  }

  private writePublished(list: string[]): void {
    ensurePrivateDir(this.o.dataDir);
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ topics: list }, null, 1)}\n`, { mode: PRIVATE_FILE_MODE });
    renameSync(tmp, this.file);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.again = false;
    for (const s of this.stops.splice(0)) {
      try {
        await s();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'home assistant discovery: error while stopping');
      }
    }
    await this.publishing;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
