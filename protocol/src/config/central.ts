/**
 * The central side's YAML config: the shelf map (the one source of truth for which SKU sits where
 * and which supplier owns it), then the parts that run: the MQTT broker and its authentication.
 */

import { z } from 'zod';
import { Id, Serial } from '../payloads.js';
import { TOPIC_ROOT } from '../topics.js';
import { ClusterConfig } from './cluster.js';
import { Duration, LogLevel, TimerDuration } from './common.js';
import { HistoryConfig } from './history.js';
import { OpeningHours } from './hours.js';
import { IntegrationsConfig } from './integrations.js';
import { NotificationsConfig } from './notifications.js';
import { ReplenishmentConfig } from './replenishment.js';
import { DeliverySchedule } from './schedule.js';

export const CentralLane = z.strictObject({
  id: Id,
  channels: z.array(z.number().int().min(0).max(7)).min(1),
  sku: Id,
  capacity: z.number().int().positive().optional(),
});

export const CentralShelf = z.strictObject({
  id: Id.check(z.refine((s) => s !== 'agents', 'the shelf id "agents" is reserved')),
  serial: Serial,
  agent: Id,
  lanes: z.array(CentralLane).min(1),
});

export const CentralSite = z.strictObject({
  id: Id,
  name: z.string().optional(),
  shelves: z.array(CentralShelf).default([]),
  /** When the store is open; a count change outside them is tamper. Absent: always open. */
  openingHours: OpeningHours.optional(),
});

export const Sku = z.strictObject({
  id: Id,
  name: z.string().optional(),
  unitWeightG: z.number().positive(),
  supplier: Id,
});

/** Someone at a supplier to reach about its orders and deliveries. */
export const SupplierContact = z.strictObject({
  name: z.string().min(1).max(200),
  email: z.email().optional(),
  phone: z
    .string()
    .regex(/^\+?[0-9 ()./-]{3,32}$/, 'a phone number: digits, spaces and + ( ) . / -')
    .optional(),
});

export const Supplier = z.strictObject({
  id: Id,
  name: z.string().optional(),
  contacts: z.array(SupplierContact).max(20).optional(),
  /** When the supplier takes orders and delivers; without it, every need is sent at once. */
  schedule: DeliverySchedule.optional(),
});

// --- roles -----------------------------------------------------------------------------------------

export const ROLES = [
  'agent',
  'supplier',
  'operator',
  'technician',
  'homeassistant',
  'service',
  'admin',
] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/**
 * What a role is bound to. An agent to one site and its agent id; a supplier to its supplier id;
 * operators, technicians and Home Assistant to sites (Home Assistant also to its discovery
 * prefix, `homeassistant` unless given); service and admin to nothing.
 */
export const Grant = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('agent'), site: Id, agent: Id }),
  z.strictObject({ role: z.literal('supplier'), supplier: Id }),
  z.strictObject({ role: z.literal('operator'), sites: z.array(Id).min(1) }),
  z.strictObject({ role: z.literal('technician'), sites: z.array(Id).min(1) }),
  z.strictObject({
    role: z.literal('homeassistant'),
    sites: z.array(Id).min(1),
    /** Home Assistant's discovery prefix (default `homeassistant`); never the Shelfsense tree. */
    prefix: z.optional(
      Id.check(z.refine((p) => p !== TOPIC_ROOT.split('/')[0], 'must not be the Shelfsense topic root')),
    ),
  }),
  z.strictObject({ role: z.literal('service') }),
  z.strictObject({ role: z.literal('admin') }),
]);
export type Grant = z.infer<typeof Grant>;

// --- broker ----------------------------------------------------------------------------------------

const Port = z.number().int().min(0).max(65535);

