/**
 * The certificate-provider Lambda of the `privateCa` identity mode (components/provisioning/lambda/certificateProvider.ts),
 * against AWS Private CA as test/support/privateCaDouble.ts models it, answering through test/support/fakeClient.ts
 * (aws-sdk-client-mock's vocabulary; its types do not accept the 3.5xx ACM PCA client the registry here serves).
 *
 * AWS IoT developer guide, "Self-managed certificate signing using AWS IoT Core certificate provider"
 * (https://docs.aws.amazon.com/iot/latest/developerguide/provisioning-cert-provider.html): the function receives
 * `{certificateSigningRequest, principalId, clientId}` for every CreateCertificateFromCsr of fleet provisioning in the
 * account and region, and returns `{certificatePem}`. Every key and CSR is made here.
 */
import "./support/x509";
import * as assert from "assert";
import { webcrypto, X509Certificate } from "crypto";
import { ACMPCAClient, GetCertificateCommand, IssueCertificateCommand } from "@aws-sdk/client-acm-pca";
import { FakeClient } from "./support/fakeClient";
import * as x509 from "@peculiar/x509";
import {
    configFromEnv, createHandler, inspectCsr, isCaCertificate, ProviderConfig, ProviderResponse, templateArn,
} from "../components/provisioning/lambda/certificateProvider";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { PrivateCaDouble } from "./support/privateCaDouble";

const CA_ARN = "arn:aws:acm-pca:ap-southeast-2:123456789012:certificate-authority/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const CONFIG: ProviderConfig = {
    caArn: CA_ARN,
    templateArn: templateArn("aws", "EndEntityClientAuthCertificate_APIPassthrough/V1"),
    signingAlgorithm: "SHA256WITHECDSA",
    validityDays: 365,
    organization: "Maker Motors Pty Ltd",
};
const CLAIM_ID = "c".repeat(64);

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

type Keys = webcrypto.CryptoKeyPair;

async function keysFor(alg: { name: string; namedCurve?: string; modulusLength?: number; hash?: string }): Promise<Keys> {
    const params = alg.name === "ECDSA" ? alg : { ...alg, publicExponent: new Uint8Array([1, 0, 1]) };
    return await webcrypto.subtle.generateKey(params as never, true, ["sign", "verify"]) as Keys;
}

/** A CSR as a unit (or an attacker holding the claim certificate) would send it. */
async function csr(o: { subject?: string; keys?: Keys; alg?: Record<string, unknown>; extensions?: x509.Extension[]; attributes?: x509.Attribute[] } = {}): Promise<{ pem: string; keys: Keys }> {
    const alg = o.alg ?? EC;
    const keys = o.keys ?? await keysFor(alg as never);
    const req = await x509.Pkcs10CertificateRequestGenerator.create({
        name: o.subject ?? "CN=297468000123", keys: keys as never, signingAlgorithm: alg as never,
        extensions: o.extensions, attributes: o.attributes,
    });
    return { pem: req.toString("pem"), keys };
}

const spkiFingerprint = async (keys: Keys) => publicKeyFingerprint((await import("crypto")).createPublicKey({
    key: Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey)), format: "der", type: "spki",
}));

