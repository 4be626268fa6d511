import type { Account } from '../../domain/types.js';

export interface AccountReads {
  getAccount(sid: string): Promise<Account | null>;
}

export interface AccountWrites {
  upsertAccount(account: Account, now: Date): Promise<void>;
}
