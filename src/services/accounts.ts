import { timingSafeEqual } from 'node:crypto';
import type { ServiceDeps } from './context.js';

export class AccountService {
  constructor(private readonly deps: ServiceDeps) {}

  /** Creates the account, or sets its token if it changed. */
  async ensure(sid: string, authToken: string): Promise<void> {
    await this.deps.store.transaction((tx) => tx.upsertAccount({ sid, authToken }, this.deps.now()));
  }

  async exists(sid: string): Promise<boolean> {
    return (await this.deps.store.getAccount(sid)) !== null;
  }

  /** True when the SID names an account whose token is exactly `authToken`. */
  async authenticate(sid: string, authToken: string): Promise<boolean> {
    const account = await this.deps.store.getAccount(sid);
    if (!account) return false;
    const a = Buffer.from(account.authToken);
    const b = Buffer.from(authToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
