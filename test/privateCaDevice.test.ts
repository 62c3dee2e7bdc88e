/**
 * privateCa end to end: the au stack's program (templates, policies, hook and certificate-provider settings) against
 * the AWS IoT double, with the certificate-provider Lambda signing through a Private CA double, and a vehicle going
 * from end of line (keygen, register) through fleet provisioning by claim to publishing with its Private CA
 * certificate, with the simulator's CLI and with AWS's device SDK; then what a claim-certificate holder can get.
 *
 * AWS IoT developer guide, "Self-managed certificate signing using AWS IoT Core certificate provider": the provider's
 * Lambda receives `{certificateSigningRequest, principalId, clientId}` for CreateCertificateFromCsr and returns
 * `{certificatePem}`; the double hands it the CSR that way (test/support/awsIotDouble.ts, `certificateProvider`).
 */
import "./support/x509";
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as x509 from "@peculiar/x509";
import type { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { GetCertificateCommand, IssueCertificateCommand } from "@aws-sdk/client-acm-pca";
import { run as device } from "../device/cli";
import { call } from "../device/provision";
import { MqttSession } from "../device/mqttSession";
import { configFromEnv, createHandler } from "../components/provisioning/lambda/provisioningHook";
import { configFromEnv as providerConfig, createHandler as createProvider } from "../components/provisioning/lambda/certificateProvider";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { ACCOUNT_ID } from "../plan/mocks";
import { runStack } from "../plan/program";
import { PolicyDocument } from "../policies/document";
import { AwsIotDouble } from "./support/awsIotDouble";
import { FakeClient } from "./support/fakeClient";
import { LocalDynamo } from "./support/dynalite";
import { publishWithOfficialSdk } from "./support/officialSdk";
import { PrivateCaDouble } from "./support/privateCaDouble";

describe("privateCa end to end: a vehicle's certificate from the maker's Private CA (au stack, AWS IoT double)", function () {
    this.timeout(90_000);
    let double: AwsIotDouble;
    let pca: PrivateCaDouble;
    let local: LocalDynamo;
    let dir: string;
    let caFile: string;
    let claimDir: string;
    let template: string;
    let confirmTopic: string;
    let organization: string;
    let registryTable: string;
    const signerLog: Record<string, unknown>[] = [];
    const hookDecisions: { allowProvisioning: boolean; reason: string }[] = [];

    async function cli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
        const out: string[] = [];
        const err: string[] = [];
        const code = await device(argv, { out: (l) => out.push(l), err: (l) => err.push(l), aws: () => ({ iot: double.iotApi() as never, dynamo: local.client }) });
        return { code, out, err };
    }
    const common = () => ["--endpoint", "localhost", "--port", String(double.port), "--ca", caFile, "--timeout", "10"];

    before(async () => {
        const stack = await runStack("au");
        const policies: Record<string, PolicyDocument> = {};
        for (const p of stack.ofType("aws:iot/policy:Policy")) policies[p.inputs.name] = JSON.parse(p.inputs.policy);
        const templates: Record<string, object> = {};
        for (const t of stack.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate")) templates[t.inputs.name] = JSON.parse(t.inputs.templateBody);
        const hookEnv = stack.one("aws:lambda/function:Function", "-provisioning-hook").inputs.environment.variables;
        const signerEnv = stack.one("aws:lambda/function:Function", "-private-ca-fn").inputs.environment.variables;
        organization = signerEnv.ORGANIZATION;
        registryTable = hookEnv.REGISTRY_TABLE;
        template = String(stack.outputs.provisioningTemplateName);
        confirmTopic = `$aws/rules/${stack.outputs.certificateConfirmRuleName}/certificates/confirm`;

        local = await LocalDynamo.start();
        await local.table(hookEnv.REGISTRY_TABLE, "serialNumber");
        await local.table(hookEnv.ROTATION_TABLE, "thingName");
        const hook = createHandler({
            config: configFromEnv(hookEnv), dynamo: local.client, iot: { send: (c: never) => double.iotApi().send(c) } as never,
            now: () => new Date(), log: (line) => hookDecisions.push(JSON.parse(line)), registryTimeoutMs: 2000,
        });
        pca = await PrivateCaDouble.create(signerEnv.CA_ARN, `CN=Maker Vehicle Issuing CA AU,O=${organization}`);
        const pcaClient = new FakeClient();
        pcaClient.on(IssueCertificateCommand).callsFake((input) => pca.issue(input));
        pcaClient.on(GetCertificateCommand).callsFake((input) => pca.get(input));
        const signer = createProvider({
            config: providerConfig(signerEnv), pca: pcaClient as unknown as ACMPCAClient, log: (l) => signerLog.push(JSON.parse(l)),
            sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now(), issueWaitMs: 2000, pollMs: 20,
        });
        const claimPolicyName = stack.one("aws:iot/policy:Policy", "-claim-policy").inputs.name;
        double = await AwsIotDouble.start({ region: "ap-southeast-2", accountId: ACCOUNT_ID, templates, policies, claimPolicyName, hook, certificateProvider: signer });
        // As the stack does (PrivateCaIssuer): the Private CA's certificate registered, SNI_ONLY, no auto-registration.
        double.registerCaCertificate(pca.caPem, { autoRegistration: false });

        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-private-ca-"));
        ({ caFile, claimDir } = await double.writeClaimFiles(dir));
    });

    after(async () => {
        await double?.close();
        await local?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** End of line: the unit's key and its registration (keygen, register), as docs/provisioning.md runs them. */
    async function endOfLine(serial: string): Promise<string> {
        const unit = path.join(dir, serial);
        const k = await cli(["keygen", "--serial", serial, "--template", template, "--out", unit]);
        assert.strictEqual(k.code, 0, k.err.join("\n"));
        const csv = path.join(dir, `${serial}.csv`);
        fs.writeFileSync(csv, `serial,publicKey,template\n${k.out[0]}\n`);
        const r = await cli(["register", "--table", registryTable, "--csv", csv, "--region", "ap-southeast-2"]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        return path.join(unit, "unit-key.pem");
    }

    it("a vehicle provisions by claim (simulator CLI): its certificate is the Private CA's, with the stack's subject, for the key it made at end of line", async () => {
        const serial = "297468000101";
        const key = await endOfLine(serial);
        const out = path.join(dir, "vehicle-101");
        const r = await cli(["provision", ...common(), "--template", template, "--serial", serial, "--claim-dir", claimDir, "--out", out, "--csr", "--key", key, "--client-id-prefix", "au-claim-"]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(r.out, [`au-vehicle-${serial}`]);
        const cert = new crypto.X509Certificate(fs.readFileSync(path.join(out, "certificate.pem.crt"), "utf8"));
        assert.ok(cert.checkIssued(new crypto.X509Certificate(pca.caPem)) && cert.verify(new crypto.X509Certificate(pca.caPem).publicKey), "chains to the maker's CA");
        const fingerprint = publicKeyFingerprint(fs.readFileSync(key, "utf8"));
        assert.strictEqual(cert.subject, `O=${organization}\nCN=${fingerprint}`, "the stack's subject, not the CSR's CN=<serial>");
        assert.strictEqual(signerLog.at(-1)!.issued, true);
        const thing = double.things.get(`au-vehicle-${serial}`)!;
        assert.deepStrictEqual(thing.principals.map((id) => double.certificates.get(id)!.status), ["ACTIVE"]);
        assert.strictEqual(hookDecisions.at(-1)!.reason, "allowed", "the hook's key binding held for the Private CA certificate");
    });

    it("... and publishes as its Thing with that certificate, through AWS's device SDK", async () => {
        const serial = "297468000101";
        const out = path.join(dir, "vehicle-101");
        await publishWithOfficialSdk({
            host: "localhost", port: double.port, caPem: double.ca.certPem,
            certPem: fs.readFileSync(path.join(out, "certificate.pem.crt"), "utf8"), keyPem: fs.readFileSync(path.join(out, "private.pem.key"), "utf8"),
            thingName: `au-vehicle-${serial}`, topic: confirmTopic, payload: JSON.stringify({ hello: "au" }), timeoutMs: 15_000,
        });
        assert.ok(double.ingested.some((m) => m.clientId === `au-vehicle-${serial}` && m.topic === confirmTopic));
    });

    describe("attacks with the claim certificate", () => {
        async function claimSession(clientId: string): Promise<MqttSession> {
            return MqttSession.connect({
                host: "localhost", port: double.port, clientId, timeoutMs: 10_000,
                identity: { cert: fs.readFileSync(path.join(claimDir, "certificate.pem.crt"), "utf8"), key: fs.readFileSync(path.join(claimDir, "private.pem.key"), "utf8"), ca: double.ca.certPem },
            });
        }
        async function csr(extensions: x509.Extension[] = [], name = "CN=297468000999"): Promise<{ pem: string; keys: crypto.webcrypto.CryptoKeyPair }> {
            const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
            const keys = await crypto.webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]) as crypto.webcrypto.CryptoKeyPair;
            const req = await x509.Pkcs10CertificateRequestGenerator.create({ name, keys: keys as never, signingAlgorithm: alg as never, extensions });
            return { pem: req.toString("pem"), keys };
        }
        const ask = async (session: MqttSession, pem: string) => call(session, "CreateCertificateFromCsr", "$aws/certificates/create-from-csr/json", { certificateSigningRequest: pem });

        it("a CSR for a CA certificate, or with a foreign subject, is rejected on create-from-csr/rejected; the Private CA is never asked", async () => {
            const session = await claimSession("au-claim-attacker-1");
            try {
                const issuedBefore = pca.issued.size;
                for (const [pem, reason] of [
                    [(await csr([new x509.BasicConstraintsExtension(true, 0, true)])).pem, "ca-certificate-requested"],
                    [(await csr([], "O=Other Motors,CN=297468000999")).pem, "foreign-subject"],
                    [(await csr([new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "api.maker.example" }])])).pem, "foreign-subject:subject-alternative-name"],
                ] as const) {
                    await assert.rejects(ask(session, pem), (err: Error) => /InvalidCertificateSigningRequest/.test(err.message), reason);
                    assert.strictEqual(signerLog.at(-1)!.reason, reason);
                }
                assert.strictEqual(pca.issued.size, issuedBefore);
            } finally {
                await session.end();
            }
        });

        it("a certificate for the attacker's own key is no vehicle: RegisterThing for a registered serial is denied (key binding), the certificate stays inactive and cannot connect", async () => {
            await endOfLine("297468000202");
            const session = await claimSession("au-claim-attacker-2");
            let certificateId: string;
            let attacker: { pem: string; keys: crypto.webcrypto.CryptoKeyPair };
            try {
                attacker = await csr();
                const created = await ask(session, attacker.pem);
                certificateId = created.certificateId;
                assert.ok(!new crypto.X509Certificate(created.certificatePem).subject.includes("297468000999"), "the CN it asked for is not in the certificate");
                await assert.rejects(call(session, "RegisterThing", `$aws/provisioning-templates/${template}/provision/json`, {
                    certificateOwnershipToken: created.certificateOwnershipToken, parameters: { SerialNumber: "297468000202" },
                }));
            } finally {
                await session.end();
            }
            assert.deepStrictEqual([hookDecisions.at(-1)!.allowProvisioning, hookDecisions.at(-1)!.reason], [false, "device-key-mismatch"]);
            assert.ok(!double.things.has("au-vehicle-297468000202"));
            assert.notStrictEqual(double.certificates.get(certificateId!)!.status, "ACTIVE");
            const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(await crypto.webcrypto.subtle.exportKey("pkcs8", attacker!.keys.privateKey)).toString("base64")}\n-----END PRIVATE KEY-----\n`;
            await assert.rejects(MqttSession.connect({
                host: "localhost", port: double.port, clientId: "au-vehicle-297468000202", timeoutMs: 5_000,
                identity: { cert: double.certificates.get(certificateId!)!.certificatePem, key: keyPem, ca: double.ca.certPem },
            }).then((s) => s.publish(confirmTopic, "{}").finally(() => s.end())));
        });
    });
});
