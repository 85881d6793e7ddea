/** The edge agent's durable store-and-forward outbox: see outbox.ts for the contract. */
export { type OutboxErrorCode, OutboxErrorCodes } from './errors.js';
export type { OutboxMeta } from './meta.js';
export { AppendInput, FsyncModes, type OutboxOptions, OutboxSettings } from './options.js';
export { Outbox } from './outbox.js';
export type { OutboxRecord, Qos } from './record.js';
export type { DropReason, OutboxEvents, OutboxStats } from './types.js';
