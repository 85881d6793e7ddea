/**
 * A web node of the cluster deployment: the HTTP API and the dashboard, on the Postgres store,
 * with no state of its own — run as many as the load needs, behind any load balancer, and a
 * browser may reach any of them.
 *
 * It is central with the parts that talk to people: the catalogue, orders, the API, the dashboard.
 * Ingest, rules and webhooks run in the workers; the bus connects to the NATS cluster (a `service`
 * user), so an order changed through one web node is announced to every MQTT client and every
 * other web node at once. Browsers keep their MQTT over WebSocket at `/mqtt`, served by a broker
 * of the node's own (the users, tokens and ACLs of any central; the users and the token secret
 * shared by every node in Postgres) which the node fills from the
 * cluster: everything under the Shelfsense root comes down, retained kinds kept retained, so a
 * dashboard on any node sees the same live levels, orders, alerts and agent status.
 */
import { MqttBroker, type UserStore } from '@shelfsense/broker';
import {
  CATALOGUE_TOPIC,
  type CentralConfig,
  type ClusterConfig,
  parseTopic,
  TOPIC_ROOT,
} from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Unsubscribe } from '../bus/bus.js';
import { apiPart, dashboardPart } from '../parts/http.js';
import { Central } from '../service/central.js';
import type { Part } from '../service/part.js';
import { SyncPgStore } from '../store/pg/sync-store.js';
import { pgUserStore } from './users.js';

/** Topic kinds the devices and central publish retained; a node's broker keeps them so too. */
const RETAINED_KINDS = new Set(['level', 'health', 'status', 'lanes', 'stored']);

export function isRetainedTopic(topic: string): boolean {
  if (topic === CATALOGUE_TOPIC) return true;
  const ref = parseTopic(topic);
  return ref !== null && RETAINED_KINDS.has(ref.kind);
}

export interface WebNodeOptions {
  /** central.yaml with its `cluster` section; `http` says where this node listens. */
  config: CentralConfig & { cluster: ClusterConfig };
  /** The users the node logs people in with; default: the cluster's, in Postgres (users.ts). */
  users?: (store: SyncPgStore) => UserStore;
  log: Logger;
}

/**
 * The browsers' broker: MQTT over WebSocket on the node's HTTP server only (no TCP listener),
 * filled from the cluster through the bus.
 */
function browserBrokerPart(users: (store: SyncPgStore) => UserStore): Part {
  let broker: MqttBroker | null = null;
  let off: Unsubscribe | null = null;
  return {
    name: 'browser-broker',
    async start(ctx) {
      const store = ctx.store as SyncPgStore;
      broker = new MqttBroker({
        config: { ...ctx.config, mqtt: { ...ctx.config.mqtt, port: false, tls: undefined } },
        dataDir: ctx.dataDir,
        httpServer: ctx.server,
        registry: ctx.registry,
        logger: ctx.log,
        map: ctx.map,
        users: users(store),
      });
      await broker.start();
      ctx.services.broker = broker;
      ctx.services.users = broker.users;
      const aedes = broker.aedes;
      off = await ctx.bus.subscribeRaw(
        `${TOPIC_ROOT}/#`,
        (topic, payload) => {
          aedes.publish(
            { cmd: 'publish', topic, payload, qos: 1, retain: isRetainedTopic(topic), dup: false },
            (err) => {
              if (err) ctx.log.debug({ err: err.message, topic }, 'not passed to the browsers');
            },
          );
        },
        { retained: true },
      );
    },
    async stop() {
      await off?.();
      off = null;
      await broker?.stop();
      broker = null;
    },
    async reconfigure() {
      await broker?.refreshLaneSettings();
    },
  };
}

/** Starts a web node: its store, the bus to the cluster, the browsers' broker, API and dashboard. */
export async function startWebNode(o: WebNodeOptions): Promise<Central> {
  const c = o.config;
  const cluster = c.cluster;
  const config: CentralConfig = {
    ...c,
    parts: { ...c.parts, broker: false, ingest: false, rules: false, webhooks: false, http: true },
    externalBroker: {
      url: cluster.mqtt.urls,
      ...(cluster.mqtt.username ? { username: cluster.mqtt.username } : {}),
      ...(cluster.mqtt.passwordFile ? { passwordFile: cluster.mqtt.passwordFile } : {}),
    },
  };
  const central = new Central({
    config,
    logger: o.log,
    openStore: () =>
      SyncPgStore.open({
        url: cluster.postgres.url,
        schema: cluster.postgres.schema,
        poolSize: cluster.postgres.poolSize,
      }),
    parts: [
      browserBrokerPart(
        o.users ??
          ((store) =>
            pgUserStore(store, {
              scrypt: c.auth.scrypt,
              verifyCacheMs: c.auth.verifyCacheMs,
              login: c.auth.login,
            })),
      ),
      apiPart(),
      dashboardPart(),
    ],
  });
  await central.start();
  return central;
}
