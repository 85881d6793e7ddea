/**
 * The dashboard's users client (dashboard/web/lib/users.ts) against the real API: its forms are
 * checked with the API's schemas (errors name the same field), and every answer it reads matches
 * what the server sends — adding a user without a password, the link it gets, and setting the
 * password through the reset page's call, once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api, ApiError } from '../../../dashboard/web/lib/api.js';
import {
  checkCreate,
  checkGrant,
  checkReset,
  createUser,
  listUsers,
  resetPassword,
  revokeSessions,
  tokenFromHash,
  updateUser,
} from '../../../dashboard/web/lib/users.js';
import { type Harness, startHarness } from './harness.js';

let h: Harness;
let api: Api;
beforeEach(async () => {
  h = await startHarness();
  const token = await h.login('admin');
  api = new Api({ baseUrl: h.base, token: () => token });
});
afterEach(() => h.close());

describe('dashboard users client', () => {
  it('[form] the forms name the field the API would', () => {
    const paths = (r: { ok: boolean; issues?: { path: string }[] }) =>
      r.ok ? [] : r.issues?.map((i) => i.path);
    expect(paths(checkCreate('bad name', { role: 'admin', sites: '', supplier: '' }, ''))).toEqual(['name']);
    expect(paths(checkCreate('ops', { role: 'operator', sites: ' , ', supplier: '' }, ''))).toEqual([
      'grant.sites',
    ]);
    expect(paths(checkCreate('acme', { role: 'supplier', sites: '', supplier: '' }, ''))).toEqual([
      'grant.supplier',
    ]);
    expect(paths(checkCreate('ops', { role: 'operator', sites: 'A, B', supplier: '' }, 'short'))).toEqual([
      'password',
    ]);
    expect(checkGrant({ role: 'technician', sites: 'A,B', supplier: '' })).toEqual({
      ok: true,
      value: { grant: { role: 'technician', sites: ['A', 'B'] } },
    });
    expect(paths(checkReset('ssr1.x', 'short'))).toEqual(['password']);
  });

  it('[flow] add without a password, set it through the link once, change, revoke', async () => {
    const draft = checkCreate('acme', { role: 'supplier', sites: '', supplier: 'X' }, '');
    if (!draft.ok) throw new Error('draft refused');
    const created = await createUser(api, draft.value);
    expect(created.user).toMatchObject({ name: 'acme', hasPassword: false, disabled: false });
    const token = tokenFromHash(new URL(created.reset?.url ?? '', h.base).hash);
    expect(token).toMatch(/^ssr1\./);

    const anonymous = new Api({ baseUrl: h.base, token: () => null });
    expect(await resetPassword(anonymous, { token, password: 'a fine new password' })).toEqual({
      user: 'acme',
    });
    const again = await resetPassword(anonymous, { token, password: 'a fine new password' }).catch((e) => e);
    expect(again).toBeInstanceOf(ApiError);
    expect((again as ApiError).code).toBe('SHELF_ERR_RESET_TOKEN');

    const listed = await listUsers(api);
    expect(listed.find((u) => u.name === 'acme')?.hasPassword).toBe(true);
    const changed = await updateUser(api, 'acme', { grant: { role: 'supplier', supplier: 'Y' } });
    expect(changed.grant).toEqual({ role: 'supplier', supplier: 'Y' });
    const revoked = await revokeSessions(api, 'acme');
    expect(revoked.disconnected).toBeNull();
    expect(revoked.user.tokensAfter).toBeGreaterThan(0);
  });
});
