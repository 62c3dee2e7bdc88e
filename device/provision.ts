import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { FILES, makeKeyAndCsr, PendingCredentials } from "./credentials";
import { MqttSession, TlsIdentity } from "./mqttSession";
import { backoffMs, Clock, DEFAULT_RETRY, GaveUp, noRetries, OWNERSHIP_TOKEN_LIFE_MS, ProvisioningRejected, realClock, RetryCounts, retryable, RetryPolicy } from "./retry";

export { FILES } from "./credentials";
export { ProvisioningRejected } from "./retry";

/** What the provisioning flow needs of an MQTT connection (MqttSession; the bench's in-process one). */
export interface RequestSession {
    subscribe(topics: string[]): Promise<void>;
    publish(topic: string, payload: string | Buffer): Promise<void>;
    /** The next message on any of these (already subscribed) topics. */
    next(topics: string[]): Promise<{ topic: string; payload: Buffer }>;
    end(): Promise<void>;
}

export interface ProvisionOptions {
    /** 4: MQTT 3.1.1 (default); 5: MQTT 5. */
    mqttVersion?: 4 | 5;
    endpoint: string;
    port: number;
    template: string;
    serial: string;
    claimDir: string;
    outDir: string;
    ca?: string;
    /** The claim policy allows only `<prefix>*` client ids. */
    clientIdPrefix: string;
    /** Make the key here and send a CSR (CreateCertificateFromCsr) instead of taking AWS's key. */
    csr: boolean;
    /**
     * With `csr`: the unit's own private key (PEM), made at end of line and registered by its
     * fingerprint; the CSR is made for it. Without it a new key is made (registry stacks refuse it).
     */
    keyFile?: string;
    timeoutMs: number;
    /** How throttled requests are retried (device/retry.ts); DEFAULT_RETRY when absent. */
    retry?: RetryPolicy;
}

export interface ProvisionResult {
    thingName: string;
    certificateId: string;
    certificateFile: string;
    privateKeyFile: string;
}

/** Reads the PEM files of a TLS identity; a file that is missing or not the PEM it should be is named. */
export function readIdentity(certFile: string, keyFile: string, caFile?: string): TlsIdentity {
    const read = (f: string, what: string, parse: (text: string) => unknown) => {
        let text: string;
        try {
            text = fs.readFileSync(f, "utf8");
        } catch {
            throw new Error(`cannot read the ${what} ${f}`);
        }
        try {
            parse(text);
        } catch (err) {
            throw new Error(`${f} is not a PEM ${what} (${(err as Error).message.split("\n")[0]})`);
        }
        return text;
    };
    const certificate = (t: string) => new crypto.X509Certificate(t);
    return {
        cert: read(certFile, "certificate", certificate),
        key: read(keyFile, "private key", (t) => crypto.createPrivateKey(t)),
        ...(caFile ? { ca: read(caFile, "CA certificate", certificate) } : {}),
    };
}

/** A unit's private key file (PEM), checked. */
export function readPrivateKey(file: string): string {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        throw new Error(`cannot read the private key ${file}`);
    }
    try {
        crypto.createPrivateKey(text);
    } catch (err) {
        throw new Error(`${file} is not a PEM private key (${(err as Error).message.split("\n")[0]})`);
    }
    return text;
}

export async function call(session: RequestSession, step: string, topic: string, body: object): Promise<Record<string, any>> {
    // Subscribed before publishing (AWS answers once, on the same connection). If the publish fails, this
    // wait is abandoned: its later rejection (connection closed, timer) is handled here, never unhandled.
    const waiting = session.next([`${topic}/accepted`, `${topic}/rejected`]);
    waiting.catch(() => undefined);
    await session.publish(topic, JSON.stringify(body));
    const { topic: answer, payload } = await waiting;
    let parsed: Record<string, any>;
    try {
        parsed = JSON.parse(payload.toString("utf8"));
    } catch {
        throw new Error(`${step}: AWS IoT answered with something that is not JSON`);
    }
    if (answer.endsWith("/rejected")) {
        throw new ProvisioningRejected(step, parsed.statusCode, String(parsed.errorCode ?? "Unknown"), String(parsed.errorMessage ?? ""));
    }
    return parsed;
}

