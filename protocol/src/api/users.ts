/**
 * Users, managed by an admin (`/api/users`, docs/users.md), and the one-time password reset
 * (`POST /api/password-reset`). The same schemas check the dashboard's forms, so a form names the
 * field the server would name.
 */
import { Id } from '../payloads.js';
import { TOPIC_ROOT } from '../topics.js';
import * as z from '../zod.js';
import { orNull } from './common.js';

/** A user name: what MQTT CONNECT and `POST /api/login` take as `username`. */
export const UserName = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits, and _ . @ -, 1–64 characters'));

/** A new password. 8 characters is the floor the store accepts, not a recommendation. */
export const NewPassword = z.string().check(
  z.minLength(8, 'at least 8 characters'),
  z.maxLength(1024, 'at most 1024 characters'),
  z.refine(
    (p) => ![...p].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    'no control characters',
  ),
);

const Sites = z.array(Id).check(z.minLength(1, 'at least one site'));

/** A role and what it is bound to (the central config's `Grant`, written for requests). */
export const UserGrant = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('agent'), site: Id, agent: Id }),
  z.strictObject({ role: z.literal('supplier'), supplier: Id }),
  z.strictObject({ role: z.literal('operator'), sites: Sites }),
  z.strictObject({ role: z.literal('technician'), sites: Sites }),
  z.strictObject({
    role: z.literal('homeassistant'),
    sites: Sites,
    prefix: z.optional(
      Id.check(z.refine((p) => p !== TOPIC_ROOT.split('/')[0], 'must not be the Shelfsense topic root')),
    ),
  }),
  z.strictObject({ role: z.literal('service') }),
  z.strictObject({ role: z.literal('admin') }),
]);
export type UserGrant = z.infer<typeof UserGrant>;

/** `POST /api/users`: without a password the answer carries a one-time link to set one. */
export const CreateUserBody = z.strictObject({
  name: UserName,
  grant: UserGrant,
  password: z.optional(NewPassword),
});
export type CreateUserBody = z.infer<typeof CreateUserBody>;

/** `PATCH /api/users/{name}`: a new role and scope, disabled or enabled, or both. */
export const UpdateUserBody = z
  .strictObject({ grant: z.optional(UserGrant), disabled: z.optional(z.boolean()) })
  .check(
    z.refine((b) => b.grant !== undefined || b.disabled !== undefined, {
      message: 'give grant, disabled or both',
      path: ['grant'],
    }),
  );
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;

/** `POST /api/password-reset`: the token of a reset link and the new password. No login needed. */
export const PasswordResetBody = z.strictObject({
  token: z.string().check(z.minLength(1), z.maxLength(256)),
  password: NewPassword,
});
export type PasswordResetBody = z.infer<typeof PasswordResetBody>;

/** A role and scope as answers carry them (read leniently: a newer role's fields are kept). */
export const ApiGrant = z.looseObject({
  role: z.string().check(z.minLength(1)),
  site: z.optional(z.string()),
  agent: z.optional(z.string()),
  supplier: z.optional(z.string()),
  sites: z.optional(z.array(z.string())),
  prefix: z.optional(z.string()),
});
export type ApiGrant = z.infer<typeof ApiGrant>;

/** One user as `GET /api/users` lists it: never a password or its hash. */
export const ApiUserEntry = z.object({
  name: z.string(),
  grant: ApiGrant,
  disabled: z._default(z.boolean(), false),
  /** False for a user added without a password that has not used its reset link yet. */
  hasPassword: z._default(z.boolean(), true),
  createdAt: z.number(),
  updatedAt: z.number(),
  /** Tokens issued before this time (epoch ms) are refused; 0 when never revoked. */
  tokensAfter: z._default(z.number(), 0),
  /** Central's own MQTT user, set by central at every start: the API does not change it. */
  managedByCentral: z._default(z.boolean(), false),
});
export type ApiUserEntry = z.infer<typeof ApiUserEntry>;

/** Sorted by name. */
export const UsersResponse = z.array(ApiUserEntry);
export type UsersResponse = z.infer<typeof UsersResponse>;

/** A one-time link to the dashboard's reset page; the token is in the fragment, never sent to a server. */
export const ResetLink = z.object({ url: z.string(), expiresAt: z.number() });
export type ResetLink = z.infer<typeof ResetLink>;

export const CreateUserResponse = z.object({ user: ApiUserEntry, reset: orNull(ResetLink) });
export type CreateUserResponse = z.infer<typeof CreateUserResponse>;

/** `POST /api/users/{name}/revoke`: `disconnected` is null when the broker runs elsewhere. */
export const RevokeResponse = z.object({
  user: ApiUserEntry,
  disconnected: orNull(z.number()),
});
export type RevokeResponse = z.infer<typeof RevokeResponse>;

/** `DELETE /api/users/{name}`. */
export const RemoveUserResponse = z.object({ user: z.string(), disconnected: orNull(z.number()) });
export type RemoveUserResponse = z.infer<typeof RemoveUserResponse>;

export const PasswordResetResponse = z.object({ user: z.string() });
export type PasswordResetResponse = z.infer<typeof PasswordResetResponse>;
