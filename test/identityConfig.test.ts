import * as assert from "assert";
import { makeKeys, privateKeyPem, TestCa } from "./support/x509";
import * as x509 from "@peculiar/x509";
import { assertStackConfigError } from "./support/assertions";
import { parseStackConfig } from "../config/stackConfig";

/** `provisioning.identity`: the section's shape, defaults and one-line errors (config/identityConfig.ts). */

type Edit = (c: Record<string, string>) => void;
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

function identity(change: (i: Record<string, unknown>) => void): Edit {
    return (c) => {
        const p = JSON.parse(c["fms-iot:provisioning"]);
        p.identity = p.identity ?? {};
        change(p.identity);
        c["fms-iot:provisioning"] = JSON.stringify(p);
    };
}

/** jp without its claim certificate (an oemCa stack has none), then the identity edit. */
function oem(change: (i: Record<string, unknown>) => void): Edit {
    return (c) => {
        delete c["fms-iot:claimCertificate"];
        identity(change)(c);
    };
}

const PCA = "arn:aws:acm-pca:ap-northeast-2:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012";
/** What a privateCa section needs besides the CA: how it signs, and the subject's organization. */
const SIGNS = { signingAlgorithm: "SHA256WITHECDSA", organization: "Maker Motors" };

describe("provisioning.identity config", () => {
    let ca: TestCa;
    let other: TestCa;
    let deviceCert: string;
    let expiredCa: string;
    before(async () => {
        ca = await TestCa.create("CN=Maker Root CA,O=Maker");
        other = await TestCa.create("CN=Maker Root CA 2,O=Maker");
        deviceCert = (await ca.issue("CN=297468000001")).certPem;
        const keys = await makeKeys();
        expiredCa = (await x509.X509CertificateGenerator.createSelfSigned({
            serialNumber: "02", name: "CN=Old CA", notBefore: new Date("2020-01-01"), notAfter: new Date("2021-01-01"), keys: keys as never, signingAlgorithm: ALG,
            extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
        })).toString("pem");
    });

    it("defaults to claim, so a stack without the section is configured as before", () => {
        const cfg = parseStackConfig({ project: "fms-iot", stack: "x", aws: { region: "eu-central-1", allowedAccountIds: ["123456789012"] }, values: { country: "DE", environment: "production", namePrefix: "fms-de", provisioning: { templateName: "fms-de-vehicle", thingNamePrefix: "de-", serialPrefixes: ["297468"] } } });
        assert.deepStrictEqual(cfg.provisioning.identity, { mode: "claim", oemCa: undefined, privateCa: undefined });
    });

    it("oemCa: the CA certificates, CN as the serial field and registry membership by default", () => {
        const cfg = parseStackConfig({ project: "fms-iot", stack: "x", aws: { region: "us-east-1", allowedAccountIds: ["123456789012"] }, values: { country: "US", environment: "production", namePrefix: "fms-us", provisioning: { templateName: "fms-us-vehicle", thingNamePrefix: "us-", serialPrefixes: ["1F"], identity: { mode: "oemCa", oemCa: { caCertificates: [ca.certPem, other.certPem] } } } } });
        assert.strictEqual(cfg.provisioning.identity.mode, "oemCa");
        assert.deepStrictEqual(cfg.provisioning.identity.oemCa, { caCertificates: [ca.certPem.trim() + "\n", other.certPem.trim() + "\n"], serialField: "CN", membership: "registry" });
    });

    it("privateCa: the template, a year's validity and this stack as the certificate provider's owner by default", () => {
        const cfg = parseStackConfig({ project: "fms-iot", stack: "x", aws: { region: "ap-northeast-2", allowedAccountIds: ["123456789012"] }, values: { country: "KR", environment: "production", namePrefix: "fms-kr", provisioning: { templateName: "fms-kr-vehicle", thingNamePrefix: "kr-", serialPrefixes: ["1F"], identity: { mode: "privateCa", privateCa: { certificateAuthorityArn: PCA, ...SIGNS } } } } });
        assert.deepStrictEqual(cfg.provisioning.identity.privateCa, {
            certificateAuthorityArn: PCA, templateArn: "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1", validityDays: 365,
            signingAlgorithm: "SHA256WITHECDSA", organization: "Maker Motors", certificateProviderOwner: "x", ownsCertificateProvider: true,
        });
    });

    const BAD: [string, () => Edit, string, RegExp][] = [
        ["an unknown mode", () => identity((i) => { i.mode = "jitp"; }), "fms-iot:provisioning.identity.mode", /one of claim, oemCa, privateCa/],
        ["oemCa without its section", () => oem((i) => { i.mode = "oemCa"; }), "fms-iot:provisioning.identity.oemCa", /required with mode: oemCa/],
        ["an oemCa section in claim mode", () => oem((i) => { i.oemCa = { caCertificates: [ca.certPem] }; }), "fms-iot:provisioning.identity.oemCa", /only with mode: oemCa \(mode is claim\)/],
        ["no CA certificate", () => oem((i) => { i.mode = "oemCa"; i.oemCa = { caCertificates: [] }; }), "fms-iot:provisioning.identity.oemCa.caCertificates", /at least 1 item/],
        ["a device certificate for a CA", () => oem((i) => { i.mode = "oemCa"; i.oemCa = { caCertificates: [deviceCert] }; }), "fms-iot:provisioning.identity.oemCa.caCertificates[0]", /not a CA/],
        ["an expired CA", () => oem((i) => { i.mode = "oemCa"; i.oemCa = { caCertificates: [expiredCa] }; }), "fms-iot:provisioning.identity.oemCa.caCertificates[0]", /expired/],
        ["the same CA twice", () => oem((i) => { i.mode = "oemCa"; i.oemCa = { caCertificates: [ca.certPem, ca.certPem] }; }), "fms-iot:provisioning.identity.oemCa.caCertificates[1]", /must not repeat/],
        ["an unknown serial field", () => oem((i) => { i.mode = "oemCa"; i.oemCa = { caCertificates: [ca.certPem], serialField: "OU" }; }), "fms-iot:provisioning.identity.oemCa.serialField", /one of CN, serialNumber/],
        ["a privateCa ARN of another service", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: "arn:aws:iot:ap-northeast-2:123456789012:cacert/abc", ...SIGNS }; }), "fms-iot:provisioning.identity.privateCa.certificateAuthorityArn", /AWS Private CA ARN/],
        ["a Private CA in another region", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA.replace("ap-northeast-2", "us-east-1"), ...SIGNS }; }), "fms-iot:provisioning.identity.privateCa.certificateAuthorityArn", /in the stack's region ap-northeast-2 \(this one is in us-east-1/],
        ["a validity of 0 days", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, ...SIGNS, validityDays: 0 }; }), "fms-iot:provisioning.identity.privateCa.validityDays", /from 1 to 3650/],
        ["a misspelt privateCa field", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, ...SIGNS, validity: 30 }; }), "fms-iot:provisioning.identity.privateCa.validity", /unknown field/],
        // privateCa (issue 28 item 2): the subject is the stack's, so the template must pass it through; how the CA signs.
        ["a base template (it copies the CSR's subject and alternative names)", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, ...SIGNS, templateArn: "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1" }; }), "fms-iot:provisioning.identity.privateCa.templateArn", /end-entity template ARN with API passthrough/],
        ["a CA template", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, ...SIGNS, templateArn: "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0_APIPassthrough/V1" }; }), "fms-iot:provisioning.identity.privateCa.templateArn", /EndEntityClientAuthCertificate_APIPassthrough\/V1 or/],
        ["a CSR-passthrough template (it copies the CSR's extensions)", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, ...SIGNS, templateArn: "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APICSRPassthrough/V1" }; }), "fms-iot:provisioning.identity.privateCa.templateArn", /API passthrough/],
        ["no signing algorithm", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, organization: "Maker" }; }), "fms-iot:provisioning.identity.privateCa.signingAlgorithm", /SHA256WITHECDSA/],
        ["a SHA-1 signing algorithm", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, ...SIGNS, signingAlgorithm: "SHA1WITHRSA" }; }), "fms-iot:provisioning.identity.privateCa.signingAlgorithm", /SHA256WITHRSA/],
        ["no organization", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, signingAlgorithm: "SHA256WITHRSA" }; }), "fms-iot:provisioning.identity.privateCa.organization", /organization name/],
        ["an organization longer than X.520 allows", () => identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, ...SIGNS, organization: "M".repeat(65) }; }), "fms-iot:provisioning.identity.privateCa.organization", /1-64 characters/],
        ["privateCa with AWS-made keys (the provider signs CSRs only)", () => (c: Record<string, string>) => { identity((i) => { i.mode = "privateCa"; i.privateCa = { certificateAuthorityArn: PCA, ...SIGNS }; })(c); const p = JSON.parse(c["fms-iot:provisioning"]); p.deviceKeys = "aws"; c["fms-iot:provisioning"] = JSON.stringify(p); c["fms-iot:environment"] = "staging"; }, "fms-iot:provisioning.identity.mode", /deviceKeys: device/],
        ["oemCa on a prefix-hookMode stack (membership is the registry's)", () => identity((i) => { i.mode = "oemCa"; i.oemCa = { caCertificates: [ca.certPem] }; }), "fms-iot:provisioning.identity.mode", /set hookMode: registry/],
        ["oemCa with Greengrass cores (they provision by claim)", () => identity((i) => { i.mode = "oemCa"; i.oemCa = { caCertificates: [ca.certPem] }; }), "fms-iot:greengrass", /not with provisioning.identity.mode: oemCa/],
    ];
    for (const [label, edit, key, allowed] of BAD) {
        it(`refuses ${label}: one line naming ${key}`, () => assertStackConfigError(/hookMode/.test(label) ? "dev" : key === "fms-iot:greengrass" ? "kr" : /oemCa/.test(key) || /oemCa/.test(label) ? "jp" : "kr", edit(), key, allowed));
    }

    it("refuses a CA private key pasted as a certificate, without printing it", async () => {
        const keyPem = await privateKeyPem(await makeKeys());
        assertStackConfigError("jp", oem((i) => { i.mode = "oemCa"; i.oemCa = { caCertificates: [keyPem] }; }), "fms-iot:provisioning.identity.oemCa.caCertificates[0]", /^(?![\s\S]*MIG)[\s\S]*not shown\): a private key: the CA's key never belongs in a stack file/);
    });

    it("refuses oemCa with a claim certificate section (no claim certificate in this mode)", () => {
        assertStackConfigError("jp", identity((i) => { i.mode = "oemCa"; i.oemCa = { caCertificates: [ca.certPem] }; }), "fms-iot:claimCertificate", /an oemCa stack creates no claim certificate/);
    });

    it("refuses a certificate-provider owner that is no stack of the project", () => {
        assert.throws(() => parseStackConfig({ project: "fms-iot", stack: "x", aws: { region: "ap-northeast-2", allowedAccountIds: ["123456789012"] }, values: { country: "KR", environment: "production", namePrefix: "fms-kr", provisioning: { templateName: "fms-kr-vehicle", thingNamePrefix: "kr-", serialPrefixes: ["1F"], identity: { mode: "privateCa", privateCa: { certificateAuthorityArn: PCA, ...SIGNS, certificateProviderOwner: "nosuch" } } } } }, { stacks: ["x", "kr"] }),
            /Invalid stack config fms-iot:provisioning.identity.privateCa.certificateProviderOwner = "nosuch": a stack of this project \(stack files here: x, kr\)/);
    });
});
