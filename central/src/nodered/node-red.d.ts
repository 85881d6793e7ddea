/**
 * The few parts of the embedded Node-RED 5 API central uses. (@types/node-red 1.3 is stale and
 * pulls in express types; this is what `node-red`'s lib/red.js exports.)
 */
declare module 'node-red' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, Server, ServerResponse } from 'node:http';

  type Handler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

  interface NodeRed {
    init(server: Server, settings: Record<string, unknown>): void;
    start(): Promise<void>;
    stop(): Promise<void>;
    readonly httpAdmin: Handler;
    readonly httpNode: Handler;
    readonly events: EventEmitter;
    readonly settings: Record<string, unknown>;
    readonly version: () => string;
  }

  const RED: NodeRed;
  export default RED;
}
