/**
 * UserStore on users.db: the shared behaviour (tests/contract/users/user-store.contract.ts), and
 * what only users.db shows — what the file keeps of a reset token, the CLI's pending audit events,
 * and the migration of an older file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, type UserAuditEvent, UserStore } from '@shelfsense/broker';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHEAP, PASSWORD, userStoreContract } from '../../../contract/users/user-store.contract.js';

const NEW_PASSWORD = 'another long secret';
const http = { channel: 'http' as const, address: '10.0.0.7' };

describe('UserStore on users.db', () => {
  userStoreContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shelfsense-users-contract-'));
    const stores: UserStore[] = [];
    return {
      open(o) {
        const s = new UserStore(dir, { scrypt: CHEAP, ...o });
        stores.push(s);
        return s;
      },
      async close() {
        for (const s of stores) s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});

let dir: string;
let now: number;
let store: UserStore;

const open = (o: { pendingAudit?: boolean } = {}) =>
  new UserStore(dir, { scrypt: CHEAP, now: () => now, ...o });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-users-admin-'));
  now = 1_000_000;
  store = open();
  await store.add('op', { role: 'operator', sites: ['A'] }, PASSWORD);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reset tokens in users.db', () => {
  it('[reset] only a hash is stored, and a newer token replaces the older one', async () => {
    const first = store.issueResetToken('op');
    const second = store.issueResetToken('op');
    const db = new Database(join(dir, 'users.db'), { readonly: true });
    const dump = JSON.stringify(db.prepare('SELECT * FROM reset_tokens').all());
    db.close();
    expect(dump).not.toContain(first.token.slice(5));
    expect(dump).not.toContain(second.token.slice(5));
    await expect(store.resetPassword(first.token, NEW_PASSWORD)).rejects.toMatchObject({
      code: 'SHELF_ERR_RESET_TOKEN',
    });
    expect(await store.resetPassword(second.token, NEW_PASSWORD)).toBe('op');
  });
});

describe('pending audit events', () => {
  it('[pending] another process keeps its events in users.db until central takes them, once', async () => {
    const cli = open({ pendingAudit: true });
    try {
      await cli.add('pi', { role: 'agent', site: 'A', agent: 'pi' }, PASSWORD);
      cli.setDisabled('pi', true);
      cli.remove('pi');
    } finally {
      cli.close();
    }
    const taken: UserAuditEvent[] = [];
    expect(store.drainPendingAudit((e) => taken.push(...e))).toBe(3);
    expect(taken.map((e) => e.action)).toEqual(['user.added', 'user.disabled', 'user.removed']);
    expect(taken[0]?.actor).toEqual({ user: 'central', role: null });
    expect(store.drainPendingAudit((e) => taken.push(...e))).toBe(0);
  });

  it('[pending] events stay when the sink fails', async () => {
    const cli = open({ pendingAudit: true });
    cli.revokeTokens('op');
    cli.close();
    expect(() =>
      store.drainPendingAudit(() => {
        throw new Error('central store closed');
      }),
    ).toThrow(/closed/);
    expect(store.drainPendingAudit(() => {})).toBe(1);
  });
});

describe('users.db migration', () => {
  it('[migrate] a users.db of the first version gains the new columns and keeps its users', async () => {
    const old = mkdtempSync(join(tmpdir(), 'shelfsense-users-v1-'));
    try {
      const db = new Database(join(old, 'users.db'));
      db.exec(`CREATE TABLE users (name TEXT PRIMARY KEY, grant_json TEXT NOT NULL, hash TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT`);
      db.prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?)').run(
        'legacy',
        JSON.stringify({ role: 'admin' }),
        await hashPassword(PASSWORD, CHEAP),
        1,
        1,
      );
      db.close();
      const s = new UserStore(old, { scrypt: CHEAP });
      try {
        expect(s.get('legacy')).toMatchObject({ disabled: false, hasPassword: true, tokensAfter: 0 });
        expect((await s.login('legacy', PASSWORD, http)).identity?.user).toBe('legacy');
        s.setDisabled('legacy', true);
        expect(s.get('legacy')?.disabled).toBe(true);
      } finally {
        s.close();
      }
      // Opening again is a no-op.
      const again = new UserStore(old, { scrypt: CHEAP });
      expect(again.get('legacy')?.disabled).toBe(true);
      again.close();
      const check = new Database(join(old, 'users.db'), { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(2);
      check.close();
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });
});

describe('users elsewhere', () => {
  it('[rows] a store on other rows needs a token secret, keeps no pending events and leaves users.db alone', () => {
    const rows = { get: () => undefined } as never;
    expect(() => new UserStore(null)).toThrow(/data dir or rows/);
    expect(() => new UserStore(null, { rows })).toThrow(/token secret/);
    expect(() => new UserStore(null, { rows, tokenSecret: new Uint8Array(16) })).toThrow(/32 bytes/);
    const secret = new Uint8Array(32).fill(7);
    expect(() => new UserStore(null, { rows, tokenSecret: secret, pendingAudit: true })).toThrow(/pending/);
    const s = new UserStore(null, { rows, tokenSecret: secret });
    expect(s.get('op')).toBeUndefined();
    expect(s.drainPendingAudit(() => {})).toBe(0);
    s.close();
  });
});
