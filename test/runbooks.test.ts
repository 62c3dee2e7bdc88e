/**
 * The runbooks of docs/provisioning-security.md, run verbatim: each `<!-- runbook:NAME -->` block's
 * command line goes through the device CLI as written (a shell redirection is the test capturing
 * stdout), against a real DynamoDB (dynalite) and the attack suite's model of AWS IoT.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { run as device } from "../device/cli";
import { createHandler } from "../components/provisioning/lambda/provisioningHook";
import { makeKeyAndCsr } from "../device/credentials";
import { PROJECT_ROOT } from "../config/stackFile";
import { LocalDynamo } from "./support/dynalite";
import { certArn, FleetModel } from "./support/fleetModel";

const DOC = path.join(PROJECT_ROOT, "docs", "provisioning-security.md");

/** The command of a runbook block, as argv after `npm run -s device --`, and where its stdout goes. */
export function runbookCommand(doc: string, name: string): { argv: string[]; stdoutTo?: string } {
    const m = new RegExp(`<!-- runbook:${name} -->\\n\`\`\`bash\\n([^\\n]+)\\n\`\`\``).exec(doc);
    if (!m) throw new Error(`docs/provisioning-security.md has no runbook:${name} block`);
    const [command, stdoutTo] = m[1].split(" > ");
    const prefix = "npm run -s device -- ";
    assert.ok(command.startsWith(prefix), `${name}: ${command}`);
    return { argv: command.slice(prefix.length).split(/\s+/), stdoutTo };
}

