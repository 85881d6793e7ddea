/**
 * How the discovery publisher reaches the broker. Two ways:
 *
 * - `mqttTransport(client)`: central's own MQTT client. Used with an external broker (Mosquitto,
 *   EMQX), whose ACL must let central's user publish `<prefix>/#`.
 * - `aedesTransport(aedes)`: the embedded broker, in process, as the lane-settings publisher does.
 *   Trusted, so it does not need the `service` role's ACL (which keeps the service role inside
 *   the Shelfsense topic tree; a refused publish would cost central's client its connection).
 */
import type { Aedes, AedesPublishPacket } from 'aedes';
import type { MqttClient } from 'mqtt';
import type { Bus } from '../bus/bus.js';

export interface DiscoveryTransport {
  /** Publishes with QoS 1; resolves once the broker has it. */
  publish(topic: string, payload: string, retain: boolean): Promise<void>;
  /** Delivers each message on `topic` to `onMessage`; resolves with the function that stops it. */
  subscribe(topic: string, onMessage: (payload: Buffer) => void): Promise<() => Promise<void>>;
  /** Calls `fn` after every reconnect (a broker that lost its retained messages); returns "off". */
  onReconnect(fn: () => void): () => void;
}

export function mqttTransport(client: MqttClient): DiscoveryTransport {
  return {
    async publish(topic, payload, retain) {
      await client.publishAsync(topic, payload, { qos: 1, retain });
    },
    async subscribe(topic, onMessage) {
      const listener = (t: string, payload: Buffer) => {
        if (t === topic) onMessage(payload);
      };
      client.on('message', listener);
      const sub = () => client.subscribe(topic, { qos: 1 });
      client.on('connect', sub);
      try {
        await client.subscribeAsync(topic, { qos: 1 });
      } catch (err) {
        client.off('message', listener);
        client.off('connect', sub);
        throw err;
      }
      return async () => {
        client.off('message', listener);
        client.off('connect', sub);
        if (client.connected) await client.unsubscribeAsync(topic).catch(() => undefined);
      };
    },
    onReconnect(fn) {
      // Publishing again is harmless: discovery configs are retained and idempotent.
      const onConnect = () => fn();
      client.on('connect', onConnect);
      return () => {
        client.off('connect', onConnect);
      };
    },
  };
}

export function aedesTransport(aedes: Aedes): DiscoveryTransport {
  return {
    publish(topic, payload, retain) {
      return new Promise((resolve, reject) => {
        aedes.publish(
          { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false },
          (err?: Error | null) => (err ? reject(err) : resolve()),
        );
      });
    },
    subscribe(topic, onMessage) {
      const deliver = (packet: AedesPublishPacket, cb: () => void) => {
        onMessage(Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(String(packet.payload)));
        cb();
      };
      return new Promise((resolve) => {
        aedes.subscribe(topic, deliver, () =>
          resolve(() => new Promise<void>((done) => aedes.unsubscribe(topic, deliver, () => done()))),
        );
      });
    },
    // In process there is no connection to lose.
    onReconnect: () => () => undefined,
  };
}

/** Discovery over central's bus (in process with the embedded broker, else its connection). */
export function busTransport(bus: Bus): DiscoveryTransport {
  return {
    publish: (topic, payload, retain) => bus.publishRaw(topic, payload, { retain }),
    async subscribe(topic, onMessage) {
      return bus.subscribeRaw(topic, (_t, payload) => onMessage(payload));
    },
    onReconnect: (fn) => bus.onConnect(fn),
  };
}