export interface NewCertificate { certificateId: string; certificatePem: string; privateKeyPem: string; token: string }

/** Asks for a new certificate: from a CSR made here (the key never leaves), or AWS's key pair. */
export async function newCertificate(session: RequestSession, csr: boolean, subject: string, privateKeyPem?: string): Promise<NewCertificate> {
    return requestCertificate(session, csr ? await makeKeyAndCsr(subject, privateKeyPem) : undefined);
}

/** CreateCertificateFromCsr with this CSR (made once, sent again on a retry), or CreateKeysAndCertificate without one. */
async function requestCertificate(session: RequestSession, made: { csrPem: string; privateKeyPem: string } | undefined): Promise<NewCertificate> {
    if (made) {
        const request = "$aws/certificates/create-from-csr/json";
        const answer = await call(session, "CreateCertificateFromCsr", request, { certificateSigningRequest: made.csrPem });
        for (const field of ["certificateId", "certificatePem", "certificateOwnershipToken"]) {
            if (typeof answer[field] !== "string") throw new Error(`CreateCertificateFromCsr: the answer has no ${field}`);
        }
        return { certificateId: answer.certificateId, certificatePem: answer.certificatePem, privateKeyPem: made.privateKeyPem, token: answer.certificateOwnershipToken };
    }
    const keys = await call(session, "CreateKeysAndCertificate", "$aws/certificates/create/json", {});
    for (const field of ["certificateId", "certificatePem", "privateKey", "certificateOwnershipToken"]) {
        if (typeof keys[field] !== "string") throw new Error(`CreateKeysAndCertificate: the answer has no ${field}`);
    }
    return { certificateId: keys.certificateId, certificatePem: keys.certificatePem, privateKeyPem: keys.privateKey, token: keys.certificateOwnershipToken };
}

/** The request and answer topics of one key mode and one template. */
export function provisioningTopics(csr: boolean, template: string): string[] {
    const create = csr ? "$aws/certificates/create-from-csr/json" : "$aws/certificates/create/json";
    const register = `$aws/provisioning-templates/${template}/provision/json`;
    return [`${create}/accepted`, `${create}/rejected`, `${register}/accepted`, `${register}/rejected`];
}

export interface IdentityRequest {
    template: string;
    serial: string;
    csr: boolean;
    /** With `csr`: the unit's own key (PEM); otherwise a new one is made (once: a retry sends the same CSR). */
    unitKey?: string;
    /** With `csr` and `unitKey`: the CSR for that key, made beforehand (as a unit may at end of line). */
    csrPem?: string;
    /** Called with each certificate AWS issued, before RegisterThing (to stage it). */
    onCertificate?: (created: NewCertificate) => void;
}

export interface Identity extends NewCertificate { thingName: string; counts: RetryCounts }

/**
 * The unit's provisioning with the device retry policy (device/retry.ts): one connection with the claim
 * certificate, a certificate (CreateCertificateFromCsr or CreateKeysAndCertificate), RegisterThing with its
 * ownership token; a throttled request is sent again after a full-jitter backoff, over the same connection; a
 * RegisterThing retry keeps the token only while it has `tokenMarginMs` to live, else the unit asks for a new
 * certificate. `connect` opens the connection (and is called again only after a throttled CONNECT).
 */
