/**
 * How a unit (re)connects: the documented device algorithm (docs/provisioning-security.md, "Device algorithm"), which
 * every device command that connects with the unit's identity runs (device/cli.ts: publish, confirm, rotate, for a
 * vehicle and a Greengrass core).
 *
 * 1. Connect with the current certificate.
 * 2. If AWS IoT refuses it (ConnectRefused: a certificate that is not ACTIVE cannot connect, AWS IoT API reference,
 *    UpdateCertificate) and `*.previous` exists: connect with the previous one. Only if that one connects do the two
 *    swap places (the refused one becomes `*.previous`, so a wrong fall-back is undone by the next one); a core's
 *    nucleus is then restarted on them (`onFallBack`). A rotated certificate whose confirmation never landed is
 *    retired after `confirmTimeoutHours` while the previous one was never scheduled: the unit comes back on it.
 * 3. Publish the confirmation on that connection (always for `confirm`; after a fall-back for the others): for the
 *    certificate in use it changes nothing, a rotation's missing confirmation lands late, and a certificate a thief's
 *    rotation replaced is seen (confirm logs `evictionSignal: replaced-certificate-in-use`, the eviction alarm).
 * 4. A failure that may pass (a timeout, a dropped connection, a throttle, an unanswered publish) is retried with the
 *    device's retry policy (device/retry.ts: exponential backoff, full jitter, a ceiling of attempts and time). Both
 *    certificates refused is final: nothing the unit holds works (quarantined, or retired), and it says so.
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIRM_TOPIC } from "../policies/topics";
import { ConnectRefused, ConnectThrottled, MqttSession } from "./mqttSession";
import { readIdentity } from "./provision";
import { basicIngestTopic } from "./publish";
import { backoffMs, Clock, GaveUp, realClock, RetryPolicy } from "./retry";

/**
 * The confirmation's retries: the same backoff as provisioning (device/retry.ts), fewer attempts and a shorter ceiling
 * (a unit that cannot reach AWS IoT for 15 minutes confirms on its next start; nothing is lost meanwhile: the new
 * certificate is in place, and an unconfirmed one is only retired after `confirmTimeoutHours`).
 */
export const CONFIRM_RETRY: RetryPolicy = { baseMs: 1000, capMs: 60_000, maxAttempts: 8, deadlineMs: 15 * 60_000, tokenMarginMs: 0, backoff: true };

/** The unit's credential files: full paths (the previous ones are `<file>.previous`). */
export interface CredentialFiles { certificate: string; privateKey: string }

export interface ReconnectOptions {
    endpoint: string;
    port: number;
    ca?: string;
    mqttVersion?: 4 | 5;
    timeoutMs: number;
    /** The MQTT client id (a vehicle: its Thing name; a core: `<thing>#rotate`, never its nucleus' own). */
    clientId: string;
    /** The Thing the confirmation names. */
    thing: string;
    files: CredentialFiles;
    /** The stack's certificate-confirmation rule; without it nothing is confirmed. */
    confirmRule?: string;
    /** "always": confirm on connect (the `confirm` command); "after-fall-back": only when the unit fell back. */
    confirm: "always" | "after-fall-back";
    /** After the swap (a core: restart the nucleus on the files and wait until it has connected). */
    onFallBack?: () => Promise<void>;
    retry?: RetryPolicy;
    clock?: Clock;
    random?: () => number;
}

export interface ReconnectResult {
    /** The current certificate was refused and the previous one connected: they swapped places. */
    fellBack: boolean;
    /** The confirmation was published (acknowledged by AWS IoT). */
    confirmed: boolean;
    /** Connections made (retries included). */
    attempts: number;
}

