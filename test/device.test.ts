import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run as device } from "../device/cli";
import { MqttSession } from "../device/mqttSession";
import { certDate, configFromEnv, createHandler } from "../lambda/provisioningHook";
import { ACCOUNT_ID } from "../plan/mocks";
import { runStack } from "../plan/program";
import { PolicyDocument } from "../policies/document";
import { AwsIotDouble } from "./support/awsIotDouble";

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
    let template: string;
    let rule: string;
    let basicIngestTopic: string;
    const common = () => ["--endpoint", "localhost", "--port", String(double.port), "--ca", caFile, "--timeout", "5"];

    before(async () => {
        // What our program produces for the dev stack: template, policies, hook configuration.
        const stack = await runStack("dev");
        const policies: Record<string, PolicyDocument> = {};
        for (const p of stack.ofType("aws:iot/policy:Policy")) policies[p.inputs.name] = JSON.parse(p.inputs.policy);
        const templates: Record<string, object> = {};
        for (const t of stack.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate")) templates[t.inputs.name] = JSON.parse(t.inputs.templateBody);
        const hookEnv = stack.one("aws:lambda/function:Function", "-hook").inputs.environment.variables;
        const hook = createHandler({
            config: configFromEnv(hookEnv),
            dynamo: { send: async () => { throw new Error("dev runs the hook in prefix mode"); } } as never,
            now: () => new Date(),
            log: () => undefined,
            registryTimeoutMs: 1000,
        });
        template = String(stack.outputs.provisioningTemplateName);
        rule = (stack.outputs.ruleNames as string[])[0];
        basicIngestTopic = (stack.outputs.basicIngestTopics as string[])[0];
        double = await AwsIotDouble.start({ region: "ap-northeast-2", accountId: ACCOUNT_ID, templates, policies, claimPolicyName: "fms-dev-claim", hook });

        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-device-"));
        caFile = path.join(dir, "ca.pem");
        fs.writeFileSync(caFile, double.ca.certPem);
        claimDir = path.join(dir, "claim");
        fs.mkdirSync(claimDir);
        const claim = await double.issueClaimCertificate();
        fs.writeFileSync(path.join(claimDir, "certificate.pem.crt"), claim.certPem, { mode: 0o600 });
        fs.writeFileSync(path.join(claimDir, "private.pem.key"), claim.keyPem, { mode: 0o600 });
    });

    after(async () => {
        await double?.close();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("provisions serial 297468... by claim: new certificate and key (0600), the Thing the template yields", async () => {
        const outDir = path.join(dir, "vehicle");
        const r = await cli(["provision", ...common(), "--template", template, "--serial", SERIAL, "--claim-dir", claimDir, "--out", outDir]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(r.out, [`test-thing-${SERIAL}`]);
        for (const f of ["certificate.pem.crt", "private.pem.key"]) {
            assert.strictEqual(fs.statSync(path.join(outDir, f)).mode & 0o777, 0o600, f);
        }
        assert.match(fs.readFileSync(path.join(outDir, "private.pem.key"), "utf8"), /^-----BEGIN PRIVATE KEY-----/);

        const thing = double.things.get(`test-thing-${SERIAL}`)!;
        assert.deepStrictEqual(thing.attributes, { serial: SERIAL, country: "KR", CertDate: certDate(new Date()) });
        assert.deepStrictEqual(thing.thingGroups, ["fms-dev-vehicles"]);
        assert.strictEqual(thing.thingTypeName, "fms-dev-vehicle");
        const cert = double.certificates.get(thing.principal)!;
        assert.deepStrictEqual([cert.status, cert.policyNames, cert.thing], ["ACTIVE", ["fms-dev-device"], `test-thing-${SERIAL}`]);
        const event = double.hookEvents.at(-1) as Record<string, unknown>;
        assert.deepStrictEqual(Object.keys(event).sort(), ["certificateId", "certificatePem", "claimCertificateId", "clientId", "parameters", "templateArn"]);
        assert.deepStrictEqual(event.parameters, { SerialNumber: SERIAL });
        assert.strictEqual(event.clientId, `claim-${SERIAL}`);
    });

    it("a serial with another prefix is rejected by our hook: one line with AWS's error code and message, nothing written", async () => {
        const outDir = path.join(dir, "rejected");
        const r = await cli(["provision", ...common(), "--template", template, "--serial", "123456000001", "--claim-dir", claimDir, "--out", outDir]);
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(r.err, ["error: provisioning RegisterThing rejected: AccessDenied (403): The pre-provisioning hook denied the request"]);
        assert.deepStrictEqual(r.out, []);
        assert.ok(!fs.existsSync(outDir));
        assert.ok(!double.things.has("test-thing-123456000001"));
    });

    it("the claim policy covers only this stack's templates, and its client ids only", async () => {
        const r = await cli(["provision", ...common(), "--template", "another-template", "--serial", SERIAL, "--claim-dir", claimDir, "--out", path.join(dir, "x")]);
        assert.strictEqual(r.code, 1);
        assert.match(r.err[0], /^error: the broker refused the subscription to .*\$aws\/provisioning-templates\/another-template\/provision\/json\/accepted/);
        const wrongId = await cli(["provision", ...common(), "--template", template, "--serial", SERIAL, "--claim-dir", claimDir, "--out", path.join(dir, "y"), "--client-id-prefix", "test-thing-"]);
        assert.strictEqual(wrongId.code, 1);
        assert.match(wrongId.err[0], /^error: cannot connect to localhost:\d+ as test-thing-297468000123: Connection refused: Not authorized$/);
        assert.ok(!fs.existsSync(path.join(dir, "x")) && !fs.existsSync(path.join(dir, "y")));
    });

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
            assert.match(r.err[0], /^error: (cannot connect to localhost:\d+ as claim-297468000123: connack timeout|timed out after 1000 ms waiting for the connection to localhost:\d+)$/);
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

        await assert.rejects(MqttSession.connect({ host: "localhost", port: double.port, clientId: "test-thing-297468999999", identity, timeoutMs: 5000 }), /Not authorized/);
    });

    it("--stack fills the endpoint, template, rule and topic from the stack outputs", async () => {
        const outputs = { iotEndpoint: "localhost", provisioningTemplateName: template, claimClientIdPrefix: "claim-", ruleNames: [rule], basicIngestTopics: [basicIngestTopic] };
        const outDir = path.join(dir, "vehicle");
        const r = await cli(["publish", "--stack", "dev", "--port", String(double.port), "--ca", caFile, "--cert", path.join(outDir, "certificate.pem.crt"),
            "--key", path.join(outDir, "private.pem.key"), "--thing", `test-thing-${SERIAL}`, "--count", "1"], outputs);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(r.out, [`1/1 messages acknowledged on ${basicIngestTopic}`]);
    });

    it("--help and bad usage", async () => {
        const help = await cli(["--help"]);
        assert.strictEqual(help.code, 0);
        assert.match(help.err.join("\n"), /provision {2}--endpoint <host> --template <name> --serial <n> --claim-dir <dir> --out <dir>/);
        const missing = await cli(["provision", "--endpoint", "localhost"]);
        assert.strictEqual(missing.code, 2);
        assert.strictEqual(missing.err[0], "error: --template is required");
        assert.strictEqual((await cli(["fly"])).code, 2);
        assert.strictEqual((await cli(["publish", "--count"])).code, 2);
    });
});
