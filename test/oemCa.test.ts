/**
 * `provisioning.identity.mode: oemCa` end to end, on the us stack's plan: the factory (our CLI's
 * factory-ca, keygen, csr, factory-issue and register), the broker double of AWS IoT registering the
 * maker's CA and doing just-in-time registration as AWS documents it (test/support/awsIotDouble.ts), the
 * real JITR function on a real DynamoDB (dynalite), and the vehicle: our simulator and AWS's device SDK
 * (aws-iot-device-sdk-v2). Then every attack the issue lists, each refused.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as crypto from "crypto";
import { makeKeys, TestCa } from "./support/x509";
import { DeleteItemCommand, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { UpdateCertificateCommand } from "@aws-sdk/client-iot";
import { run as device } from "../device/cli";
import { issueFromCsr, makeFactoryCa, unitCsr } from "../device/factory";
import { MqttSession } from "../device/mqttSession";
import { configFromEnv, createHandler, JitrDecision } from "../components/provisioning/lambda/justInTimeRegistration";
import { jitrSql, registrationEventTopic } from "../components/provisioning/oemCaRegistration";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { ACCOUNT_ID } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import { PolicyDocument } from "../policies/document";
import { AwsIotDouble } from "./support/awsIotDouble";
import { LocalDynamo } from "./support/dynalite";
import { publishWithOfficialSdk } from "./support/officialSdk";

describe("oemCa: units with the maker's certificates, factory to telemetry, and the attacks (us)", function () {
    this.timeout(120_000);
    let run: ProgramRun;
    let double: AwsIotDouble;
    let local: LocalDynamo;
    let dir: string;
    let env: Record<string, string>;
    let caDir: string;
    let caId: string;
    const decisions: { serial?: string; allowProvisioning: boolean; reason: string; certificateId?: string }[] = [];
    let jitr: (event: unknown) => Promise<JitrDecision>;
    let settled: Promise<unknown> = Promise.resolve();

    const cli = async (argv: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const outputs = { ...run.outputs, iotEndpoint: "localhost", registryTableName: env.REGISTRY_TABLE, rotationScheduleTable: env.ROTATION_TABLE };
        const code = await device(argv, { out: (l) => out.push(l), err: (l) => err.push(l), stackOutputs: () => outputs, aws: () => ({ iot: double.iotApi() as never, dynamo: local.client }), settleMs: 20, reconnectDelayMs: 150 });
        return { code, out, err };
    };
    const caFile = () => {
        const f = path.join(dir, "server-ca.pem");
        if (!fs.existsSync(f)) fs.writeFileSync(f, double.ca.certPem);
        return f;
    };
    const thing = (serial: string) => `us-vehicle-${serial}`;

    /** End of line: the unit's key, its registration line, its CSR, and the factory CA's certificate for it. */
    async function unit(serial: string, o: { register?: boolean; country?: string; days?: string } = {}): Promise<{ dir: string; cert: string; key: string; line: string }> {
        const d = path.join(dir, serial);
        const keygen = await cli(["keygen", "--stack", "us", "--serial", serial, "--out", d]);
        assert.strictEqual(keygen.code, 0, keygen.err.join("\n"));
        const csr = await cli(["csr", "--key", path.join(d, "unit-key.pem"), "--out", path.join(d, "unit.csr.pem")]);
        assert.strictEqual(csr.code, 0, csr.err.join("\n"));
        const issue = await cli(["factory-issue", "--stack", "us", "--ca-dir", caDir, "--csr", path.join(d, "unit.csr.pem"), "--serial", serial, "--out", path.join(d, "certificate.pem.crt"),
            ...(o.country ? ["--country", o.country] : []), ...(o.days ? ["--days", o.days] : [])]);
        assert.strictEqual(issue.code, 0, issue.err.join("\n"));
        if (o.register !== false) await register([keygen.out[0]]);
        return { dir: d, cert: path.join(d, "certificate.pem.crt"), key: path.join(d, "unit-key.pem"), line: keygen.out[0] };
    }
    async function register(lines: string[]): Promise<void> {
        const csv = path.join(dir, `reg-${crypto.randomUUID()}.csv`);
        fs.writeFileSync(csv, ["serial,publicKey,template", ...lines].join("\n"));
        const r = await cli(["register", "--stack", "us", "--csv", csv]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
    }
    const publish = (u: { cert: string; key: string }, serial: string, extra: string[] = []) =>
        cli(["publish", "--stack", "us", "--port", String(double.port), "--ca", caFile(), "--cert", u.cert, "--key", u.key, "--thing", thing(serial), "--count", "2", "--timeout", "3", ...extra]);
    const certId = (file: string) => crypto.createHash("sha256").update(new crypto.X509Certificate(fs.readFileSync(file)).raw).digest("hex");

    before(async () => {
        run = await runStack("us");
        env = run.one("aws:lambda/function:Function", "-jitr").inputs.environment.variables;
        local = await LocalDynamo.start();
        await local.table(env.REGISTRY_TABLE, "serialNumber");
        await local.table(env.ROTATION_TABLE, "thingName");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-oemca-"));
        caDir = path.join(dir, "maker-ca");
        const made = await cli(["factory-ca", "--out", caDir, "--days", "3650"]);
        assert.strictEqual(made.code, 0, made.err.join("\n"));
        const policies: Record<string, PolicyDocument> = {};
        for (const p of run.ofType("aws:iot/policy:Policy")) policies[p.inputs.name] = JSON.parse(p.inputs.policy);
        // No claim certificate and no template: a provisioning request has nowhere to go.
        double = await AwsIotDouble.start({ region: "us-east-1", accountId: ACCOUNT_ID, templates: {}, policies, claimPolicyName: "(none)", hook: async () => ({ allowProvisioning: false }) });
        // The stack registers the maker's CA as the plan says (SNI_ONLY, active, auto-registration): here, the test CA in its place.
        const ca = run.one("aws:iot/caCertificate:CaCertificate", "-ca-0").inputs;
        caId = double.registerCaCertificate(fs.readFileSync(path.join(caDir, "ca.pem"), "utf8"), { autoRegistration: ca.allowAutoRegistration });
        jitr = createHandler({
            config: configFromEnv({ ...env, CA_CERTIFICATE_IDS: JSON.stringify([caId]) }),
            dynamo: local.client, iot: double.iotApi() as never, now: () => new Date(), log: (l) => decisions.push(JSON.parse(l)),
        });
        // The rule's SQL is SELECT * FROM the CA's registration topic: the event reaches the function as AWS IoT publishes it.
        double.eventActions.set(registrationEventTopic(caId), async (event) => { settled = jitr(event).catch(() => undefined); await settled; });
    });
    after(async () => {
        await double?.close();
        await local?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the plan: the maker's CA registered SNI_ONLY without a verification certificate, a JITR rule per CA, and no claim certificate, bucket, claim policy, template or hook", () => {
        const ca = run.one("aws:iot/caCertificate:CaCertificate", "-ca-0");
        assert.deepStrictEqual([ca.inputs.certificateMode, ca.inputs.active, ca.inputs.allowAutoRegistration, ca.inputs.verificationCertificatePem], ["SNI_ONLY", true, true, undefined]);
        const planCaId = String((run.outputs.oemCaCertificateIds as string[])[0]);
        const rule = run.one("aws:iot/topicRule:TopicRule", "-jitr-rule-0");
        assert.strictEqual(rule.inputs.sql, jitrSql(planCaId));
        assert.deepStrictEqual(JSON.parse(env.CA_CERTIFICATE_IDS), [planCaId]);
        assert.strictEqual(run.resources.filter((r) => /-claim(-|$)/.test(r.name) || r.type === "pulumi-nodejs:dynamic:Resource" && r.name.includes("claim")).length, 0);
        assert.strictEqual(run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate").length, 0);
        assert.strictEqual(run.resources.filter((r) => r.name.endsWith("-provisioning-hook") || r.name.endsWith("-provisioning-role")).length, 0);
        assert.strictEqual(run.ofType("aws:s3/bucket:Bucket").length, 0, "no claim-certificate bucket");
        assert.deepStrictEqual(run.ofType("aws:iot/policy:Policy").map((p) => p.inputs.name), ["fms-us-device"]);
        assert.strictEqual(run.outputs.claimCertificateId, undefined);
        // The device policy grants no fleet-provisioning topic: the maker renews certificates (docs/identity.md).
        assert.doesNotMatch(run.one("aws:iot/policy:Policy").inputs.policy, /\$aws\/certificates|provisioning-templates/);
    });

    it("factory to telemetry with our simulator: the first connection registers the certificate and is closed, the unit reconnects as its Thing and publishes", async () => {
        const serial = "1FM000001";
        const u = await unit(serial);
        const r = await publish(u, serial);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(r.out, ["2/2 messages acknowledged on $aws/rules/fms_us_telemetry/test-rule/telemetry"]);
        assert.ok(double.registrationClosures.includes(thing(serial)), "the registering connection was closed");
        const t = double.things.get(thing(serial))!;
        assert.deepStrictEqual([t.thingTypeName, t.thingGroups, t.attributes.serial, t.attributes.country], ["fms-us-vehicle", ["fms-us-vehicles"], serial, "US"]);
        const id = certId(u.cert);
        assert.deepStrictEqual([double.certificates.get(id)!.status, double.certificates.get(id)!.policyNames, t.principals], ["ACTIVE", ["fms-us-device"], [id]]);
        const item = (await local.client.send(new GetItemCommand({ TableName: env.REGISTRY_TABLE, Key: { serialNumber: { S: serial } }, ConsistentRead: true }))).Item!;
        assert.deepStrictEqual([item.status.S, item.certificateId.S], ["provisioned", id]);
        assert.strictEqual(double.ingested.filter((m) => m.clientId === thing(serial)).length, 2);
    });

    it("AWS's device SDK connects with a maker-issued certificate: refused while it registers, then publishes", async () => {
        const serial = "1FM000002";
        const u = await unit(serial);
        const o = { host: "localhost", port: double.port, caPem: double.ca.certPem, certPem: fs.readFileSync(u.cert, "utf8"), keyPem: fs.readFileSync(u.key, "utf8"), thingName: thing(serial), topic: "$aws/rules/fms_us_telemetry/test-rule/telemetry", payload: "{}", timeoutMs: 4000 };
        await assert.rejects(publishWithOfficialSdk(o));
        await settled;
        await publishWithOfficialSdk(o);
        assert.ok(double.ingested.some((m) => m.clientId === thing(serial)));
    });

    it("a certificate from another CA: the TLS handshake fails, nothing is registered", async () => {
        const serial = "1FM000003";
        const u = await unit(serial);
        const other = await makeFactoryCa();
        const forged = await issueFromCsr({ caCertPem: other.certPem, caKeyPem: other.keyPem, csrPem: await unitCsr(fs.readFileSync(u.key, "utf8")), serial, serialField: "serialNumber", country: "US", days: 30 });
        fs.writeFileSync(path.join(u.dir, "forged.pem"), forged);
        const r = await publish({ cert: path.join(u.dir, "forged.pem"), key: u.key }, serial);
        assert.strictEqual(r.code, 1);
        assert.ok(!double.certificates.has(certId(path.join(u.dir, "forged.pem"))));
        assert.ok(!double.things.has(thing(serial)));
    });

    it("the maker's CA for another country's unit: not in this registry, or a subject naming another country, or another unit's serial on an attacker's key: refused, the certificate stays PENDING_ACTIVATION", async () => {
        // A unit of another country's fleet (registered there, not here), with a serial this stack's prefixes accept.
        const foreign = await unit("1FM000004", { register: false });
        assert.strictEqual((await publish(foreign, "1FM000004")).code, 1);
        await settled;
        assert.strictEqual(decisions.at(-1)!.reason, "serial-not-registered");
        assert.strictEqual(double.certificates.get(certId(foreign.cert))!.status, "PENDING_ACTIVATION");
        assert.strictEqual((await publish(foreign, "1FM000004")).code, 1, "and it never connects");
        // Registered here, but the maker's CA wrote another country into the subject (membership registryAndSubjectCountry).
        const jp = await unit("1FM000005", { country: "JP" });
        assert.strictEqual((await publish(jp, "1FM000005")).code, 1);
        await settled;
        assert.strictEqual(decisions.at(-1)!.reason, "subject-country-mismatch");
        // The maker's CA (or whoever holds it) signs a registered serial for a key of the attacker's.
        const victim = await unit("1FM000006");
        const attackerKey = await makeKeys();
        const pkcs8 = Buffer.from(await crypto.webcrypto.subtle.exportKey("pkcs8", attackerKey.privateKey)).toString("base64").match(/.{1,64}/g)!.join("\n");
        const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`;
        fs.writeFileSync(path.join(victim.dir, "attacker.key"), keyPem);
        const ca = { caCertPem: fs.readFileSync(path.join(caDir, "ca.pem"), "utf8"), caKeyPem: fs.readFileSync(path.join(caDir, "ca.key.pem"), "utf8") };
        fs.writeFileSync(path.join(victim.dir, "attacker.pem"), await issueFromCsr({ ...ca, csrPem: await unitCsr(keyPem), serial: "1FM000006", serialField: "serialNumber", country: "US", days: 30 }));
        assert.strictEqual((await publish({ cert: path.join(victim.dir, "attacker.pem"), key: path.join(victim.dir, "attacker.key") }, "1FM000006")).code, 1);
        await settled;
        assert.strictEqual(decisions.at(-1)!.reason, "key-mismatch");
        assert.ok(!double.things.has(thing("1FM000006")), "no Thing for the attacker");
        // The real unit still registers afterwards.
        assert.strictEqual((await publish(victim, "1FM000006")).code, 0);
    });

    it("expired and not-yet-valid certificates are refused by the function (AWS IoT registered them; AWS's own TLS check is not relied on)", async () => {
        const now = Date.now();
        for (const [serial, notBefore, days, reason] of [["1FM000007", new Date(now - 40 * 86_400_000), 30, "expired"], ["1FM000008", new Date(now + 86_400_000), 30, "not-yet-valid"]] as const) {
            const u = await unit(serial);
            const ca = { caCertPem: fs.readFileSync(path.join(caDir, "ca.pem"), "utf8"), caKeyPem: fs.readFileSync(path.join(caDir, "ca.key.pem"), "utf8") };
            const pem = await issueFromCsr({ ...ca, csrPem: await unitCsr(fs.readFileSync(u.key, "utf8")), serial, serialField: "serialNumber", country: "US", days, notBefore });
            const id = crypto.createHash("sha256").update(new crypto.X509Certificate(pem).raw).digest("hex");
            double.certificates.set(id, { certificateId: id, certificatePem: pem, status: "PENDING_ACTIVATION", caCertificateId: caId, policyNames: [], things: [], creationDate: new Date() });
            const d = await jitr({ certificateId: id, caCertificateId: caId, certificateStatus: "PENDING_ACTIVATION", awsAccountId: ACCOUNT_ID, timestamp: now });
            assert.deepStrictEqual(d, { allow: false, serial, reason });
            assert.strictEqual(double.certificates.get(id)!.status, "PENDING_ACTIVATION");
        }
    });

    it("an event for a CA the stack did not register, or a replayed event for an active certificate, changes nothing", async () => {
        const other = await TestCa.create("CN=Other,C=US");
        const issued = await other.issue("C=US,2.5.4.5=1FM000009");
        double.certificates.set(issued.certificateId, { certificateId: issued.certificateId, certificatePem: issued.certPem, status: "PENDING_ACTIVATION", caCertificateId: "f".repeat(64), policyNames: [], things: [], creationDate: new Date() });
        assert.deepStrictEqual(await jitr({ certificateId: issued.certificateId, caCertificateId: caId }), { allow: false, serial: undefined, reason: "foreign-ca" });
        const active = [...double.certificates.values()].find((c) => c.status === "ACTIVE" && c.caCertificateId === caId)!;
        const d = await jitr({ certificateId: active.certificateId, caCertificateId: caId });
        assert.strictEqual(d.allow, false);
        assert.match((d as { reason: string }).reason, /^certificate-active$/);
    });

    it("a unit trying the claim path with its own certificate: no template exists and its policy grants no provisioning topic, so the broker closes the connection", async () => {
        const serial = "1FM000001";
        const u = { cert: path.join(dir, serial, "certificate.pem.crt"), key: path.join(dir, serial, "unit-key.pem") };
        for (const topic of ["$aws/certificates/create-from-csr/json", "$aws/certificates/create/json", "$aws/provisioning-templates/fms-us-vehicle/provision/json"]) {
            const session = await MqttSession.connect({ host: "localhost", port: double.port, clientId: thing(serial), identity: { cert: fs.readFileSync(u.cert, "utf8"), key: fs.readFileSync(u.key, "utf8"), ca: double.ca.certPem }, timeoutMs: 3000 });
            await assert.rejects(session.publish(topic, "{}"));
            await session.end();
            assert.ok(double.refusals.some((x) => x.clientId === thing(serial) && x.resource === `topic/${topic}`), topic);
        }
    });

    it("quarantine: the unit's certificate stops working, a new certificate from the maker's CA for its key is refused, and after rearm only the replacement unit registers", async () => {
        const serial = "1FM000010";
        const u = await unit(serial);
        assert.strictEqual((await publish(u, serial)).code, 0);
        const q = await cli(["quarantine", "--stack", "us", "--serial", serial]);
        assert.strictEqual(q.code, 0, q.err.join("\n"));
        assert.strictEqual((await publish(u, serial)).code, 1, "the quarantined certificate no longer connects");
        // The stolen key asks the maker's CA (or its renewal service) for a fresh certificate.
        const ca = { caCertPem: fs.readFileSync(path.join(caDir, "ca.pem"), "utf8"), caKeyPem: fs.readFileSync(path.join(caDir, "ca.key.pem"), "utf8") };
        fs.writeFileSync(path.join(u.dir, "again.pem"), await issueFromCsr({ ...ca, csrPem: await unitCsr(fs.readFileSync(u.key, "utf8")), serial, serialField: "serialNumber", country: "US", days: 30 }));
        assert.strictEqual((await publish({ cert: path.join(u.dir, "again.pem"), key: u.key }, serial)).code, 1);
        await settled;
        assert.strictEqual(decisions.at(-1)!.reason, "serial-revoked");
        // A replacement unit: rearm binds the serial to its key; its certificate registers on the same Thing.
        const replacement = await unit(`${serial}R`, { register: false });
        const fingerprint = publicKeyFingerprint(fs.readFileSync(replacement.key, "utf8"));
        fs.writeFileSync(path.join(replacement.dir, "for-serial.pem"), await issueFromCsr({ ...ca, csrPem: await unitCsr(fs.readFileSync(replacement.key, "utf8")), serial, serialField: "serialNumber", country: "US", days: 30 }));
        const rearm = await cli(["rearm", "--stack", "us", "--serial", serial, "--public-key", fingerprint]);
        assert.strictEqual(rearm.code, 0, rearm.err.join("\n"));
        assert.strictEqual((await publish({ cert: path.join(replacement.dir, "for-serial.pem"), key: replacement.key }, serial)).code, 0);
        assert.strictEqual((await publish({ cert: path.join(u.dir, "again.pem"), key: u.key }, serial)).code, 1, "the old unit's certificate stays refused");
        assert.deepStrictEqual(double.things.get(thing(serial))!.principals, [certId(path.join(replacement.dir, "for-serial.pem"))]);
    });

    it("rotation: the maker renews the certificate for the unit's key; the old one is scheduled to retire after the grace period; a renewal for another key is refused", async () => {
        const serial = "1FM000011";
        const u = await unit(serial);
        assert.strictEqual((await publish(u, serial)).code, 0);
        const old = certId(u.cert);
        const renewed = await cli(["factory-issue", "--stack", "us", "--ca-dir", caDir, "--csr", path.join(u.dir, "unit.csr.pem"), "--serial", serial, "--out", path.join(u.dir, "renewed.pem")]);
        assert.strictEqual(renewed.code, 0, renewed.err.join("\n"));
        assert.strictEqual((await publish({ cert: path.join(u.dir, "renewed.pem"), key: u.key }, serial)).code, 0);
        const item = (await local.client.send(new GetItemCommand({ TableName: env.REGISTRY_TABLE, Key: { serialNumber: { S: serial } }, ConsistentRead: true }))).Item!;
        assert.deepStrictEqual([item.certificateId.S, item.previousCertificateId.S], [certId(path.join(u.dir, "renewed.pem")), old]);
        const state = (await local.client.send(new GetItemCommand({ TableName: env.ROTATION_TABLE, Key: { thingName: { S: thing(serial) } }, ConsistentRead: true }))).Item!;
        assert.deepStrictEqual(state.retiringCertificateArns.SS, [`arn:aws:iot:us-east-1:${ACCOUNT_ID}:cert/${old}`]);
        assert.ok(Date.parse(state.retireAfter.S!) > Date.now() + 71 * 3600_000, "after the stack's 72-hour grace period");
        assert.deepStrictEqual(double.things.get(thing(serial))!.principals.sort(), [old, certId(path.join(u.dir, "renewed.pem"))].sort());
        // A "renewal" for another key (the maker's CA misused): refused, whatever the subject says.
        const other = await unit("1FM000012", { register: false });
        const ca = { caCertPem: fs.readFileSync(path.join(caDir, "ca.pem"), "utf8"), caKeyPem: fs.readFileSync(path.join(caDir, "ca.key.pem"), "utf8") };
        fs.writeFileSync(path.join(u.dir, "other-key.pem"), await issueFromCsr({ ...ca, csrPem: await unitCsr(fs.readFileSync(other.key, "utf8")), serial, serialField: "serialNumber", country: "US", days: 30 }));
        assert.strictEqual((await publish({ cert: path.join(u.dir, "other-key.pem"), key: other.key }, serial, ["--connect-attempts", "2"])).code, 1);
        await settled;
        assert.strictEqual(decisions.at(-1)!.reason, "key-mismatch");
    });

    // Review attack E (issue 26, after the merge): a certificate the sweep deactivated but could not detach (AWS denied
    // the detach) stays attached INACTIVE. It can never connect; before, it counted toward "settled" and every later
    // renewal was refused (thing-not-settled). The function now counts live certificates only, as the hook does: a
    // certificate's status is CertificateDescription.status (ACTIVE | INACTIVE | REVOKED | PENDING_TRANSFER |
    // REGISTER_INACTIVE | PENDING_ACTIVATION, https://docs.aws.amazon.com/iot/latest/apireference/API_CertificateDescription.html),
    // and only ACTIVE authenticates a device (API_UpdateCertificate: "Certificates must be in the ACTIVE state").
    it("renewal with an INACTIVE leftover still attached (a detach that failed): the leftover does not block it", async () => {
        const serial = "1FM000013";
        const u = await unit(serial);
        assert.strictEqual((await publish(u, serial)).code, 0);
        const first = certId(u.cert);
        const issue = async (name: string) => {
            const r = await cli(["factory-issue", "--stack", "us", "--ca-dir", caDir, "--csr", path.join(u.dir, "unit.csr.pem"), "--serial", serial, "--out", path.join(u.dir, name)]);
            assert.strictEqual(r.code, 0, r.err.join("\n"));
            return path.join(u.dir, name);
        };
        const second = await issue("second.pem");
        assert.strictEqual((await publish({ cert: second, key: u.key }, serial)).code, 0);
        // The sweep after the grace period: deactivated, the detach denied, nothing pending any more.
        await double.iotApi().send(new UpdateCertificateCommand({ certificateId: first, newStatus: "INACTIVE" }) as never);
        await local.client.send(new DeleteItemCommand({ TableName: env.ROTATION_TABLE, Key: { thingName: { S: thing(serial) } } }));
        assert.ok(double.things.get(thing(serial))!.principals.includes(first), "the leftover is still attached");
        const third = await issue("third.pem");
        assert.strictEqual((await publish({ cert: third, key: u.key }, serial)).code, 0);
        await settled;
        assert.deepStrictEqual([decisions.at(-1)!.reason, decisions.at(-1)!.allowProvisioning], ["renewed", true], JSON.stringify(decisions.at(-1)));
    });
});
