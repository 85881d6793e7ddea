/**
 * The broker's internals that the tests drive one at a time: the aedes guards, the session ledger
 * and its accounting, the refusal log, and the errors they throw. Tests only: nothing in any
 * package's src imports this entry.
 */
export { PasswordInputError } from './auth/password-input.js';
export { GuardError, installBacklogLimit, installRoutingTrampoline, routingBacklog } from './mqtt/guards.js';
export { newCounters } from './mqtt/metrics.js';
export { RefusalLog } from './mqtt/refusal-log.js';
export { PACKET_OVERHEAD, packetBytes, SessionLedger, type StoredPacket } from './mqtt/session-ledger.js';
export { SessionFullError, Sessions } from './mqtt/sessions.js';
