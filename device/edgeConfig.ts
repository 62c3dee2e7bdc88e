/**
 * The Greengrass nucleus `config.yaml` that brings a core device up through fleet provisioning by
 * claim (the `aws.greengrass.FleetProvisioningByClaim` plugin), for one serial of a deployed stack.
 *
 * The plugin's parameters are its code's, not its README's (the README says certPath/keyPath and
 * omits csrPrivateKeyPath). Read in aws-greengrass-fleet-provisioning-by-claim v1.2.2,
 * src/main/java/com/aws/greengrass/FleetProvisioningByClaimPlugin.java:
 * - L54-75: the *_PARAMETER_NAME constants (every key the plugin reads);
 * - L230-248 validateParameters: provisioningTemplate, claimCertificatePath,
 *   claimCertificatePrivateKeyPath, rootCaPath, iotDataEndpoint, rootPath must be non-empty, and
 *   csrPrivateKeyPath too whenever csrPath is non-empty (added in v1.2.0, #21); otherwise it throws
 *   IllegalArgumentException and the nucleus runs unprovisioned;
 * - L122-123: without `deviceId` the MQTT client id is `UUID.randomUUID()`, which the claim policy
 *   (`client/<claimClientIdPrefix>*`) refuses: it is `<claimClientIdPrefix><serial>-<random>`;
 * - L180-201: with csrPath it sends the CSR (CreateCertificateFromCsr), writes the certificate to
 *   certificatePath and copies csrPrivateKeyPath to privateKeyPath; L167-168, L80-81, L317-331:
 *   those default to `<rootPath>/thingCert.crt` and `<rootPath>/privKey.key` (v1.2.0 has no
 *   certificatePath/privateKeyPath and always uses those two), and the nucleus is configured with
 *   them (L270-278).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { csrPublicKey } from "../config/csr";
import { FILES } from "./credentials";
import { CORE_ROTATE_SOURCE, CORE_SCRIPTS, cleanupScript, coreCheckUnits, keygenScript } from "./coreScripts";
import { CORE_FILES } from "./coreFiles";

export const FLEET_PROVISIONING_PLUGIN = "aws.greengrass.FleetProvisioningByClaim";

/** The plugin source these parameters are read from. */
export const PLUGIN_SOURCE = "aws-greengrass-fleet-provisioning-by-claim v1.2.2, src/main/java/com/aws/greengrass/FleetProvisioningByClaimPlugin.java";

/** Every parameter the plugin reads (L54-75), the ones validateParameters requires (L233-239), and the conditional one (L240-243). */
export const PLUGIN_PARAMETERS = {
    required: ["provisioningTemplate", "claimCertificatePath", "claimCertificatePrivateKeyPath", "rootCaPath", "iotDataEndpoint", "rootPath"],
    /** Required when the key (csrPath) is set and non-empty. */
    requiredWith: { csrPath: ["csrPrivateKeyPath"] },
    optional: ["mqttPort", "deviceId", "templateParameters", "awsRegion", "iotCredentialEndpoint", "iotRoleAlias", "proxyUrl", "proxyUsername", "proxyPassword",
        "csrPath", "csrPrivateKeyPath", "certificatePath", "privateKeyPath"],
} as const;

const isEmpty = (v: unknown) => v === undefined || v === null || String(v) === "";

/**
 * The plugin's validateParameters (L230-248, checkRequiredParameterPresent L286-294), as data: the
 * messages it would throw (MISSING_REQUIRED_PARAMETERS_ERROR_FORMAT, L77-78); empty when it passes.
 */
export function pluginValidationErrors(parameters: Record<string, unknown>): string[] {
    const missing = (name: string) => (isEmpty(parameters[name]) ? [`Required parameter ${name} missing for ${FLEET_PROVISIONING_PLUGIN}`] : []);
    return [
        ...PLUGIN_PARAMETERS.required.flatMap(missing),
        ...Object.entries(PLUGIN_PARAMETERS.requiredWith).flatMap(([when, needs]) => (isEmpty(parameters[when]) ? [] : needs.flatMap(missing))),
    ];
}

