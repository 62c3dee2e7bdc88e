/**
 * TEST DOUBLE of AWS's per-account request rates: one token bucket per operation, refilled continuously at the
 * operation's rate and holding at most one second's worth (a request finding the bucket empty is throttled).
 * AWS does not document its throttling algorithm, only the rates (config/awsQuotas.ts): a bucket of one second
 * lets through exactly the documented rate over any window of a second or more, which is what the burst
 * measures against. Shared by every connection (and every stack) of one account.
 */
import { FLEET_PROVISIONING_RATES, RateLimitedOperation } from "../../config/awsQuotas";

export class AccountRateLimiter {
    private readonly buckets = new Map<RateLimitedOperation, { tokens: number; at: number }>();
    /** Requests let through and throttled, by operation. */
    public readonly admitted: Record<string, number> = {};
    public readonly throttled: Record<string, number> = {};

    constructor(public readonly rates: Partial<Record<RateLimitedOperation, number>> = FLEET_PROVISIONING_RATES, private readonly now: () => number = () => Date.now()) {}

    /** Takes one request's token: false when the operation is over its rate (the request is throttled). */
    take(op: RateLimitedOperation): boolean {
        const rate = this.rates[op];
        if (rate === undefined) return true;
        const t = this.now();
        const b = this.buckets.get(op) ?? { tokens: rate, at: t };
        b.tokens = Math.min(rate, b.tokens + ((t - b.at) / 1000) * rate);
        b.at = t;
        this.buckets.set(op, b);
        if (b.tokens >= 1) {
            b.tokens -= 1;
            this.admitted[op] = (this.admitted[op] ?? 0) + 1;
            return true;
        }
        this.throttled[op] = (this.throttled[op] ?? 0) + 1;
        return false;
    }
}
