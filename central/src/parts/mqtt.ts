/**
 * The MQTT side of central: the embedded broker (unless an external one is configured), the bus's
 * connection to whichever broker it is, ingest, and the command relay.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MqttBroker } from '@shelfsense/broker';
import { CATALOGUE_TOPIC, type CatalogueAnnouncement, clientIds } from '@shelfsense/protocol';
import type { MqttBus } from '../bus/bus.js';
import { BusCommandRelay } from '../service/command-relay.js';
import { Ingest } from '../service/ingest.js';
import type { Part, PartContext } from '../service/part.js';
import { ensureServiceIdentity } from '../service/service-identity.js';

export function brokerPart(bus: MqttBus): Part {
  let broker: MqttBroker | null = null;
  return {
    name: 'broker',
    async start(ctx) {
      broker = new MqttBroker({
        config: ctx.config,
        dataDir: ctx.dataDir,
        httpServer: ctx.server,
        registry: ctx.registry,
        logger: ctx.log,
        map: ctx.map,
      });
      await broker.start();
      ctx.services.broker = broker;
      ctx.services.users = broker.users;
      bus.attachBroker(broker.aedes);
    },
    async stop() {
      await broker?.stop();
      broker = null;
    },
    async reconfigure() {
      // The map is already the new one: the ACL follows it from the next message.
      await broker?.refreshLaneSettings();
    },
  };
}

/**
 * Connects the bus: to the embedded broker over loopback as central's own `service` user, or to
 * the external broker with the configured credentials.
 */
export function busPart(bus: MqttBus): Part {
  return {
    name: 'bus',
    async start(ctx) {
      // Under the prefix the broker reserves to the service role, and not guessable.
      const clientId = `${clientIds.centralPrefix}${randomUUID()}`;
      const broker = ctx.services.broker;
      if (broker) {
        const service = await ensureServiceIdentity(broker.users, ctx.dataDir);
        // Central's own client logs in over loopback: a lock an attacker puts on its well-known
        // name must never keep it out.
        for (const loopback of ['127.0.0.1', '::1'])
          broker.users.limiter.trust(service.username, loopback, ctx.clock.now(), Number.POSITIVE_INFINITY);
        const port = broker.ports.tcp ?? broker.ports.tls;
        const url = broker.ports.tcp ? `mqtt://127.0.0.1:${port}` : `mqtts://127.0.0.1:${port}`;
        await bus.connect({ url, clientId, ...service });
        announceCatalogue(bus, ctx);
        return;
      }
      const ext = ctx.config.externalBroker;
      if (!ext) throw new Error('externalBroker: required when parts.broker is false');
      await bus.connect({
        url: ext.url,
        clientId,
        ...(ext.username ? { username: ext.username } : {}),
        ...(ext.passwordFile ? { password: readFileSync(ext.passwordFile, 'utf8').trim() } : {}),
      });
      announceCatalogue(bus, ctx);
    },
    reconfigure(ctx) {
      announceCatalogue(bus, ctx);
    },
    async stop() {
      await bus.close();
    },
  };
}

/** Tells every open dashboard which catalogue version is in force (retained). */
function announceCatalogue(bus: MqttBus, ctx: PartContext): void {
  const body: CatalogueAnnouncement = { version: ctx.store.catalogue.version(), ts: ctx.clock.now() };
  bus
    .publishRaw(CATALOGUE_TOPIC, JSON.stringify(body), { retain: true })
    .catch((err: Error) => ctx.log.debug({ err: err.message }, 'catalogue version not announced'));
}

export function ingestPart(): Part {
  let ingest: Ingest | null = null;
  return {
    name: 'ingest',
    async start(ctx) {
      const c = ctx.config;
      ingest = new Ingest({
        bus: ctx.bus,
        store: ctx.store,
        rules: ctx.services.rules ?? null,
        batchSize: c.ingest.batchSize,
        flushMs: c.ingest.flushMs,
        log: ctx.log,
        map: ctx.map,
      });
      const history = ctx.services.history;
      if (history) {
        ingest.on('committed', history.onCommitted);
        ingest.on('health', history.onHealth);
      }
      await ingest.start();
      ctx.services.ingest = ingest;
    },
    async stop() {
      await ingest?.stop();
    },
  };
}

/** Technicians' commands to agents, over the bus. */
export function commandsPart(): Part {
  let relay: BusCommandRelay | null = null;
  return {
    name: 'commands',
    async start(ctx) {
      relay = new BusCommandRelay(ctx.bus, ctx.config.commands.timeoutMs, ctx.log);
      await relay.start();
      ctx.services.commands = relay;
    },
    async stop() {
      await relay?.stop();
    },
  };
}
