import { createHash, timingSafeEqual } from 'node:crypto';
import { isSid, SidPrefix } from '../domain/sid.js';
import type { ServiceDeps } from './context.js';

/** Tokens are compared as digests of one length, so the comparison tells nothing of the token's. */
const digest = (token: string) => createHash('sha256').update(token).digest();

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
    // Anything that is not an account SID is refused before the store (and its cache) sees it.
    if (!isSid(sid, SidPrefix.account)) return false;
    const account = await this.deps.store.getAccount(sid);
    if (!account) return false;
    return timingSafeEqual(digest(account.authToken), digest(authToken));
  }

  /**
   * The store's read generation (see `Store.readGeneration`): while it stays the same, an account
   * that authenticated still does with the same token. Undefined when the store cannot tell.
   */
  generation(): number | undefined {
    return this.deps.store.readGeneration?.();
  }
}
