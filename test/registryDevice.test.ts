/**
 * A registry stack end to end, as a factory and its vehicles would run it: the kr plan's templates,
 * policies and hook configuration, the broker double of AWS IoT (test/support/awsIotDouble.ts) calling
 * the real hook, a real DynamoDB (dynalite) for the registry and the rotation state, our CLI for the
 * factory's keygen and bulk registration, and AWS's official device SDK (aws-iot-device-sdk-v2) as the
 * vehicle, in both key modes.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { makeKeyAndCsr } from "../device/credentials";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { confirm } from "../components/provisioning/lambda/certificateRotation";
import { runStack } from "../plan/program";
import { run as device } from "../device/cli";
import { close, Fleet, fleet } from "./support/registryFleet";
import { fleetCli } from "./support/fleetCli";
import { provisionWithOfficialSdk } from "./support/officialSdk";

describe("a registry stack end to end: factory registration, AWS's device SDK, rotation (kr)", function () {
    this.timeout(60_000);
    let f: Fleet;
    const cli = fleetCli(() => f);
    const sdk = (serial: string, over: { csrPem?: string; awsKeys?: boolean } = {}) => provisionWithOfficialSdk({
        host: "localhost", port: f.double.port, caPem: f.double.ca.certPem, claimCertPem: f.claim.cert, claimKeyPem: f.claim.key,
        clientId: `${f.run.outputs.claimClientIdPrefix}${serial}`, template: String(f.run.outputs.provisioningTemplateName), serial, timeoutMs: 10_000, ...over,
    });

    before(async () => { f = await fleet(await runStack("kr")); });
    after(async () => close(f));

    it("keygen and register (bulk, from the CSV); AWS's SDK provisions with a CSR for the registered key, and only for it", async () => {
        const serials = ["297468100001", "297468100002"];
        const lines: string[] = [];
        for (const s of serials) {
            const r = await cli(["keygen", "--stack", "kr", "--serial", s, "--out", path.join(f.dir, s)]);
            assert.strictEqual(r.code, 0, r.err.join("\n"));
            lines.push(r.out[0]);
        }
        const csv = path.join(f.dir, "registration.csv");
        // As the README does it: keygen ... >> registration.csv, once per unit (bare lines, no header).
        for (const line of lines) fs.appendFileSync(csv, `${line}\n`);
        const reg = await cli(["register", "--stack", "kr", "--csv", csv]);
        assert.deepStrictEqual([reg.code, reg.out], [0, ["2 registered, 0 already registered, 0 conflicting"]], reg.err.join("\n"));

        const unitKey = (s: string) => fs.readFileSync(path.join(f.dir, s, "unit-key.pem"), "utf8");
        // The claim certificate with a key of its own: the hook refuses it.
        await assert.rejects(sdk(serials[0]), /RegisterThing rejected/);
        assert.strictEqual(f.decisions.at(-1)!.reason, "device-key-mismatch");
        const got = await sdk(serials[0], { csrPem: (await makeKeyAndCsr(`CN=${serials[0]}`, unitKey(serials[0]))).csrPem });
        assert.strictEqual(got.thingName, `kr-vehicle-${serials[0]}`);
        const item = (await f.local.client.send(new GetItemCommand({ TableName: f.env.REGISTRY_TABLE, Key: { serialNumber: { S: serials[0] } } }))).Item!;
        assert.deepStrictEqual([item.status.S, item.certificateId.S], ["provisioned", got.certificateId]);
        // Our simulator, with the other unit's registered key.
        const sim = await cli(["provision", "--stack", "kr", "--port", String(f.double.port), "--ca", writeCa(), "--serial", serials[1], "--claim-dir", claimDir(), "--out", path.join(f.dir, "v2"), "--key", path.join(f.dir, serials[1], "unit-key.pem")]);
        assert.strictEqual(sim.code, 0, sim.err.join("\n"));
    });

    it("rotation with the vehicle's own certificate: the registry records the confirmed certificate and key", async () => {
        const confirmRule = String(f.run.outputs.certificateConfirmRuleName);
        const registryTable = f.env.REGISTRY_TABLE;
        f.double.ruleActions.set(confirmRule, async (m) => {
            await confirm({ certificateId: m.principal, thingName: m.clientId }, {
                config: { tableName: f.env.ROTATION_TABLE, thingNamePrefixes: ["kr-vehicle-"], gracePeriodHours: 72, metricNamespace: "FMS/IoT/fms-kr", registryTable },
                dynamo: f.local.client, iot: f.double.iotApi() as never, cloudwatch: { send: async () => ({}) } as never, now: () => new Date(), log: () => undefined,
            });
        });
        const r = await cli(["rotate", "--stack", "kr", "--port", String(f.double.port), "--ca", writeCa(), "--dir", path.join(f.dir, "v2"), "--thing", "kr-vehicle-297468100002", "--serial", "297468100002"]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const newId = r.out[0];
        for (let i = 0; i < 50; i++) {
            const item = (await f.local.client.send(new GetItemCommand({ TableName: registryTable, Key: { serialNumber: { S: "297468100002" } }, ConsistentRead: true }))).Item!;
            if (item.certificateId.S === newId) {
                // ... and the key of the confirmed certificate, so a later same-key re-registration is the rotated key's.
                const key = fs.readFileSync(path.join(f.dir, "v2", "private.pem.key"), "utf8");
                assert.strictEqual(item.publicKeyFingerprint.S, publicKeyFingerprint(key));
                return;
            }
            await new Promise((res) => setTimeout(res, 20));
        }
        assert.fail("the registry never recorded the rotated certificate");
    });

    function writeCa(): string {
        const file = path.join(f.dir, "ca.pem");
        fs.writeFileSync(file, f.double.ca.certPem);
        return file;
    }
    function claimDir(): string {
        const d = path.join(f.dir, "claim");
        fs.mkdirSync(d, { recursive: true });
        fs.writeFileSync(path.join(d, "certificate.pem.crt"), f.claim.cert, { mode: 0o600 });
        fs.writeFileSync(path.join(d, "private.pem.key"), f.claim.key, { mode: 0o600 });
        return d;
    }
});

describe("a registry stack with AWS-made keys (deviceKeys: aws, staging): AWS's SDK provisions with CreateKeysAndCertificate", function () {
    this.timeout(60_000);
    let f: Fleet | undefined;
    after(async () => close(f));

    it("a registered serial provisions once; nothing binds it to a key (why production refuses this mode)", async () => {
        f = await fleet(await runStack("kr", { edit: (c) => {
            c["fms-iot:environment"] = "staging";
            c["fms-iot:provisioning"] = JSON.stringify({ ...JSON.parse(c["fms-iot:provisioning"]), deviceKeys: "aws" });
        } }));
        assert.strictEqual(f.env.BIND_KEYS, "false");
        const fl = f;
        const csv = path.join(fl.dir, "r.csv");
        fs.writeFileSync(csv, `serial,publicKey,template\n297468200001,${"0".repeat(64)},${fl.run.outputs.provisioningTemplateName}\n`);
        const out: string[] = [];
        assert.strictEqual(await device(["register", "--table", fl.env.REGISTRY_TABLE, "--region", "ap-northeast-2", "--csv", csv], { out: (l) => out.push(l), err: () => undefined, aws: () => ({ iot: fl.double.iotApi() as never, dynamo: fl.local.client }) }), 0);
        const opts = {
            host: "localhost", port: fl.double.port, caPem: fl.double.ca.certPem, claimCertPem: fl.claim.cert, claimKeyPem: fl.claim.key,
            clientId: `${fl.run.outputs.claimClientIdPrefix}297468200001`, template: String(fl.run.outputs.provisioningTemplateName), serial: "297468200001", timeoutMs: 10_000, awsKeys: true,
        };
        const got = await provisionWithOfficialSdk(opts);
        assert.strictEqual(got.thingName, "kr-vehicle-297468200001");
        assert.match(got.privateKeyPem, /BEGIN RSA PRIVATE KEY/, "AWS made the key and sent it");
        await assert.rejects(provisionWithOfficialSdk(opts), /RegisterThing rejected/);
        assert.strictEqual(fl.decisions.at(-1)!.reason, "serial-already-provisioned");
    });
});
