import * as fs from "fs";
import * as path from "path";
import { MqttSession, TlsIdentity } from "./mqttSession";

/** Names of the PEM files in a claim or device directory (as the claim bucket stores them). */
export const FILES = { certificate: "certificate.pem.crt", privateKey: "private.pem.key" } as const;

export interface ProvisionOptions {
    endpoint: string;
    port: number;
    template: string;
    serial: string;
    claimDir: string;
    outDir: string;
    ca?: string;
    /** The claim policy allows only `<prefix>*` client ids. */
    clientIdPrefix: string;
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

export function readIdentity(certFile: string, keyFile: string, caFile?: string): TlsIdentity {
    const read = (f: string, what: string) => {
        try {
            return fs.readFileSync(f, "utf8");
        } catch {
            throw new Error(`cannot read the ${what} ${f}`);
        }
    };
    return { cert: read(certFile, "certificate"), key: read(keyFile, "private key"), ...(caFile ? { ca: read(caFile, "CA certificate") } : {}) };
}

async function call(session: MqttSession, step: string, topic: string, body: object): Promise<Record<string, any>> {
    const waiting = session.next([`${topic}/accepted`, `${topic}/rejected`]);
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

function writeSecretFile(file: string, content: string): void {
    fs.writeFileSync(file, content, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
}

/**
 * Fleet provisioning by claim over MQTT: connect with the claim certificate, CreateKeysAndCertificate,
 * RegisterThing with the serial, and keep the new certificate and key (mode 0600) only once AWS IoT
 * has accepted the registration.
 */
export async function provision(o: ProvisionOptions): Promise<ProvisionResult> {
    const identity = readIdentity(path.join(o.claimDir, FILES.certificate), path.join(o.claimDir, FILES.privateKey), o.ca);
    const session = await MqttSession.connect({ host: o.endpoint, port: o.port, clientId: `${o.clientIdPrefix}${o.serial}`, identity, timeoutMs: o.timeoutMs });
    try {
        const create = "$aws/certificates/create/json";
        const register = `$aws/provisioning-templates/${o.template}/provision/json`;
        await session.subscribe([`${create}/accepted`, `${create}/rejected`, `${register}/accepted`, `${register}/rejected`]);
        const keys = await call(session, "CreateKeysAndCertificate", create, {});
        for (const field of ["certificateId", "certificatePem", "privateKey", "certificateOwnershipToken"]) {
            if (typeof keys[field] !== "string") throw new Error(`CreateKeysAndCertificate: the answer has no ${field}`);
        }
        const registered = await call(session, "RegisterThing", register, {
            certificateOwnershipToken: keys.certificateOwnershipToken,
            parameters: { SerialNumber: o.serial },
        });
        if (typeof registered.thingName !== "string") throw new Error("RegisterThing: the answer has no thingName");
        fs.mkdirSync(o.outDir, { recursive: true, mode: 0o700 });
        const certificateFile = path.join(o.outDir, FILES.certificate);
        const privateKeyFile = path.join(o.outDir, FILES.privateKey);
        writeSecretFile(certificateFile, keys.certificatePem);
        writeSecretFile(privateKeyFile, keys.privateKey);
        return { thingName: registered.thingName, certificateId: keys.certificateId, certificateFile, privateKeyFile };
    } finally {
        await session.end();
    }
}
