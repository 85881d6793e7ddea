/**
 * The catalogue over HTTP (docs/catalogue.md): `GET /api/catalogue` reads what the user may see,
 * each object with its `revision` (the catalogue version in which it last changed); `PUT` creates
 * or updates one object and `DELETE` removes it. An update or delete names the revision it read:
 * a stale one answers 409 with the object as it is now (`current` beside `error`), so two people
 * editing at once never overwrite each other unseen. A PUT without `revision` creates, and answers
 * 409 when the object exists.
 *
 *   PUT    /api/catalogue/suppliers/:supplier               SupplierBody
 *   PUT    /api/catalogue/suppliers/:supplier/webhook       WebhookBody  (answers the secret once)
 *   POST   /api/catalogue/suppliers/:supplier/webhook/rotate   → the new secret, once
 *   POST   /api/catalogue/suppliers/:supplier/webhook/test     → the supplier's answer
 *   PUT    /api/catalogue/skus/:sku                         SkuBody
 *   PUT    /api/catalogue/sites/:site                       SiteBody
 *   PUT    /api/catalogue/sites/:site/shelves/:shelf        ShelfBody
 *   PUT    /api/catalogue/sites/:site/shelves/:shelf/lanes/:lane   LaneBody
 *   PUT    /api/catalogue/policies/defaults                 PolicyBody
 *   PUT    /api/catalogue/policies/skus/:sku                PolicyBody
 *   PUT    /api/catalogue/policies/sites/:site              PolicyBody
 *   PUT    /api/catalogue/policies/lanes/:site/:shelf/:lane PolicyBody
 *   DELETE any of the PUT paths (but defaults) ?revision=N
 *
 * The bodies check shape here; the catalogue's own schema (ids, references, orderUpTo above
 * reorderPoint, one channel per lane) checks the result, and its issues name the body's fields.
 */
import { OpeningHours } from '../config/hours.js';
import { DeliverySchedule } from '../config/schedule.js';
import * as z from '../zod.js';
import { orNull } from './common.js';

const Id = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, 1–64 characters'));
const Revision = z.number().check(z.int(), z.nonnegative());
/** The revision read: required to update or delete, absent to create. */
const ReadRevision = z.optional(Revision);
const Count = z.number().check(z.int(), z.nonnegative());
const Positive = z.number().check(z.int(), z.positive());
/** Milliseconds, or a duration such as `5m`, `2d`. */
const Duration = z.union([z.number().check(z.int(), z.nonnegative()), z.string().check(z.maxLength(32))]);
const Channels = z
  .array(z.number().check(z.int(), z.minimum(0), z.maximum(7)))
  .check(z.minLength(1), z.maxLength(8));

export const ContactBody = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  email: z.optional(z.email()),
  phone: z.optional(z.string().check(z.regex(/^\+?[0-9 ()./-]{3,32}$/, 'a phone number'))),
});
export type ContactBody = z.infer<typeof ContactBody>;

export const SupplierBody = z.strictObject({
  name: z.optional(z.string().check(z.maxLength(200))),
  contacts: z.optional(z.array(ContactBody).check(z.maxLength(20))),
  /** Absent: the schedule stays as it is; null: removed (every need is then sent at once). */
  schedule: z.optional(z.nullable(DeliverySchedule)),
  revision: ReadRevision,
});
export type SupplierBody = z.infer<typeof SupplierBody>;

export const SkuBody = z.strictObject({
  name: z.optional(z.string().check(z.maxLength(200))),
  unitWeightG: z.number().check(z.positive()),
  supplier: Id,
  revision: ReadRevision,
});
export type SkuBody = z.infer<typeof SkuBody>;

export const SiteBody = z.strictObject({
  name: z.optional(z.string().check(z.maxLength(200))),
  /** Left out: kept as it is; null: always open. */
  openingHours: z.optional(z.nullable(OpeningHours)),
  revision: ReadRevision,
});
export type SiteBody = z.infer<typeof SiteBody>;

export const LaneInput = z.strictObject({
  id: Id,
  channels: Channels,
  sku: Id,
  capacity: z.optional(Positive),
});
export type LaneInput = z.infer<typeof LaneInput>;

/** A shelf; `lanes` is required to create one, and left out of an update keeps its lanes. */
export const ShelfBody = z.strictObject({
  serial: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, 1–64 characters')),
  agent: Id,
  lanes: z.optional(z.array(LaneInput).check(z.minLength(1), z.maxLength(8))),
  revision: ReadRevision,
});
export type ShelfBody = z.infer<typeof ShelfBody>;

export const LaneBody = z.strictObject({
  channels: Channels,
  sku: Id,
  capacity: z.optional(Positive),
  revision: ReadRevision,
});
export type LaneBody = z.infer<typeof LaneBody>;

/** Any subset of the policy fields (docs/replenishment.md); the defaults may not be deleted. */
export const PolicyFields = {
  reorderPoint: z.optional(Count),
  orderUpTo: z.optional(Positive),
  packSize: z.optional(Positive),
  minOrderQty: z.optional(Positive),
  leadTimeMs: z.optional(Duration),
  debounceMs: z.optional(Duration),
  hysteresis: z.optional(Count),
  safetyStock: z.optional(Count),
  dynamicReorderPoint: z.optional(z.boolean()),
  enabled: z.optional(z.boolean()),
};
export const PolicyBody = z.strictObject({ ...PolicyFields, revision: ReadRevision });
export type PolicyBody = z.infer<typeof PolicyBody>;