export const MqttLimits = z.strictObject({
  /** Largest MQTT packet accepted from a client; a larger one closes the connection. */
  maxPacketBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(256 * 1024),
  /** Messages routed at once (aedes/mqemitter `concurrency`). */
  concurrency: z.number().int().min(1).max(100_000).default(100),
  /** Messages waiting to be routed; above this, QoS 0 publishes are dropped (and counted). */
  maxBacklog: z.number().int().min(1).default(10_000),
  /** Bytes waiting in one subscriber's socket; above this, QoS 0 deliveries to it are dropped. */
  maxClientOutBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Packets a client may send before its CONNACK (aedes `queueLimit`). */
  queueLimit: z.number().int().min(1).max(10_000).default(42),
  /** Inbound QoS 2 messages awaiting PUBREL per client (aedes `maxInflightInbound`). */
  maxInflightInbound: z.number().int().min(1).max(65_535).default(100),
  /** A client that sends no CONNECT in this time is dropped. */
  connectTimeoutMs: z._default(TimerDuration, 10_000),
  /** A subscriber whose socket does not drain in this time is disconnected. */
  drainTimeoutMs: z._default(TimerDuration, 60_000),
  /** Largest keepalive a client may ask for, seconds (0: no limit). */
  keepaliveLimitS: z.number().int().min(0).max(65_535).default(0),
  /** Topic filters in one SUBSCRIBE or UNSUBSCRIBE; a packet with more closes the connection. */
  maxFiltersPerPacket: z.number().int().min(1).max(65_535).default(100),
  /**
   * Persistent sessions (CleanSession=0): what they may hold while their client is away or slow —
   * queued deliveries and unreleased inbound QoS 2 messages — and when an abandoned one is dropped.
   */
  sessions: z
    .strictObject({
      /** A persistent session whose client stays away this long is discarded. */
      expiryMs: z._default(TimerDuration, 24 * 3_600_000),
      /** Persistent sessions (client ids) one user may hold at once. */
      maxPerUser: z.number().int().min(1).max(100_000).default(50),
      /** Bytes one user's sessions may hold in total; beyond it deliveries to them are dropped. */
      maxBytesPerUser: z
        .number()
        .int()
        .min(64 * 1024)
        .default(16 * 1024 * 1024),
      /** Bytes all sessions together may hold. */
      maxBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .default(256 * 1024 * 1024),
    })
    .prefault({}),
  /** Refusal warnings: at most `lines` per window, the rest summarised once per window. */
  refusalLog: z
    .strictObject({
      lines: z.number().int().min(0).max(100_000).default(20),
      windowMs: z._default(TimerDuration, 10_000),
    })
    .prefault({}),
});
export type MqttLimits = z.infer<typeof MqttLimits>;

export const MqttConfig = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  /** Plain MQTT over TCP; `false` switches it off (for example when TLS is the only way in). */
  port: z.union([Port, z.literal(false)]).default(1883),
  tls: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: Port.default(8883),
      certFile: z.string().min(1),
      keyFile: z.string().min(1),
      /** CA bundle for client certificates. */
      caFile: z.string().min(1).optional(),
      requestClientCert: z.boolean().default(false),
    })
    .optional(),
  websocket: z
    .strictObject({
      enabled: z.boolean().default(true),
      path: z.string().startsWith('/').default('/mqtt'),
      /** A port of its own when no HTTP server is shared with the broker. */
      port: Port.optional(),
    })
    .prefault({}),
  /** What a client without credentials may do. Absent (the default): anonymous clients are refused. */
  anonymous: Grant.optional(),
  limits: MqttLimits.prefault({}),
});
export type MqttConfig = z.infer<typeof MqttConfig>;

export const AuthConfig = z.strictObject({
  /** Default lifetime of a signed token. */
  tokenTtlMs: z._default(Duration, 15 * 60_000),
  /** scrypt cost parameters for new password hashes; each hash stores its own. */
  scrypt: z
    .strictObject({
      cost: z
        .number()
        .int()
        .min(1024)
        .max(2 ** 20)
        .refine((n) => (n & (n - 1)) === 0, 'a power of two')
        .default(2 ** 15),
      blockSize: z.number().int().min(1).max(32).default(8),
      parallelization: z.number().int().min(1).max(16).default(1),
    })
    .prefault({}),
  /** How long a verified password is remembered (as a keyed hash) to spare scrypt on reconnects; 0: never. */
  verifyCacheMs: z._default(Duration, 5 * 60_000),
  /** Failed logins, over HTTP and MQTT alike: per user name and per client address. */
  login: z
    .strictObject({
      /** Failures per user name within the window before that name is refused. */
      maxFailures: z.number().int().min(1).max(1_000).default(5),
      /** Failures per client address within the window before that address is refused. */
      maxFailuresPerAddress: z.number().int().min(1).max(100_000).default(30),
      windowMs: z._default(TimerDuration, 60_000),
      /** Names and addresses remembered at most (memory bound); a refused one is never forgotten early. */
      maxEntries: z.number().int().min(100).max(10_000_000).default(100_000),
      /** A name's lock does not hold against an address it logged in from within this time. */
      knownAddressMs: z._default(Duration, 24 * 3_600_000),
    })
    .prefault({}),
});
export type AuthConfig = z.infer<typeof AuthConfig>;

export const HttpConfig = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: Port.default(8080),
  /** Serve /metrics without a token (metrics carry counters only, never supplier data). */
  metricsPublic: z.boolean().default(true),
});

export const PartsConfig = z.strictObject({
  broker: z.boolean().default(true),
  ingest: z.boolean().default(true),
  rules: z.boolean().default(true),
  webhooks: z.boolean().default(true),
  http: z.boolean().default(true),
});

