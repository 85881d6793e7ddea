/**
 * How the discovery publisher reaches the broker. Two ways:
 *
 * - `busTransport(bus)`: central's bus, as the home-assistant part uses it. With the embedded
 *   broker the bus publishes in process, trusted, so it does not need the `service` role's ACL
 *   (which keeps the service role inside the Shelfsense topic tree; a refused publish would cost
 *   central's connection). With an external broker (Mosquitto, EMQX) its ACL must let central's
 *   user publish `<prefix>/#`.
 * - `mqttTransport(client)`: any connected MQTT client.
 */
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
