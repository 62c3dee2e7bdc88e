import * as assert from "assert";
import { keygenOnUnit } from "./support/coreUnit";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run as device } from "../device/cli";
import { MqttSession, tlsOptionsFor } from "../device/mqttSession";
import { certDate, configFromEnv, createHandler } from "../components/provisioning/lambda/provisioningHook";
import { ACCOUNT_ID } from "../plan/mocks";
import { runStack } from "../plan/program";
import { PolicyDocument } from "../policies/document";
import { confirm, RotationDeps, sweep } from "../components/provisioning/lambda/certificateRotation";
import { claimPolicy } from "../policies/iotClaimPolicy";
import { provisioningTopics } from "../device/provision";
import { pluginOutputPaths, pluginValidationErrors } from "../device/edgeConfig";
import { parse as parseYaml } from "yaml";
import { AwsIotDouble } from "./support/awsIotDouble";
import { provisionWithOfficialSdk, provisionWithOfficialSdkMqtt5, publishWithOfficialSdk, publishWithOfficialSdkMqtt5 } from "./support/officialSdk";
import { LocalDynamo } from "./support/dynalite";

/** Runs the CLI as `npm run device -- ...` would, capturing its output. */
async function cli(argv: string[], stackOutputs?: Record<string, unknown>): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await device(argv, { out: (l) => out.push(l), err: (l) => err.push(l), stackOutputs: stackOutputs && (() => stackOutputs) });
    return { code, out, err };
}

