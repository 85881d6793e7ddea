/**
 * The audit trail (`GET /api/audit`, `GET /api/audit.csv`): who did what and when — catalogue
 * changes, logins, user changes, order actions — newest first, read by admins (every row) and
 * operators (their sites' rows). Rows are only ever appended; there is no route to change one.
 */
import { Id } from '../payloads.js';
import * as z from '../zod.js';
import { EpochMsParam, limitParam, orNull } from './common.js';

/** The most rows one request returns. */
export const AUDIT_LIMIT_MAX = 10_000;

/** Dotted, area first (`order.cancelled`), or an area alone (`order`, `order.`) for all of it. */
const AuditAction = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z0-9_-]{1,32}(?:\.[A-Za-z0-9_-]{1,32}){0,3}\.?$/,
      'an action (order.cancelled) or an area (order)',
    ),
  );

/**
 * `GET /api/audit?from=MS&to=MS&actor=…&action=…&target=…&targetId=…&site=…&before=SEQ&limit=N`
 * (the CSV route takes the same). `from` and `to` are inclusive; `before` pages backwards: rows
 * with a smaller `seq` than the oldest row of the page before.
 */
export const AuditQuery = z
  .object({
    from: z.optional(EpochMsParam),
    to: z.optional(EpochMsParam),
    actor: z.optional(
      z.string().check(z.regex(/^[^\p{Cc}]{1,128}$/u, '1–128 characters, no control characters')),
    ),
    action: z.optional(AuditAction),
    target: z.optional(
      z.string().check(z.regex(/^[A-Za-z0-9_-]{1,32}$/, 'a kind of object: order, lane, user …')),
    ),
    targetId: z.optional(
      z.string().check(z.regex(/^[^\p{Cc}]{1,200}$/u, '1–200 characters, no control characters')),
    ),
    site: z.optional(Id),
    before: z.optional(
      z.pipe(z.string().check(z.regex(/^[1-9]\d{0,14}$/, 'a sequence number (digits)')), z.transform(Number)),
    ),
    limit: z.optional(limitParam(AUDIT_LIMIT_MAX)),
  })
  .check(
    z.refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
      message: 'must not be before from',
      path: ['to'],
    }),
  );
export type AuditQuery = z.infer<typeof AuditQuery>;

/** One row of the trail. `before`, `after` and `detail` are whatever the action recorded. */
export const ApiAuditEntry = z.object({
  seq: z.number().check(z.int(), z.positive()),
  /** Epoch ms. */
  at: z.number(),
  /** The user, or the process (`central`, `central.yaml`) when no user acted. */
  actor: z.string(),
  role: orNull(z.string()),
  action: z.string(),
  target: orNull(z.string()),
  targetId: orNull(z.string()),
  site: orNull(z.string()),
  before: orNull(z.unknown()),
  after: orNull(z.unknown()),
  detail: orNull(z.record(z.string(), z.unknown())),
});
export type ApiAuditEntry = z.infer<typeof ApiAuditEntry>;

/** Newest first. */
export const AuditResponse = z.array(ApiAuditEntry);
export type AuditResponse = z.infer<typeof AuditResponse>;

/** The columns of `GET /api/audit.csv`; `before`, `after` and `detail` are JSON text. */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'at',
  'iso',
  'actor',
  'role',
  'action',
  'target',
  'targetId',
  'site',
  'before',
  'after',
  'detail',
] as const;
