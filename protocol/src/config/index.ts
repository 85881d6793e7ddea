export * from './agent.js';
export * from './catalogue.js';
export * from './central.js';
export * from './common.js';
export * from './history.js';
export * from './integrations.js';
export * from './load.js';
export * from './replenishment.js';
