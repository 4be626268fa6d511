/**
 * A token bucket per (account, kind): `perSecond` tokens a second, bursts up to one
 * second's worth. In memory and per node; see the README for what that means with several nodes.
 */
export type RequestKind = 'Read' | 'Write';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  refilledAt: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: Record<RequestKind, number>,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  limitOf(kind: RequestKind): number {
    return this.limits[kind];
  }

  take(accountSid: string, kind: RequestKind): RateDecision {
    const limit = this.limits[kind];
    if (limit === 0) return { allowed: true, limit: 0, remaining: 0, retryAfterSeconds: 0 };
    const key = `${accountSid}:${kind}`;
    const now = this.clock();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: limit, refilledAt: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(limit, bucket.tokens + ((now - bucket.refilledAt) / 1000) * limit);
    bucket.refilledAt = now;
    if (bucket.tokens < 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / limit));
      return { allowed: false, limit, remaining: 0, retryAfterSeconds };
    }
    bucket.tokens -= 1;
    return { allowed: true, limit, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
  }
}
