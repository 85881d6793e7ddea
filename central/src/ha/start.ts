/**
 * Wires Home Assistant discovery into a running central:
 *
 *   const ha = await startHomeAssistant(parts, config.integrations.homeAssistant);
 *   …
 *   await ha?.stop();
 *
 * With the embedded broker the configs are published in process (trusted, like the lane
 * settings); with an external broker, through central's MQTT client, whose user the external
 * broker must let publish `<prefix>/#`. Returns null when switched off (the default).
 */
import type { HomeAssistantConfig } from '@shelfsense/protocol';
import type { CentralParts } from '../service/central.js';
import { HomeAssistantPublisher } from './publisher.js';
import { aedesTransport, type DiscoveryTransport, mqttTransport } from './transport.js';

export type HomeAssistantParts = Pick<CentralParts, 'broker' | 'ingest' | 'dataDir' | 'log'> & {
  config: Pick<CentralParts['config'], 'sites' | 'skus'>;
};

export async function startHomeAssistant(
  parts: HomeAssistantParts,
  config: HomeAssistantConfig,
): Promise<HomeAssistantPublisher | null> {
  if (!config.enabled) return null;
  let transport: DiscoveryTransport;
  if (parts.broker) transport = aedesTransport(parts.broker.aedes);
  else if (parts.ingest) transport = mqttTransport(parts.ingest.mqtt);
  else {
    parts.log.warn('home assistant discovery is on, but central has neither a broker nor an MQTT client');
    return null;
  }
  const publisher = new HomeAssistantPublisher({
    transport,
    map: parts.config,
    config,
    dataDir: parts.dataDir,
    log: parts.log,
  });
  await publisher.start();
  return publisher;
}
