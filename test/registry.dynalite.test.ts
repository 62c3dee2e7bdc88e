/**
 * The registry hook against a real DynamoDB implementation (dynalite, on loopback): the condition
 * and update expressions are parsed and evaluated by DynamoDB's rules, not by our mocks.
 */
import * as assert from "assert";
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { createHandler, HookConfig, REGISTRY_CLAIM_ATTRIBUTES } from "../components/provisioning/lambda/provisioningHook";
import { LocalDynamo } from "./support/dynalite";
import { ARN, event, hookConfig, pemKey, TEMPLATES } from "./support/hookEvents";


const TABLE = "fms-kr-registry";

describe("registry hook on a real DynamoDB (dynalite)", function () {
    this.timeout(20_000);
    let local: LocalDynamo;
    let client: DynamoDBClient;
    // Every request here carries the same key (the registered one): this file is about the claim write;
    // key binding and its attacks are in test/attacks.test.ts.
    const config: HookConfig = hookConfig({ tableName: TABLE, rotationTable: "fms-kr-rotation" });
    const hook = (c: HookConfig = config) => {
        const lines: string[] = [];
        const h = createHandler({ config: c, dynamo: client, iot: { send: async () => { throw new Error("registry provisioning never calls IoT"); } }, now: () => new Date(), log: (l) => lines.push(l), registryTimeoutMs: 3000 });
        return { h, lines };
    };
    const register = (serial: string, templates: string[], status = "active") => client.send(new PutItemCommand({
        TableName: TABLE, Item: { serialNumber: { S: serial }, status: { S: status }, templates: { SS: templates }, publicKeyFingerprint: { S: pemKey() } },
    }));
    const cert = (i: number) => i.toString(16).padStart(64, "0");
    const provision = (h: ReturnType<typeof hook>["h"], serial: string, certificateId: string, template = "fms-kr-vehicle") =>
        h(event({ SerialNumber: serial }, template, { certificateId }));

    before(async () => {
        local = await LocalDynamo.start();
        client = local.client;
        await local.table(TABLE, "serialNumber");
        await local.table("fms-kr-rotation", "thingName");
    });
    after(async () => local?.stop());

    it("claims a serial once: the item records the certificate, template and time; a second provisioning is denied", async () => {
        await register("297468000001", ["fms-kr-vehicle"]);
        const { h, lines } = hook();
        assert.strictEqual((await provision(h, "297468000001", cert(1))).allowProvisioning, true);
        const got = (await client.send(new GetItemCommand({ TableName: TABLE, Key: { serialNumber: { S: "297468000001" } } }))).Item!;
        assert.deepStrictEqual([got.status.S, got.certificateId.S, got.templateName.S, got.claimCertificateId.S], ["provisioned", cert(1), "fms-kr-vehicle", "c".repeat(64)]);
        assert.ok(Date.now() - Date.parse(got.provisionedAt.S!) < 10_000);
        // AWS retrying the same registration (same certificate) is the same device: nothing written.
        assert.strictEqual((await provision(h, "297468000001", cert(1))).allowProvisioning, true);
        // Through another template (the serial is registered for the vehicle one only): denied.
        assert.strictEqual((await provision(h, "297468000001", cert(2), "fms-kr-edge-core")).allowProvisioning, false);
        assert.strictEqual(JSON.parse(lines[2]).reason, "serial-prefix-not-allowed");
    });

    it("a race of ten requests for one serial has exactly one winner", async () => {
        await register("297468000002", ["fms-kr-vehicle"]);
        // Ten different units (no key binding tells them apart here): the conditional write alone decides.
        // A loser that reads the winner's claim finds its certificate on no Thing yet (no Thing here): the lease refuses it.
        const noThing = { send: async () => { throw Object.assign(new Error("no such thing"), { name: "ResourceNotFoundException" }); } };
        const lines: string[] = [];
        const h = createHandler({ config: { ...config, bindKeys: false }, dynamo: client, iot: noThing, now: () => new Date(), log: (l) => lines.push(l), registryTimeoutMs: 3000 });
        const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => provision(h, "297468000002", cert(100 + i))));
        assert.strictEqual(answers.filter((a) => a.allowProvisioning).length, 1);
        const reasons = lines.map((l) => JSON.parse(l).reason);
        assert.strictEqual(reasons.filter((r) => r === "allowed").length, 1);
        assert.deepStrictEqual(reasons.filter((r) => r !== "allowed" && r !== "serial-already-provisioned" && r !== "registration-in-progress"), []);
        const winner = answers.findIndex((a) => a.allowProvisioning);
        const got = (await client.send(new GetItemCommand({ TableName: TABLE, Key: { serialNumber: { S: "297468000002" } } }))).Item!;
        assert.strictEqual(got.certificateId.S, cert(100 + winner));
    });

    it("a serial registered for the core template cannot provision a vehicle, and the reverse", async () => {
        await register("297469000003", ["fms-kr-edge-core"]);
        await register("297468000003", ["fms-kr-vehicle"]);
        const { h, lines } = hook();
        assert.strictEqual((await provision(h, "297469000003", cert(3), "fms-kr-vehicle")).allowProvisioning, false);
        assert.strictEqual((await provision(h, "297468000003", cert(4), "fms-kr-edge-core")).allowProvisioning, false);
        assert.deepStrictEqual(lines.map((l) => JSON.parse(l).reason), ["serial-prefix-not-allowed", "serial-prefix-not-allowed"]);
        // Right prefix, wrong registration: the registry binds too.
        const both = { ...TEMPLATES, "fms-kr-edge-core": { ...TEMPLATES["fms-kr-edge-core"], serialPrefixes: ["297468", "297469"] } };
        const h2 = createHandler({ config: { ...config, templates: both }, dynamo: client, iot: { send: async () => ({}) }, now: () => new Date(), log: (l) => lines.push(l), registryTimeoutMs: 3000 });
        assert.strictEqual((await provision(h2, "297468000003", cert(5), "fms-kr-edge-core")).allowProvisioning, false);
        assert.strictEqual(JSON.parse(lines[2]).reason, "serial-template-not-allowed");
        assert.strictEqual((await provision(h, "297469000003", cert(6), "fms-kr-edge-core")).allowProvisioning, true);
    });

    it("the claim write names only the attributes the hook role may write (its IAM condition)", async () => {
        const sent: UpdateItemCommand[] = [];
        const spy = { send: (c: never) => { if ((c as object) instanceof UpdateItemCommand) sent.push(c); return client.send(c); } };
        await register("297468000005", ["fms-kr-vehicle"]);
        const h = createHandler({ config, dynamo: spy as never, iot: { send: async () => ({}) }, now: () => new Date(), log: () => undefined, registryTimeoutMs: 3000 });
        assert.strictEqual((await h(event({ SerialNumber: "297468000005" }, "fms-kr-vehicle", { templateArn: ARN("fms-kr-vehicle") }))).allowProvisioning, true);
        const input = sent[0].input;
        const named = new Set([...Object.values(input.ExpressionAttributeNames ?? {}), ...Object.keys(input.Key ?? {})]);
        assert.deepStrictEqual([...named].filter((a) => !(REGISTRY_CLAIM_ATTRIBUTES as readonly string[]).includes(a)), []);
        assert.ok(named.has("publicKeyFingerprint"), "the key is part of the condition");
        assert.ok(!/[^#:]\b[a-z][A-Za-z]+\s*=/.test(`${input.UpdateExpression} ${input.ConditionExpression}`), "every attribute goes through a #name");
        assert.strictEqual(input.ReturnValues, undefined);
    });
});
