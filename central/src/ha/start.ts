/**
 * Home Assistant discovery as a part of central: publishes the discovery configs through central's
 * bus (in process with the embedded broker) and answers Home Assistant's birth message.
 */
import type { CentralConfig, HomeAssistantConfig } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import { HomeAssistantPublisher } from './publisher.js';
import { busTransport } from './transport.js';

export interface HomeAssistantParts {
  bus: Bus;
  dataDir: string;
  log: Logger;
  config: Pick<CentralConfig, 'sites' | 'skus'>;
}

export async function startHomeAssistant(
  parts: HomeAssistantParts,
  config: HomeAssistantConfig,
): Promise<HomeAssistantPublisher | null> {
  if (!config.enabled) return null;
  const publisher = new HomeAssistantPublisher({
    transport: busTransport(parts.bus),
    map: parts.config,
    config,
    dataDir: parts.dataDir,
    log: parts.log,
  });
  await publisher.start();
  return publisher;
}
