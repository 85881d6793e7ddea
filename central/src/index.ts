/**
 * The central service: one `Central` runs the parts its config switches on (embedded broker,
 * ingest, rules, orders, webhooks, history, HTTP API and dashboard, Home Assistant, Node-RED).
 * Each area also has its own entry (`@shelfsense/central/store`, `/history`, `/orders`, `/rules`,
 * `/webhooks`, `/http`).
 */
export { Central, type CentralOptions, type CentralParts, type HttpMount } from './service/central.js';
export { defaultMounts } from './service/mounts.js';
