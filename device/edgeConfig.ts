/**
 * The Greengrass nucleus `config.yaml` that brings a core device up through fleet provisioning by
 * claim (the `aws.greengrass.FleetProvisioningByClaim` plugin), for one serial of a deployed stack.
 *
 * The plugin's parameters, from its source (aws-greengrass-fleet-provisioning-by-claim,
 * FleetProvisioningByClaimPlugin): required provisioningTemplate, claimCertificatePath,
 * claimCertificatePrivateKeyPath, rootCaPath, iotDataEndpoint, rootPath; optional mqttPort, deviceId,
 * templateParameters, awsRegion, iotCredentialEndpoint, iotRoleAlias, proxyUrl, proxyUsername,
 * proxyPassword, csrPath. Two details decide whether a core provisions against this stack:
 * - `deviceId` is the MQTT client id; without it the plugin uses `UUID.randomUUID()`, which the
 *   claim policy (`client/<claimClientIdPrefix>*`) refuses. It is `<claimClientIdPrefix><serial>`.
 * - with `csrPath` the plugin sends the CSR (CreateCertificateFromCsr) and writes only the
 *   certificate; the nucleus then uses `<rootPath>/privKey.key` (PRIVATE_KEY_PATH_RELATIVE_TO_ROOT)
 *   as its key, so the key made here goes there.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { FILES, makeKeyAndCsr } from "./credentials";

export const FLEET_PROVISIONING_PLUGIN = "aws.greengrass.FleetProvisioningByClaim";

/** Every parameter the plugin reads (its *_PARAMETER_NAME constants), and the ones it requires. */
export const PLUGIN_PARAMETERS = {
    required: ["provisioningTemplate", "claimCertificatePath", "claimCertificatePrivateKeyPath", "rootCaPath", "iotDataEndpoint", "rootPath"],
    optional: ["mqttPort", "deviceId", "templateParameters", "awsRegion", "iotCredentialEndpoint", "iotRoleAlias", "proxyUrl", "proxyUsername", "proxyPassword", "csrPath"],
} as const;

/** Files the plugin and nucleus expect under rootPath (FleetProvisioningByClaimPlugin constants). */
export const CORE_FILES = { privateKey: "privKey.key", certificate: "thingCert.crt", csr: "core.csr.pem", rootCa: "AmazonRootCA1.pem" } as const;

export interface EdgeStack {
    region: string;
    dataEndpoint: string;
    credentialEndpoint: string;
    roleAlias: string;
    coreTemplate: string;
    claimClientIdPrefix: string;
    deviceKeys: "device" | "aws";
    nucleusVersion: string;
    coreThingNamePrefix: string;
    serialPrefixes: string[];
}

export interface EdgeConfigArgs extends EdgeStack {
    serial: string;
    /** Greengrass root on the device (`/greengrass/v2`). */
    rootPath: string;
    /** Where the claim certificate and key are on the device (`<rootPath>/claim-certs`). */
    claimDir: string;
    mqttPort: number;
}

const SERIAL = /^[A-Za-z0-9_-]{1,64}$/;

export class EdgeConfigError extends Error {}

/** The nucleus configuration for one core, as an object (serialized to YAML by writeEdgeConfig). */
export function edgeNucleusConfig(a: EdgeConfigArgs): { services: Record<string, unknown> } {
    if (!SERIAL.test(a.serial)) throw new EdgeConfigError(`--serial ${a.serial}: 1-64 characters from A-Z a-z 0-9 _ -`);
    if (a.serialPrefixes.length > 0 && !a.serialPrefixes.some((p) => a.serial.startsWith(p))) {
        throw new EdgeConfigError(`--serial ${a.serial}: the core template accepts serials starting with ${a.serialPrefixes.join(", ")}`);
    }
    if (!path.posix.isAbsolute(a.rootPath) || !path.posix.isAbsolute(a.claimDir)) throw new EdgeConfigError("--root and --claim-path must be absolute paths on the device");
    const at = (dir: string, file: string) => path.posix.join(dir, file);
    const configuration: Record<string, unknown> = {
        rootPath: a.rootPath,
        awsRegion: a.region,
        iotDataEndpoint: a.dataEndpoint,
        iotCredentialEndpoint: a.credentialEndpoint,
        iotRoleAlias: a.roleAlias,
        provisioningTemplate: a.coreTemplate,
        claimCertificatePath: at(a.claimDir, FILES.certificate),
        claimCertificatePrivateKeyPath: at(a.claimDir, FILES.privateKey),
        rootCaPath: at(a.rootPath, CORE_FILES.rootCa),
        deviceId: `${a.claimClientIdPrefix}${a.serial}`,
        mqttPort: a.mqttPort,
        templateParameters: { SerialNumber: a.serial },
        ...(a.deviceKeys === "device" ? { csrPath: at(a.rootPath, CORE_FILES.csr) } : {}),
    };
    if (a.mqttPort !== 8883 && a.mqttPort !== 443) throw new EdgeConfigError(`--port ${a.mqttPort}: 8883, or 443 behind firewalls that allow only HTTPS`);
    // "Connect on port 443 or through a network proxy": the nucleus' own MQTT and data-plane ports follow.
    const nucleusPort443 = a.mqttPort === 443 ? { configuration: { mqtt: { port: 443 }, greengrassDataPlanePort: 443 } } : {};
    return {
        services: {
            "aws.greengrass.Nucleus": { version: a.nucleusVersion, ...nucleusPort443 },
            [FLEET_PROVISIONING_PLUGIN]: { configuration },
        },
    };
}

export interface EdgeConfigResult {
    thingName: string;
    files: string[];
}

/**
 * Writes `config.yaml` (and, for device keys, the core's key as `privKey.key` and its CSR) into
 * `outDir`, which mirrors the device's rootPath. Refuses to overwrite anything; on a failure
 * nothing is left behind.
 */
export async function writeEdgeConfig(a: EdgeConfigArgs & { outDir: string }): Promise<EdgeConfigResult> {
    const config = edgeNucleusConfig(a);
    const thingName = `${a.coreThingNamePrefix}${a.serial}`;
    const contents: [string, string, number][] = [["config.yaml", `---\n${stringify(config)}`, 0o644]];
    if (a.deviceKeys === "device") {
        const { csrPem, privateKeyPem } = await makeKeyAndCsr(`CN=${thingName}`);
        contents.push([CORE_FILES.privateKey, privateKeyPem, 0o600], [CORE_FILES.csr, csrPem, 0o644]);
    }
    const targets = contents.map(([name]) => path.join(a.outDir, name));
    const existing = targets.filter((t) => fs.existsSync(t));
    if (existing.length > 0) throw new EdgeConfigError(`refusing to overwrite ${existing.join(", ")}`);
    fs.mkdirSync(a.outDir, { recursive: true, mode: 0o700 });
    const written: string[] = [];
    try {
        for (const [[, content, mode], target] of contents.map((c, i) => [c, targets[i]] as const)) {
            fs.writeFileSync(target, content, { mode, flag: "wx" });
            written.push(target);
        }
    } catch (err) {
        for (const w of written) fs.rmSync(w, { force: true });
        throw err;
    }
    return { thingName, files: written };
}