export const WebhookBody = z.strictObject({
  url: z.string().check(z.regex(/^https?:\/\/\S+$/, 'an http:// or https:// URL'), z.maxLength(2048)),
  revision: ReadRevision,
});
export type WebhookBody = z.infer<typeof WebhookBody>;

/** `DELETE …?revision=N` */
export const DeleteQuery = z.object({
  revision: z.pipe(
    z.pipe(
      z.string().check(z.regex(/^\d{1,12}$/, 'the revision read (a whole number)')),
      z.transform(Number),
    ),
    Revision,
  ),
});
export type DeleteQuery = z.infer<typeof DeleteQuery>;

// --- answers -----------------------------------------------------------------------------------

export const WebhookView = z.object({
  url: z.string(),
  /** Never the secret itself: only that one is set. */
  secretSet: z.boolean(),
  revision: Revision,
});
export type WebhookView = z.infer<typeof WebhookView>;

export const SupplierView = z.object({
  id: z.string(),
  name: orNull(z.string()),
  contacts: z._default(z.array(ContactBody), []),
  schedule: z._default(orNull(DeliverySchedule), null),
  revision: Revision,
  webhook: orNull(WebhookView),
});
export type SupplierView = z.infer<typeof SupplierView>;

export const SkuView = z.object({
  id: z.string(),
  name: orNull(z.string()),
  unitWeightG: z.number(),
  supplier: z.string(),
  revision: Revision,
});
export type SkuView = z.infer<typeof SkuView>;

export const LaneView = z.object({
  id: z.string(),
  channels: z.array(z.number()),
  sku: z.string(),
  capacity: orNull(z.number()),
  revision: Revision,
});
export type LaneView = z.infer<typeof LaneView>;

export const ShelfView = z.object({
  id: z.string(),
  serial: z.string(),
  agent: z.string(),
  revision: Revision,
  lanes: z.array(LaneView),
});
export type ShelfView = z.infer<typeof ShelfView>;

export const SiteView = z.object({
  id: z.string(),
  name: orNull(z.string()),
  /** Null: always open. */
  openingHours: orNull(OpeningHours),
  revision: Revision,
  shelves: z.array(ShelfView),
});
export type SiteView = z.infer<typeof SiteView>;

const PolicyView = z.object({
  ...PolicyFields,
  leadTimeMs: z.optional(z.number()),
  debounceMs: z.optional(z.number()),
  revision: Revision,
});
export const PolicyViews = z.object({
  defaults: PolicyView,
  skus: z.array(z.extend(PolicyView, { sku: z.string() })),
  sites: z.array(z.extend(PolicyView, { site: z.string() })),
  lanes: z.array(z.extend(PolicyView, { site: z.string(), shelf: z.string(), lane: z.string() })),
});
export type PolicyViews = z.infer<typeof PolicyViews>;

/** `GET /api/catalogue`: what the user may see of the catalogue in force. */
export const CatalogueView = z.object({
  version: z.number().check(z.int(), z.nonnegative()),
  suppliers: z.array(SupplierView),
  skus: z.array(SkuView),
  sites: z.array(SiteView),
  policies: PolicyViews,
});
export type CatalogueView = z.infer<typeof CatalogueView>;

/** `shelfsense/v1/catalogue` (retained, MQTT): the version in force, announced by central. */
export const CatalogueAnnouncement = z.object({
  version: z.number().check(z.int(), z.nonnegative()),
  ts: z.number(),
});
export type CatalogueAnnouncement = z.infer<typeof CatalogueAnnouncement>;

/** What a change to the live orders does (docs/catalogue.md lists every rule). */
export const OrderEffectView = z.object({
  orderId: z.string(),
  /** `site/shelf/lane` */
  lane: z.string(),
  state: z.string(),
  action: z.string(),
  reason: z.string(),
});

/** The answer to a PUT or DELETE: the new catalogue version and the object as stored (null once deleted). */
export const CatalogueChangeResponse = z.object({
  /** Null when the request changed nothing (the object already read so). */
  version: orNull(z.number()),
  object: z.nullable(z.unknown()),
  effects: z._default(z.array(OrderEffectView), []),
});
export type CatalogueChangeResponse = z.infer<typeof CatalogueChangeResponse>;

/** `PUT …/webhook` that creates one, and `…/webhook/rotate`: the secret, shown this once. */
export const WebhookSecretResponse = z.object({
  version: orNull(z.number()),
  webhook: WebhookView,
  secret: z.string(),
});
export type WebhookSecretResponse = z.infer<typeof WebhookSecretResponse>;

/** `…/webhook/test`: what the supplier's endpoint answered to a signed test event. */
export const WebhookTestResponse = z.object({
  ok: z.boolean(),
  status: orNull(z.number()),
  durationMs: z.number(),
  /** The first 2 KiB of the answer's body. */
  body: orNull(z.string()),
  error: orNull(z.string()),
});
export type WebhookTestResponse = z.infer<typeof WebhookTestResponse>;