/** Neither the current nor the previous certificate can connect: nothing the unit holds works. */
export class NothingConnects extends Error {
    constructor(public readonly files: CredentialFiles, cause: Error, hasPrevious: boolean) {
        super(hasPrevious
            ? `AWS IoT refused both ${files.certificate} and ${files.certificate}.previous (${cause.message}): the unit is quarantined or both certificates are retired; it needs a rearm and a new provisioning`
            : `${cause.message}: AWS IoT refused ${files.certificate}, and there is no ${files.certificate}.previous to fall back to`);
        this.name = "NothingConnects";
    }
}

const previousOf = (file: string) => `${file}.previous`;

export function hasPrevious(files: CredentialFiles): boolean {
    return fs.existsSync(previousOf(files.certificate)) && fs.existsSync(previousOf(files.privateKey));
}

/** The current and previous files swap places (each rename atomic; the key follows the certificate). */
export function swapWithPrevious(files: CredentialFiles): void {
    for (const file of [files.certificate, files.privateKey]) {
        const swap = `${file}.swap-${process.pid}`;
        fs.renameSync(file, swap);
        fs.renameSync(previousOf(file), file);
        fs.renameSync(swap, previousOf(file));
    }
}

/** The unit fell back, and what had to follow (a core's nucleus connecting) did not: said, never retried. */
export class FallBackIncomplete extends Error {
    constructor(message: string) {
        super(message);
        this.name = "FallBackIncomplete";
    }
}

/** May a failed connection or publish succeed later? A refusal of the certificate is never retried as such. */
function passes(err: unknown): boolean {
    if (err instanceof NothingConnects || err instanceof FallBackIncomplete) return false;
    return err instanceof ConnectThrottled || !(err instanceof ConnectRefused);
}

export async function reconnect(o: ReconnectOptions): Promise<ReconnectResult> {
    const policy = o.retry ?? CONFIRM_RETRY;
    const clock = o.clock ?? realClock;
    const started = clock.now();
    const connect = (suffix: "" | ".previous") => MqttSession.connect({
        host: o.endpoint, port: o.port, clientId: o.clientId, timeoutMs: o.timeoutMs, mqttVersion: o.mqttVersion,
        identity: readIdentity(`${o.files.certificate}${suffix}`, `${o.files.privateKey}${suffix}`, o.ca),
    });
    let fellBack = false;
    let last: unknown;
    for (let attempt = 1; ; attempt++) {
        try {
            let session: MqttSession;
            try {
                session = await connect("");
            } catch (err) {
                if (!(err instanceof ConnectRefused)) throw err;
                if (fellBack || !hasPrevious(o.files)) throw new NothingConnects(o.files, err, fellBack);
                try {
                    session = await connect(".previous");
                } catch (previousErr) {
                    if (previousErr instanceof ConnectRefused) throw new NothingConnects(o.files, err, true);
                    throw previousErr;
                }
                swapWithPrevious(o.files);
                fellBack = true;
                if (o.onFallBack) {
                    // The nucleus connects as <thing>, this session is <thing>#rotate: both stay up.
                    await session.end();
                    await o.onFallBack().catch((e: Error) => { throw e instanceof FallBackIncomplete ? e : new FallBackIncomplete(e.message); });
                    session = await connect("");
                }
            }
            try {
                const confirm = o.confirmRule && (o.confirm === "always" || fellBack);
                if (confirm) await session.publish(basicIngestTopic(o.confirmRule!, CONFIRM_TOPIC), JSON.stringify({ thingName: o.thing }));
                return { fellBack, confirmed: Boolean(confirm), attempts: attempt };
            } finally {
                await session.end();
            }
        } catch (err) {
            if (!passes(err)) throw err;
            last = err;
            if (attempt >= policy.maxAttempts || clock.now() - started >= policy.deadlineMs) throw new GaveUp("reconnect", attempt, last);
            await clock.sleep(backoffMs(policy, attempt, o.random));
        }
    }
}

/** The unit's files in a directory (a vehicle's `--dir`, a core's root). */
export function filesIn(dir: string, names: { certificate: string; privateKey: string }): CredentialFiles {
    return { certificate: path.join(dir, names.certificate), privateKey: path.join(dir, names.privateKey) };
}
