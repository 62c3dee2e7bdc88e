/**
 * A Greengrass core rotates its certificate through the same path vehicles use (issue 20, item 5):
 * the kr plan, the broker double with the real hook on dynalite, AWS's device SDK provisioning the
 * core with its registered key, then `npm run device -- rotate --core-root` on the core's nucleus
 * files, confirmed through the real confirm handler. The new certificate gets the core's own policy
 * (the core templates carry the same per-core document, whose name AWS derives from it) and the
 * shared rotation policy; the old one is scheduled for retirement; another core cannot do it for it.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { run as device } from "../device/cli";
import { makeKeyAndCsr, makePrivateKey } from "../device/credentials";
import { CORE_FILES } from "../device/edgeConfig";
import { nucleusLog, NUCLEUS_CONNECTED } from "../device/coreRotation";
import { CORE_ROTATE_SOURCE, CORE_SCRIPTS } from "../device/coreScripts";
import { execFile } from "child_process";
import { promisify } from "util";
import { MqttSession } from "../device/mqttSession";
import { readIdentity } from "../device/provision";
import { registerSerials } from "../device/fleetOps";
import { configFromEnv as rotationConfig, confirm } from "../components/provisioning/lambda/certificateRotation";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { runStack } from "../plan/program";
import { provisionWithOfficialSdk } from "./support/officialSdk";
import { close, Fleet, fleet } from "./support/registryFleet";

const execFileAsync = promisify(execFile);

describe("a Greengrass core rotates its certificate with its own (kr, broker double, real hook and confirm)", function () {
    this.timeout(180_000);
    let f: Fleet;
    const out = (o: Record<string, unknown>) => ({ ...o, iotEndpoint: "localhost" });
    /** What the fake nucleus did on each restart: the certificate it connected with, and how many messages had been ingested then. */
    let restarts: { certificatePem: string; connected: boolean; ingestedBefore: number }[] = [];
    /** The nucleus double: on restart it connects as <thing> with the files in its root, as the nucleus does, and logs it. */
    let nucleusAccepts: (certificatePem: string) => boolean = () => true;
    const restartNucleus = async (root: string) => {
        const certificatePem = fs.readFileSync(path.join(root, CORE_FILES.certificate), "utf8");
        const thing = fs.readFileSync(path.join(root, "thing-name"), "utf8");
        let connected = false;
        if (nucleusAccepts(certificatePem)) {
            const session = await MqttSession.connect({ host: "localhost", port: f.double.port, clientId: thing, timeoutMs: 5_000,
                identity: readIdentity(path.join(root, CORE_FILES.certificate), path.join(root, CORE_FILES.privateKey), path.join(f.dir, "ca.pem")) });
            await session.end();
            connected = true;
            fs.mkdirSync(path.join(root, "logs"), { recursive: true });
            // The line the nucleus logs on its first connection (AwsIotMqttClient.java L284, v2.16.1), JSON format.
            fs.appendFileSync(nucleusLog(root), `${JSON.stringify({ level: "INFO", message: NUCLEUS_CONNECTED, contexts: { sessionPresent: "false" } })}\n`);
        }
        restarts.push({ certificatePem, connected, ingestedBefore: f.double.ingested.length });
    };
    const cli = async (argv: string[]) => {
        const lines = { out: [] as string[], err: [] as string[] };
        const code = await device(argv, { out: (l) => lines.out.push(l), err: (l) => lines.err.push(l), stackOutputs: () => out(f.run.outputs), restartNucleus });
        return { code, ...lines };
    };

    /** A core provisioned as the plugin does it (CSR for its registered key), its nucleus files in its root. */
    async function core(serial: string): Promise<{ root: string; thing: string; certificateId: string }> {
        const key = await makePrivateKey();
        const template = String(f.run.outputs.edgeCoreTemplateName);
        await registerSerials(f.local.client, f.env.REGISTRY_TABLE, [{ serial, fingerprint: publicKeyFingerprint(key), templates: [template] }]);
        const got = await provisionWithOfficialSdk({
            host: "localhost", port: f.double.port, caPem: f.double.ca.certPem, claimCertPem: f.claim.cert, claimKeyPem: f.claim.key,
            clientId: `${f.run.outputs.claimClientIdPrefix}${serial}`, template, serial, timeoutMs: 10_000, csrPem: (await makeKeyAndCsr(`CN=${serial}`, key)).csrPem,
        });
        const root = path.join(f.dir, `core-${serial}`);
        fs.mkdirSync(root, { recursive: true });
        fs.writeFileSync(path.join(root, CORE_FILES.certificate), got.certificatePem, { mode: 0o600 });
        fs.writeFileSync(path.join(root, CORE_FILES.privateKey), key, { mode: 0o600 });
        fs.writeFileSync(path.join(root, "thing-name"), got.thingName);
        return { root, thing: got.thingName, certificateId: got.certificateId };
    }

    beforeEach(() => { restarts = []; });
    before(async () => {
        f = await fleet(await runStack("kr"));
        fs.writeFileSync(path.join(f.dir, "ca.pem"), f.double.ca.certPem);
        // The rules engine: the confirmation rule invokes the confirm handler with the plan's own environment.
        const env = f.run.one("aws:lambda/function:Function", "-rotation-confirm").inputs.environment.variables;
        assert.strictEqual(env.ROTATION_TABLE, f.env.ROTATION_TABLE, "the hook and confirm share the state table");
        f.double.ruleActions.set(String(f.run.outputs.certificateConfirmRuleName), async (m) => {
            await confirm({ certificateId: m.principal, thingName: m.clientId }, {
                config: rotationConfig(env), dynamo: f.local.client, iot: f.double.iotApi() as never,
                cloudwatch: { send: async () => ({}) } as never, now: () => new Date(), log: () => undefined,
            });
        });
    });
    after(async () => close(f));

    it("rotate --core-root: a new certificate with the core's own policy and the rotation policy, the nucleus' files replaced, the old one scheduled", async () => {
        const a = await core("297469300001");
        const oldPolicies = f.double.certificates.get(a.certificateId)!.policyNames;
        assert.deepStrictEqual(oldPolicies.length, 2, "the per-core policy and the rotation policy");
        const r = await cli(["rotate", "--stack", "kr", "--port", String(f.double.port), "--ca", path.join(f.dir, "ca.pem"), "--core-root", a.root, "--thing", a.thing, "--serial", "297469300001"]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const newId = r.out[0];
        // Restart, connected with the NEW certificate, and only then the confirmation (aws-greengrass-nucleus v2.16.1
        // MqttClient.java L285-300: the running nucleus keeps its old certificate until it restarts).
        assert.strictEqual(restarts.length, 1);
        assert.ok(restarts[0].connected && restarts[0].certificatePem === fs.readFileSync(path.join(a.root, CORE_FILES.certificate), "utf8"));
        const confirmations = f.double.ingested.map((m, i) => ({ m, i })).filter(({ m }) => m.clientId === `${a.thing}#rotate` && m.topic.endsWith("/certificates/confirm"));
        assert.ok(confirmations.length > 0 && confirmations.every(({ i }) => i >= restarts[0].ingestedBefore), "confirmed after the nucleus connected, never before");
        assert.deepStrictEqual(f.double.certificates.get(newId)!.policyNames, oldPolicies, "the same per-core policy (same document, same Thing) and the rotation policy");
        const cert = fs.readFileSync(path.join(a.root, CORE_FILES.certificate), "utf8");
        assert.ok(new crypto.X509Certificate(cert).checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(path.join(a.root, CORE_FILES.privateKey), "utf8"))));
        assert.ok(fs.existsSync(path.join(a.root, `${CORE_FILES.certificate}.previous`)));
        // The rotation connected as <thing>#rotate (the nucleus keeps <thing>), and confirmed through Basic Ingest.
        assert.ok(f.double.ingested.some((m) => m.clientId === `${a.thing}#rotate`));
        for (let i = 0; i < 50; i++) {
            const item = (await f.local.client.send(new GetItemCommand({ TableName: f.env.ROTATION_TABLE, Key: { thingName: { S: a.thing } }, ConsistentRead: true }))).Item;
            if (item?.retiringCertificateArns) {
                assert.deepStrictEqual(item.retiringCertificateArns.SS, [`arn:aws:iot:ap-northeast-2:123456789012:cert/${a.certificateId}`]);
                return;
            }
            await new Promise((res) => setTimeout(res, 20));
        }
        assert.fail("the old certificate was never scheduled");
    });

    it("a nucleus that does not connect with the new certificate: nothing is confirmed, the previous files are put back and the nucleus restarted on them", async () => {
        const a = await core("297469300004");
        const before = fs.readFileSync(path.join(a.root, CORE_FILES.certificate), "utf8");
        nucleusAccepts = (pem) => pem === before;
        try {
            const ingested = f.double.ingested.length;
            const r = await cli(["rotate", "--stack", "kr", "--port", String(f.double.port), "--ca", path.join(f.dir, "ca.pem"), "--core-root", a.root, "--thing", a.thing, "--serial", "297469300004", "--connect-timeout", "1"]);
            assert.strictEqual(r.code, 1);
            assert.match(r.err.join("\n"), /the nucleus did not connect with the new certificate [0-9a-f]+ within 1 s: put the previous certificate and key back .* and it connected; the new certificate is never confirmed/);
            assert.ok(!f.double.ingested.slice(ingested).some((m) => m.topic.endsWith("/certificates/confirm")), "no confirmation");
            assert.strictEqual(fs.readFileSync(path.join(a.root, CORE_FILES.certificate), "utf8"), before, "the previous certificate is back");
            assert.ok(fs.existsSync(path.join(a.root, `${CORE_FILES.certificate}.unconfirmed`)));
            assert.deepStrictEqual(restarts.slice(-2).map((x) => x.connected), [false, true], "restarted on the new files (no connection), then on the previous ones");
        } finally {
            nucleusAccepts = () => true;
        }
    });

    // The rotation shipped with edge-config's output, run on the core with python3 and openssl only (no Node.js, no
    // repository): the same order as rotate --core-root, against the same broker double, hook and confirm handler.
    describe("fms-core-rotate.py on the core (python3's standard library and openssl)", () => {
        const run = async (root: string, env: Record<string, string> = {}) => {
            try {
                const r = await execFileAsync("python3", [path.join(root, CORE_SCRIPTS.rotate)], {
                    env: { ...process.env, FMS_CORE_ROOT: root, FMS_RESTART_COMMAND: `${process.execPath} ${path.join(__dirname, "support", "nucleusRestart.js")}`, ...env }, timeout: 60_000,
                });
                return { code: 0, stdout: r.stdout, stderr: r.stderr };
            } catch (err) {
                const e = err as { code?: number; stdout?: string; stderr?: string };
                return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
            }
        };
        const onCore = async (serial: string, connectTimeoutSeconds = 20) => {
            const c = await core(serial);
            fs.copyFileSync(CORE_ROTATE_SOURCE, path.join(c.root, CORE_SCRIPTS.rotate));
            fs.writeFileSync(path.join(c.root, "AmazonRootCA1.pem"), f.double.ca.certPem);
            fs.writeFileSync(path.join(c.root, CORE_SCRIPTS.rotateSettings), JSON.stringify({
                endpoint: "localhost", port: f.double.port, thingName: c.thing, serial, rotationTemplate: f.run.outputs.edgeCoreRotationTemplateName,
                confirmRule: f.run.outputs.certificateConfirmRuleName, csr: true, timeoutSeconds: 10, connectTimeoutSeconds,
            }));
            return c;
        };
        const sha = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

        it("rotates: new key made on the core, certificate through the core rotation template, restart, the nucleus connects with it, then the confirmation", async () => {
            const a = await onCore("297469300011");
            const before = fs.readFileSync(path.join(a.root, CORE_FILES.certificate), "utf8");
            const ingested = f.double.ingested.length;
            const r = await run(a.root);
            assert.strictEqual(r.code, 0, r.stderr);
            const newId = r.stdout.trim();
            const after = fs.readFileSync(path.join(a.root, CORE_FILES.certificate), "utf8");
            assert.notStrictEqual(after, before);
            assert.ok(new crypto.X509Certificate(after).checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(path.join(a.root, CORE_FILES.privateKey), "utf8"))));
            assert.strictEqual(fs.statSync(path.join(a.root, CORE_FILES.privateKey)).mode & 0o777, 0o600);
            assert.strictEqual(fs.readFileSync(path.join(a.root, `${CORE_FILES.certificate}.previous`), "utf8"), before);
            assert.deepStrictEqual(fs.readFileSync(path.join(a.root, "restarts.log"), "utf8").trim().split("\n"), [sha(after)], "restarted once, on the new certificate");
            assert.deepStrictEqual(f.double.certificates.get(newId)!.policyNames, f.double.certificates.get(a.certificateId)!.policyNames);
            const confirms = f.double.ingested.slice(ingested).filter((m) => m.topic.endsWith("/certificates/confirm"));
            assert.deepStrictEqual(confirms.map((m) => m.clientId), [`${a.thing}#rotate`], "one confirmation, after the restart");
            for (let i = 0; i < 50; i++) {
                const item = (await f.local.client.send(new GetItemCommand({ TableName: f.env.ROTATION_TABLE, Key: { thingName: { S: a.thing } }, ConsistentRead: true }))).Item;
                if (item?.retiringCertificateArns) return assert.deepStrictEqual(item.retiringCertificateArns.SS, [`arn:aws:iot:ap-northeast-2:123456789012:cert/${a.certificateId}`]);
                await new Promise((res) => setTimeout(res, 20));
            }
            assert.fail("the old certificate was never scheduled");
        });

        it("a nucleus that does not connect with the new certificate: the previous files back, restarted on them, nothing confirmed", async () => {
            const b = await onCore("297469300013", 2);
            const old = fs.readFileSync(path.join(b.root, CORE_FILES.certificate), "utf8");
            const ingested = f.double.ingested.length;
            const refused = await run(b.root, { ONLY_CERT_SHA256: sha(old) });
            assert.strictEqual(refused.code, 1);
            assert.match(refused.stderr, /the nucleus did not connect with the new certificate [0-9a-f]+ within 2 s: put the previous certificate and key back .*and it connected; the new certificate is never confirmed/);
            assert.strictEqual(fs.readFileSync(path.join(b.root, CORE_FILES.certificate), "utf8"), old);
            assert.ok(fs.existsSync(path.join(b.root, `${CORE_FILES.certificate}.unconfirmed`)));
            const restarts = fs.readFileSync(path.join(b.root, "restarts.log"), "utf8").trim().split("\n");
            assert.strictEqual(restarts.length, 2);
            assert.strictEqual(restarts[1], sha(old), "restarted on the new files, then on the previous ones");
            assert.ok(!f.double.ingested.slice(ingested).some((m) => m.topic.endsWith("/certificates/confirm")), "nothing confirmed");
        });
    });

    it("another core's certificate cannot rotate this core: its policy refuses the client id, and the hook the Thing", async () => {
        const a = await core("297469300002");
        const b = await core("297469300003");
        const r = await cli(["rotate", "--stack", "kr", "--port", String(f.double.port), "--ca", path.join(f.dir, "ca.pem"), "--timeout", "2", "--core-root", b.root, "--thing", a.thing, "--serial", "297469300002"]);
        assert.strictEqual(r.code, 1);
        assert.match(r.err[0], /^error: the broker refused the connection of fms-kr-core-297469300002#rotate/);
        // As itself (b#rotate is b's), asking for a's serial: the hook refuses, b's certificate is not a's Thing's.
        const asItself = await cli(["rotate", "--stack", "kr", "--port", String(f.double.port), "--ca", path.join(f.dir, "ca.pem"), "--timeout", "2", "--core-root", b.root, "--thing", b.thing, "--serial", "297469300002"]);
        assert.strictEqual(asItself.code, 1);
        assert.strictEqual(f.decisions.at(-1)!.reason, "requester-not-attached-to-thing");
        assert.strictEqual(f.double.things.get(a.thing)!.principals.length, 1, "nothing attached to core A");
    });
});