/** Where the plugin leaves the core's certificate and key, which the nucleus then uses (L167-168, L270-278, L317-331). */
export function pluginOutputPaths(parameters: Record<string, unknown>): { certificate: string; privateKey: string } {
    const root = String(parameters.rootPath);
    const or = (key: string, file: string) => (parameters[key] === undefined || parameters[key] === null ? path.posix.join(root, file) : path.posix.normalize(String(parameters[key])));
    return { certificate: or("certificatePath", CORE_FILES.certificate), privateKey: or("privateKeyPath", CORE_FILES.privateKey) };
}

/** Files under rootPath (device/coreFiles.ts), re-exported for the CLI. */
export { CORE_FILES };

/** Header of the factory's bulk registration CSV (one line per unit: serial, key fingerprint, template). */
export const REGISTRATION_HEADER = "serial,publicKey,template";

/**
 * The AWS IoT Greengrass Core software for exactly one nucleus version: AWS's developer guide
 * ("Install the AWS IoT Greengrass Core software", download step) serves each release as
 * `releases/greengrass-<version>.zip` beside `greengrass-nucleus-latest.zip`. The nucleus runs the
 * JAR it was installed from (aws-greengrass-nucleus v2.16.1, Kernel.initializeNucleusFromRecipe,
 * Kernel.java L755-786: its version comes from the unpacked zip's conf/recipe.yaml), so installing
 * "latest" would run another version than the stack's deployment pins until that deployment up- or
 * downgrades it.
 */
export function installerDownload(nucleusVersion: string): string[] {
    if (!/^\d+\.\d+\.\d+$/.test(nucleusVersion)) throw new EdgeConfigError(`--nucleus-version ${nucleusVersion}: a version such as 2.16.1`);
    const zip = `greengrass-${nucleusVersion}.zip`;
    return [
        `curl -fsS https://d2s8p88vqu9w66.cloudfront.net/releases/${zip} -o ${zip}`,
        `unzip -q ${zip} -d GreengrassInstaller`,
        `curl -fsS ${PLUGIN_DOWNLOAD} -o GreengrassInstaller/aws.greengrass.FleetProvisioningByClaim.jar`,
    ];
}

/**
 * The plugin version every parameter here was read against (PLUGIN_SOURCE), pinned like the nucleus:
 * AWS serves each release as `fleetprovisioningbyclaim-<version>.jar` beside `-latest.jar` (the same
 * release path as the nucleus zips), and a later plugin may read other parameters or write its files
 * elsewhere (1.2.2 added certificatePath/privateKeyPath: AWS's plugin changelog,
 * https://docs.aws.amazon.com/greengrass/v2/developerguide/fleet-provisioning-changelog.html).
 */
export const PLUGIN_VERSION = "1.2.2";
export const PLUGIN_DOWNLOAD = `https://d2s8p88vqu9w66.cloudfront.net/releases/aws-greengrass-FleetProvisioningByClaim/fleetprovisioningbyclaim-${PLUGIN_VERSION}.jar`;

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
    /** The core rotation template and the confirmation rule: with both, edge-config ships fms-core-rotate.py. */
    rotationTemplate?: string;
    confirmRule?: string;
    /** The stack's `provisioning.rotation.confirmTimeoutHours` (output certificateConfirmTimeoutHours): sizes the check timer. */
    confirmTimeoutHours?: number;
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
        // The plugin's MQTT client id: the claim policy's prefix, the serial, and a random suffix, so nobody else
        // holding the claim certificate can guess it and knock the core off while it provisions (AWS IoT drops a
        // connection when another connects with its client id).
        deviceId: `${a.claimClientIdPrefix}${a.serial}-${crypto.randomBytes(4).toString("hex")}`,
        mqttPort: a.mqttPort,
        templateParameters: { SerialNumber: a.serial },
        // The plugin's rule (validateParameters L240-243): csrPath with csrPrivateKeyPath, or neither.
        ...(a.deviceKeys === "device" ? { csrPath: at(a.rootPath, CORE_FILES.csr), csrPrivateKeyPath: at(a.rootPath, CORE_FILES.csrPrivateKey) } : {}),
    };
    const invalid = pluginValidationErrors(configuration);
    if (invalid.length > 0) throw new EdgeConfigError(`the plugin would refuse this configuration: ${invalid.join("; ")}`);
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

