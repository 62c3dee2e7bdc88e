/** Pre-provisioning hook events and template rules shared by the hook tests. */
import { HookConfig } from "../../components/provisioning/lambda/provisioningHook";
import { certificateKeyFingerprint } from "../../components/runtime/keyFingerprint";
import { makeCertificate, makeKeys } from "./x509";

export const NOW = new Date("2026-11-22T23:59:59Z");
export const CERT_ID = "a".repeat(64);
export const CLAIM_ID = "c".repeat(64);
export const ARN = (template: string) => `arn:aws:iot:ap-northeast-2:123456789012:provisioningtemplate/${template}`;

/** A real certificate PEM (self-signed, valid to 2049-12-31 like AWS IoT's), made here. */
let PEM = "";
before(async () => { PEM = await makeCertificate(await makeKeys()); });
export const pem = () => PEM;
/** The fingerprint of the key in `pem()`: what the factory registers for the unit that holds that key. */
export const pemKey = () => certificateKeyFingerprint(PEM)!;

export function event(parameters: unknown = { SerialNumber: "297468000123" }, template = "fms-kr-vehicle", over: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        claimCertificateId: CLAIM_ID,
        certificateId: CERT_ID,
        certificatePem: PEM,
        templateArn: ARN(template),
        clientId: "claim-297468000123",
        parameters,
        ...over,
    };
}

const deviceParameters = ["SerialNumber"];
export const TEMPLATES: HookConfig["templates"] = {
    "fms-kr-vehicle": { purpose: "provision", thingNamePrefix: "test-thing-", serialPrefixes: ["297468"], deviceParameters },
    "fms-kr-rotate": { purpose: "rotate", thingNamePrefix: "test-thing-", serialPrefixes: ["297468"], deviceParameters },
    "fms-kr-edge-core": { purpose: "provision", thingNamePrefix: "test-thing-core-", serialPrefixes: ["297469"], deviceParameters },
};

/** A hook configuration as the component sets it (registry mode, keys bound), with `over` applied. */
export function hookConfig(over: Partial<HookConfig> = {}): HookConfig {
    return {
        mode: "registry", tableName: "fms-kr-registry", templates: TEMPLATES, allowReprovisioning: false, bindKeys: true,
        rotationTable: "fms-kr-rotation", gracePeriodHours: 72, confirmTimeoutHours: 24, ...over,
    };
}
