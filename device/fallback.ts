import * as fs from "fs";
import * as path from "path";
import { FILES } from "./credentials";
import { MqttSession } from "./mqttSession";
import { readIdentity } from "./provision";
import { ConfirmationFailed, confirmCertificate, ConfirmOptions } from "./rotate";

export interface ReconnectResult {
    /** The new certificate was refused and the previous one (`*.previous`) is the current one again. */
    fellBack: boolean;
    /** Whether the confirmation of the certificate now in use was published (acknowledged by AWS IoT). */
    confirmed: boolean;
}

/**
 * How a unit (re)connects, the documented device algorithm (docs/provisioning-security.md): with its current
 * certificate; if AWS IoT refuses that connection (a rotated certificate whose confirmation never landed is retired
 * after `confirmTimeoutHours`) and `*.previous` exists, with the previous one, which then becomes the current one
 * again (the refused files are kept as `*.refused`). Once connected it publishes its confirmation again (retried):
 * idempotent for the certificate in use, a rotation's missing confirmation landing late, and how a unit evicted by a
 * thief's rotation is seen (its replaced certificate confirming raises the eviction alarm).
 */
export async function reconnect(o: ConfirmOptions): Promise<ReconnectResult> {
    const files = o.files ?? FILES;
    const at = (name: string, suffix = "") => path.join(o.dir, `${name}${suffix}`);
    const works = async (suffix: string) => {
        const identity = readIdentity(at(files.certificate, suffix), at(files.privateKey, suffix), o.ca);
        const session = await MqttSession.connect({ host: o.endpoint, port: o.port, clientId: o.clientId ?? o.thing, identity, timeoutMs: o.timeoutMs, mqttVersion: o.mqttVersion });
        await session.end();
    };
    let fellBack = false;
    try {
        await works("");
    } catch (refused) {
        if (!fs.existsSync(at(files.certificate, ".previous")) || !fs.existsSync(at(files.privateKey, ".previous"))) throw refused;
        await works(".previous");
        for (const name of [files.certificate, files.privateKey]) {
            fs.renameSync(at(name), at(name, ".refused"));
            fs.renameSync(at(name, ".previous"), at(name));
        }
        fellBack = true;
    }
    try {
        await confirmCertificate({ ...o, files, attempts: o.attempts ?? 3 });
        return { fellBack, confirmed: true };
    } catch (err) {
        if (err instanceof ConfirmationFailed) return { fellBack, confirmed: false };
        throw err;
    }
}