/**
 * The registration line of a core from the CSR it made on itself (fms-core-keygen.sh): the same fingerprint
 * the unit printed, computed here from the request's public key, so the station never needs the key. The
 * request must be whole and self-signed correctly (config/csr.ts).
 */
export function registrationFromCsr(csrPem: string, serial: string, template: string): string {
    if (!SERIAL.test(serial)) throw new EdgeConfigError(`--serial ${serial}: 1-64 characters from A-Z a-z 0-9 _ -`);
    const key = csrPublicKey(csrPem);
    if (typeof key === "string") throw new EdgeConfigError(`--csr: not a usable certificate signing request: ${key}`);
    return `${serial},${publicKeyFingerprint(key)},${template}`;
}

export interface EdgeConfigResult {
    thingName: string;
    files: string[];
    /**
     * Device keys: the line the factory registers for this unit (`serial,publicKey,template`, the
     * publicKey the SHA-256 fingerprint of the core key's SubjectPublicKeyInfo), also written with
     * its header to `registration.csv`. AWS-made keys: undefined (there is no key to bind yet).
     */
    registration?: string;
    /** The commands that fetch the installer of exactly the stack's nucleus version, and the plugin. */
    download: string[];
}

/**
 * Writes `config.yaml` (and, for device keys, the core's key at csrPrivateKeyPath, its CSR at
 * csrPath and the registration line) into `outDir`, which mirrors the device's rootPath. Refuses to
 * overwrite anything; on a failure nothing is left behind.
 */
export async function writeEdgeConfig(a: EdgeConfigArgs & { outDir: string }): Promise<EdgeConfigResult> {
    const config = edgeNucleusConfig(a);
    const thingName = `${a.coreThingNamePrefix}${a.serial}`;
    const download = installerDownload(a.nucleusVersion);
    const contents: [string, string, number][] = [
        ["config.yaml", `---\n${stringify(config)}`, 0o644],
        [CORE_SCRIPTS.cleanup, cleanupScript({ rootPath: a.rootPath, claimDir: a.claimDir }), 0o755],
    ];
    // Device keys: the key is made on the unit (fms-core-keygen.sh), where csrPrivateKeyPath points; the station
    // writes no key and gets back only the registration line (or the CSR: edge-register).
    if (a.deviceKeys === "device") contents.push([CORE_SCRIPTS.keygen, keygenScript({ rootPath: a.rootPath, serial: a.serial, thingName, template: a.coreTemplate }), 0o755]);
    // Rotation on the core itself (python3 and openssl only), with its settings beside it.
    if (a.rotationTemplate && a.confirmRule) {
        contents.push([CORE_SCRIPTS.rotate, fs.readFileSync(CORE_ROTATE_SOURCE, "utf8"), 0o755], [CORE_SCRIPTS.rotateSettings, `${JSON.stringify({
            endpoint: a.dataEndpoint, port: a.mqttPort, thingName, serial: a.serial, rotationTemplate: a.rotationTemplate, confirmRule: a.confirmRule,
            csr: a.deviceKeys === "device", timeoutSeconds: 10, connectTimeoutSeconds: 300,
        }, null, 2)}\n`, 0o644]);
        // ... and the timer that re-runs its --confirm, so a core comes back by itself (a lost confirmation, a retired certificate).
        const units = coreCheckUnits({ rootPath: a.rootPath, confirmTimeoutHours: a.confirmTimeoutHours ?? 24 });
        contents.push([CORE_SCRIPTS.checkService, units.service, 0o644], [CORE_SCRIPTS.checkTimer, units.timer, 0o644]);
    }
    const registration: string | undefined = undefined;
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
    return { thingName, files: written, registration, download };
}
