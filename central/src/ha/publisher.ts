/**
 * Publishes Home Assistant discovery and entity states to one broker (central's own, or a user's
 * through a bridge client), retained, and keeps them current:
 *
 * - at start, every entity of the granted sites, Shelfsense's availability `online`, and each
 *   entity's state; topics published before that the map no longer has get an empty retained
 *   payload, which removes the entities from Home Assistant (the list is kept in the data dir);
 * - a state only when it changes, so a level heartbeat writes no recorder row in Home Assistant;
 * - everything again whenever Home Assistant announces itself `online` on `<prefix>/status`, and
 *   after the client reconnects, since a broker may have lost retained messages;
 * - on `update(map)` (the catalogue changed): the new entities, and removal of the ones gone.
 *
 * stop() leaves the discovery configs in place, so entities persist across central restarts;
 * `clear()` removes everything this publisher ever published (the integration turned off).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HomeAssistantConfig } from '@shelfsense/protocol';
import { childLogger, ensurePrivateDir, PRIVATE_FILE_MODE } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  agentAvailabilityTopic,
  availabilityTopic,
  type DiscoveryMessage,
  discoveryMessages,
  type MapInput,
  OFFLINE,
  ONLINE,
} from './discovery.js';
import { HomeAssistantError, HomeAssistantErrorCodes } from './errors.js';
import type { Change, StateTracker } from './states.js';
import type { DiscoveryTransport } from './transport.js';
import { SHELFSENSE_VERSION } from './version.js';

export const PUBLISHED_FILE = 'ha-discovery.json';

const Published = z.strictObject({ topics: z.array(z.string().min(1)) });

export interface HomeAssistantPublisherOptions {
  transport: DiscoveryTransport;
  map: MapInput;
  config: Pick<HomeAssistantConfig, 'prefix' | 'nodeId' | 'followBirth'> & { dashboardUrl?: string };
  /** Entity states; without it only discovery and availability are published. */
  states?: StateTracker;
  /** Only these sites' lanes (absent: every site). */
  sites?: readonly string[];
  /** Where the list of published topics is kept, and its file name there. */
  dataDir: string;
  publishedFile?: string;
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
  /** Entity states published (only changes, and every state again on a republish). */
  states: number;
  /** Stale topics emptied. */
  removed: number;
  /** Birth messages from Home Assistant. */
  births: number;
  /** Births that came within the minimum interval and were answered by one later republish. */
  coalesced: number;
  failures: number;
}

