import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { FILES, makeKeyAndCsr, PendingCredentials } from "./credentials";
import { MqttSession, TlsIdentity } from "./mqttSession";

export { FILES } from "./credentials";

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
}

export interface ProvisionResult {
    thingName: string;
    certificateId: string;
    certificateFile: string;
    privateKeyFile: string;
}

/** AWS IoT rejected a fleet-provisioning request (`.../rejected`). */
export class ProvisioningRejected extends Error {
    constructor(public readonly step: string, public readonly statusCode: unknown, public readonly errorCode: string, public readonly errorMessage: string) {
        super(`${step} rejected: ${errorCode} (${String(statusCode)}): ${errorMessage}`);
        this.name = "ProvisioningRejected";
    }
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

export async function call(session: MqttSession, step: string, topic: string, body: object): Promise<Record<string, any>> {
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

/** Asks for a new certificate: from a CSR made here (the key never leaves), or AWS's key pair. */
export async function newCertificate(session: MqttSession, csr: boolean, subject: string, privateKeyPem?: string): Promise<{ certificateId: string; certificatePem: string; privateKeyPem: string; token: string }> {
    if (csr) {
        const request = "$aws/certificates/create-from-csr/json";
        const made = await makeKeyAndCsr(subject, privateKeyPem);
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
    // AWS IoT drops a connection when another connects with its client id: a predictable `<prefix><serial>` would let
    // any claim-certificate holder knock a unit off while it provisions, over and over. A random suffix (the claim
    // policy allows `<prefix>*`) keeps the serial readable in the logs and the id unguessable.
    const clientId = `${o.clientIdPrefix}${o.serial}-${crypto.randomBytes(4).toString("hex")}`;
    const session = await MqttSession.connect({ host: o.endpoint, port: o.port, clientId, identity, timeoutMs: o.timeoutMs, mqttVersion: o.mqttVersion });
    const pending = new PendingCredentials(o.outDir);
    try {
        await session.subscribe(provisioningTopics(o.csr, o.template));
        const created = await newCertificate(session, o.csr, `CN=${o.serial}`, unitKey);
        pending.stage(FILES.certificate, created.certificatePem);
        pending.stage(FILES.privateKey, created.privateKeyPem);
        const registered = await call(session, "RegisterThing", `$aws/provisioning-templates/${o.template}/provision/json`, {
            certificateOwnershipToken: created.token,
            parameters: { SerialNumber: o.serial },
        });
        if (typeof registered.thingName !== "string") throw new Error("RegisterThing: the answer has no thingName");
        const [certificateFile, privateKeyFile] = pending.commit();
        return { thingName: registered.thingName, certificateId: created.certificateId, certificateFile, privateKeyFile };
    } catch (err) {
        pending.discard();
        throw err;
    } finally {
        await session.end();
    }
}