describe("certificate provider (privateCa): the Lambda that signs fleet-provisioning CSRs with AWS Private CA", function () {
    this.timeout(20_000);
    let ca: PrivateCaDouble;
    const pca = new FakeClient();
    const client = pca as unknown as ACMPCAClient;

    function provider(o: { config?: ProviderConfig | null; issueWaitMs?: number } = {}) {
        const lines: string[] = [];
        const sleeps: number[] = [];
        // A clock that only the Lambda's sleeps advance: the bound is checked without waiting for it.
        let clock = 0;
        const h = createHandler({
            config: o.config === null ? undefined : o.config ?? CONFIG, pca: client, log: (l) => lines.push(l),
            sleep: async (ms) => { sleeps.push(ms); clock += ms; }, now: () => clock, issueWaitMs: o.issueWaitMs ?? 1000, pollMs: 100,
        });
        return { h, lines, sleeps, last: () => JSON.parse(lines[lines.length - 1]) };
    }
    const event = (pem: string, principalId = CLAIM_ID, clientId = "fms-au-claim-297468000123") => ({ certificateSigningRequest: pem, principalId, clientId });

    before(async () => { ca = await PrivateCaDouble.create(CA_ARN); });
    beforeEach(() => {
        pca.reset();
        ca.inProgressPolls = 1;
        ca.misbehave = undefined;
        pca.on(IssueCertificateCommand).callsFake((input) => ca.issue(input));
        pca.on(GetCertificateCommand).callsFake((input) => ca.get(input));
    });

    describe("issuing", () => {
        it("issues from the stack's CA with its template, signing algorithm and validity; the subject is the stack's (O, CN = the key's fingerprint)", async () => {
            const { pem, keys } = await csr();
            const { h, last } = provider();
            const out: ProviderResponse = await h(event(pem));
            const input = pca.commandCalls(IssueCertificateCommand)[0].args[0].input;
            const fingerprint = await spkiFingerprint(keys);
            assert.deepStrictEqual({ ...input, Csr: Buffer.from(input.Csr as Uint8Array).toString() }, {
                CertificateAuthorityArn: CA_ARN,
                Csr: pem,
                SigningAlgorithm: "SHA256WITHECDSA",
                TemplateArn: "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate_APIPassthrough/V1",
                Validity: { Type: "DAYS", Value: 365 },
                ApiPassthrough: { Subject: { Organization: "Maker Motors Pty Ltd", CommonName: fingerprint } },
                IdempotencyToken: input.IdempotencyToken,
            });
            assert.match(input.IdempotencyToken!, /^[0-9a-f]{36}$/);
            const cert = new X509Certificate(out.certificatePem);
            assert.strictEqual(cert.subject, `O=Maker Motors Pty Ltd\nCN=${fingerprint}`);
            assert.strictEqual(isCaCertificate(cert), false);
            assert.ok(cert.checkIssued(new X509Certificate(ca.caPem)), "chains to the maker's CA");
            assert.strictEqual(publicKeyFingerprint(cert.publicKey), fingerprint, "the CSR's key: the hook's key binding holds");
            assert.deepStrictEqual(Object.keys(out), ["certificatePem"], "the response shape AWS IoT documents");
            const logged = last();
            assert.deepStrictEqual({ ...logged, certificateArn: typeof logged.certificateArn }, {
                event: "certificate-provider-decision", principalId: CLAIM_ID, clientId: "fms-au-claim-297468000123",
                issued: true, publicKeyFingerprint: fingerprint, certificateArn: "string",
            });
            assert.ok(!JSON.stringify(logged).includes("BEGIN"), "no PEM is logged");
        });

        it("waits for AWS Private CA: GetCertificate in progress is polled, within the bound", async () => {
            ca.inProgressPolls = 3;
            const { h, sleeps } = provider();
            await h(event((await csr()).pem));
            assert.strictEqual(pca.commandCalls(GetCertificateCommand).length, 4);
            assert.deepStrictEqual(sleeps, [100, 100, 100]);
        });

        it("gives up when the certificate is not issued within the bound: refused, not hung", async () => {
            ca.inProgressPolls = 1_000;
            const { h, last, sleeps } = provider({ issueWaitMs: 350 });
            await assert.rejects(h(event((await csr()).pem)), /refused: issue-failed:RequestInProgressException/);
            assert.strictEqual(pca.commandCalls(GetCertificateCommand).length, 4, "polls within 350 ms at 100 ms each");
            assert.deepStrictEqual(sleeps, [100, 100, 100]);
            assert.strictEqual(last().issued, false);
        });

        it("an AWS Private CA error is a refusal naming it", async () => {
            pca.on(IssueCertificateCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
            const { h, last } = provider();
            await assert.rejects(h(event((await csr()).pem)), /issue-failed:AccessDeniedException/);
            assert.strictEqual(last().reason, "issue-failed:AccessDeniedException");
        });

        it("accepts the keys AWS IoT accepts: EC P-384, P-521, RSA 2048; a CSR with an empty subject", async () => {
            for (const alg of [{ ...EC, namedCurve: "P-384", hash: "SHA-384" }, { ...EC, namedCurve: "P-521", hash: "SHA-512" }]) {
                assert.ok(inspectCsr((await csr({ alg })).pem).ok, alg.namedCurve);
            }
            for (const modulusLength of [2048]) {
                assert.ok(inspectCsr((await csr({ alg: { name: "RSASSA-PKCS1-v1_5", modulusLength, hash: "SHA-256" } })).pem).ok, `RSA ${modulusLength}`);
            }
            assert.ok(inspectCsr((await csr({ subject: "" })).pem).ok);
        });

        it("CSR extensions the template overrides are accepted (CA:FALSE, digitalSignature, clientAuth)", async () => {
            const { pem } = await csr({ extensions: [
                new x509.BasicConstraintsExtension(false), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature),
                new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
            ] });
            assert.ok(inspectCsr(pem).ok);
        });
    });

    describe("attacks: what a claim-certificate holder (or any principal of the account) may ask", () => {
        const refusedWith = async (pem: string, reason: RegExp) => {
            const { h, last } = provider();
            await assert.rejects(h(event(pem)), (err: Error) => reason.test(err.message));
            assert.match(last().reason, reason);
            assert.strictEqual(last().issued, false);
            assert.strictEqual(pca.commandCalls(IssueCertificateCommand).length, 0, "AWS Private CA is never asked");
        };

        it("a CSR for a CA certificate (basicConstraints CA:TRUE) is refused", async () => {
            await refusedWith((await csr({ extensions: [new x509.BasicConstraintsExtension(true, 0, true)] })).pem, /^ca-certificate-requested$|refused: ca-certificate-requested/);
        });

        it("a CSR asking for certificate or CRL signing (keyUsage keyCertSign / cRLSign) is refused as a CA request", async () => {
            await refusedWith((await csr({ extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature)] })).pem, /ca-certificate-requested/);
            await refusedWith((await csr({ extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.cRLSign)] })).pem, /ca-certificate-requested/);
        });

        it("a CSR with a foreign subject (another organization, country, OU, serialNumber, two CNs) is refused", async () => {
            for (const subject of ["O=Other Motors,CN=297468000123", "C=JP,CN=297468000123", "OU=fms-kr,CN=297468000123", "2.5.4.5=297468000999", "CN=297468000123,CN=297468000999", `CN=${"x".repeat(65)}`]) {
                await refusedWith((await csr({ subject })).pem, /foreign-subject/);
            }
        });

        it("a CSR naming other identities in subjectAltName (a base template would copy them into the certificate) is refused", async () => {
            const san = new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "api.maker.example" }, { type: "url", value: "urn:vin:OTHERVIN0000000001" }]);
            await refusedWith((await csr({ extensions: [san] })).pem, /foreign-subject:subject-alternative-name/);
        });

        it("a CSR with a weak key (RSA 1024) or a weak signature (ECDSA with SHA-1) is refused", async () => {
            await refusedWith((await csr({ alg: { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, hash: "SHA-256" } })).pem, /weak-key:rsa-1024/);
            await refusedWith((await csr({ alg: { ...EC, hash: "SHA-1" } })).pem, /weak-signature:1\.2\.840\.10045\.4\.1/);
        });

        it("a CSR whose signature does not verify (no proof of possession of the key) is refused", async () => {
            // The CSR of one key with the public key of another: the signature is over a request it does not match.
            const a = await csr();
            const b = await csr();
            const ra = new x509.Pkcs10CertificateRequest(a.pem);
            const rb = new x509.Pkcs10CertificateRequest(b.pem);
            const der = Buffer.from(ra.rawData);
            const spkiA = Buffer.from(ra.publicKey.rawData);
            const spkiB = Buffer.from(rb.publicKey.rawData);
            const swapped = Buffer.from(der.toString("hex").replace(spkiA.toString("hex"), spkiB.toString("hex")), "hex");
            const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${swapped.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
            await refusedWith(pem, /bad-signature/);
        });

        it("a CSR with an unexpected extension or attribute (challengePassword) is refused", async () => {
            const policy = new x509.Extension("2.5.29.32", false, new Uint8Array([0x30, 0x00]));
            await refusedWith((await csr({ extensions: [policy] })).pem, /unexpected-extension:2\.5\.29\.32/);
            const challenge = new x509.ChallengePasswordAttribute("secret");
            await refusedWith((await csr({ attributes: [challenge] })).pem, /unexpected-attribute:1\.2\.840\.113549\.1\.9\.7/);
        });

        it("malformed requests are refused: not PEM, two CSRs, text around it, a certificate, too large", async () => {
            const { pem } = await csr();
            const cert = ca.caPem;
            for (const bad of [undefined, 42, "", "hello", pem + pem, `junk\n${pem}`, cert, pem.replace(/[A-Za-z0-9+/]{64}\n/, (l) => l.repeat(200))]) {
                await refusedWith(bad as string, /malformed-csr/);
            }
        });

        it("a claim-certificate holder gets nothing more than a unit: the CN it asks for is not in the certificate, which is an end-entity client certificate of the stack's validity", async () => {
            const { pem, keys } = await csr({ subject: "CN=297468000999" });
            const { h } = provider();
            const cert = new X509Certificate((await h(event(pem))).certificatePem);
            assert.ok(!cert.subject.includes("297468000999"), cert.subject);
            assert.strictEqual(cert.subject, `O=Maker Motors Pty Ltd\nCN=${await spkiFingerprint(keys)}`);
            assert.strictEqual(isCaCertificate(cert), false);
            assert.strictEqual(cert.keyUsage?.includes("1.3.6.1.5.5.7.3.1"), false, "not a server certificate");
            assert.deepStrictEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
            const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
            assert.ok(days <= 365 + 1, `${days} days`);
        });

        it("what AWS Private CA returns is checked: a CA certificate, or one for another key, is never handed to the device", async () => {
            assert.ok(isCaCertificate(new X509Certificate(ca.caPem)), "the check knows a CA certificate");
            for (const misbehave of ["ca-certificate", "other-key"] as const) {
                ca.misbehave = misbehave;
                const { h, last } = provider();
                await assert.rejects(h(event((await csr()).pem)), /issue-failed:IssuedMismatch/, misbehave);
                assert.strictEqual(last().issued, false);
            }
        });
    });

    describe("configuration", () => {
        const env = { CA_ARN, TEMPLATE_ARN: CONFIG.templateArn, SIGNING_ALGORITHM: "SHA256WITHECDSA", VALIDITY_DAYS: "365", ORGANIZATION: "Maker Motors Pty Ltd" };

        it("reads the environment the component sets", () => {
            assert.deepStrictEqual(configFromEnv(env), CONFIG);
        });

        it("a missing or malformed setting refuses every request (never issues with a default)", async () => {
            for (const bad of [{ CA_ARN: "" }, { CA_ARN: "arn:aws:acm-pca:ap-southeast-2:123456789012:certificate-authority/*" }, { TEMPLATE_ARN: "x" }, { SIGNING_ALGORITHM: "SHA1WITHRSA" }, { VALIDITY_DAYS: "0" }, { VALIDITY_DAYS: "1.5" }, { ORGANIZATION: "" }]) {
                assert.strictEqual(configFromEnv({ ...env, ...bad }), undefined, JSON.stringify(bad));
            }
            const { h, last } = provider({ config: null });
            await assert.rejects(h(event((await csr()).pem)), /refused: misconfigured/);
            assert.strictEqual(last().reason, "misconfigured");
            assert.strictEqual(pca.commandCalls(IssueCertificateCommand).length, 0);
        });
    });
});
