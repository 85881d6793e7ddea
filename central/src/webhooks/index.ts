export { nextAttemptAt, parseRetryAfter, retryDelay } from './backoff.js';
export { type OutboxEntry, OutboxRepo, type OutboxState, OutboxStates } from './outbox.js';
export {
  assertWebhook,
  computeSignature,
  type HeaderSource,
  SIGNATURE_VERSION,
  type SignedHeadersInput,
  signedHeaders,
  type VerifyFailure,
  type VerifyResult,
  verifyWebhook,
  WebhookHeaders,
} from './sign.js';
export { type AttemptOutcome, WebhookWorker, type WebhookWorkerOptions } from './worker.js';
