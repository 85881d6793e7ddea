/**
 * A cluster worker: ingest and rules for the partitions it leases, on the Postgres store.
 *
 * Readings arrive partitioned in the workers' JetStream stream (partition.ts, read by
 * readings-stream.ts). Each round of
 * leases (Postgres, pg/leases.ts) tells the worker which partitions are its own; for each it reads
 * the partition's durable consumer, one batch at a time, and commits the batch in ONE transaction:
 * the lease still held under its epoch (fencing), the readings (duplicates dropped by site, agent
 * and seq), and the rules run on what was new — lane state, orders, alerts, outbox. Only then are
 * the messages acknowledged, so a worker killed anywhere in a batch leaves either nothing (the
 * batch is handed out again) or everything (the redelivered copies are duplicates, and the rules
 * saw the readings once). The one-live-order rule is the database's, not the worker's.
 *
 * The rules engine and the order service are central's own, on SyncPgStore. A worker's engine
 * knows only the lanes of its partitions; it is built afresh whenever they change, and after a
 * batch that failed (its cache may hold what was rolled back).
 *
 * Out over MQTT (a `service` user of the devices' account): each agent's stored mark, retained, so
 * the agents trim their outboxes as they do against one central; order and alert events; the
 * agents' lane settings. In: agent status and shelf health (retained), which every worker applies
 * to its own lanes.
 */
import { hostname } from 'node:os';
import { type JsMsg, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  type AgentStatusPayload,
  type CentralConfig,
  type ClusterConfig,
  childLogger,
  clientIds,
  filters,
  type HealthPayload,
  PayloadSchemas,
  parseJsonWith,
  ShelfMap,
  topics,
  withCatalogue,
} from '@shelfsense/protocol';
import type { Logger } from 'pino';
import { announce, MqttBus } from '../bus/bus.js';
import { ensureCatalogue } from '../catalogue/seed.js';
import { OrderService } from '../orders/orders.js';
import { PurchaseOrderService } from '../orders/purchase-orders.js';
import { RulesEngine } from '../rules/engine.js';
import { closedAtFor } from '../rules/hours.js';
import { type LaneInfo, lanesFromCentral } from '../rules/lanes.js';
import type { Lease } from '../store/pg/leases.js';
import { SyncPgStore } from '../store/pg/sync-store.js';
import type { CommitResult, ReadingInput } from '../store/readings.js';
import { WebhookWorker } from '../webhooks/worker.js';
import { parsePartitioned, partitionOf } from './partition.js';
import { ensureReadingsStream, type PartitionReader, readPartition } from './readings-stream.js';

export interface WorkerOptions {
  /** central.yaml, with its `cluster` section. */
  config: CentralConfig & { cluster: ClusterConfig };
  /** Unique among the workers (default host-pid). */
  id?: string;
  natsPassword?: string | undefined;
  mqttPassword?: string | undefined;
  log: Logger;
  clock?: () => number;
}

export interface WorkerCounters {
  received: number;
  committed: number;
  duplicates: number;
  invalid: number;
  batches: number;
  /** Batches given back: the lease was lost, or the commit failed. */
  returned: number;
}

class LeaseLost extends Error {}

/** Stored marks are published at most this often per agent: each is a retained message, kept in
 * JetStream on three nodes, and only the newest counts. */
const MARKS_MS = 100;

/**
 * A crash at the one point where Postgres has a batch and JetStream does not know it: with
 * `SHELFSENSE_WORKER_FAULT=kill-after-commit:N` the worker SIGKILLs itself right after its Nth
 * committed batch, before the acks. For the fault suite; read once at start, off when unset.
 */
function killAfterCommit(env = process.env.SHELFSENSE_WORKER_FAULT): number | null {
  const m = /^kill-after-commit:(\d+)$/.exec(env ?? '');
  return m ? Number(m[1]) : null;
}

export class ClusterWorker {
  readonly id: string;
  readonly counters: WorkerCounters = {
    received: 0,
    committed: 0,
    duplicates: 0,
    invalid: 0,
    batches: 0,
    returned: 0,
  };
  private readonly cfg: ClusterConfig;
  private readonly log: Logger;
  private readonly clock: () => number;
  private base: CentralConfig;
  private effective: CentralConfig;
  private map: ShelfMap;
  private catalogueVersion = 0;
  private store: SyncPgStore | null = null;
  private nc: NatsConnection | null = null;
  private readonly bus: MqttBus;
  private orders: OrderService | null = null;
  private purchaseOrders: PurchaseOrderService | null = null;
  private engine: RulesEngine | null = null;
  private webhooks: WebhookWorker | null = null;
  private readonly loops = new Map<number, PartitionReader>();
  private timer: NodeJS.Timeout | null = null;
  private rounding = false;
  private stopping = false;
  /** Order and alert events of the batch in flight: published once it commits. */
  private pending: (() => void)[] | null = null;
  /** Marks committed and not yet published, per site/agent. */
  private readonly marks = new Map<string, { site: string; agent: string; mark: number }>();
  private marksTimer: NodeJS.Timeout | null = null;
  private readonly statuses = new Map<string, { site: string; payload: AgentStatusPayload }>();
  private readonly healths = new Map<string, { site: string; shelf: string; payload: HealthPayload }>();
  private readonly killAfter = killAfterCommit();

