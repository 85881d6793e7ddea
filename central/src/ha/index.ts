/** Home Assistant integration: discovery, entity states, publishers on central's broker and bridges. */
export { bridgeFile, HomeAssistantBridge } from './bridge.js';
export {
  agentAvailabilityTopic,
  availabilityTopic,
  BINARY_KINDS,
  type DiscoveryMessage,
  discoveryMessages,
  type EntityDiscovery,
  type EntityKind,
  SENSOR_KINDS,
  type SensorDiscovery,
  SHELFSENSE_AVAILABILITY_TEMPLATE,
} from './discovery.js';
export { HomeAssistantError, HomeAssistantErrorCodes, isHomeAssistantError } from './errors.js';
export { HomeAssistantPublisher, PUBLISHED_FILE } from './publisher.js';
export { HomeAssistant, type HomeAssistantParts, startHomeAssistant } from './start.js';
export { StateTracker, UNKNOWN } from './states.js';
export { mqttTransport } from './transport.js';
export { SHELFSENSE_VERSION } from './version.js';