export class HomeAssistantPublisher {
  messages: readonly DiscoveryMessage[] = [];
  readonly counters: HomeAssistantCounters = {
    published: 0,
    states: 0,
    removed: 0,
    births: 0,
    coalesced: 0,
    failures: 0,
  };
  private byShelf = new Map<string, DiscoveryMessage[]>();
  /** The last state payload sent per topic: unchanged states are not sent again. */
  private readonly sent = new Map<string, string>();
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
    this.file = join(o.dataDir, o.publishedFile ?? PUBLISHED_FILE);
    this.setMap(o.map);
  }

  /** The birth/status topic Home Assistant publishes on. */
  get statusTopic(): string {
    return `${this.o.config.prefix}/status`;
  }

  /** Shelfsense's own availability topic on this broker. */
  get availabilityTopic(): string {
    return availabilityTopic(this.o.config);
  }

  private setMap(map: MapInput): void {
    this.messages = discoveryMessages(map, {
      prefix: this.o.config.prefix,
      nodeId: this.o.config.nodeId,
      swVersion: SHELFSENSE_VERSION,
      ...(this.o.sites ? { sites: this.o.sites } : {}),
      ...(this.o.config.dashboardUrl ? { configurationUrl: this.o.config.dashboardUrl } : {}),
    });
    this.byShelf = new Map();
    for (const m of this.messages) {
      const k = `${m.site}/${m.shelf}`;
      const list = this.byShelf.get(k) ?? [];
      list.push(m);
      this.byShelf.set(k, list);
    }
  }

  /** Every topic this publisher owns for the current map (configs, states, availabilities). */
  private ownTopics(): string[] {
    const agents = new Set(this.messages.map((m) => agentAvailabilityTopic(this.o.config, m.site, m.agent)));
    return [
      this.availabilityTopic,
      ...this.messages.flatMap((m) => [m.topic, m.config.state_topic]),
      ...agents,
    ];
  }

  async start(): Promise<void> {
    const t = this.o.transport;
    this.stopped = false;
    try {
      // Follow changes before the first publish reads the states, or one in between is lost.
      if (this.o.states) this.stops.push(this.o.states.onChange((c) => this.onStateChange(c)));
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
      this.log.info({ entities: this.messages.length }, 'home assistant discovery published');
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The catalogue changed: publish the new entities, empty those of lanes that are gone. */
  async update(map: MapInput): Promise<void> {
    this.setMap(map);
    await this.publishing;
    await this.removeStale();
    this.republish();
    await this.publishing;
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
    const t = this.o.transport;
    await t.publish(this.availabilityTopic, ONLINE, true);
    for (const m of this.messages) {
      await t.publish(m.topic, JSON.stringify(m.config), true);
      this.counters.published++;
    }
    // States after the configs: Home Assistant subscribes to a state topic once it has the config.
    this.sent.clear();
    const states = this.o.states;
    if (!states) return;
    const agents = new Set<string>();
    for (const m of this.messages) {
      await this.sendState(m.config.state_topic, states.stateOf(m));
      const topic = agentAvailabilityTopic(this.o.config, m.site, m.agent);
      if (agents.has(topic)) continue;
      agents.add(topic);
      await this.sendState(topic, states.agentAvailability(m.site, m.agent));
    }
  }

  private async sendState(topic: string, payload: string): Promise<void> {
    if (this.sent.get(topic) === payload) return;
    this.sent.set(topic, payload);
    try {
      await this.o.transport.publish(topic, payload, true);
      this.counters.states++;
    } catch (err) {
      // Sent again with the next change or republish.
      this.sent.delete(topic);
      throw err;
    }
  }

  private onStateChange(c: Change): void {
    const states = this.o.states;
    if (this.stopped || !states) return;
    const work: Promise<void>[] = [];
    if ('agent' in c) {
      const topic = agentAvailabilityTopic(this.o.config, c.site, c.agent);
      if (this.messages.some((m) => m.site === c.site && m.agent === c.agent))
        work.push(this.sendState(topic, states.agentAvailability(c.site, c.agent)));
    } else {
      for (const m of this.byShelf.get(`${c.site}/${c.shelf}`) ?? [])
        work.push(this.sendState(m.config.state_topic, states.stateOf(m)));
    }
    Promise.all(work).catch((err: Error) => {
      this.counters.failures++;
      this.log.debug({ err: err.message }, 'home assistant state not published');
    });
  }

  /** Empty retained payloads for what was published before and the current map does not have. */
  private async removeStale(): Promise<void> {
    const current = new Set(this.ownTopics());
    const before = this.readPublished();
    for (const topic of before) {
      if (current.has(topic)) continue;
      await this.o.transport.publish(topic, '', true);
      this.sent.delete(topic);
      this.counters.removed++;
      this.log.info({ topic }, 'home assistant discovery: removed an entity no longer in the map');
    }
    this.writePublished([...current]);
  }

  /** Removes every entity this publisher has published (the integration is turned off). */
  async clear(): Promise<void> {
    await this.withTimeout(
      (async () => {
        const all = new Set([...this.readPublished(), ...this.ownTopics()]);
        for (const topic of all) {
          await this.o.transport.publish(topic, '', true);
          this.counters.removed++;
        }
        this.writePublished([]);
        this.log.info({ removed: all.size }, 'home assistant discovery: every entity removed');
      })(),
    );
  }

  /** Topics published by an earlier run, as the data dir remembers them. */
  hasPublished(): boolean {
    return this.readPublished().length > 0;
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
    // Only our own topics (per-site node ids, the single node id of earlier versions, our
    // availability): never empty something another integration published.
    const { prefix, nodeId } = this.o.config;
    const own = (t: string) =>
      t === this.availabilityTopic ||
      ['sensor', 'binary_sensor'].some(
        (c) => t.startsWith(`${prefix}/${c}/${nodeId}-`) || t.startsWith(`${prefix}/${c}/${nodeId}/`),
      );
    return r.data.topics.filter(own);
  }

  private writePublished(list: string[]): void {
    ensurePrivateDir(this.o.dataDir);
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ topics: list }, null, 1)}\n`, { mode: PRIVATE_FILE_MODE });
    renameSync(tmp, this.file);
  }

  /** Stops following; `offline: true` first marks Shelfsense unavailable on this broker. */
  async stop(o: { offline?: boolean } = {}): Promise<void> {
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
    if (o.offline) {
      await this.o.transport
        .publish(this.availabilityTopic, OFFLINE, true)
        .catch((err: Error) => this.log.debug({ err: err.message }, 'offline not published'));
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
