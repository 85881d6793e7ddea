/**
 * The central service: an ordered list of parts on one bus (see service/part.ts). Each area also
 * has its own entry (`@shelfsense/central/store`, `/history`, `/orders`, `/rules`, `/webhooks`,
 * `/http`).
 */
export { type Bus, BusError, MqttBus } from './bus/bus.js';
export { Central, type CentralOptions, serviceParts } from './service/central.js';
export {
  type Clock,
  type HttpMount,
  type Part,
  type PartContext,
  PartStartError,
  type Services,
  startParts,
  stopParts,
} from './service/part.js';
