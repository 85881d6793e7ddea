/**
 * Error codes of the embedded Node-RED, in the SHELF_ERR_* style of the contract's ErrorCodes.
 */
import { type Issue, isShelfError, ShelfError } from '@shelfsense/protocol';

export const NodeRedErrorCodes = {
  /** Node-RED keeps its state in module globals: one runtime per process at a time. */
  IN_USE: 'SHELF_ERR_NODERED_IN_USE',
  /** The runtime did not start (bad userDir, flows that would not load, timeout). */
  START: 'SHELF_ERR_NODERED_START',
  /** A flow asked for something the Shelfsense nodes' API refuses (bad input, no such order). */
  REQUEST: 'SHELF_ERR_NODERED_REQUEST',
} as const;

export type NodeRedErrorCode = (typeof NodeRedErrorCodes)[keyof typeof NodeRedErrorCodes];

export class NodeRedError extends ShelfError<NodeRedErrorCode> {
  constructor(code: NodeRedErrorCode, message: string, issues: readonly Issue[] = []) {
    super(code, message, issues);
    this.name = 'NodeRedError';
  }
}

export function isNodeRedError(err: unknown, code?: NodeRedErrorCode): err is NodeRedError {
  return err instanceof NodeRedError && isShelfError(err, code);
}
