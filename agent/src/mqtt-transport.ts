/**
 * The MQTT client with only the transport its broker URL needs.
 *
 * `mqtt.connect()` loads every transport mqtt.js knows on its first call — WebSocket (ws, https,
 * zlib, crypto), SOCKS proxies (dns, dgram), TLS — about 3 MB of resident memory that an agent on
 * a store's LAN, speaking plain TCP, never uses. Here `mqtt://` and `tcp://` need node:net alone;
 * `mqtts://`, `ws://` and `wss://` load mqtt.js's own stream builder for that transport, once,
 * when such a URL is first used. The client itself is mqtt.js's MqttClient, unchanged.
 */
import { createConnection } from 'node:net';
import type { IClientOptions, MqttClient as MqttClientType } from 'mqtt';
import * as clientModule from 'mqtt/lib/client';
import type { StreamBuilder } from 'mqtt/lib/shared';

/**
 * `exports[name]` of a CommonJS module imported from ESM, whether the importer put it on the
 * namespace (bundlers) or only on `default`, the whole `module.exports` (Node).
 */
function cjsExport<T>(mod: unknown, name: string): T {
  const m = mod as Record<string, unknown>;
  const viaDefault = (m.default as Record<string, unknown> | undefined)?.[name];
  return (name === 'default' ? (viaDefault ?? m.default) : (m[name] ?? viaDefault)) as T;
}

const MqttClient = cjsExport<typeof MqttClientType>(clientModule, 'default');

export type BrokerProtocol = 'mqtt' | 'mqtts' | 'ws' | 'wss';

export interface BrokerAddress {
  protocol: BrokerProtocol;
  hostname: string;
  port: number;
  /** Path and query of a WebSocket URL (`/mqtt` when the URL gives none). */
  path: string;
  username?: string;
  password?: string;
}

const DEFAULT_PORTS: Record<BrokerProtocol, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/** Splits a broker URL (`mqtt://`, `tcp://`, `mqtts://`, `ssl://`, `ws://`, `wss://`) into its parts. */
export function parseBrokerUrl(url: string): BrokerAddress {
  const u = new URL(url);
  const scheme = u.protocol.replace(/:$/, '');
  const protocol: BrokerProtocol | undefined =
    scheme === 'mqtt' || scheme === 'tcp'
      ? 'mqtt'
      : scheme === 'mqtts' || scheme === 'ssl' || scheme === 'tls'
        ? 'mqtts'
        : scheme === 'ws' || scheme === 'wss'
          ? scheme
          : undefined;
  if (!protocol)
    throw new Error(`broker URL "${url}": unknown scheme "${scheme}" (use mqtt, mqtts, ws or wss)`);
  // URL keeps the brackets of an IPv6 literal; sockets want the bare address.
  const hostname = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!hostname) throw new Error(`broker URL "${url}" names no host`);
  return {
    protocol,
    hostname,
    port: u.port ? Number(u.port) : DEFAULT_PORTS[protocol],
    path: u.pathname && u.pathname !== '/' ? `${u.pathname}${u.search}` : `/mqtt${u.search}`,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

async function builderFor(protocol: BrokerProtocol): Promise<StreamBuilder> {
  let builder: unknown;
  switch (protocol) {
    case 'mqtt':
      return (_client, opts) =>
        createConnection({ host: opts?.hostname ?? 'localhost', port: opts?.port ?? 1883 });
    case 'mqtts':
      builder = cjsExport(await import('mqtt/lib/connect/tls'), 'default');
      break;
    case 'ws':
    case 'wss':
      builder = cjsExport(await import('mqtt/lib/connect/ws'), 'streamBuilder');
      break;
  }
  if (typeof builder !== 'function')
    throw new Error(`mqtt.js has no ${protocol} stream builder where expected`);
  return builder as StreamBuilder;
}

/**
 * A connector for one broker URL, or for the nodes of one cluster: resolve them once (loading
 * their transports), then make clients. A client built here connects to the first node; each time
 * its connection fails or drops, its next attempt goes to the next node, round the list.
 */
export class BrokerConnector {
  readonly addresses: readonly BrokerAddress[];
  private readonly builders = new Map<BrokerProtocol, StreamBuilder>();
  private index = 0;

  constructor(url: string | readonly string[]) {
    const urls = typeof url === 'string' ? [url] : url;
    if (urls.length === 0) throw new Error('no broker URL');
    this.addresses = urls.map(parseBrokerUrl);
  }

  /** The first (or only) broker. */
  get address(): BrokerAddress {
    return this.addresses[0] as BrokerAddress;
  }

  /** The URL of the node the latest attempt went to. */
  get current(): string {
    const a = this.addresses[this.index] as BrokerAddress;
    return `${a.protocol}://${a.hostname}:${a.port}`;
  }

  /** Loads the transports (a no-op for plain TCP after the first call). */
  async prepare(): Promise<void> {
    for (const a of this.addresses) {
      if (!this.builders.has(a.protocol)) this.builders.set(a.protocol, await builderFor(a.protocol));
    }
  }

  /** A client connecting (and reconnecting) to the broker; `prepare()` must have resolved. */
  connect(options: IClientOptions): MqttClientType {
    if (this.builders.size === 0) throw new Error('BrokerConnector.connect() before prepare()');
    const optsFor = (a: BrokerAddress): IClientOptions => {
      const opts: IClientOptions = {
        ...options,
        protocol: a.protocol,
        hostname: a.hostname,
        host: a.hostname,
        port: a.port,
        ...(a.protocol === 'ws' || a.protocol === 'wss' ? { path: a.path } : {}),
        ...(options.username === undefined && a.username !== undefined ? { username: a.username } : {}),
        ...(options.password === undefined && a.password !== undefined ? { password: a.password } : {}),
      };
      opts.defaultProtocol = a.protocol;
      return opts;
    };
    this.index = 0;
    let first = true;
    // MqttClient calls its stream builder with itself alone, on every (re)connect: each call after
    // the first means the last connection failed or dropped, so it goes to the next node.
    return new MqttClient((client) => {
      if (!first) this.index = (this.index + 1) % this.addresses.length;
      first = false;
      const a = this.addresses[this.index] as BrokerAddress;
      return (this.builders.get(a.protocol) as StreamBuilder)(client, optsFor(a));
    }, optsFor(this.address));
  }
}