describe("provisioning runbooks, verbatim (docs/provisioning-security.md)", function () {
    this.timeout(30_000);
    const doc = fs.readFileSync(DOC, "utf8");
    let local: LocalDynamo;
    let iot: FleetModel;
    let dir: string;
    const cwd = process.cwd();
    const outputs = {
        registryTableName: "fms-kr-registry", rotationScheduleTable: "fms-kr-rotation", awsRegion: "ap-northeast-2",
        thingNamePrefix: "kr-vehicle-", provisioningTemplateName: "fms-kr-vehicle",
    };
    const cli = async (name: string) => {
        const { argv, stdoutTo } = runbookCommand(doc, name);
        const out: string[] = [];
        const err: string[] = [];
        const code = await device(argv, {
            out: (l) => out.push(l), err: (l) => err.push(l),
            stackOutputs: (s) => { assert.strictEqual(s, "kr"); return outputs; },
            aws: (region) => { assert.strictEqual(region, "ap-northeast-2"); return { iot, dynamo: local.client }; }, settleMs: 0,
        });
        if (stdoutTo) fs.writeFileSync(stdoutTo, `${out.join("\n")}\n`);
        return { code, out, err };
    };
    const item = async (serial: string) => (await local.client.send(new GetItemCommand({ TableName: "fms-kr-registry", Key: { serialNumber: { S: serial } }, ConsistentRead: true }))).Item!;
    const hook = () => createHandler({
        config: {
            mode: "registry", tableName: "fms-kr-registry", rotationTable: "fms-kr-rotation", bindKeys: true, allowReprovisioning: false, gracePeriodHours: 72, confirmTimeoutHours: 24,
            templates: { "fms-kr-vehicle": { purpose: "provision", thingNamePrefix: "kr-vehicle-", serialPrefixes: ["297468"], deviceParameters: ["SerialNumber"] } },
        },
        dynamo: local.client, iot, now: () => new Date(), log: () => undefined, registryTimeoutMs: 3000,
    });
    const byClaim = async (key: string) => {
        const certificateId = await iot.createCertificateFromCsr((await makeKeyAndCsr("CN=297468000123", key)).csrPem);
        const ok = await iot.registerThing(hook(), { template: "fms-kr-vehicle", certificateId, asker: "c".repeat(64), clientId: "claim-297468000123", parameters: { SerialNumber: "297468000123" }, thingName: "kr-vehicle-297468000123" });
        return { ok, certificateId };
    };

    before(async () => {
        local = await LocalDynamo.start();
        await local.table("fms-kr-registry", "serialNumber");
        await local.table("fms-kr-rotation", "thingName");
        iot = await FleetModel.create(() => new Date());
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-runbook-"));
        process.chdir(dir); // the runbooks name paths relative to where they are run
    });
    after(async () => {
        process.chdir(cwd);
        fs.rmSync(dir, { recursive: true, force: true });
        await local?.stop();
    });

    it("keygen, register, provision with the unit's key; register again changes nothing", async () => {
        const keygen = await cli("keygen");
        assert.strictEqual(keygen.code, 0, keygen.err.join("\n"));
        assert.strictEqual(fs.statSync("vehicle/unit-key.pem").mode & 0o777, 0o600);
        const line = fs.readFileSync("registration.csv.part", "utf8").trim();
        assert.match(line, /^297468000123,[0-9a-f]{64},fms-kr-vehicle$/);
        fs.writeFileSync("registration.csv", `serial,publicKey,template\n${line}\n`);
        const first = await cli("register");
        assert.deepStrictEqual([first.code, first.out], [0, ["1 registered, 0 already registered, 0 conflicting"]]);
        assert.deepStrictEqual([(await item("297468000123")).status.S, (await item("297468000123")).publicKeyFingerprint.S], ["active", line.split(",")[1]]);
        const again = await cli("register");
        assert.deepStrictEqual([again.code, again.out], [0, ["0 registered, 1 already registered, 0 conflicting"]], "idempotent");
        assert.strictEqual((await byClaim(fs.readFileSync("vehicle/unit-key.pem", "utf8"))).ok, true);
        // Registering the serial again, now provisioned, with another key: reported, not overwritten.
        fs.writeFileSync("registration.csv", `serial,publicKey,template\n297468000123,${"0".repeat(64)},fms-kr-vehicle\n`);
        const conflict = await cli("register");
        assert.deepStrictEqual([conflict.code, conflict.err], [1, ["registered 1/1", "not changed: 297468000123: already provisioned: use rearm for a replacement unit"]]);
        assert.strictEqual((await item("297468000123")).status.S, "provisioned");
    });

    it("quarantine retires every certificate of the Thing and revokes the serial; rearm binds the serial to the new unit", async () => {
        const cert = [...iot.things.get("kr-vehicle-297468000123")!][0];
        const q = await cli("quarantine");
        assert.deepStrictEqual([q.code, q.out], [0, [certArn(cert)]], q.err.join("\n"));
        assert.deepStrictEqual([iot.certificates.get(cert)!.status, iot.canActAs(cert, "kr-vehicle-297468000123")], ["INACTIVE", false]);
        assert.strictEqual((await item("297468000123")).status.S, "revoked");
        assert.strictEqual((await byClaim(fs.readFileSync("vehicle/unit-key.pem", "utf8"))).ok, false, "revoked: not even the unit's own key");
        const r = await cli("rearm");
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const rearmed = await item("297468000123");
        assert.deepStrictEqual([rearmed.status.S, rearmed.publicKeyFingerprint.S, rearmed.previousCertificateId.S, rearmed.certificateId], [
            "active", runbookCommand(doc, "rearm").argv.at(-1), cert, undefined]);
        assert.strictEqual((await byClaim(fs.readFileSync("vehicle/unit-key.pem", "utf8"))).ok, false, "the old unit's key no longer provisions the serial");
    });

    it("a serial the registry does not have: one line naming it and the table, exit 2, nothing touched", async () => {
        const err: string[] = [];
        const code = await device(["quarantine", "--stack", "kr", "--serial", "297468999999"], {
            out: () => undefined, err: (l) => err.push(l), stackOutputs: () => outputs, aws: () => ({ iot, dynamo: local.client }), settleMs: 0,
        });
        assert.deepStrictEqual([code, err], [2, ["error: serial 297468999999 is not in the registry fms-kr-registry (register it first, or check --serial and --stack)"]]);
    });
});
