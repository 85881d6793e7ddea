export { nextAttemptAt, parseRetryAfter, retryDelay } from './backoff.js';
export { type OutboxEntry, OutboxRepo, type OutboxState, OutboxStates } from './outbox.js';
export {
  assertWebhook,
  computeSignature,
  computeStandardSignature,
  type HeaderSource,
  isRawSecret,
  SIGNATURE_VERSION,
  type SignedHeadersInput,
  signedHeaders,
  standardKey,
  type VerifyFailure,
  type VerifyResult,
  verifyWebhook,
  WebhookHeaders,
} from './sign.js';
export { newSecret, testWebhook } from './test-event.js';
export { type AttemptOutcome, WebhookWorker, type WebhookWorkerOptions } from './worker.js';