const BrokerUrl = z.string().regex(/^(mqtts?|wss?|tcp):\/\/\S+$/, 'an MQTT URL such as mqtt://host:1883');

export const ExternalBrokerConfig = z.strictObject({
  /** One broker, or the nodes of a cluster (central moves to the next when its node goes). */
  url: z.union([BrokerUrl, z.array(BrokerUrl).min(1)]),
  username: z.string().min(1).optional(),
  /** Read from this file, so the password is not in the config. */
  passwordFile: z.string().min(1).optional(),
});

export const IngestConfig = z.strictObject({
  /** Commit when this many readings wait … */
  batchSize: z.number().int().min(1).max(100_000).default(500),
  /** … or after this long. */
  flushMs: z._default(TimerDuration, 20),
  /** The SQLite file (default: `central.db` in dataDir). */
  storeFile: z.string().min(1).optional(),
  /**
   * How long a hole in an agent's seqs may stand, while the agent keeps sending, before the stored
   * mark steps over it (the agent dropped those records at its outbox bound). Meanwhile the agent
   * keeps the records after the hole.
   */
  gapTimeoutMs: z._default(Duration, 60_000),
});

type Path = (string | number)[];

/** What the cross-reference checks read: the catalogue part of the central config. */
export interface CatalogueRefs {
  sites: readonly z.infer<typeof CentralSite>[];
  skus: readonly z.infer<typeof Sku>[];
  suppliers: readonly z.infer<typeof Supplier>[];
  replenishment: {
    skus: readonly { sku: string }[];
    sites: readonly { site: string }[];
    lanes: readonly { site: string; shelf: string; lane: string }[];
    webhooks: { suppliers: readonly { supplier: string }[] };
  };
}

/**
 * The checks no field schema can make alone: unique ids, every lane's SKU, every SKU's supplier,
 * every policy's lane. Written once for the central config and the catalogue (catalogue.ts), with
 * the same paths, so an error names the same field in central.yaml and in a catalogue file.
 */
export function checkCatalogueRefs(cfg: CatalogueRefs, issue: (path: Path, message: string) => void): void {
  const unique = (keys: string[], path: (i: number) => Path, what: string) => {
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (seen.has(k)) issue(path(i), `duplicate ${what} "${k}"`);
      seen.add(k);
    });
  };
  const skus = new Set(cfg.skus.map((s) => s.id));
  const suppliers = new Set(cfg.suppliers.map((s) => s.id));
  unique(
    cfg.suppliers.map((s) => s.id),
    (i) => ['suppliers', i, 'id'],
    'supplier',
  );
  unique(
    cfg.skus.map((s) => s.id),
    (i) => ['skus', i, 'id'],
    'SKU',
  );
  unique(
    cfg.sites.map((s) => s.id),
    (i) => ['sites', i, 'id'],
    'site',
  );
  cfg.skus.forEach((s, i) => {
    if (!suppliers.has(s.supplier)) issue(['skus', i, 'supplier'], `unknown supplier "${s.supplier}"`);
  });
  // USB ports renumber and shelves move, so a shelf is known by its serial number: one place each.
  const serials = new Map<string, string>();
  cfg.sites.forEach((site, si) => {
    unique(
      site.shelves.map((s) => s.id),
      (hi) => ['sites', si, 'shelves', hi, 'id'],
      'shelf',
    );
    site.shelves.forEach((shelf, hi) => {
      const at = `${site.id}/${shelf.id}`;
      const other = serials.get(shelf.serial);
      if (other) issue(['sites', si, 'shelves', hi, 'serial'], `serial "${shelf.serial}" is also ${other}`);
      serials.set(shelf.serial, at);
      unique(
        shelf.lanes.map((l) => l.id),
        (li) => ['sites', si, 'shelves', hi, 'lanes', li, 'id'],
        'lane',
      );
      const used = new Set<number>();
      shelf.lanes.forEach((lane, li) => {
        const path = ['sites', si, 'shelves', hi, 'lanes', li];
        if (!skus.has(lane.sku)) issue([...path, 'sku'], `unknown SKU "${lane.sku}"`);
        for (const ch of lane.channels) {
          if (used.has(ch)) issue([...path, 'channels'], `channel ${ch} is already used on shelf ${at}`);
          used.add(ch);
        }
      });
    });
  });
  // The replenishment policies may only name SKUs, lanes and suppliers the map has.
  const lanes = new Set(
    cfg.sites.flatMap((site) =>
      site.shelves.flatMap((h) => h.lanes.map((l) => `${site.id}/${h.id}/${l.id}`)),
    ),
  );
  const r = cfg.replenishment;
  r.skus.forEach((p, i) => {
    if (!skus.has(p.sku)) issue(['replenishment', 'skus', i, 'sku'], `unknown SKU "${p.sku}"`);
  });
  const siteIds = new Set(cfg.sites.map((s) => s.id));
  r.sites.forEach((p, i) => {
    if (!siteIds.has(p.site)) issue(['replenishment', 'sites', i, 'site'], `unknown site "${p.site}"`);
  });
  r.lanes.forEach((p, i) => {
    const key = `${p.site}/${p.shelf}/${p.lane}`;
    if (!lanes.has(key)) issue(['replenishment', 'lanes', i], `unknown lane "${key}"`);
  });
  r.webhooks.suppliers.forEach((w, i) => {
    if (!suppliers.has(w.supplier)) {
      issue(['replenishment', 'webhooks', 'suppliers', i, 'supplier'], `unknown supplier "${w.supplier}"`);
    }
  });
}