  constructor(private readonly o: WorkerOptions) {
    this.id = o.id ?? `${hostname()}-${process.pid}`;
    this.cfg = o.config.cluster;
    this.log = childLogger(o.log, 'worker');
    this.clock = o.clock ?? Date.now;
    this.base = o.config;
    this.effective = o.config;
    this.map = new ShelfMap(o.config);
    this.bus = new MqttBus(childLogger(o.log, 'bus'));
  }

  /** The partitions this worker holds now. */
  get partitions(): number[] {
    return [...this.loops.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const c = this.cfg;
    const store = SyncPgStore.open({
      url: c.postgres.url,
      schema: c.postgres.schema,
      poolSize: c.postgres.poolSize,
    });
    this.store = store;
    const seeded = store.transaction(() => {
      store.leases.seedLock();
      return ensureCatalogue(store, this.base);
    });
    this.useCatalogue(seeded.catalogue, seeded.version);

    this.nc = await connect({
      servers: c.nats.servers,
      user: c.nats.user,
      ...(this.o.natsPassword !== undefined ? { pass: this.o.natsPassword } : {}),
      name: `shelfsense-worker ${this.id}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    await ensureReadingsStream(await jetstreamManager(this.nc), this.cfg);

    await this.bus.connect({
      url: c.mqtt.urls,
      clientId: `${clientIds.centralPrefix}worker-${this.id}`.slice(0, 64),
      username: c.mqtt.username,
      password: this.o.mqttPassword,
    });

    this.orders = new OrderService(store, {
      logger: this.o.log,
      onEvent: (e) =>
        this.later(() => {
          this.webhooks?.notify();
          announce(this.bus, topics.order(e.site, e.shelf, e.lane), e, this.log);
        }),
    });
    // Needs of suppliers with a schedule join their purchase orders here; the web nodes' orders
    // part sends the drafts at the cut-off and sweeps up any need a crash left on no PO.
    this.purchaseOrders = new PurchaseOrderService(store, this.orders, {
      config: () => this.effective,
      logger: this.o.log,
      onEvent: () => this.later(() => this.webhooks?.notify()),
    });
    this.orders.gatherer = this.purchaseOrders;
    if (c.webhooks) {
      this.webhooks = new WebhookWorker({
        store,
        config: this.effective.replenishment.webhooks,
        logger: this.o.log,
      });
      this.webhooks.start();
    }
    this.rebuildEngine();
    await this.bus.subscribe(filters.agentKind('status'), (ref, p) => this.onStatus(ref.site, p), {
      retained: true,
    });
    await this.bus.subscribe(filters.health(), (ref, p) => this.onHealth(ref.site, ref.shelf, p), {
      retained: true,
    });
    // Reads the store: with Postgres away a throw out of the MQTT client's 'connect' would end the
    // process (the next reconnect or catalogue change publishes them again).
    this.bus.onConnect(() => this.safely(() => this.publishLaneSettings()));
    this.publishLaneSettings();

    await this.round();
    this.timer = setInterval(() => void this.round(), Math.max(100, Math.floor(c.leaseMs / 3)));
    this.log.info({ id: this.id, partitions: this.partitions }, 'worker started');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const loops = [...this.loops.values()];
    for (const l of loops) l.end();
    await Promise.all(loops.map((l) => l.done));
    this.publishMarks();
    this.loops.clear();
    this.engine?.stop();
    this.engine = null;
    await this.webhooks?.stop();
    try {
      this.store?.leases.leave(this.id);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'leases not given back; they expire');
    }
    await this.nc?.drain().catch(() => undefined);
    await this.bus.close().catch(() => undefined);
    this.safely(() => this.store?.close());
    this.store = null;
  }

  /** One lease round, then the partition loops and the engine follow what it says. */
  private async round(): Promise<void> {
    if (this.rounding || this.stopping || !this.store) return;
    this.rounding = true;
    try {
      let held: Lease[];
      try {
        this.checkCatalogue();
        held = this.store.leases.round(this.id, this.cfg.partitions, this.cfg.leaseMs, this.clock()).held;
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'lease round failed');
        // Without a renewal the leases run out: stop before anyone else may take them.
        const now = this.clock();
        for (const [p, l] of this.loops) if (l.lease.expiresAt - this.cfg.leaseMs / 3 <= now) this.drop(p);
        return;
      }
      const next = new Map(held.map((l) => [l.partition, l]));
      let changed = false;
      for (const [p, l] of this.loops) {
        const lease = next.get(p);
        if (!lease || lease.epoch !== l.lease.epoch) {
          this.drop(p);
          changed = true;
        } else l.lease = lease;
      }
      for (const [p, lease] of next) {
        if (this.loops.has(p)) continue;
        this.loops.set(p, this.loop(p, lease));
        changed = true;
      }
      if (changed || !this.engine) this.rebuildEngine();
      if (changed) this.log.info({ partitions: this.partitions }, 'partitions changed');
    } catch (err) {
      // Postgres gone between two calls: the next round tries again; a rejection here would end
      // the process.
      this.log.warn({ err: (err as Error).message }, 'lease round incomplete');
    } finally {
      this.rounding = false;
    }
  }

  private drop(p: number): void {
    const l = this.loops.get(p);
    if (!l) return;
    l.end();
    this.loops.delete(p);
  }

  private loop(p: number, lease: Lease): PartitionReader {
    return readPartition({
      nc: this.nc as NatsConnection,
      partition: p,
      lease,
      batchSize: this.cfg.batchSize,
      onBatch: (batch, ackAll, epoch) => this.process(p, epoch, batch, ackAll),
      stopping: () => this.stopping,
      log: this.log,
    });
  }

  /** Commits a batch with its rules in one transaction, then acknowledges it. */
  private process(p: number, epoch: number, msgs: JsMsg[], ackAll: boolean): void {
    const store = this.store as SyncPgStore;
    const batch: ReadingInput[] = [];
    for (const m of msgs) {
      this.counters.received++;
      const r = this.reading(m);
      if (r) batch.push(r);
    }
    this.pending = [];
    let result: CommitResult;
    try {
      // Readings committed without the rules would never order: no engine, no commit.
      if (!this.engine) this.rebuildEngine();
      if (!this.engine) throw new Error('the rules engine could not start');
      result = store.transaction(() => {
        if (!store.leases.holds(this.id, p, epoch, this.clock())) throw new LeaseLost(`partition ${p} lost`);
        const r = store.readings.commit(batch, this.clock());
        if (r.accepted.length) (this.engine as RulesEngine).onReadings(r.accepted);
        return r;
      });
    } catch (err) {
      this.pending = null;
      this.counters.returned++;
      // A lost lease: its next holder takes them at once. A failed commit (Postgres away): not
      // before a second, rather than round and round.
      const delay = err instanceof LeaseLost ? undefined : 1_000;
      for (const m of msgs) m.nak(delay);
      if (err instanceof LeaseLost) this.drop(p);
      else this.log.error({ err: (err as Error).message, partition: p }, 'batch not committed; handed back');
      // The engine's cache may hold what was rolled back: drop it, unwritten.
      this.rebuildEngine({ discard: true });
      return;
    }
    const publish = this.pending;
    this.pending = null;
    if (this.killAfter !== null && this.counters.batches + 1 >= this.killAfter)
      process.kill(process.pid, 'SIGKILL');
    if (ackAll) msgs[msgs.length - 1]?.ack();
    else for (const m of msgs) m.ack();
    this.counters.batches++;
    this.counters.committed += result.accepted.length;
    this.counters.duplicates += result.duplicates;
    for (const m of result.marks) {
      const key = `${m.site}/${m.agent}`;
      const was = this.marks.get(key);
      if (!was || was.mark < m.mark) this.marks.set(key, { site: m.site, agent: m.agent, mark: m.mark });
    }
    this.marksTimer ??= setTimeout(() => this.publishMarks(), MARKS_MS);
    for (const fn of publish) fn();
  }

  /** Each agent's newest stored mark, retained, once for all the batches since the last time. */
  private publishMarks(): void {
    if (this.marksTimer) clearTimeout(this.marksTimer);
    this.marksTimer = null;
    const now = this.clock();
    for (const m of this.marks.values())
      announce(this.bus, topics.stored(m.site, m.agent), { agent: m.agent, seq: m.mark, ts: now }, this.log);
    this.marks.clear();
  }

  /** A valid reading from its message, or null (counted, and acknowledged: it will never pass). */
  private reading(m: JsMsg): ReadingInput | null {
    const ref = parsePartitioned(m.subject);
    try {
      if (!ref) throw new Error(`${m.subject} is not a partitioned reading`);
      const payload = parseJsonWith(PayloadSchemas[ref.kind], Buffer.from(m.data), ref.kind);
      const owner = this.map.agentOf(ref.site, ref.shelf);
      if (owner !== undefined && owner !== payload.agent)
        throw new Error(
          `the body names agent ${payload.agent}; shelf ${ref.shelf} at ${ref.site} is served by ${owner}`,
        );
      return { site: ref.site, shelf: ref.shelf, lane: ref.lane, kind: ref.kind, payload } as ReadingInput;
    } catch (err) {
      this.counters.invalid++;
      this.log.debug({ subject: m.subject, err: (err as Error).message }, 'ignored an invalid reading');
      return null;
    }
  }

  /** Runs `fn` after the batch in flight commits, or now outside a batch. */
  private later(fn: () => void): void {
    if (this.pending) this.pending.push(fn);
    else fn();
  }

  private ownedLanes(): LaneInfo[] {
    const mine = new Set(this.loops.keys());
    return lanesFromCentral(this.effective).filter((l) => mine.has(partitionOf(l, this.cfg.partitions)));
  }

  /**
   * A fresh engine for the partitions held. With Postgres away it cannot load its lanes: the worker
   * is then left without one, and the next batch or round builds it again.
   */
  private rebuildEngine(o: { discard?: boolean } = {}): void {
    if (!this.store || !this.orders || this.stopping) return;
    const old = this.engine;
    this.engine = null;
    try {
      old?.stop({ flush: !o.discard });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'rules state not flushed on rebuild');
    }
    const engine = new RulesEngine({
      store: this.store,
      orders: this.orders,
      config: this.effective.replenishment,
      lanes: this.ownedLanes(),
      offlineAfterMs: this.effective.timing.offlineAfterMs,
      logger: this.o.log,
      clock: this.clock,
      leadTime: (site, supplier) => this.purchaseOrders?.learnedLeadTime(site, supplier) ?? null,
      closedAt: closedAtFor(this.effective),
    });
    engine.on('alert', (a) =>
      this.later(() => announce(this.bus, topics.alert(a.site, a.shelf, a.lane), a, this.log)),
    );
    try {
      engine.start();
      // What the retained topics said: the new engine's lanes start from it.
      for (const s of this.statuses.values()) engine.onAgentStatus(s.site, s.payload);
      for (const h of this.healths.values()) engine.onHealth(h.site, h.shelf, h.payload);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'rules engine not started; retried');
      try {
        engine.stop();
      } catch {
        // Its timers are cleared before the flush that failed.
      }
      return;
    }
    this.engine = engine;
  }

  private onStatus(site: string, p: AgentStatusPayload): void {
    if (p.site !== site) return;
    this.statuses.set(`${site}/${p.agent}`, { site, payload: p });
    this.safely(() => this.engine?.onAgentStatus(site, p));
  }

  private onHealth(site: string, shelf: string, p: HealthPayload): void {
    const owner = this.map.agentOf(site, shelf);
    if (owner !== undefined && owner !== p.agent) return;
    this.healths.set(`${site}/${shelf}`, { site, shelf, payload: p });
    this.safely(() => this.engine?.onHealth(site, shelf, p));
    // Kept once: by the worker holding the shelf's own partition (its id with an empty lane).
    const p0 = partitionOf({ site, shelf, lane: '' }, this.cfg.partitions);
    if (this.loops.has(p0)) this.safely(() => this.store?.health.put([{ site, shelf, payload: p }]));
  }

  private checkCatalogue(): void {
    const store = this.store;
    if (!store) return;
    const version = store.catalogue.version();
    if (version <= this.catalogueVersion) return;
    const current = store.catalogue.current();
    if (!current) return;
    this.useCatalogue(current.catalogue, current.version);
    this.webhooks?.reconfigure(this.effective.replenishment.webhooks);
    this.rebuildEngine();
    this.publishLaneSettings();
    this.log.info({ version }, 'catalogue taken up');
  }

  private useCatalogue(catalogue: Parameters<typeof withCatalogue>[1], version: number): void {
    this.effective = withCatalogue(this.base, catalogue);
    this.map.reload(catalogue);
    this.catalogueVersion = version;
  }

  /**
   * Every agent's lane settings, retained. The revision is the catalogue version's time in
   * seconds: the same from every worker, and growing with each version.
   */
  private publishLaneSettings(): void {
    const at = this.store?.catalogue.get(this.catalogueVersion)?.appliedAt ?? this.clock();
    const revision = Math.floor(at / 1000);
    for (const { site, agent } of this.map.agents()) {
      const body = this.map.laneSettingsFor(site, agent, revision);
      if (!this.bus.ready) return;
      this.bus
        .publish(topics.laneSettings(site, agent), body, { retain: true })
        .catch((err: Error) => this.log.debug({ err: err.message }, 'lane settings not published'));
    }
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'worker step failed');
    }
  }
}
