import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config.js';
import { isSid, newAuthToken, newSid, SidPrefix } from '../domain/sid.js';

export const CREDENTIALS_FILE = 'credentials.json';

export interface Credentials {
  accountSid: string;
  authToken: string;
  /** True when they were made just now (and so should be shown once). */
  created: boolean;
  /** Where they are kept, when they came from the data directory. */
  file?: string;
}

/**
 * The account to serve: from the environment when set; otherwise the one kept in the data
 * directory, made on first start.
 */
export function resolveCredentials(
  dataDir: string,
  fromEnv: { sid: string; authToken: string } | null,
): Credentials {
  if (fromEnv) return { accountSid: fromEnv.sid, authToken: fromEnv.authToken, created: false };
  const file = join(dataDir, CREDENTIALS_FILE);
  if (existsSync(file)) {
    let parsed: { account_sid?: unknown; auth_token?: unknown };
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
    } catch (err) {
      throw new ConfigError(`${file} cannot be read: ${(err as Error).message}`);
    }
    const sid = parsed.account_sid;
    const token = parsed.auth_token;
    if (
      typeof sid !== 'string' ||
      !isSid(sid, SidPrefix.account) ||
      typeof token !== 'string' ||
      token === ''
    ) {
      throw new ConfigError(`${file} does not hold an account_sid and auth_token`);
    }
    return { accountSid: sid, authToken: token, created: false, file };
  }
  const accountSid = newSid(SidPrefix.account);
  const authToken = newAuthToken();
  writeFileSync(file, JSON.stringify({ account_sid: accountSid, auth_token: authToken }, null, 2) + '\n', {
    mode: 0o600,
  });
  return { accountSid, authToken, created: true, file };
}
