/**
 * Integrations of the central side besides InfluxDB: the embedded Node-RED editor and runtime,
 * and Home Assistant MQTT discovery. The central config holds this as its `integrations` key:
 *
 *   integrations:
 *     nodeRed: { enabled: true, path: /flows }
 *     homeAssistant: { enabled: false, prefix: homeassistant }
 */
import { z } from 'zod';
import { Duration } from './common.js';

/** A URL path of one or more segments, without a trailing slash: `/flows`, `/integrations/red`. */
const MountPath = z
  .string()
  .regex(/^(\/[A-Za-z0-9._~-]+)+$/, 'a path such as /flows (no trailing slash, no spaces)')
  .refine((p) => !['/api', '/mqtt', '/metrics', '/healthz'].includes(p), 'this path is taken by central');

/** An MQTT topic level: no wildcards, no `/`, no `$` at the start. */
const TopicLevel = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, 1–64 characters');

export const NodeRedConfig = z.strictObject({
  /** Run Node-RED inside the central process (about 100 MB of memory and a second at start). */
  enabled: z.boolean().default(true),
  /** Where the editor and its admin API are served; admins only. */
  path: MountPath.default('/flows'),
  /**
   * Where flows' own HTTP endpoints (http in nodes) are served; absent: not served. They are not
   * behind the admin login, so such flows must check callers themselves.
   */
  httpNodePath: MountPath.optional(),
  /** Node-RED's own directory (flows, credentials, sessions); default `<dataDir>/node-red`. */
  userDir: z.string().min(1).optional(),
  /** The flows file inside userDir. */
  flowFile: z
    .string()
    .regex(/^[A-Za-z0-9._-]+\.json$/, 'a file name ending in .json')
    .default('flows.json'),
  /** How long an editor login lasts before the admin must log in again. */
  sessionTtlMs: z.pipe(Duration, z.number().int().min(60_000)).default(8 * 3_600_000),
  /** Let admins install extra nodes from npm through the editor's palette manager. */
  allowPaletteInstall: z.boolean().default(false),
});
export type NodeRedConfig = z.infer<typeof NodeRedConfig>;

/** A file the process reads (a CA bundle, a client certificate or key). */
const FilePath = z.string().min(1, 'a file path');

/** TLS for a bridge to an `mqtts://` or `wss://` broker. */
export const HomeAssistantBridgeTls = z
  .strictObject({
    /** CA bundle (PEM) that signed the broker's certificate; absent: the system's CAs. */
    ca: FilePath.optional(),
    /** Client certificate and key (PEM), for a broker that asks for one. */
    cert: FilePath.optional(),
    key: FilePath.optional(),
    /** Refuse a broker whose certificate does not verify. Off only for a test broker. */
    rejectUnauthorized: z.boolean().default(true),
    /** The name the broker's certificate carries, when the URL's host differs. */
    servername: z.string().min(1).optional(),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    message: 'cert and key go together',
    path: ['key'],
  });

/**
 * A bridge client: Shelfsense publishes discovery and states for some sites to a broker of the
 * user's (the Mosquitto Home Assistant already uses), with its own credentials.
 */
export const HomeAssistantBridgeConfig = z.strictObject({
  /** Names this bridge in logs and in the data dir (the list of what it published). */
  id: TopicLevel,
  /** Off: the bridge connects once and removes every entity it published. */
  enabled: z.boolean().default(true),
  url: z
    .string()
    .regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'an MQTT URL such as mqtt://host:1883 or mqtts://host:8883'),
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /** The client id on the user's broker; default `shelfsense-ha-<id>`. */
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . and -, 1–64 characters')
    .optional(),
  tls: HomeAssistantBridgeTls.optional(),
  /** Home Assistant's discovery prefix on that broker. */
  prefix: TopicLevel.default('homeassistant'),
  /** The sites whose lanes this broker gets; no other site's lanes, names or states. */
  sites: z.array(TopicLevel).min(1, 'at least one site'),
  /** Wait between reconnect attempts. */
  reconnectMs: z.pipe(Duration, z.number().int().min(100)).default(5_000),
});
export type HomeAssistantBridgeConfig = z.infer<typeof HomeAssistantBridgeConfig>;

export const HomeAssistantConfig = z
  .strictObject({
    /** Publish Home Assistant MQTT discovery; off removes the entities published before. */
    enabled: z.boolean().default(false),
    /** Home Assistant's discovery prefix (its MQTT integration setting). */
    prefix: TopicLevel.default('homeassistant'),
    /** The `<node_id>` level of the discovery topics, grouping Shelfsense's entities. */
    nodeId: TopicLevel.default('shelfsense'),
    /** Republish the discovery messages when Home Assistant says it is online on `<prefix>/status`. */
    followBirth: z.boolean().default(true),
    /** Publish on central's own broker (for a Home Assistant connected to it, or a Mosquitto bridge). */
    centralBroker: z.boolean().default(true),
    /** The dashboard's address, linked from each device in Home Assistant (`configuration_url`). */
    dashboardUrl: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL such as https://shelfsense.example/')
      .optional(),
    /** Brokers of the user's that get discovery and states for some sites. */
    bridges: z.array(HomeAssistantBridgeConfig).default([]),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.bridges.forEach((b, i) => {
      if (seen.has(b.id))
        ctx.addIssue({
          code: 'custom',
          message: `bridge id ${b.id} is used twice`,
          path: ['bridges', i, 'id'],
        });
      seen.add(b.id);
    });
  });
export type HomeAssistantConfig = z.infer<typeof HomeAssistantConfig>;

export const IntegrationsConfig = z.strictObject({
  nodeRed: NodeRedConfig.prefault({}),
  homeAssistant: HomeAssistantConfig.prefault({}),
});
export type IntegrationsConfig = z.infer<typeof IntegrationsConfig>;
export type IntegrationsConfigInput = z.input<typeof IntegrationsConfig>;
