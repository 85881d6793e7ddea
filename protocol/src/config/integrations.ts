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

export const HomeAssistantConfig = z.strictObject({
  /** Publish Home Assistant MQTT discovery for every lane of the shelf map. */
  enabled: z.boolean().default(false),
  /** Home Assistant's discovery prefix (its MQTT integration setting). */
  prefix: TopicLevel.default('homeassistant'),
  /** The `<node_id>` level of the discovery topics, grouping Shelfsense's entities. */
  nodeId: TopicLevel.default('shelfsense'),
  /** Republish the discovery messages when Home Assistant says it is online on `<prefix>/status`. */
  followBirth: z.boolean().default(true),
});
export type HomeAssistantConfig = z.infer<typeof HomeAssistantConfig>;

export const IntegrationsConfig = z.strictObject({
  nodeRed: NodeRedConfig.prefault({}),
  homeAssistant: HomeAssistantConfig.prefault({}),
});
export type IntegrationsConfig = z.infer<typeof IntegrationsConfig>;
export type IntegrationsConfigInput = z.input<typeof IntegrationsConfig>;
