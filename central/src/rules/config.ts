/**
 * The replenishment config types, in one place for the broker. Type-only: the central config is
 * parsed (with `ReplenishmentConfig` from @shelfsense/protocol) before it reaches
 * these modules, so no schema code is needed at run time here.
 */
export type {
  PolicyOverride,
  ReceiptConfig,
  ReplenishmentConfig,
  ReplenishmentConfigInput,
  RetryPolicy,
  SupplierWebhook,
  WebhooksConfig,
} from '@shelfsense/protocol';