export async function obtainIdentity(connect: () => Promise<RequestSession>, r: IdentityRequest, policy: RetryPolicy = DEFAULT_RETRY, clock: Clock = realClock, random: () => number = Math.random): Promise<Identity> {
    const counts = noRetries();
    const started = clock.now();
    const made = !r.csr ? undefined : r.csrPem && r.unitKey ? { csrPem: r.csrPem, privateKeyPem: r.unitKey } : await makeKeyAndCsr(`CN=${r.serial}`, r.unitKey);
    const register = `$aws/provisioning-templates/${r.template}/provision/json`;
    let session: RequestSession | undefined;
    let created: (NewCertificate & { at: number }) | undefined;
    let failures = 0;
    try {
        for (;;) {
            let step = "CONNECT";
            try {
                if (!session) {
                    counts.attempts++;
                    session = await connect();
                    step = "SUBSCRIBE";
                    await session.subscribe(provisioningTopics(r.csr, r.template));
                    failures = 0;
                }
                if (!created || clock.now() > created.at + OWNERSHIP_TOKEN_LIFE_MS - policy.tokenMarginMs) {
                    if (created) counts.newCertificates++;
                    step = made ? "CreateCertificateFromCsr" : "CreateKeysAndCertificate";
                    counts.attempts++;
                    created = { ...(await requestCertificate(session, made)), at: clock.now() };
                    failures = 0;
                    r.onCertificate?.(created);
                }
                step = "RegisterThing";
                counts.attempts++;
                const registered = await call(session, "RegisterThing", register, { certificateOwnershipToken: created.token, parameters: { SerialNumber: r.serial } });
                if (typeof registered.thingName !== "string") throw new Error("RegisterThing: the answer has no thingName");
                const { at: _at, ...certificate } = created;
                return { ...certificate, thingName: registered.thingName, counts };
            } catch (err) {
                const why = retryable(err);
                if (!why) throw err;
                if (why === "throttled") counts.throttles++;
                if (step === "CONNECT") {
                    counts.reconnects++;
                    session = undefined;
                }
                failures++;
                if (failures >= policy.maxAttempts) throw new GaveUp(step, failures, err);
                const wait = backoffMs(policy, failures, random);
                if (clock.now() + wait - started > policy.deadlineMs) throw new GaveUp(`${step} (deadline)`, failures, err);
                counts.retries++;
                await clock.sleep(wait);
            }
        }
    } finally {
        await session?.end();
    }
}

/**
 * Fleet provisioning by claim over MQTT: connect with the claim certificate, get a certificate (from a
 * CSR made here, or with AWS's key), RegisterThing with the serial. The new credentials are written
 * (mode 0600) before RegisterThing, under temporary names, and moved into place only once AWS IoT has
 * accepted the registration; a rejection removes them.
 */
export async function provision(o: ProvisionOptions): Promise<ProvisionResult> {
    if (path.resolve(o.outDir) === path.resolve(o.claimDir)) throw new Error(`--out ${o.outDir} is the claim directory: the claim credentials would be overwritten`);
    for (const f of Object.values(FILES)) {
        if (fs.existsSync(path.join(o.outDir, f))) throw new Error(`${path.join(o.outDir, f)} exists: this vehicle looks provisioned already (remove it to provision again)`);
    }
    if (o.keyFile && !o.csr) throw new Error("--key needs --csr: with AWS-made keys (deviceKeys: aws) the unit has no key of its own to send");
    const unitKey = o.keyFile ? readPrivateKey(o.keyFile) : undefined;
    const identity = readIdentity(path.join(o.claimDir, FILES.certificate), path.join(o.claimDir, FILES.privateKey), o.ca);
    const connect = () => MqttSession.connect({ host: o.endpoint, port: o.port, clientId: claimClientId(o.clientIdPrefix, o.serial), identity, timeoutMs: o.timeoutMs, mqttVersion: o.mqttVersion });
    const pending = new PendingCredentials(o.outDir);
    try {
        const got = await obtainIdentity(connect, {
            template: o.template, serial: o.serial, csr: o.csr, unitKey,
            onCertificate: (created) => {
                pending.discard();
                pending.stage(FILES.certificate, created.certificatePem);
                pending.stage(FILES.privateKey, created.privateKeyPem);
            },
        }, o.retry);
        const [certificateFile, privateKeyFile] = pending.commit();
        return { thingName: got.thingName, certificateId: got.certificateId, certificateFile, privateKeyFile };
    } catch (err) {
        pending.discard();
        throw err;
    }
}

/**
 * AWS IoT drops a connection when another connects with its client id: a predictable `<prefix><serial>` would let
 * any claim-certificate holder knock a unit off while it provisions, over and over. A random suffix (the claim
 * policy allows `<prefix>*`) keeps the serial readable in the logs and the id unguessable.
 */
export const claimClientId = (prefix: string, serial: string) => `${prefix}${serial}-${crypto.randomBytes(4).toString("hex")}`;
