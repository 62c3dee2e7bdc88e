/**
 * The burst bench's hook in a process of its own (test/support/hookProcess.ts): the same real handler, on the same
 * dynalite, answering the double over IPC, decides as it does in process (a wrong key refused, the registered key
 * provisioned and recorded, a rotation through the unit's own certificate, whose decision reads the Thing's
 * certificates from the double through the IPC channel, Dates intact), and each invocation is timed in the hook's
 * process and again as the double waited for it. No timing threshold is asserted.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { makeKeyAndCsr } from "../device/credentials";
import { confirm } from "../components/provisioning/lambda/certificateRotation";
import { runStack } from "../plan/program";
import { close, Fleet, fleet } from "./support/registryFleet";
import { fleetCli } from "./support/fleetCli";
import { provisionWithOfficialSdk } from "./support/officialSdk";

describe("the hook in its own process (the burst bench's)", function () {
    this.timeout(60_000);
    let f: Fleet;
    const hookTimes: number[] = [];
    const hookWaitTimes: number[] = [];
    const hookDynamoTimes: number[] = [];
    const cli = fleetCli(() => f);
    const file = (name: string, text: string) => { fs.writeFileSync(path.join(f.dir, name), text, { mode: 0o600 }); return path.join(f.dir, name); };

    before(async () => { f = await fleet(await runStack("kr"), { hookInChildProcess: true, hookTimes, hookWaitTimes, hookDynamoTimes }); });
    after(async () => close(f));

    it("refuses a key the serial is not registered with, provisions the registered one, and rotates it", async () => {
        const serial = "297468200001";
        const unit = path.join(f.dir, serial);
        const keygen = await cli(["keygen", "--stack", "kr", "--serial", serial, "--out", unit]);
        assert.strictEqual(keygen.code, 0, keygen.err.join("\n"));
        const reg = await cli(["register", "--stack", "kr", "--csv", file("registration.csv", `${keygen.out[0]}\n`)]);
        assert.strictEqual(reg.code, 0, reg.err.join("\n"));

        const sdk = (csrPem?: string) => provisionWithOfficialSdk({
            host: "localhost", port: f.double.port, caPem: f.double.ca.certPem, claimCertPem: f.claim.cert, claimKeyPem: f.claim.key,
            clientId: `${f.run.outputs.claimClientIdPrefix}${serial}`, template: String(f.run.outputs.provisioningTemplateName), serial, timeoutMs: 10_000, csrPem,
        });
        await assert.rejects(sdk((await makeKeyAndCsr(`CN=${serial}`)).csrPem), /RegisterThing rejected/);
        assert.strictEqual(f.decisions.at(-1)!.reason, "device-key-mismatch", "the child's decision log reaches the parent");
        const got = await sdk((await makeKeyAndCsr(`CN=${serial}`, fs.readFileSync(path.join(unit, "unit-key.pem"), "utf8"))).csrPem);
        assert.strictEqual(got.thingName, `kr-vehicle-${serial}`);
        const item = (await f.local.client.send(new GetItemCommand({ TableName: f.env.REGISTRY_TABLE, Key: { serialNumber: { S: serial } }, ConsistentRead: true }))).Item!;
        assert.deepStrictEqual([item.status.S, item.certificateId.S], ["provisioned", got.certificateId], "the hook's process wrote the registry both processes share");

        // Rotation: the hook lists the Thing's certificates and reads each one's status and creation date from the double.
        const vehicle = path.join(f.dir, "vehicle");
        fs.mkdirSync(vehicle, { recursive: true });
        fs.writeFileSync(path.join(vehicle, "certificate.pem.crt"), got.certificatePem, { mode: 0o600 });
        fs.writeFileSync(path.join(vehicle, "private.pem.key"), fs.readFileSync(path.join(unit, "unit-key.pem"), "utf8"), { mode: 0o600 });
        f.double.ruleActions.set(String(f.run.outputs.certificateConfirmRuleName), async (m) => {
            await confirm({ certificateId: m.principal, thingName: m.clientId }, {
                config: { tableName: f.env.ROTATION_TABLE, thingNamePrefixes: ["kr-vehicle-"], gracePeriodHours: 72, metricNamespace: "FMS/IoT/fms-kr", registryTable: f.env.REGISTRY_TABLE },
                dynamo: f.local.client, iot: f.double.iotApi() as never, cloudwatch: { send: async () => ({}) } as never, now: () => new Date(), log: () => undefined,
            });
        });
        const before = f.decisions.length;
        const rotated = await cli(["rotate", "--stack", "kr", "--port", String(f.double.port), "--ca", file("ca.pem", f.double.ca.certPem), "--dir", vehicle, "--thing", got.thingName, "--serial", serial]);
        assert.strictEqual(rotated.code, 0, rotated.err.join("\n"));
        const rotation = f.decisions.slice(before) as { allowProvisioning?: boolean; templateArn?: string }[];
        assert.ok(rotation.some((d) => d.allowProvisioning === true && d.templateArn?.endsWith("/fms-kr-rotate")), JSON.stringify(rotation));

        assert.strictEqual(hookTimes.length, hookWaitTimes.length, "each invocation timed in both processes");
        assert.ok(hookTimes.length >= 3, `${hookTimes.length} invocations`);
        hookTimes.forEach((own, i) => assert.ok(hookWaitTimes[i] >= own, "the double's wait encloses the hook's own time"));
        assert.ok(hookDynamoTimes.length >= 2, "the hook's DynamoDB calls timed by its own client");
    });
});
