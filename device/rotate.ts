import * as path from "path";
import { FILES, PendingCredentials } from "./credentials";
import { MqttSession } from "./mqttSession";
import { obtainIdentity, readIdentity, RequestSession } from "./provision";
import { DEFAULT_RETRY, RetryPolicy } from "./retry";
import { basicIngestTopic } from "./publish";
import { CONFIRM_TOPIC } from "../policies/topics";


/** Where a device's credentials are and how it connects: what rotate and confirm share. */
export interface ConfirmOptions {
    /** 4: MQTT 3.1.1 (default); 5: MQTT 5. */
    mqttVersion?: 4 | 5;
    endpoint: string;
    port: number;
    ca?: string;
    /** Directory with the device's current certificate and key. */
    dir: string;
    /** File names in `dir` (default certificate.pem.crt, private.pem.key; a Greengrass core's: edgeConfig's CORE_FILES, where the plugin writes them). */
    files?: { certificate: string; privateKey: string };
    thing: string;
    /** MQTT client id (default the Thing name; a core uses `<thing>#rotate`, not its nucleus' own). */
    clientId?: string;
    /** The stack's certificate-confirmation rule (Basic Ingest). */
    confirmRule: string;
    timeoutMs: number;
    /** Confirmation attempts (1 by default). */
    attempts?: number;
}

export interface RotateOptions extends Omit<ConfirmOptions, "attempts"> {
    serial: string;
    /** The stack's rotation template. */
    template: string;
    csr: boolean;
    /** Confirmation attempts before giving up (the credentials are kept either way). */
    confirmAttempts?: number;
    /** False: stop once the new files are in place (a core confirms only after its nucleus has connected with them: coreRotation.ts). */
    confirm?: boolean;
    /** How throttled requests are retried (device/retry.ts, as provisioning does); DEFAULT_RETRY when absent. */
    retry?: RetryPolicy;
    /** Opens the connection with the current certificate (tests: the broker double in process); MQTT to `endpoint` when absent. */
    connectSession?: () => Promise<RequestSession>;
}

/**
 * The client id a core's rotation connects with: `<thing>#rotate` (the per-core policy allows
 * `<thing>#*`), so the running nucleus keeps its own `<thing>` connection (AWS IoT would otherwise
 * disconnect one of the two: developer guide, "Connecting to AWS IoT Core", client ids are unique).
 */
export const coreRotationClientId = (thing: string) => `${thing}#rotate`;

export interface RotateResult {
    thingName: string;
    certificateId: string;
    certificateFile: string;
    privateKeyFile: string;
}

/** The confirmation could not be published: the new credentials are in place; `confirm` retries it. */
export class ConfirmationFailed extends Error {}

/**
 * Certificate rotation, with the vehicle's own certificate (never the claim): a new certificate
 * through the rotation template, then a connection with the NEW certificate that publishes the
 * confirmation AWS IoT's rule turns into "retire my older certificates after the grace period".
 * The new credentials replace the old files as soon as RegisterThing has accepted them (the old ones
 * stay as `*.previous`, still attached until the grace period after the confirmation): a failed
 * confirmation is retried, and if it still fails the vehicle keeps its new certificate and runs
 * `confirm` later (the stack retires a rotated certificate it never hears of after its timeout).
 */
export async function rotate(o: RotateOptions): Promise<RotateResult> {
    const files = o.files ?? FILES;
    const current = readIdentity(path.join(o.dir, files.certificate), path.join(o.dir, files.privateKey), o.ca);
    const pending = new PendingCredentials(o.dir);
    let created: Awaited<ReturnType<typeof obtainIdentity>>;
    const connect = o.connectSession
        ?? (() => MqttSession.connect({ host: o.endpoint, port: o.port, clientId: o.clientId ?? o.thing, identity: current, timeoutMs: o.timeoutMs, mqttVersion: o.mqttVersion }));
    try {
        // The same steps and retry policy as provisioning (a throttled CreateCertificateFromCsr / CreateKeysAndCertificate /
        // RegisterThing / CONNECT waits a full-jitter backoff; a refusal is final), with the current certificate.
        created = await obtainIdentity(connect, {
            template: o.template, serial: o.serial, csr: o.csr,
            onCertificate: (c) => {
                pending.discard();
                pending.stage(files.certificate, c.certificatePem);
                pending.stage(files.privateKey, c.privateKeyPem);
            },
        }, o.retry ?? DEFAULT_RETRY);
        if (created.thingName !== o.thing) throw new Error(`RegisterThing answered for ${String(created.thingName)}, not ${o.thing}`);
    } catch (err) {
        pending.discard();
        throw err;
    }
    // Accepted: the new certificate is the vehicle's now, whatever happens to the confirmation.
    const [certificateFile, privateKeyFile] = pending.commit(true);
    const result = { thingName: o.thing, certificateId: created.certificateId, certificateFile, privateKeyFile };
    if (o.confirm !== false) await confirmCertificate({ ...o, files, attempts: o.confirmAttempts ?? 3 });
    return result;
}

/** Connects with the certificate in `dir` and publishes the confirmation (QoS 1, acknowledged), retrying. */
export async function confirmCertificate(o: ConfirmOptions): Promise<void> {
    const files = o.files ?? FILES;
    const identity = readIdentity(path.join(o.dir, files.certificate), path.join(o.dir, files.privateKey), o.ca);
    const attempts = o.attempts ?? 1;
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
            const session = await MqttSession.connect({ host: o.endpoint, port: o.port, clientId: o.clientId ?? o.thing, timeoutMs: o.timeoutMs, mqttVersion: o.mqttVersion, identity });
            try {
                await session.publish(basicIngestTopic(o.confirmRule, CONFIRM_TOPIC), JSON.stringify({ thingName: o.thing }));
                return;
            } finally {
                await session.end();
            }
        } catch (err) {
            last = err;
            if (attempt < attempts) await new Promise((r) => setTimeout(r, 250 * attempt));
        }
    }
    throw new ConfirmationFailed(`the new certificate is in ${o.dir} but its confirmation failed (${(last as Error).message}); run npm run device -- confirm --dir ${o.dir} --thing ${o.thing} --rule ${o.confirmRule} to confirm it`);
}
