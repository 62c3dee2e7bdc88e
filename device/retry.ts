/**
 * The device's retry policy for the fleet-provisioning MQTT API (provision and rotate): what a unit does
 * when AWS IoT refuses a request for being over the account's rate, or the connection drops.
 *
 * - Exponential backoff with full jitter: before retry n (1, 2, ...) wait a uniformly random time in
 *   [0, min(capMs, baseMs * 2^(n-1))]. Full jitter spreads a herd of units that were all refused in the same
 *   second over the whole window instead of bringing them back together (AWS Architecture Blog, "Exponential
 *   Backoff And Jitter", https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/; the AWS SDKs'
 *   "standard" retry mode does the same: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
 * - Only what AWS says may succeed later is retried: a throttle (the `/rejected` answer with statusCode 429 or
 *   a Throttling error code; an MQTT 5 CONNACK 0x97/0x9F), AWS's internal or unavailable errors (500, 503). A
 *   refusal (the hook's AccessDenied, a bad token, a bad CSR) is final: retrying it would only burn the
 *   account's rate for other units. So are a timeout and a dropped connection: AWS IoT closes the connection on a
 *   publish it does not authorize and, on MQTT 3.1.1, on a CONNECT it throttles or refuses alike, so the device
 *   cannot tell "later" from "never" there; the simulator exits 1 and the factory tool or the unit's next boot
 *   runs it again.
 * - The ownership token lives one hour (AWS IoT developer guide, "Device provisioning MQTT API",
 *   https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html: "the certificateOwnershipToken
 *   ... expires after one hour. RegisterThing must be called before the certificateOwnershipToken expires"; a
 *   certificate not activated by then is deleted by AWS). A RegisterThing retry reuses the token only while the
 *   token, at the time of the retry, still has `tokenMarginMs` to live; otherwise the unit asks for a new
 *   certificate (the old one, never activated, is AWS's to delete).
 * - The claim certificate's session: retries go over the same MQTT connection (AWS IoT answers on the
 *   connection that asked; a reconnect costs a CONNECT, itself rate-limited per account and per client id).
 *   A throttled CONNECT is retried after the same backoff, with a new random client id.
 * - A ceiling: at most `maxAttempts` requests of one kind in a row and `deadlineMs` overall; then the unit gives
 *   up and says why (the factory line or the unit's next boot tries again later).
 */
import { ConnectThrottled } from "./mqttSession";

/** AWS IoT rejected a fleet-provisioning request (`.../rejected`). */
export class ProvisioningRejected extends Error {
    constructor(public readonly step: string, public readonly statusCode: unknown, public readonly errorCode: string, public readonly errorMessage: string) {
        super(`${step} rejected: ${errorCode} (${String(statusCode)}): ${errorMessage}`);
        this.name = "ProvisioningRejected";
    }
}

export interface RetryPolicy {
    /** First backoff window (ms). */
    baseMs: number;
    /** Largest backoff window (ms). */
    capMs: number;
    /** Attempts of one request (the first one included) before the unit gives up. */
    maxAttempts: number;
    /** The whole provisioning, retries included, ends by then (ms). */
    deadlineMs: number;
    /** A RegisterThing retry keeps the ownership token only while it has this much life left (ms). */
    tokenMarginMs: number;
    /** false: retry at once, no backoff (what the burst test shows failing). */
    backoff: boolean;
}

/** AWS IoT's fleet-provisioning ownership token lives one hour (fleet-provision-api.html). */
export const OWNERSHIP_TOKEN_LIFE_MS = 3600_000;

/**
 * The documented default. The ceiling is a time, not a count: a unit in a burst waits its turn at AWS's
 * RegisterThing rate (10/s by default), so N units drain in N/10 seconds and the last ones retry for that long.
 * With the window capped at 2 minutes (a mean wait of 60 s) a herd of W waiting units sends about W/60 requests
 * a second; 100 attempts cover about 100 minutes of waiting (a 10,000-unit burst drains in about 17), and the
 * deadline of 6 hours ends a unit that AWS keeps refusing. Sized by the burst bench (docs/scale.md).
 */
export const DEFAULT_RETRY: RetryPolicy = { baseMs: 1000, capMs: 120_000, maxAttempts: 100, deadlineMs: 6 * 3600_000, tokenMarginMs: 5 * 60_000, backoff: true };

/** Why a failed request may succeed later, or undefined when it may not. */
export function retryable(err: unknown): "throttled" | "aws-error" | undefined {
    if (err instanceof ProvisioningRejected) {
        if (err.statusCode === 429 || /thrott/i.test(err.errorCode)) return "throttled";
        if (err.statusCode === 500 || err.statusCode === 503 || /^(InternalFailure|ServiceUnavailable)/.test(err.errorCode)) return "aws-error";
        return undefined;
    }
    return err instanceof ConnectThrottled ? "throttled" : undefined;
}

/** The unit stopped retrying: the last error, and how many attempts it made. */
export class GaveUp extends Error {
    constructor(public readonly step: string, public readonly attempts: number, public readonly last: unknown) {
        super(`${step}: gave up after ${attempts} attempts: ${(last as Error)?.message ?? String(last)}`);
        this.name = "GaveUp";
    }
}

/** The wait before retry `n` (1-based): uniform in [0, min(cap, base * 2^(n-1))]; 0 without backoff. */
export function backoffMs(policy: RetryPolicy, n: number, random: () => number = Math.random): number {
    if (!policy.backoff) return 0;
    return Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(30, n - 1)));
}

/** What a run of retries met: counted by the caller across a unit's steps. */
export interface RetryCounts { attempts: number; retries: number; throttles: number; reconnects: number; newCertificates: number }

export const noRetries = (): RetryCounts => ({ attempts: 0, retries: 0, throttles: 0, reconnects: 0, newCertificates: 0 });

/** The clock and sleep a unit uses (injected by the bench and the tests). */
export interface Clock { now(): number; sleep(ms: number): Promise<void> }

export const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
