/**
 * Per-partner rate limiting on the peer API: a token bucket per party, so that one partner's
 * flood gets RESOURCE_EXHAUSTED while the others are served as usual.
 */
import { LiaisonError, ErrorLabel } from "../errors/index.ts";

export interface RateLimit {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests allowed in a burst. */
  burst: number;
}

export class PartnerRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Take one token for `party` or throw RATE_LIMITED (retryable). */
  take(party: string): void {
    const t = this.now();
    const bucket = this.buckets.get(party) ?? { tokens: this.limit.burst, at: t };
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.limit.perSecond);
    bucket.at = t;
    if (bucket.tokens < 1) {
      this.buckets.set(party, bucket);
      throw new LiaisonError("RATE_LIMITED", `more than ${this.limit.perSecond} requests per second from this partner; slow down`, {
        labels: [ErrorLabel.Retryable],
      });
    }
    bucket.tokens -= 1;
    this.buckets.set(party, bucket);
  }
}
