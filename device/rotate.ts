import * as path from "path";
import { FILES, PendingCredentials } from "./credentials";
import { MqttSession } from "./mqttSession";
import { call, newCertificate, provisioningTopics, readIdentity } from "./provision";
import { basicIngestTopic } from "./publish";
import { CONFIRM_TOPIC } from "./topics";


export interface RotateOptions {
    /** 4: MQTT 3.1.1 (default); 5: MQTT 5. */
    mqttVersion?: 4 | 5;
    endpoint: string;
    port: number;
    ca?: string;
    /** Directory with the vehicle's current certificate.pem.crt and private.pem.key. */
    dir: string;
    thing: string;
    serial: string;
    /** The stack's rotation template. */
    template: string;
    /** The stack's certificate-confirmation rule (Basic Ingest). */
    confirmRule: string;
    csr: boolean;
    timeoutMs: number;
}

export interface RotateResult {
    thingName: string;
    certificateId: string;
    certificateFile: string;
    privateKeyFile: string;
}

/**
 * Certificate rotation, with the vehicle's own certificate (never the claim): a new certificate
 * through the rotation template, then a connection with the NEW certificate that publishes the
 * confirmation AWS IoT's rule turns into "retire my older certificates after the grace period".
 * The new credentials replace the old files only once confirmed; the old ones stay as `*.previous`.
 */
export async function rotate(o: RotateOptions): Promise<RotateResult> {
    const current = readIdentity(path.join(o.dir, FILES.certificate), path.join(o.dir, FILES.privateKey), o.ca);
    const pending = new PendingCredentials(o.dir);
    try {
        let created: Awaited<ReturnType<typeof newCertificate>>;
        const session = await MqttSession.connect({ host: o.endpoint, port: o.port, clientId: o.thing, identity: current, timeoutMs: o.timeoutMs, mqttVersion: o.mqttVersion });
        try {
            await session.subscribe(provisioningTopics(o.csr, o.template));
            created = await newCertificate(session, o.csr, `CN=${o.serial}`);
            pending.stage(FILES.certificate, created.certificatePem);
            pending.stage(FILES.privateKey, created.privateKeyPem);
            const registered = await call(session, "RegisterThing", `$aws/provisioning-templates/${o.template}/provision/json`, {
                certificateOwnershipToken: created.token,
                parameters: { SerialNumber: o.serial },
            });
            if (registered.thingName !== o.thing) throw new Error(`RegisterThing answered for ${String(registered.thingName)}, not ${o.thing}`);
        } finally {
            await session.end();
        }
        const confirmed = await MqttSession.connect({
            host: o.endpoint, port: o.port, clientId: o.thing, timeoutMs: o.timeoutMs, mqttVersion: o.mqttVersion,
            identity: { cert: created.certificatePem, key: created.privateKeyPem, ...(current.ca ? { ca: current.ca } : {}) },
        });
        try {
            await confirmed.publish(basicIngestTopic(o.confirmRule, CONFIRM_TOPIC), JSON.stringify({ certificateId: created.certificateId }));
        } finally {
            await confirmed.end();
        }
        const [certificateFile, privateKeyFile] = pending.commit(true);
        return { thingName: o.thing, certificateId: created.certificateId, certificateFile, privateKeyFile };
    } catch (err) {
        pending.discard();
        throw err;
    }
}
