/**
 * The users routes (docs/users.md) for the Users tab, and the form checks it shares with the
 * server: a draft is checked with the contract's own schemas, so the form names the field the API
 * would. No DOM.
 */
import {
  ApiUserEntry,
  CreateUserBody,
  CreateUserResponse,
  type Issue,
  PasswordResetBody,
  PasswordResetResponse,
  RemoveUserResponse,
  ResetLink,
  RevokeResponse,
  toIssues,
  UpdateUserBody,
  type UserGrant,
  UsersResponse,
} from '@shelfsense/protocol';
import * as z from '@shelfsense/protocol/zod';
import type { Api } from './api.js';

const seg = encodeURIComponent;

export const listUsers = (api: Api) => api.request('GET', '/api/users', UsersResponse);
export const createUser = (api: Api, body: CreateUserBody) =>
  api.request('POST', '/api/users', CreateUserResponse, body);
export const updateUser = (api: Api, name: string, body: UpdateUserBody) =>
  api.request('PATCH', `/api/users/${seg(name)}`, ApiUserEntry, body);
export const removeUser = (api: Api, name: string) =>
  api.request('DELETE', `/api/users/${seg(name)}`, RemoveUserResponse);
export const resetLink = (api: Api, name: string) =>
  api.request('POST', `/api/users/${seg(name)}/reset`, ResetLink, {});
export const revokeSessions = (api: Api, name: string) =>
  api.request('POST', `/api/users/${seg(name)}/revoke`, RevokeResponse, {});
/** Needs no login: the reset token is the credential. */
export const resetPassword = (api: Api, body: PasswordResetBody) =>
  api.request('POST', '/api/password-reset', PasswordResetResponse, body);

/** The roles the form offers, with the scope each is bound to. */
export const FORM_ROLES = ['operator', 'technician', 'homeassistant', 'supplier', 'admin'] as const;
export type FormRole = (typeof FORM_ROLES)[number];

/** The grant form as typed: sites as a comma list, so one set of fields serves every role. */
export interface GrantDraft {
  role: string;
  sites: string;
  supplier: string;
}

export const splitList = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** What the form's fields say, as the request's `grant` (checked by the schema, not here). */
export function grantOf(d: GrantDraft): unknown {
  switch (d.role) {
    case 'supplier':
      return { role: 'supplier', supplier: d.supplier.trim() };
    case 'operator':
    case 'technician':
    case 'homeassistant':
      return { role: d.role, sites: splitList(d.sites) };
    default:
      return { role: d.role };
  }
}

/** The draft of a user's grant as it is now. */
export function draftOf(g: ApiUserEntry['grant']): GrantDraft {
  return {
    role: g.role,
    sites: (g.sites ?? (g.site ? [g.site] : [])).join(', '),
    supplier: g.supplier ?? '',
  };
}

/** One line per issue, naming the field as the API names it (`grant.sites.0: …`). */
export const describeIssues = (issues: readonly Issue[]) =>
  issues.map((i) => `${i.path || 'body'}: ${i.message}`).join('; ');

export type Checked<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

function check<S extends z.ZodMiniType>(schema: S, value: unknown): Checked<z.output<S>> {
  const r = z.safeParse(schema, value);
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: toIssues(r.error) };
}

export const checkCreate = (name: string, grant: GrantDraft, password: string) =>
  check(CreateUserBody, { name: name.trim(), grant: grantOf(grant), ...(password ? { password } : {}) });

export const checkGrant = (grant: GrantDraft) => check(UpdateUserBody, { grant: grantOf(grant) });

export const checkReset = (token: string, password: string) => check(PasswordResetBody, { token, password });

/** A short text of a grant's scope for the table. */
export function scopeText(g: ApiUserEntry['grant']): string {
  if (g.supplier) return `supplier ${g.supplier}`;
  const sites = g.sites ?? (g.site ? [g.site] : []);
  const parts = sites.length ? [`sites ${sites.join(', ')}`] : [];
  if (g.agent) parts.push(`agent ${g.agent}`);
  if (g.prefix) parts.push(`prefix ${g.prefix}`);
  return parts.join('; ') || '—';
}

/** The token of a reset link (`/reset#token=…`), or '' when the link has none. */
export function tokenFromHash(hash: string): string {
  return new URLSearchParams(hash.replace(/^#/, '')).get('token') ?? '';
}

export type { UserGrant };
