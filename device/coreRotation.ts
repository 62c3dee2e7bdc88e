/**
 * A Greengrass core's certificate rotation, in the order the nucleus needs: new certificate and key in
 * place, restart the nucleus, wait until it has connected with them, and only then confirm (which starts
 * the grace period after which the stack retires the old certificate).
 *
 * The nucleus builds its connections from the certificate and key paths in its configuration and reconnects
 * only when that configuration changes (aws-greengrass-nucleus v2.16.1,
 * src/main/java/com/aws/greengrass/mqttclient/MqttClient.java L285-300: getCertificateFilePath and
 * getPrivateKeyFilePath, then onAnyChange -> reconnect). Rotation keeps the paths and replaces the files, so
 * the running nucleus keeps the old certificate until it restarts: a confirmation before the restart would
 * let the sweep retire the certificate the nucleus still uses, and the core would lose MQTT, credentials and
 * the data plane at the end of the grace period.
 *
 * "Connected" is the nucleus' own log line, written once per process on its first connection
 * (AwsIotMqttClient.java L284 and AwsIotMqtt5Client.java L127: "Successfully connected to AWS IoT Core"), in
 * `<root>/logs/greengrass.log` (the logging root is `<root>/logs`: KernelCommandLine.java L179-184; the file is
 * the one AWS's troubleshooting guide names, /greengrass/v2/logs/greengrass.log), in TEXT or JSON format alike.
 * If it does not come, the previous certificate and key are put back and the nucleus restarted on them: the
 * new certificate is never confirmed, and the stack retires it after its confirmation timeout.
 */
import * as fs from "fs";
import * as path from "path";
import { CORE_FILES } from "./coreFiles";
import { confirmCertificate, rotate, RotateOptions, RotateResult } from "./rotate";

/** What the nucleus logs on the first connection of a process (both MQTT clients, v2.16.1). */
export const NUCLEUS_CONNECTED = "Successfully connected to AWS IoT Core";

/** The nucleus' log file under its root. */
export const nucleusLog = (root: string) => path.join(root, "logs", "greengrass.log");

/** Where the log stood before the restart. */
export interface LogMark { ino: number; size: number }

export interface NucleusControl {
    /** Restarts the nucleus (the system service: `systemctl restart greengrass.service`). */
    restart(): Promise<void>;
    /** Where the log is now. */
    mark(): LogMark;
    /** True once the nucleus logs a new connection after `mark`; false when `timeoutMs` passes first. */
    connectedSince(mark: LogMark, timeoutMs: number): Promise<boolean>;
}

/** Watches `<root>/logs/greengrass.log`; restarts through `restart` (the CLI runs systemctl). */
export function logWatchingNucleus(root: string, restart: () => Promise<void>, pollMs = 500): NucleusControl {
    const file = nucleusLog(root);
    const stat = () => (fs.existsSync(file) ? fs.statSync(file) : undefined);
    return {
        restart,
        mark: () => {
            const s = stat();
            return { ino: s?.ino ?? -1, size: s?.size ?? 0 };
        },
        async connectedSince(mark, timeoutMs) {
            const deadline = Date.now() + timeoutMs;
            for (;;) {
                const s = stat();
                if (s) {
                    // A rotated or recreated log starts over: read it from its start.
                    const from = s.ino === mark.ino && s.size >= mark.size ? mark.size : 0;
                    if (s.size > from) {
                        const fd = fs.openSync(file, "r");
                        try {
                            const buf = Buffer.alloc(s.size - from);
                            fs.readSync(fd, buf, 0, buf.length, from);
                            if (buf.toString("utf8").includes(NUCLEUS_CONNECTED)) return true;
                        } finally {
                            fs.closeSync(fd);
                        }
                    }
                }
                if (Date.now() >= deadline) return false;
                await new Promise((r) => setTimeout(r, pollMs));
            }
        },
    };
}

export class NucleusDidNotConnect extends Error {}

/** Puts `<file>.previous` back as `<file>`, keeping the rejected one as `<file>.unconfirmed`. */
function restorePrevious(root: string): void {
    for (const name of [CORE_FILES.certificate, CORE_FILES.privateKey]) {
        const current = path.join(root, name);
        if (!fs.existsSync(`${current}.previous`)) throw new Error(`${current}.previous is missing: cannot put the previous ${name} back`);
        if (fs.existsSync(current)) fs.renameSync(current, `${current}.unconfirmed`);
        fs.renameSync(`${current}.previous`, current);
    }
}

export interface CoreRotateOptions extends RotateOptions {
    nucleus: NucleusControl;
    /** How long the restarted nucleus may take to connect (default 5 minutes). */
    connectTimeoutMs?: number;
}

export async function rotateCore(o: CoreRotateOptions): Promise<RotateResult> {
    const result = await rotate({ ...o, files: CORE_FILES, confirm: false });
    const timeout = o.connectTimeoutMs ?? 300_000;
    const mark = o.nucleus.mark();
    await o.nucleus.restart();
    if (!(await o.nucleus.connectedSince(mark, timeout))) {
        restorePrevious(o.dir);
        const back = o.nucleus.mark();
        await o.nucleus.restart();
        const recovered = await o.nucleus.connectedSince(back, timeout);
        throw new NucleusDidNotConnect(`the nucleus did not connect with the new certificate ${result.certificateId} within ${Math.round(timeout / 1000)} s: `
            + `put the previous certificate and key back (the new ones are *.unconfirmed) and restarted it${recovered ? ", and it connected" : ", and it has not connected yet either: see " + nucleusLog(o.dir)}; `
            + "the new certificate is never confirmed, and the stack retires it after its confirmation timeout");
    }
    await confirmCertificate({ ...o, files: CORE_FILES, attempts: o.confirmAttempts ?? 3 });
    return result;
}
