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

    /** Per operation, per whole second since the limiter was made (or `reset`): requests admitted and throttled. */
    private readonly seconds = new Map<RateLimitedOperation, { admitted: number; throttled: number }[]>();
    private origin: number;

    constructor(public readonly rates: Partial<Record<RateLimitedOperation, number>> = FLEET_PROVISIONING_RATES, private readonly now: () => number = () => Date.now()) {
        this.origin = now();
    }

    /** Forgets the counts (not the buckets): what follows is measured from now. */
    reset(): void {
        for (const k of Object.keys(this.admitted)) delete this.admitted[k];
        for (const k of Object.keys(this.throttled)) delete this.throttled[k];
        this.seconds.clear();
        this.origin = this.now();
    }

    /**
     * The rate `op` was admitted at while it was the limit: requests admitted per second over the whole seconds in
     * which at least one `op` request was throttled (demand above the rate), the first and last such second left out
     * (partial). What a burst checks against AWS's rate: below it, something other than the rate (this process's
     * CPU, the hook) held the requests back. Undefined with fewer than three such seconds.
     */
    saturatedRate(op: RateLimitedOperation): { perSecond: number; seconds: number } | undefined {
        const busy = (this.seconds.get(op) ?? []).map((s, i) => ({ s, i })).filter(({ s }) => s && s.throttled > 0);
        if (busy.length < 3) return undefined;
        const inner = busy.slice(1, -1);
        return { perSecond: inner.reduce((n, { s }) => n + s.admitted, 0) / inner.length, seconds: inner.length };
    }

    /** Takes one request's token: false when the operation is over its rate (the request is throttled). */
    take(op: RateLimitedOperation): boolean {
        const rate = this.rates[op];
        if (rate === undefined) return true;
        const t = this.now();
        const b = this.buckets.get(op) ?? { tokens: rate, at: t };
        b.tokens = Math.min(rate, b.tokens + ((t - b.at) / 1000) * rate);
        b.at = t;
        this.buckets.set(op, b);
        const perSecond = this.seconds.get(op) ?? [];
        this.seconds.set(op, perSecond);
        const second = (perSecond[Math.floor((t - this.origin) / 1000)] ??= { admitted: 0, throttled: 0 });
        if (b.tokens >= 1) {
            b.tokens -= 1;
            this.admitted[op] = (this.admitted[op] ?? 0) + 1;
            second.admitted++;
            return true;
        }
        this.throttled[op] = (this.throttled[op] ?? 0) + 1;
        second.throttled++;
        return false;
    }
}
