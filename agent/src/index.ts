export { Agent } from './agent.js';
export { type AgentFlags, resolveAgentConfig } from './config.js';
export { ShelfLink } from './link.js';
export { createLogger } from './log.js';
export * from './outbox/index.js';
export {
  isPipelineError,
  type LaneEvent,
  type LaneReading,
  PipelineError,
  type PipelineErrorCode,
  PipelineErrorCodes,
  ShelfPipeline,
  type ShelfPipelineOptions,
} from './pipeline/index.js';
export { Publisher } from './publisher.js';
export { SerialSource } from './source/serial.js';
export type { ShelfSource, SourceEvents } from './source/source.js';
export { TcpSource } from './source/tcp.js';
