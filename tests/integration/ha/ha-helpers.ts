/**
 * Helpers for the Home Assistant tests: a real Mosquitto of "the user's" (password file, optional
 * extra config such as a bridge), and a subscriber that follows the discovery documents the way
 * Home Assistant's MQTT integration does.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { z } from 'zod';
import { freePort, waitForPort } from '../../helpers/brokers.js';

export const ROOT = new URL('../../../', import.meta.url).pathname;

export interface UserMosquitto {
  url: string;
  port: number;
  dir: string;
  /** What Mosquitto wrote to stderr (its log). */
  log(): string;
  close(): Promise<void>;
}

/** A Mosquitto with users from a password file and no anonymous access; `extra` is appended. */
export async function startUserMosquitto(
  users: Record<string, string>,
  extra: string[] = [],
): Promise<UserMosquitto> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ha-mosq-'));
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const [name, pw] of Object.entries(users)) {
    const r = spawnSync('mosquitto_passwd', ['-b', passwd, name, pw], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd ${name}: ${r.stderr}`);
  }
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      // Run as root, Mosquitto would drop to its own user, which cannot read this private dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      'max_queued_messages 0',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      ...extra,
      '',
    ].join('\n'),
  );
  const bin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? 'mosquitto';
  const child: ChildProcess = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d) => {
    log += String(d);
  });
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((r) => {
        child.once('exit', () => r());
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 5_000);
  } catch (err) {
    await close();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, dir, log: () => log, close };
}

/** The shipped bridge recipe with its placeholders filled in, as a user would. */
export function bridgeRecipe(v: { host: string; port: number; user: string; password: string }): string[] {
  const text = readFileSync(join(ROOT, 'deploy/mosquitto/shelfsense-bridge.conf'), 'utf8')
    .replaceAll('SHELFSENSE_HOST', v.host)
    .replaceAll('SHELFSENSE_PORT', String(v.port))
    .replaceAll('SHELFSENSE_USER', v.user)
    .replaceAll('SHELFSENSE_PASSWORD', v.password);
  return text.split('\n');
}

const AvailabilitySchema = z.object({
  topic: z.string().min(1),
  value_template: z.string().optional(),
  payload_available: z.string().default('online'),
  payload_not_available: z.string().default('offline'),
});

const Common = z.object({
  name: z.string().min(1),
  unique_id: z.string().min(1),
  state_topic: z.string().min(1),
  availability: z.array(AvailabilitySchema).min(1),
  availability_mode: z.enum(['all', 'any', 'latest']).default('latest'),
  entity_category: z.enum(['diagnostic', 'config']).optional(),
  device: z.object({
    identifiers: z.array(z.string().min(1)).min(1),
    name: z.string().min(1),
    manufacturer: z.string().min(1),
    sw_version: z.string().min(1),
    configuration_url: z.string().optional(),
  }),
});

/** What Home Assistant requires of each component we publish (device classes and their units). */
const SensorSchema = Common.extend({
  device_class: z.enum(['weight']).optional(),
  unit_of_measurement: z.string().optional(),
  state_class: z.enum(['measurement', 'total', 'total_increasing']).optional(),
}).refine(
  (c) => c.device_class !== 'weight' || ['g', 'kg', 'lb', 'oz'].includes(c.unit_of_measurement ?? ''),
  {
    message: 'a weight sensor needs a mass unit',
  },
);
const BinarySchema = Common.extend({
  device_class: z.enum(['problem']).optional(),
  payload_on: z.string().min(1),
  payload_off: z.string().min(1),
});

export type FollowedConfig = z.infer<typeof Common> & {
  component: 'sensor' | 'binary_sensor';
  unit_of_measurement?: string;
  device_class?: string;
  payload_on?: string;
  payload_off?: string;
};

export interface Entity {
  config: FollowedConfig;
  /** The last state payload, undefined before one came. */
  state: string | undefined;
  available: boolean;
}

/** The availability templates we publish, evaluated as Home Assistant would. */
function applyAvailability(template: string | undefined, value: string): string {
  if (template === undefined) return value;
  if (template === "{{ 'online' if value in ('online', '1') else 'offline' }}")
    return value === 'online' || value === '1' ? 'online' : 'offline';
  throw new Error(`a template this follower does not know: ${template}`);
}

/**
 * Follows discovery as Home Assistant does: subscribes to `<prefix>/#`, parses each config document
 * (refusing one without what its component needs), subscribes to each entity's state and
 * availability topics, and drops an entity when its config is emptied.
 */
export class HaFollower {
  readonly configs = new Map<string, FollowedConfig>();
  /** Last payload per followed state/availability topic. */
  readonly values = new Map<string, string>();
  /** Every message on a followed topic, in order. */
  readonly log: { topic: string; payload: string }[] = [];
  readonly invalid: { topic: string; error: string }[] = [];
  /** Config topics that were emptied (entity removed). */
  readonly removed: string[] = [];
  private readonly subscribed = new Set<string>();
  /** Topics a live (not retained) message came on. */
  private readonly live = new Set<string>();
  private constructor(
    readonly client: MqttClient,
    readonly prefix: string,
  ) {}

  static async connect(url: string, opts: IClientOptions, prefix = 'homeassistant'): Promise<HaFollower> {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
    const f = new HaFollower(client, prefix);
    client.on('message', (topic, payload, packet) => {
      // The wildcard already delivers every message live; the retained copy a later subscribe to
      // one topic brings is a snapshot the broker may send after a newer live message: not news.
      if (packet.retain && f.live.has(topic)) return;
      if (!packet.retain) f.live.add(topic);
      f.onMessage(topic, payload.toString('utf8'));
    });
    await client.subscribeAsync(`${prefix}/#`, { qos: 1 });
    return f;
  }

  private onMessage(topic: string, payload: string): void {
    const parts = topic.split('/');
    const isConfig =
      parts[0] === this.prefix && parts.at(-1) === 'config' && (parts.length === 4 || parts.length === 5);
    if (!isConfig) {
      this.values.set(topic, payload);
      this.log.push({ topic, payload });
      return;
    }
    if (payload === '') {
      this.configs.delete(topic);
      this.removed.push(topic);
      return;
    }
    const component = parts[1];
    const schema =
      component === 'sensor' ? SensorSchema : component === 'binary_sensor' ? BinarySchema : null;
    if (!schema) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch (err) {
      this.invalid.push({ topic, error: (err as Error).message });
      return;
    }
    const r = schema.safeParse(parsed);
    if (!r.success) {
      this.invalid.push({ topic, error: r.error.message });
      return;
    }
    const config = { ...(r.data as object), component } as FollowedConfig;
    this.configs.set(topic, config);
    // Home Assistant subscribes to what the config names, once per topic (a repeated subscribe
    // would make the broker send its retained copy again).
    const follow = [config.state_topic, ...config.availability.map((a) => a.topic)].filter(
      (t) => !this.subscribed.has(t),
    );
    for (const t of follow) this.subscribed.add(t);
    if (follow.length) this.client.subscribe(follow, { qos: 1 });
  }

  /** Entities as Home Assistant shows them, by unique id. */
  entities(): Map<string, Entity> {
    const out = new Map<string, Entity>();
    for (const config of this.configs.values()) {
      const checks = config.availability.map((a) => {
        const v = this.values.get(a.topic);
        return v !== undefined && applyAvailability(a.value_template, v) === a.payload_available;
      });
      const available = config.availability_mode === 'all' ? checks.every(Boolean) : checks.some(Boolean);
      out.set(config.unique_id, { config, state: this.values.get(config.state_topic), available });
    }
    return out;
  }

  /** The state of one entity (by the end of its unique id, e.g. `s1/shelf-1/L0:count`). */
  state(id: string): string | undefined {
    return this.entities().get(`shelfsense:${id}`)?.state;
  }

  entity(id: string): Entity | undefined {
    return this.entities().get(`shelfsense:${id}`);
  }

  end(): Promise<void> {
    return this.client.endAsync();
  }
}