describe("device simulator, end to end against a local broker (test double of AWS IoT)", function () {
    this.timeout(60_000);
    const SERIAL = "297468000123";
    let double: AwsIotDouble;
    let dir: string;
    let caFile: string;
    let claimDir: string;
    /** The claim certificate and key as the simulator wrote them for the vehicle. */
    const claimPems = () => ({ cert: fs.readFileSync(path.join(claimDir, "certificate.pem.crt"), "utf8"), key: fs.readFileSync(path.join(claimDir, "private.pem.key"), "utf8") });
    let template: string;
    let rule: string;
    let basicIngestTopic: string;
    let stackOutputs: Record<string, unknown>;
    let local: LocalDynamo;
    /** Every decision our hook logged: why a request was denied, not only that it was. */
    const hookDecisions: { serial?: string; allowProvisioning: boolean; reason: string }[] = [];
    const lastReason = () => hookDecisions.at(-1)!.reason;
    const common = () => ["--endpoint", "localhost", "--port", String(double.port), "--ca", caFile, "--timeout", "5"];

    before(async () => {
        // What our program produces for the dev stack: template, policies, hook configuration.
        const stack = await runStack("dev");
        const policies: Record<string, PolicyDocument> = {};
        for (const p of stack.ofType("aws:iot/policy:Policy")) policies[p.inputs.name] = JSON.parse(p.inputs.policy);
        const templates: Record<string, object> = {};
        for (const t of stack.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate")) templates[t.inputs.name] = JSON.parse(t.inputs.templateBody);
        const hookEnv = stack.one("aws:lambda/function:Function", "-hook").inputs.environment.variables;
        // dev runs the hook in prefix mode: it claims serials (and records rotations) in a real DynamoDB.
        local = await LocalDynamo.start();
        await local.table(hookEnv.REGISTRY_TABLE, "serialNumber");
        await local.table(hookEnv.ROTATION_TABLE, "thingName");
        const hook = createHandler({
            config: configFromEnv(hookEnv),
            dynamo: local.client,
            iot: { send: (c: never) => double.iotApi().send(c) } as never,
            now: () => new Date(),
            log: (line) => hookDecisions.push(JSON.parse(line)),
            registryTimeoutMs: 1000,
        });
        template = String(stack.outputs.provisioningTemplateName);
        stackOutputs = stack.outputs;
        rule = (stack.outputs.ruleNames as string[])[0];
        basicIngestTopic = (stack.outputs.basicIngestTopics as string[])[0];
        double = await AwsIotDouble.start({ region: "ap-northeast-2", accountId: ACCOUNT_ID, templates, policies, claimPolicyName: "fms-dev-claim", hook });

        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-device-"));
        ({ caFile, claimDir } = await double.writeClaimFiles(dir));
    });

    after(async () => {
        await double?.close();
        await local?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("provisions serial 297468... by claim with a CSR: the key is made here and no message carries a private key", async () => {
        const outDir = path.join(dir, "vehicle");
        const r = await cli(["provision", ...common(), "--template", template, "--serial", SERIAL, "--claim-dir", claimDir, "--out", outDir, "--csr"]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(r.out, [`test-thing-${SERIAL}`]);
        for (const f of ["certificate.pem.crt", "private.pem.key"]) {
            assert.strictEqual(fs.statSync(path.join(outDir, f)).mode & 0o777, 0o600, f);
        }
        assert.deepStrictEqual(fs.readdirSync(outDir).sort(), ["certificate.pem.crt", "private.pem.key"], "no temporary files left");
        const key = crypto.createPrivateKey(fs.readFileSync(path.join(outDir, "private.pem.key"), "utf8"));
        const cert = new crypto.X509Certificate(fs.readFileSync(path.join(outDir, "certificate.pem.crt"), "utf8"));
        assert.ok(cert.checkPrivateKey(key), "the certificate AWS signed is for the key made on the device");
        for (const m of double.sent) assert.ok(!/privateKey|PRIVATE KEY/.test(m.payload), `${m.topic} carries a key`);
        assert.ok(double.sent.some((m) => m.topic === "$aws/certificates/create-from-csr/json/accepted"));

        const thing = double.things.get(`test-thing-${SERIAL}`)!;
        assert.deepStrictEqual(thing.attributes, { serial: SERIAL, country: "KR", CertDate: certDate(new Date()), CertExpiry: "20491231" });
        assert.deepStrictEqual(thing.thingGroups, ["fms-dev-vehicles"]);
        assert.strictEqual(thing.thingTypeName, "fms-dev-vehicle");
        const record = double.certificates.get(thing.principals[0])!;
        assert.deepStrictEqual([record.status, record.policyNames, record.things], ["ACTIVE", ["fms-dev-device"], [`test-thing-${SERIAL}`]]);
        const event = double.hookEvents.at(-1) as Record<string, unknown>;
        assert.deepStrictEqual(Object.keys(event).sort(), ["certificateId", "certificatePem", "claimCertificateId", "clientId", "parameters", "templateArn"]);
        assert.deepStrictEqual(event.parameters, { SerialNumber: SERIAL });
        // The claim policy's prefix, the serial, and a random suffix nobody holding the claim certificate can guess (to knock the unit off).
        assert.match(String(event.clientId), new RegExp(`^claim-${SERIAL}-[0-9a-f]{8}$`));
    });

    it("a serial with another prefix is rejected by our hook: one line with AWS's error code and message, nothing written", async () => {
        const outDir = path.join(dir, "rejected");
        const r = await cli(["provision", ...common(), "--template", template, "--serial", "123456000001", "--claim-dir", claimDir, "--out", outDir, "--csr"]);
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(r.err, ["error: provisioning RegisterThing rejected: AccessDenied (403): The pre-provisioning hook denied the request"]);
        assert.deepStrictEqual(r.out, []);
        assert.deepStrictEqual(fs.existsSync(outDir) ? fs.readdirSync(outDir) : [], [], "the staged credentials are removed on rejection");
        assert.ok(!double.things.has("test-thing-123456000001"));
        assert.strictEqual(lastReason(), "serial-prefix-not-allowed");
    });

    it("the claim policy covers only this stack's templates, and its client ids only", async () => {
        const r = await cli(["provision", ...common(), "--template", "another-template", "--serial", SERIAL, "--claim-dir", claimDir, "--out", path.join(dir, "x"), "--csr"]);
        assert.strictEqual(r.code, 1);
        assert.match(r.err[0], /^error: the broker refused the subscription to .*\$aws\/provisioning-templates\/another-template\/provision\/json\/accepted/);
        const wrongId = await cli(["provision", ...common(), "--template", template, "--serial", SERIAL, "--claim-dir", claimDir, "--out", path.join(dir, "y"), "--client-id-prefix", "test-thing-", "--csr"]);
        assert.strictEqual(wrongId.code, 1);
        // MQTT 3.1.1: AWS IoT closes a CONNECT it does not authorize, without a CONNACK (so does the double).
        assert.match(wrongId.err[0], /^error: the broker refused the connection of test-thing-297468000123-[0-9a-f]{8} \(not authorized\?\)$/);
        assert.ok(double.refusals.some((r) => r.clientId.startsWith("test-thing-297468000123-") && r.action === "iot:Connect"));
        assert.ok(!fs.existsSync(path.join(dir, "x")) && !fs.existsSync(path.join(dir, "y")));
    });

    for (const mqtt5 of [false, true]) {
        it(`a connection dropped mid-command (a publish AWS IoT refuses closes it) ends ${mqtt5 ? "MQTT 5" : "MQTT 3.1.1"} provision and rotate with one error line, exit 1, no unhandled rejection`, async () => {
            const unhandled: unknown[] = [];
            const onUnhandled = (reason: unknown) => unhandled.push(reason);
            process.on("unhandledRejection", onUnhandled);
            try {
                // Subscribed to the answers, the certificate made, then RegisterThing's publish refused: the broker closes
                // the connection while the simulator waits for the answer.
                const register = `$aws/provisioning-templates/${template}/provision/json`;
                double.refusePublishes.add(register);
                const connection = mqtt5 ? ["--endpoint", "localhost", "--port", String(await double.startMqtt5()), "--ca", caFile, "--mqtt5"] : common();
                const r = await cli(["provision", ...connection, "--template", template, "--serial", "297468000881", "--claim-dir", claimDir, "--out", path.join(dir, `drop${mqtt5}`), "--csr", "--timeout", "1"])
                    .finally(() => double.refusePublishes.delete(register));
                assert.strictEqual(r.code, 1);
                assert.strictEqual(r.err.length, 1, r.err.join("\n"));
                assert.match(r.err[0], /^error: /);
                // rotate, on the vehicle provisioned above: its RegisterThing through the rotation template refused.
                const rotation = `$aws/provisioning-templates/${stackOutputs.rotationTemplateName}/provision/json`;
                double.refusePublishes.add(rotation);
                const vehicle = path.join(dir, "vehicle");
                const before = fs.readFileSync(path.join(vehicle, "certificate.pem.crt"), "utf8");
                const rot = await cli(["rotate", ...connection, "--dir", vehicle, "--thing", `test-thing-${SERIAL}`, "--serial", SERIAL, "--template", String(stackOutputs.rotationTemplateName),
                    "--rule", String(stackOutputs.certificateConfirmRuleName), "--csr", "--timeout", "1"]).finally(() => double.refusePublishes.delete(rotation));
                assert.deepStrictEqual([rot.code, rot.err.length], [1, 1], rot.err.join("\n"));
                assert.match(rot.err[0], /^error: /);
                assert.strictEqual(fs.readFileSync(path.join(vehicle, "certificate.pem.crt"), "utf8"), before, "the vehicle keeps its certificate");
                assert.ok(!fs.readdirSync(vehicle).some((f) => f.includes(".pending-")), "no staged files left");
                await new Promise((resolve) => setTimeout(resolve, 1300)); // past the answer waits' own timers (--timeout 1)
                assert.deepStrictEqual(unhandled, []);
            } finally {
                process.off("unhandledRejection", onUnhandled);
            }
        });
    }

    it("every wait has a timeout: a server that never answers MQTT fails in --timeout seconds", async () => {
        const tls = await import("tls");
        const issued = await double.ca.issue("CN=localhost", { dns: ["localhost"], ip: ["127.0.0.1"] });
        const silent = tls.createServer({ key: issued.keyPem, cert: issued.certPem }, () => undefined);
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        const port = (silent.address() as { port: number }).port;
        try {
            const started = Date.now();
            const r = await cli(["provision", "--endpoint", "localhost", "--port", String(port), "--ca", caFile, "--timeout", "1",
                "--template", template, "--serial", SERIAL, "--claim-dir", claimDir, "--out", path.join(dir, "z")]);
            assert.strictEqual(r.code, 1);
            // mqtt.js's CONNACK timer or ours, whichever fires first: both are the --timeout.
            assert.match(r.err[0], /^error: (cannot connect to localhost:\d+ as claim-297468000123-[0-9a-f]{8}: connack timeout|timed out after 1000 ms waiting for the connection to localhost:\d+)$/);
            assert.ok(Date.now() - started < 10_000);
        } finally {
            silent.close();
        }
    });

    it("publishes as the new Thing to the Basic Ingest topic, QoS 1, every message acknowledged and ingested", async () => {
        const outDir = path.join(dir, "vehicle");
        const before = double.ingested.length;
        const r = await cli(["publish", ...common(), "--cert", path.join(outDir, "certificate.pem.crt"), "--key", path.join(outDir, "private.pem.key"),
            "--thing", `test-thing-${SERIAL}`, "--rule", rule, "--count", "5"]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(r.out, [`5/5 messages acknowledged on ${basicIngestTopic}`]);
        const got = double.ingested.slice(before);
        assert.deepStrictEqual(got.map((m) => [m.clientId, m.topic]), Array(5).fill([`test-thing-${SERIAL}`, basicIngestTopic]));
        assert.deepStrictEqual(got.map((m) => JSON.parse(m.payload).sequence), [1, 2, 3, 4, 5]);
    });

    it("the broker enforces our device policy: another Thing's topic, a foreign client id and subscribing to Basic Ingest are refused", async () => {
        const outDir = path.join(dir, "vehicle");
        const identity = { cert: fs.readFileSync(path.join(outDir, "certificate.pem.crt"), "utf8"), key: fs.readFileSync(path.join(outDir, "private.pem.key"), "utf8"), ca: double.ca.certPem };
        const thing = `test-thing-${SERIAL}`;
        const session = await MqttSession.connect({ host: "localhost", port: double.port, clientId: thing, identity, timeoutMs: 5000 });
        await session.publish(`vehicles/${thing}/status`, "{}"); // its own topic: allowed
        await assert.rejects(session.subscribe([`$aws/rules/${rule}/#`]), /refused the subscription/);
        await assert.rejects(session.publish("vehicles/test-thing-297468999999/status", "{}"), /closed the connection/);
        await session.end();
        assert.ok(double.refusals.some((x) => x.clientId === thing && x.action === "iot:Publish" && x.resource === "topic/vehicles/test-thing-297468999999/status"));
        assert.ok(!double.ingested.some((m) => m.topic.startsWith("vehicles/")));

        await assert.rejects(MqttSession.connect({ host: "localhost", port: double.port, clientId: "test-thing-297468999999", identity, timeoutMs: 5000 }), /^Error: the broker refused the connection of test-thing-297468999999 \(not authorized\?\)$/);
    });

    it("--stack fills the endpoint, template, rule and topic from the stack outputs", async () => {
        const outputs = { iotEndpoint: "localhost", provisioningTemplateName: template, claimClientIdPrefix: "claim-", ruleNames: [rule], basicIngestTopics: [basicIngestTopic] };
        const outDir = path.join(dir, "vehicle");
        const r = await cli(["publish", "--stack", "dev", "--port", String(double.port), "--ca", caFile, "--cert", path.join(outDir, "certificate.pem.crt"),
            "--key", path.join(outDir, "private.pem.key"), "--thing", `test-thing-${SERIAL}`, "--count", "1"], outputs);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(r.out, [`1/1 messages acknowledged on ${basicIngestTopic}`]);
    });

    it("--help and bad usage: help on stdout (exit 0), errors on stderr (exit 2)", async () => {
        const help = await cli(["--help"]);
        assert.strictEqual(help.code, 0);
        assert.deepStrictEqual(help.err, []);
        assert.match(help.out.join("\n"), /provision {2}--endpoint <host> --template <name> --serial <n> --claim-dir <dir> --out <dir>/);
        const badPort = await cli(["publish", "--endpoint", "localhost", "--port", "99999", "--cert", "c", "--key", "k", "--thing", "t", "--rule", "r"]);
        assert.deepStrictEqual([badPort.code, badPort.err[0]], [2, "error: --port 99999: a TCP port is 1-65535 (AWS IoT: 8883, or 443 with ALPN)"]);
        const missing = await cli(["provision", "--endpoint", "localhost"]);
        assert.strictEqual(missing.code, 2);
        assert.strictEqual(missing.err[0], "error: --template is required");
        assert.strictEqual((await cli(["fly"])).code, 2);
        assert.strictEqual((await cli(["publish", "--count"])).code, 2);
    });

    it("a file that is not the PEM it should be is named (not a TLS library error)", async () => {
        const bad = path.join(dir, "not-a-key.pem");
        fs.writeFileSync(bad, "hello\n");
        const r = await cli(["publish", ...common(), "--cert", path.join(claimDir, "certificate.pem.crt"), "--key", bad, "--thing", "x", "--rule", rule]);
        assert.strictEqual(r.code, 1);
        assert.match(r.err[0], new RegExp(`^error: ${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not a PEM private key \\(`));
        const missing = await cli(["publish", ...common(), "--cert", path.join(dir, "nope.crt"), "--key", bad, "--thing", "x", "--rule", rule]);
        assert.strictEqual(missing.err[0], `error: cannot read the certificate ${path.join(dir, "nope.crt")}`);
    });

    it("TLS: SNI only for a host name (an IP is not a server name), ALPN x-amzn-mqtt-ca on port 443", () => {
        assert.deepStrictEqual(tlsOptionsFor("a1b2c3-ats.iot.ap-northeast-2.amazonaws.com", 8883), { servername: "a1b2c3-ats.iot.ap-northeast-2.amazonaws.com" });
        assert.deepStrictEqual(tlsOptionsFor("127.0.0.1", 8883), {});
        assert.deepStrictEqual(tlsOptionsFor("::1", 8883), {});
        assert.deepStrictEqual(tlsOptionsFor("a1b2c3-ats.iot.ap-northeast-2.amazonaws.com", 443), { servername: "a1b2c3-ats.iot.ap-northeast-2.amazonaws.com", ALPNProtocols: ["x-amzn-mqtt-ca"] });
    });

    it("ALPN reaches the server: a TLS server that speaks only x-amzn-mqtt-ca negotiates it with the simulator's options", async () => {
        const tls = await import("tls");
        const server = await double.ca.issue("CN=localhost", { dns: ["localhost"], ip: ["127.0.0.1"] });
        const srv = tls.createServer({ cert: server.certPem, key: server.keyPem, ALPNProtocols: ["x-amzn-mqtt-ca"] }, (socket) => socket.end());
        await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
        try {
            const { port } = srv.address() as import("net").AddressInfo;
            const socket = tls.connect({ host: "localhost", port, ca: double.ca.certPem, ...tlsOptionsFor("localhost", 443) });
            const negotiated = await new Promise<string | false | null>((resolve, reject) => {
                socket.on("secureConnect", () => resolve(socket.alpnProtocol));
                socket.on("error", reject);
            });
            socket.destroy();
            assert.strictEqual(negotiated, "x-amzn-mqtt-ca");
        } finally {
            srv.close();
        }
    });

    it("a publish the broker refuses (it closes the connection, as AWS IoT does) fails once, with no unhandled rejection", async () => {
        const outDir = path.join(dir, "pub-vehicle");
        const serial = "297468000777";
        assert.strictEqual((await cli(["provision", ...common(), "--template", template, "--serial", serial, "--claim-dir", claimDir, "--out", outDir, "--csr"])).code, 0);
        const unhandled: unknown[] = [];
        const onUnhandled = (reason: unknown) => unhandled.push(reason);
        process.on("unhandledRejection", onUnhandled);
        try {
            const r = await cli(["publish", ...common(), "--cert", path.join(outDir, "certificate.pem.crt"), "--key", path.join(outDir, "private.pem.key"),
                "--thing", `test-thing-${serial}`, "--rule", "not_this_stacks_rule", "--topic", "x", "--count", "3"]);
            assert.strictEqual(r.code, 1);
            assert.match(r.err[0], /\(0 of 3 acknowledged\)$/);
            await new Promise((resolve) => setTimeout(resolve, 300));
            assert.deepStrictEqual(unhandled, []);
        } finally {
            process.off("unhandledRejection", onUnhandled);
        }
    });

    describe("one identity per serial, keys that stay on the vehicle, and rotation", () => {
        const SERIAL2 = "297468000456";
        const thing1 = `test-thing-${SERIAL}`;
        const thing2 = `test-thing-${SERIAL2}`;
        const confirmations: Promise<unknown>[] = [];
        let rotationTable: string;
        let rotationTemplate: string;
        let confirmRule: string;
        let confirmSql: string;
        const metrics: unknown[] = [];
        const rotationDeps = (now: () => Date): RotationDeps => ({
            // The hook's own state table: it records the unconfirmed rotation that confirm clears.
            config: { tableName: rotationTable, thingNamePrefixes: ["test-thing-"], gracePeriodHours: 1, metricNamespace: "FMS/IoT/fms-dev" },
            dynamo: local.client, iot: double.iotApi() as never, cloudwatch: { send: async (c: unknown) => { metrics.push(c); return {}; } } as never, now, log: () => undefined,
        });
        const identityOf = (d: string) => ({ cert: fs.readFileSync(path.join(d, "certificate.pem.crt"), "utf8"), key: fs.readFileSync(path.join(d, "private.pem.key"), "utf8"), ca: double.ca.certPem });

        before(async () => {
            const stack = await runStack("dev");
            rotationTemplate = String(stack.outputs.rotationTemplateName);
            confirmRule = String(stack.outputs.certificateConfirmRuleName);
            confirmSql = stack.one("aws:iot/topicRule:TopicRule", "-confirm-topic-rule").inputs.sql;
            rotationTable = stack.one("aws:lambda/function:Function", "-hook").inputs.environment.variables.ROTATION_TABLE;
            // The rules engine: the confirmation rule's SQL selects principal() and clientid() of the connection.
            const selects = [...confirmSql.matchAll(/(\w+)\(\) AS (\w+)/g)].map((m) => [m[1], m[2]]);
            assert.deepStrictEqual(selects, [["principal", "certificateId"], ["clientid", "thingName"]]);
            double.ruleActions.set(confirmRule, async (m) => {
                const values: Record<string, unknown> = { principal: m.principal, clientid: m.clientId };
                const p = confirm(Object.fromEntries(selects.map(([fn, as]) => [as, values[fn]])), rotationDeps(() => new Date()));
                confirmations.push(p);
                await p;
            });
            const r = await cli(["provision", ...common(), "--template", template, "--serial", SERIAL2, "--claim-dir", claimDir, "--out", path.join(dir, "vehicle2"), "--csr"]);
            assert.strictEqual(r.code, 0, r.err.join("\n"));
        });

        it("a second provisioning of a provisioned serial is denied: the leaked claim certificate cannot clone a vehicle", async () => {
            const r = await cli(["provision", ...common(), "--template", template, "--serial", SERIAL, "--claim-dir", claimDir, "--out", path.join(dir, "clone"), "--csr"]);
            assert.strictEqual(r.code, 1);
            assert.deepStrictEqual(r.err, ["error: provisioning RegisterThing rejected: AccessDenied (403): The pre-provisioning hook denied the request"]);
            assert.ok(!fs.existsSync(path.join(dir, "clone", "certificate.pem.crt")) && !fs.existsSync(path.join(dir, "clone", "private.pem.key")));
            assert.deepStrictEqual(double.things.get(thing1)!.principals.length, 1, "no second certificate on the vehicle's Thing");
            assert.strictEqual(lastReason(), "thing-already-exists");
        });

        it("device-key mode: the claim policy refuses CreateKeysAndCertificate (AWS would send the key over MQTT)", async () => {
            const r = await cli(["provision", ...common(), "--template", template, "--serial", "297468000789", "--claim-dir", claimDir, "--out", path.join(dir, "awskeys")]);
            assert.strictEqual(r.code, 1);
            assert.match(r.err[0], /^error: the broker refused the subscription to \$aws\/certificates\/create\/json\/accepted/);
        });

        it("AWS-key mode (deviceKeys: aws) provisions with CreateKeysAndCertificate, and refuses the CSR API", async () => {
            const stack = await runStack("dev");
            const claim = stack.ofType("aws:iot/policy:Policy").find((p) => p.inputs.name === "fms-dev-claim")!;
            const templates = [...JSON.parse(claim.inputs.policy).Statement[1].Resource].map((r: string) => /provisioning-templates\/([^/]+)\//.exec(r)?.[1]).filter(Boolean) as string[];
            const awsKeys = claimPolicy({ partition: "aws", region: "ap-northeast-2", accountId: ACCOUNT_ID, clientIdPrefix: "claim-", templateNames: templates, deviceKeys: "aws" });
            const policies: Record<string, PolicyDocument> = {};
            for (const p of stack.ofType("aws:iot/policy:Policy")) policies[p.inputs.name] = JSON.parse(p.inputs.policy);
            policies["fms-dev-claim"] = awsKeys;
            const templateBodies: Record<string, object> = {};
            for (const t of stack.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate")) templateBodies[t.inputs.name] = JSON.parse(t.inputs.templateBody);
            const other = await AwsIotDouble.start({ region: "ap-northeast-2", accountId: ACCOUNT_ID, templates: templateBodies, policies, claimPolicyName: "fms-dev-claim", hook: async () => ({ allowProvisioning: true, parameterOverrides: { CertDate: "20261123", CertExpiry: "20491231" } }) });
            try {
                const otherDir = path.join(dir, "awsmode");
                fs.mkdirSync(path.join(otherDir, "claim"), { recursive: true });
                fs.writeFileSync(path.join(otherDir, "ca.pem"), other.ca.certPem);
                const c = await other.issueClaimCertificate();
                fs.writeFileSync(path.join(otherDir, "claim", "certificate.pem.crt"), c.certPem);
                fs.writeFileSync(path.join(otherDir, "claim", "private.pem.key"), c.keyPem);
                const base = ["--endpoint", "localhost", "--port", String(other.port), "--ca", path.join(otherDir, "ca.pem"), "--timeout", "5", "--template", template, "--claim-dir", path.join(otherDir, "claim")];
                const ok = await cli(["provision", ...base, "--serial", "297468000111", "--out", path.join(otherDir, "v")]);
                assert.strictEqual(ok.code, 0, ok.err.join("\n"));
                assert.ok(other.sent.some((m) => m.topic === "$aws/certificates/create/json/accepted" && m.payload.includes("PRIVATE KEY")));
                // What AWS IoT sends: an RSA 2048-bit key in PKCS#1 PEM; the simulator writes it as is and connects with it.
                const keyPem = fs.readFileSync(path.join(otherDir, "v", "private.pem.key"), "utf8");
                assert.match(keyPem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
                const key = crypto.createPrivateKey(keyPem);
                assert.deepStrictEqual([key.asymmetricKeyType, key.asymmetricKeyDetails?.modulusLength], ["rsa", 2048]);
                assert.ok(new crypto.X509Certificate(fs.readFileSync(path.join(otherDir, "v", "certificate.pem.crt"), "utf8")).checkPrivateKey(key));
                const pub = await cli(["publish", "--endpoint", "localhost", "--port", String(other.port), "--ca", path.join(otherDir, "ca.pem"), "--timeout", "5",
                    "--cert", path.join(otherDir, "v", "certificate.pem.crt"), "--key", path.join(otherDir, "v", "private.pem.key"), "--thing", ok.out[0], "--rule", rule, "--topic", "test-rule/rule1", "--count", "1"]);
                assert.strictEqual(pub.code, 0, pub.err.join("\n"));
                const csr = await cli(["provision", ...base, "--serial", "297468000112", "--out", path.join(otherDir, "w"), "--csr"]);
                assert.strictEqual(csr.code, 1);
                assert.match(csr.err[0], /refused the subscription to \$aws\/certificates\/create-from-csr\/json\/accepted/);
            } finally {
                await other.close();
            }
        });

        it("the double answers the provisioning API with QoS 1, as AWS IoT does for a QoS 1 subscription", async () => {
            const mqtt = await import("mqtt");
            const client = mqtt.connect({
                protocol: "mqtts", host: "localhost", port: double.port, clientId: "claim-297468000333", protocolVersion: 4, reconnectPeriod: 0,
                cert: fs.readFileSync(path.join(claimDir, "certificate.pem.crt"), "utf8"), key: fs.readFileSync(path.join(claimDir, "private.pem.key"), "utf8"), ca: double.ca.certPem,
            });
            try {
                await new Promise<void>((resolve, reject) => { client.once("connect", () => resolve()); client.once("error", reject); });
                await client.subscribeAsync(["$aws/certificates/create-from-csr/json/rejected"], { qos: 1 });
                const packet = new Promise<{ qos: number }>((resolve) => client.once("message", (_t, _p, pkt) => resolve(pkt)));
                await client.publishAsync("$aws/certificates/create-from-csr/json", JSON.stringify({ certificateSigningRequest: "not a CSR" }), { qos: 1 });
                assert.strictEqual((await packet).qos, 1);
            } finally {
                await client.endAsync(true);
            }
        });

        it("AWS's official device SDK provisions a vehicle with a CSR against the double (the double speaks AWS's topics and fields)", async () => {
            const claim = claimPems();
            const got = await provisionWithOfficialSdk({
                host: "localhost", port: double.port, caPem: double.ca.certPem, claimCertPem: claim.cert, claimKeyPem: claim.key,
                clientId: "claim-297468000321", template, serial: "297468000321", timeoutMs: 10_000,
            });
            assert.strictEqual(got.thingName, "test-thing-297468000321");
            // ... and, as the new Thing, publishes to Basic Ingest (QoS 1, acknowledged).
            await publishWithOfficialSdk({
                host: "localhost", port: double.port, caPem: double.ca.certPem, certPem: got.certificatePem, keyPem: got.privateKeyPem,
                thingName: got.thingName, topic: basicIngestTopic, payload: JSON.stringify({ speedKmh: 41 }), timeoutMs: 10_000,
            });
            assert.deepStrictEqual(double.ingested.filter((m) => m.clientId === got.thingName).map((m) => [m.topic, m.payload]), [[basicIngestTopic, JSON.stringify({ speedKmh: 41 })]]);
            assert.ok(new crypto.X509Certificate(got.certificatePem).checkPrivateKey(crypto.createPrivateKey(got.privateKeyPem)));
            assert.deepStrictEqual(double.things.get("test-thing-297468000321")!.principals, [got.certificateId]);
            // Our simulator asks on the same topics as AWS's SDK.
            const sdkTopics = double.subscriptions.filter((s) => s.clientId === "claim-297468000321").map((s) => s.topic).sort();
            assert.deepStrictEqual(sdkTopics, provisioningTopics(true, template).sort());
        });

        it("a Greengrass core provisions with the config.yaml that edge-config writes: its deviceId under the real claim policy, its CSR, its template", async () => {
            const coreDir = path.join(dir, "core-root");
            const outputs = { ...stackOutputs, iotEndpoint: "localhost" };
            const r = await cli(["edge-config", "--stack", "dev", "--serial", "297469000042", "--out", coreDir], outputs);
            assert.strictEqual(r.code, 0, r.err.join("\n"));
            assert.deepStrictEqual(r.out, ["fms-dev-core-297469000042"]);
            // The key is made on the unit (fms-core-keygen.sh), never by edge-config on the station.
            assert.ok(!fs.existsSync(path.join(coreDir, "core.key.pem")));
            keygenOnUnit(coreDir);
            const config = parseYaml(fs.readFileSync(path.join(coreDir, "config.yaml"), "utf8"));
            const plugin = config.services["aws.greengrass.FleetProvisioningByClaim"].configuration;
            const claim = claimPems();
            // What the plugin does with these (FleetProvisioningByClaimPlugin): connect with deviceId as the
            // client id, CreateCertificateFromCsr with the file at csrPath, RegisterThing(provisioningTemplate,
            // templateParameters), over AWS's own device SDK as the plugin does (aws-crt, iotidentity).
            const got = await provisionWithOfficialSdk({
                host: "localhost", port: double.port, caPem: double.ca.certPem, claimCertPem: claim.cert, claimKeyPem: claim.key,
                clientId: plugin.deviceId, template: plugin.provisioningTemplate, serial: plugin.templateParameters.SerialNumber,
                parameters: plugin.templateParameters, csrPem: fs.readFileSync(path.join(coreDir, path.posix.basename(plugin.csrPath)), "utf8"), timeoutMs: 10_000,
            });
            assert.strictEqual(got.thingName, "fms-dev-core-297469000042");
            // The plugin's own checks pass (validateParameters, v1.2.2 L230-248), and it then leaves the
            // certificate at certificatePath and copies csrPrivateKeyPath to privateKeyPath (L195-197): the
            // nucleus' key and certificate (L270-278), both under rootPath here.
            assert.deepStrictEqual(pluginValidationErrors(plugin), []);
            const onDevice = (p: string) => path.join(coreDir, path.posix.relative(plugin.rootPath, p));
            const nucleus = pluginOutputPaths(plugin);
            fs.writeFileSync(onDevice(nucleus.certificate), got.certificatePem, { mode: 0o600 });
            fs.copyFileSync(onDevice(plugin.csrPrivateKeyPath), onDevice(nucleus.privateKey));
            const cert = new crypto.X509Certificate(fs.readFileSync(onDevice(nucleus.certificate), "utf8"));
            assert.ok(cert.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(onDevice(nucleus.privateKey), "utf8"))), "the nucleus' key (<rootPath>/privKey.key) matches the certificate");
            const thing = double.things.get("fms-dev-core-297469000042")!;
            assert.deepStrictEqual(thing.thingGroups, ["fms-dev-edge-cores"]);
            // The core template created this core's own policy (PolicyDocument) and attached it (test/edgeCore.test.ts
            // holds what it allows).
            const [corePolicy] = double.certificates.get(thing.principals[0])!.policyNames;
            assert.ok(double.createdPolicies.includes(corePolicy));
            assert.ok(JSON.stringify(double.policy(corePolicy)).includes("client/fms-dev-core-297469000042"));
            assert.strictEqual(lastReason(), "allowed");

            // The plugin's default client id (a random UUID) is what the claim policy refuses.
            const uuid = crypto.randomUUID();
            await assert.rejects(provisionWithOfficialSdk({
                host: "localhost", port: double.port, caPem: double.ca.certPem, claimCertPem: claim.cert, claimKeyPem: claim.key,
                clientId: uuid, template: plugin.provisioningTemplate, serial: "297469000043", timeoutMs: 3_000,
            }), /Failed to connect/);
            assert.deepStrictEqual(double.refusals.filter((x) => x.clientId === uuid), [{ clientId: uuid, action: "iot:Connect", resource: `client/${uuid}` }]);
        });

        it("MQTT 5: AWS's official SDK (its current sample's IotIdentityClient over Mqtt5Client) provisions a vehicle and publishes to Basic Ingest", async () => {
            const port = await double.startMqtt5();
            const claim = claimPems();
            const got = await provisionWithOfficialSdkMqtt5({
                host: "localhost", port, caPem: double.ca.certPem, claimCertPem: claim.cert, claimKeyPem: claim.key,
                clientId: "claim-297468000654", template, serial: "297468000654", timeoutMs: 10_000,
            });
            assert.strictEqual(got.thingName, "test-thing-297468000654");
            const reason = await publishWithOfficialSdkMqtt5({
                host: "localhost", port, caPem: double.ca.certPem, certPem: got.certificatePem, keyPem: got.privateKeyPem,
                thingName: got.thingName, topic: basicIngestTopic, payload: JSON.stringify({ speedKmh: 42 }), timeoutMs: 10_000,
            });
            assert.ok(reason === undefined || reason === 0, `PUBACK reason ${reason}`);
            assert.deepStrictEqual(double.ingested.filter((m) => m.clientId === got.thingName).map((m) => [m.topic, m.payload]), [[basicIngestTopic, JSON.stringify({ speedKmh: 42 })]]);
        });

        it("MQTT 5: a CONNECT the claim policy refuses gets CONNACK 0x87 Not authorized (AWS IoT's MQTT 5 reason code)", async () => {
            const port = await double.startMqtt5();
            const claim = claimPems();
            const err = await provisionWithOfficialSdkMqtt5({
                host: "localhost", port, caPem: double.ca.certPem, claimCertPem: claim.cert, claimKeyPem: claim.key,
                clientId: "not-a-claim-id", template, serial: "297468000655", timeoutMs: 5_000,
            }).then(() => undefined, (e: Error & { connack?: { reasonCode: number } }) => e);
            assert.ok(err);
            assert.strictEqual(err.connack?.reasonCode, 0x87, err.message);
        });

        it("MQTT 5: the simulator (--mqtt5) provisions and publishes", async () => {
            const port = String(await double.startMqtt5());
            const base = ["--endpoint", "localhost", "--port", port, "--ca", caFile, "--timeout", "5", "--mqtt5"];
            const outDir = path.join(dir, "mqtt5-vehicle");
            const r = await cli(["provision", ...base, "--template", template, "--serial", "297468000656", "--claim-dir", claimDir, "--out", outDir, "--csr"]);
            assert.strictEqual(r.code, 0, r.err.join("\n"));
            const pub = await cli(["publish", ...base, "--cert", path.join(outDir, "certificate.pem.crt"), "--key", path.join(outDir, "private.pem.key"),
                "--thing", "test-thing-297468000656", "--rule", rule, "--topic", basicIngestTopic.split("/").slice(3).join("/"), "--count", "2"]);
            assert.strictEqual(pub.code, 0, pub.err.join("\n"));
            assert.strictEqual(double.ingested.filter((m) => m.clientId === "test-thing-297468000656").length, 2);
        });

        it("--out equal to --claim-dir is refused before anything is sent", async () => {
            const r = await cli(["provision", ...common(), "--template", template, "--serial", "297468000999", "--claim-dir", claimDir, "--out", claimDir, "--csr"]);
            assert.strictEqual(r.code, 1);
            assert.match(r.err[0], /is the claim directory: the claim credentials would be overwritten$/);
        });

        it("rotation end to end: new certificate, confirmed with it, the old one retired after the grace period; other vehicles untouched", async () => {
            const vdir = path.join(dir, "vehicle");
            const oldIdentity = identityOf(vdir);
            const oldId = double.things.get(thing1)!.principals[0];
            const other = double.things.get(thing2)!.principals[0];
            const r = await cli(["rotate", ...common(), "--dir", vdir, "--thing", thing1, "--serial", SERIAL, "--template", rotationTemplate, "--rule", confirmRule, "--csr"]);
            assert.strictEqual(r.code, 0, r.err.join("\n"));
            const newId = r.out[0];
            assert.notStrictEqual(newId, oldId);
            await Promise.all(confirmations);
            assert.deepStrictEqual(double.things.get(thing1)!.principals, [oldId, newId], "both attached during the grace period");
            assert.strictEqual(double.certificates.get(oldId)!.status, "ACTIVE", "the old certificate works until the grace period ends");
            assert.ok(fs.existsSync(path.join(vdir, "certificate.pem.crt.previous")));
            for (const m of double.sent) assert.ok(!/privateKey|PRIVATE KEY/.test(m.payload));

            assert.deepStrictEqual((await sweep(rotationDeps(() => new Date()))).retired, [], "nothing before the grace period");
            const later = await sweep(rotationDeps(() => new Date(Date.now() + 3600_000 + 60_000)));
            assert.deepStrictEqual(later.retired, [`arn:aws:iot:ap-northeast-2:${ACCOUNT_ID}:cert/${oldId}`]);
            assert.strictEqual(double.certificates.get(oldId)!.status, "INACTIVE");
            assert.deepStrictEqual(double.things.get(thing1)!.principals, [newId]);
            assert.strictEqual(double.certificates.get(other)!.status, "ACTIVE");
            assert.deepStrictEqual(double.things.get(thing2)!.principals, [other]);

            await assert.rejects(MqttSession.connect({ host: "localhost", port: double.port, clientId: thing1, identity: oldIdentity, timeoutMs: 5000 }), /Not authorized|refused/);
            const fresh = await MqttSession.connect({ host: "localhost", port: double.port, clientId: thing1, identity: identityOf(vdir), timeoutMs: 5000 });
            await fresh.publish(`vehicles/${thing1}/status`, "{}");
            await fresh.end();
            const second = await MqttSession.connect({ host: "localhost", port: double.port, clientId: thing2, identity: identityOf(path.join(dir, "vehicle2")), timeoutMs: 5000 });
            await second.end();
        });

        it("a stolen claim certificate cannot rotate anyone, and one vehicle cannot rotate another", async () => {
            const claim = await cli(["rotate", ...common(), "--dir", claimDir, "--thing", "claim-297468000123", "--serial", SERIAL, "--template", rotationTemplate, "--rule", confirmRule, "--csr"]);
            assert.strictEqual(claim.code, 1);
            assert.match(claim.err[0], /refused the subscription to .*provisioning-templates\/fms-dev-rotate\/provision/);
            const before2 = [...double.things.get(thing2)!.principals];
            // Vehicle 1's certificate asking for vehicle 2's serial: the hook sees it is not attached to that Thing.
            const cross = await cli(["rotate", ...common(), "--dir", path.join(dir, "vehicle"), "--thing", thing1, "--serial", SERIAL2, "--template", rotationTemplate, "--rule", confirmRule, "--csr"]);
            assert.strictEqual(cross.code, 1);
            assert.deepStrictEqual(cross.err, ["error: provisioning RegisterThing rejected: AccessDenied (403): The pre-provisioning hook denied the request"]);
            assert.deepStrictEqual(double.things.get(thing2)!.principals, before2);
            assert.strictEqual(lastReason(), "requester-not-attached-to-thing");
            const denial = double.hookEvents.at(-1) as { claimCertificateId: string; parameters: { SerialNumber: string } };
            assert.deepStrictEqual(denial.parameters, { SerialNumber: SERIAL2 });
        });
    });
});
