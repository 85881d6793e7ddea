/**
 * Central's own identity on its embedded broker: a `service` user whose random password lives in
 * the data directory (mode 0600) and is set again at every start, so ingest and rules connect like
 * any other client and obey the same ACLs.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UserStore } from '@shelfsense/broker';

export const SERVICE_USER = 'shelfsense-central';
const SECRET_FILE = 'central-service.secret';

export async function ensureServiceIdentity(
  users: UserStore,
  dataDir: string,
): Promise<{ username: string; password: string }> {
  const file = join(dataDir, SECRET_FILE);
  let password = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (password.length < 16) {
    password = randomBytes(24).toString('base64url');
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const existing = users.get(SERVICE_USER);
  if (!existing) await users.add(SERVICE_USER, { role: 'service' }, password);
  else if (!(await users.authenticate(SERVICE_USER, password)))
    await users.setPassword(SERVICE_USER, password);
  return { username: SERVICE_USER, password };
}
