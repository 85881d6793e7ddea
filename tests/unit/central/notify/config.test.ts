/**
 * The `notifications` part of the central config: off when absent, defaults that parse again (the
 * catalogue part re-validates the config it was given), errors that name the field, and the SMTP
 * password from a secret — `!secret` in the YAML or a `_FILE` variable — never in the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CentralConfig, isShelfError, parseConfigText, parseWith } from '@shelfsense/protocol';
import { afterAll, describe, expect, it } from 'vitest';

const SMTP = { host: 'smtp.example.com', from: 'Shelfsense <shelfsense@example.com>' };
const dir = mkdtempSync(join(tmpdir(), 'notify-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const messages = (input: unknown): string[] => {
  try {
    parseWith(CentralConfig, input, 'central config');
  } catch (err) {
    if (isShelfError(err)) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
};

describe('notifications config', () => {
  it('[NOTIFY-CONFIG-1] absent: off; present: its defaults, which parse again unchanged', () => {
    expect(CentralConfig.parse({}).notifications).toBeUndefined();
    const c = CentralConfig.parse({ notifications: { smtp: SMTP } });
    expect(c.notifications).toMatchObject({
      enabled: true,
      smtp: { host: 'smtp.example.com', port: 587, secure: false, requireTls: false, timeoutMs: 30_000 },
      digest: { defaultMinutes: 0, maxNotices: 100 },
      chat: [],
      retry: { maxAttempts: 20 },
      retainMs: 30 * 86_400_000,
    });
    expect(CentralConfig.parse(c)).toEqual(c);
  });

  it('[NOTIFY-CONFIG-2] each error names its field', () => {
    expect(
      messages({
        notifications: {
          smtp: { host: 'h', from: 'nobody' },
          dashboardUrl: 'ftp://x',
          digest: { defaultMinutes: 2_000 },
          chat: [{ name: 'ops', url: 'https://hooks.example/1', kinds: ['stock-out'], format: 'teams' }],
        },
      }),
    ).toEqual([
      'notifications.smtp.from: an e-mail address, or a name and an address: Shelfsense <shelfsense@example.com>',
      'notifications.dashboardUrl: an http:// or https:// URL',
      'notifications.digest.defaultMinutes: Too big: expected number to be <=1440',
      'notifications.chat.0.format: Invalid option: expected one of "slack"|"json"',
    ]);
    const hook = { url: 'https://hooks.example/1', kinds: ['stock-out'] };
    expect(
      messages({
        notifications: {
          chat: [
            { name: 'ops', ...hook },
            { name: 'ops', ...hook },
          ],
          catchUpMs: '40d',
        },
      }),
    ).toEqual([
      'notifications.chat.1.name: duplicate chat webhook "ops"',
      'notifications.catchUpMs: must be shorter than retainMs, or an alert could be notified twice',
    ]);
  });

  it('[NOTIFY-CONFIG-3] the SMTP password from `!secret` or a `_FILE` variable', () => {
    const secrets = join(dir, 'secrets.yaml');
    writeFileSync(secrets, 'smtp_password: "relay-secret-1"\n');
    const yaml = [
      'notifications:',
      '  smtp: { host: smtp.example.com, user: shelfsense, password: !secret smtp_password, from: a@example.com }',
    ].join('\n');
    const fromSecret = parseConfigText(CentralConfig, yaml, 'central config', { secretsFile: secrets });
    expect(fromSecret.notifications?.smtp?.password).toBe('relay-secret-1');
    const file = join(dir, 'smtp-password');
    writeFileSync(file, 'relay-secret-2\n');
    const fromFile = parseConfigText(
      CentralConfig,
      'notifications:\n  smtp: { host: smtp.example.com, user: shelfsense, from: a@example.com }\n',
      'central config',
      { env: { SHELFSENSE_CENTRAL_NOTIFICATIONS__SMTP__PASSWORD_FILE: file } },
    );
    expect(fromFile.notifications?.smtp?.password).toBe('relay-secret-2');
  });
});