export const CentralConfig = z
  .strictObject({
    sites: z.array(CentralSite).default([]),
    skus: z.array(Sku).default([]),
    suppliers: z.array(Supplier).default([]),
    dataDir: z.string().min(1).default('./shelfsense-central'),
    log: z.strictObject({ level: z._default(LogLevel, 'warn') }).prefault({}),
    timing: z.strictObject({ offlineAfterMs: z._default(Duration, 120_000) }).prefault({}),
    mqtt: MqttConfig.prefault({}),
    auth: AuthConfig.prefault({}),
    /** Reorder policies, receipts, alerts and supplier webhooks (see replenishment.ts). */
    replenishment: ReplenishmentConfig.prefault({}),
    http: HttpConfig.prefault({}),
    /** Which parts run in this process; switch the broker off to use an external one. */
    parts: PartsConfig.prefault({}),
    /** The broker ingest and the rules talk to when the embedded broker is off (Mosquitto, EMQX). */
    externalBroker: ExternalBrokerConfig.optional(),
    ingest: IngestConfig.prefault({}),
    /** Where level, event and health history goes: the embedded SQLite (default) or InfluxDB 1.x. */
    history: HistoryConfig.prefault({}),
    /** Node-RED at /flows (admins) and Home Assistant MQTT discovery. */
    integrations: IntegrationsConfig.prefault({}),
    /** How long a technician command waits for the agent's reply. */
    commands: z.strictObject({ timeoutMs: z._default(TimerDuration, 20_000) }).prefault({}),
    /** The cluster deployment's workers (docs/scale-out.md); absent for one central process. */
    cluster: ClusterConfig.optional(),
    /** E-mail digests and chat webhooks (docs/notifications.md); absent: none are sent. */
    notifications: z.optional(NotificationsConfig),
  })
  .superRefine((cfg, ctx) => {
    const issue = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message });
    checkCatalogueRefs(cfg, issue);
    const suppliers = new Set(cfg.suppliers.map((s) => s.id));
    const sites = new Set(cfg.sites.map((s) => s.id));
    const anon = cfg.mqtt.anonymous;
    if (anon) {
      const path = ['mqtt', 'anonymous'];
      if (anon.role === 'supplier' && !suppliers.has(anon.supplier))
        issue([...path, 'supplier'], `unknown supplier "${anon.supplier}"`);
      if (anon.role === 'agent' && !sites.has(anon.site))
        issue([...path, 'site'], `unknown site "${anon.site}"`);
      if (anon.role === 'operator' || anon.role === 'technician' || anon.role === 'homeassistant') {
        anon.sites.forEach((s, i) => {
          if (!sites.has(s)) issue([...path, 'sites', i], `unknown site "${s}"`);
        });
      }
    }
    if (cfg.mqtt.port === false && !cfg.mqtt.tls && !cfg.mqtt.websocket.enabled) {
      issue(['mqtt', 'port'], 'plain TCP is off and neither TLS nor WebSocket is on: no way in');
    }
    const limits = cfg.mqtt.limits;
    const sessions = ['mqtt', 'limits', 'sessions'];
    if (limits.sessions.maxBytesPerUser < limits.maxPacketBytes)
      issue(
        [...sessions, 'maxBytesPerUser'],
        `must be at least mqtt.limits.maxPacketBytes (${limits.maxPacketBytes}), or a large QoS 2 publish never fits`,
      );
    if (limits.sessions.maxBytes < limits.sessions.maxBytesPerUser)
      issue(
        [...sessions, 'maxBytes'],
        `must be at least maxBytesPerUser (${limits.sessions.maxBytesPerUser})`,
      );
  });
export type CentralConfig = z.infer<typeof CentralConfig>;
export type CentralConfigInput = z.input<typeof CentralConfig>;
