export * from './config/index.js';
export * from './errors.js';
export * from './log.js';
export * from './payloads.js';
export * from './private-files.js';
export * from './serial.js';
export * from './topics.js';
export * from './validate.js';
export type { AnySchema } from './zod.js';
