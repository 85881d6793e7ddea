/**
 * The durable webhook outbox. Its table and queries live in the store
 * (`store/webhook-outbox.ts`); the delivery side imports them from here.
 */
export {
  type OutboxEntry,
  OutboxRepo,
  type OutboxState,
  OutboxStates,
} from '../store/webhook-outbox.js';
