import * as assert from "assert";
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { DescribeCertificateCommand, DescribeThingCommand, IoTClient, ListThingPrincipalsCommand, ResourceNotFoundException } from "@aws-sdk/client-iot";
import { mockClient } from "aws-sdk-client-mock";
import { FakeClient } from "./support/fakeClient";
import { configFromEnv, createHandler, handler, HookConfig, HookResponse, UNKNOWN_EXPIRY } from "../components/provisioning/lambda/provisioningHook";
import { ARN, CERT_ID, CLAIM_ID, event, hookConfig, NOW, pem, pemKey, TEMPLATES } from "./support/hookEvents";

const certArn = (id: string) => `arn:aws:iot:ap-northeast-2:123456789012:cert/${id}`;
// Not the SDK classes: other suites mock IoTClient's class, and the dynalite suite needs the real DynamoDBClient.
const ddb = new FakeClient();
const iot = new FakeClient();
const dynamoClient = ddb as unknown as DynamoDBClient;
const iotClient = iot as unknown as IoTClient;

function hook(config: HookConfig | undefined, registryTimeoutMs = 200) {
    const lines: string[] = [];
    const h = createHandler({
        config, dynamo: dynamoClient, iot: iotClient,
        now: () => NOW, log: (l) => lines.push(l), registryTimeoutMs,
    });
    return { h, lines, reason: (i = 0) => JSON.parse(lines[i]).reason };
}

const prefixMode: HookConfig = hookConfig({ mode: "prefix", bindKeys: false });
const registryMode: HookConfig = hookConfig();
const DENY: HookResponse = { allowProvisioning: false };
const notFound = () => new ResourceNotFoundException({ message: "not found", $metadata: {} });
const item = (status: string, templates = ["fms-kr-vehicle"], certificateId?: string, key: string | null = pemKey()) => ({
    serialNumber: { S: "297468000123" }, status: { S: status }, templates: { SS: templates },
    ...(certificateId ? { certificateId: { S: certificateId }, templateName: { S: templates[0] } } : {}),
    ...(key ? { publicKeyFingerprint: { S: key } } : {}),
});

describe("pre-provisioning hook", () => {
    beforeEach(() => {
        ddb.reset();
        iot.reset();
        // DescribeCertificate (AWS IoT API reference): every attached certificate ACTIVE, created in the order of its id's first digit.
        iot.on(DescribeCertificateCommand).callsFake(async (input: { certificateId: string }) => ({
            certificateDescription: { certificateId: input.certificateId, status: "ACTIVE", creationDate: new Date(Date.UTC(2026, 0, 1, 0, parseInt(input.certificateId[0], 16))) },
        }));
    });

    describe("prefix mode (development stacks)", () => {
        it("allows a new serial with its template's prefix; sets CertDate (UTC) and CertExpiry from the new certificate", async () => {
            iot.on(DescribeThingCommand).rejects(notFound());
            const { h } = hook(prefixMode);
            assert.deepStrictEqual(await h(event()), { allowProvisioning: true, parameterOverrides: { CertDate: "20261122", CertExpiry: "20491231" } });
            assert.deepStrictEqual(iot.commandCalls(DescribeThingCommand)[0].args[0].input, { thingName: "test-thing-297468000123" });
        });

        it("claims the serial with a conditional put: of two concurrent first provisionings one wins", async () => {
            iot.on(DescribeThingCommand).rejects(notFound());
            ddb.on(PutItemCommand).resolvesOnce({}).rejects(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }));
            const { h, reason } = hook(prefixMode);
            const [a, b] = await Promise.all([h(event()), h(event(undefined, undefined, { certificateId: "b".repeat(64) }))]);
            assert.deepStrictEqual([a.allowProvisioning, b.allowProvisioning].sort(), [false, true]);
            const put = ddb.commandCalls(PutItemCommand)[0].args[0].input;
            // AWS's retry with the same certificate passes; so does the claiming key once the lease ran out with no Thing made.
            assert.strictEqual(put.ConditionExpression, "attribute_not_exists(#k) OR #c = :cert OR (#at < :leaseStart AND #ckf = :ckf)");
            assert.deepStrictEqual([put.ExpressionAttributeValues![":leaseStart"], put.ExpressionAttributeValues![":ckf"]], [{ S: "2026-11-22T23:57:59.000Z" }, { S: pemKey() }]);
            assert.ok([reason(0), reason(1)].includes("serial-already-provisioned"));
        });

        it("refuses a serial whose Thing already exists: the claim certificate cannot clone a vehicle", async () => {
            iot.on(DescribeThingCommand).resolves({ thingName: "test-thing-297468000123" });
            const { h, reason } = hook(prefixMode);
            assert.deepStrictEqual(await h(event()), DENY);
            assert.strictEqual(reason(), "thing-already-exists");
        });

        it("allowReprovisioning skips the lookup and the condition (and so allows it)", async () => {
            const { h } = hook({ ...prefixMode, allowReprovisioning: true });
            assert.strictEqual((await h(event())).allowProvisioning, true);
            assert.strictEqual(iot.commandCalls(DescribeThingCommand).length, 0);
            assert.strictEqual(ddb.commandCalls(PutItemCommand)[0].args[0].input.ConditionExpression, undefined);
        });

        it("binds serials to templates: a vehicle serial through the core template (or a core serial through the vehicle one) is denied", async () => {
            iot.on(DescribeThingCommand).rejects(notFound());
            const { h, reason } = hook(prefixMode);
            assert.deepStrictEqual(await h(event(undefined, "fms-kr-edge-core")), DENY);
            assert.strictEqual(reason(), "serial-prefix-not-allowed");
            assert.deepStrictEqual(await h(event({ SerialNumber: "297469000001" }, "fms-kr-vehicle")), DENY);
            assert.strictEqual(reason(1), "serial-prefix-not-allowed");
            assert.strictEqual((await h(event({ SerialNumber: "297469000001" }, "fms-kr-edge-core"))).allowProvisioning, true);
            assert.deepStrictEqual(iot.commandCalls(DescribeThingCommand).map((c) => c.args[0].input.thingName), ["test-thing-core-297469000001"]);
        });

        it("denies a template it does not serve, or an ARN that is not a provisioning template's", async () => {
            const { h, reason } = hook(prefixMode);
            assert.deepStrictEqual(await h(event(undefined, "someone-elses-template")), DENY);
            assert.deepStrictEqual(await h(event(undefined, "fms-kr-vehicle", { templateArn: "arn:aws:iot:ap-northeast-2:123456789012:thing/fms-kr-vehicle" })), DENY);
            assert.deepStrictEqual(await h(event(undefined, "fms-kr-vehicle", { templateArn: undefined })), DENY);
            assert.deepStrictEqual([reason(0), reason(1), reason(2)], ["template-not-served", "template-not-served", "template-not-served"]);
        });

        it("denies a serial whose Thing name would exceed 128 characters", async () => {
            const { h, reason } = hook({ ...prefixMode, templates: { "fms-kr-vehicle": { ...TEMPLATES["fms-kr-vehicle"], thingNamePrefix: "p".repeat(100) } } });
            assert.deepStrictEqual(await h(event({ SerialNumber: `297468${"0".repeat(40)}` })), DENY);
            assert.strictEqual(reason(), "thing-name-too-long");
        });

        it("never denies for an unreadable certificate PEM (AWS sends one): CertExpiry is 'unknown'", async () => {
            iot.on(DescribeThingCommand).rejects(notFound());
            const { h } = hook(prefixMode);
            assert.deepStrictEqual((await h(event(undefined, undefined, { certificatePem: "garbage" }))).parameterOverrides?.CertExpiry, UNKNOWN_EXPIRY);
        });
    });

    describe("registry mode", () => {
        it("claims an active serial registered for this template: consistent read, then one conditional write", async () => {
            ddb.on(GetItemCommand).resolves({ Item: item("active") });
            ddb.on(UpdateItemCommand).resolves({});
            const { h } = hook(registryMode);
            assert.strictEqual((await h(event())).allowProvisioning, true);
            const get = ddb.commandCalls(GetItemCommand)[0].args[0].input;
            assert.deepStrictEqual([get.TableName, get.Key, get.ConsistentRead], ["fms-kr-registry", { serialNumber: { S: "297468000123" } }, true]);
            const put = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
            assert.strictEqual(put.ConditionExpression, "#s = :active AND #fp = :fp");
            assert.deepStrictEqual(put.ExpressionAttributeValues![":fp"], { S: pemKey() }, "the key read is the key the write requires");
            assert.deepStrictEqual(put.ExpressionAttributeValues![":cert"], { S: CERT_ID });
            assert.deepStrictEqual(put.ExpressionAttributeValues![":template"], { S: "fms-kr-vehicle" });
            assert.deepStrictEqual(put.ExpressionAttributeValues![":provisioned"], { S: "provisioned" });
            assert.strictEqual(iot.calls().length, 0, "registry mode does not need to look the Thing up");
        });

        for (const [label, got, reason] of [
            ["revoked", () => item("revoked"), "serial-revoked"],
            ["unknown", () => undefined, "serial-not-registered"],
            ["registered without a status", () => ({ serialNumber: { S: "297468000123" }, templates: { SS: ["fms-kr-vehicle"] }, publicKeyFingerprint: { S: pemKey() } }), "serial-status-not-active"],
            ["registered for another template only", () => item("active", ["fms-kr-edge-core"]), "serial-template-not-allowed"],
            ["registered with no templates", () => ({ serialNumber: { S: "297468000123" }, status: { S: "active" }, publicKeyFingerprint: { S: pemKey() } }), "serial-template-not-allowed"],
            ["registered without a key fingerprint", () => item("active", ["fms-kr-vehicle"], undefined, null), "serial-key-not-registered"],
            ["registered for another unit's key", () => item("active", ["fms-kr-vehicle"], undefined, "0".repeat(64)), "device-key-mismatch"],
            ["provisioned through the core template, asked through the vehicle one", () => ({ ...item("provisioned", ["fms-kr-vehicle", "fms-kr-edge-core"], "b".repeat(64)), templateName: { S: "fms-kr-edge-core" } }), "serial-already-provisioned"],
        ] as const) {
            it(`denies a serial ${label}, writing nothing`, async () => {
                ddb.on(GetItemCommand).resolves({ Item: got() as never });
                const { h, reason: r } = hook(registryMode);
                assert.deepStrictEqual(await h(event()), DENY);
                assert.strictEqual(r(), reason);
                assert.strictEqual(ddb.commandCalls(UpdateItemCommand).length, 0);
            });
        }

        it("allows AWS's retry of the same registration (same certificate) without a second write", async () => {
            ddb.on(GetItemCommand).resolves({ Item: item("provisioned", ["fms-kr-vehicle"], CERT_ID) });
            const { h } = hook(registryMode);
            assert.strictEqual((await h(event())).allowProvisioning, true);
            assert.strictEqual(ddb.commandCalls(UpdateItemCommand).length, 0);
        });

        it("registers the same unit again (same key, same template, new certificate): schedules the earlier one, then records the new", async () => {
            ddb.on(GetItemCommand).resolves({ Item: item("provisioned", ["fms-kr-vehicle"], "b".repeat(64)) });
            ddb.on(UpdateItemCommand).resolves({});
            iot.on(ListThingPrincipalsCommand).resolves({ principals: [certArn("b".repeat(64))] });
            const { h } = hook(registryMode);
            assert.strictEqual((await h(event())).allowProvisioning, true);
            // The rotation state first, conditioned on nothing pending: concurrent re-registrations and rotations have one winner.
            const [rotation, registry] = ddb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
            assert.strictEqual(rotation.TableName, "fms-kr-rotation");
            assert.strictEqual(rotation.ConditionExpression, "attribute_not_exists(#u) AND attribute_not_exists(#r)");
            assert.deepStrictEqual(rotation.ExpressionAttributeValues![":old"], { SS: [`arn:aws:iot:ap-northeast-2:123456789012:cert/${"b".repeat(64)}`] });
            assert.deepStrictEqual(rotation.ExpressionAttributeValues![":after"], { S: "2026-11-25T23:59:59.000Z" }, "after the grace period (72 h)");
            assert.strictEqual(registry.ConditionExpression, "#s = :provisioned AND #tn = :template AND #c = :current AND #fp = :fp");
            assert.deepStrictEqual([registry.ExpressionAttributeValues![":cert"], registry.ExpressionAttributeValues![":current"]], [{ S: CERT_ID }, { S: "b".repeat(64) }]);
        });

        it("a re-registration while the Thing holds another certificate (a rotation under way) or has something pending is denied", async () => {
            ddb.on(GetItemCommand).resolves({ Item: item("provisioned", ["fms-kr-vehicle"], "b".repeat(64)) });
            iot.on(ListThingPrincipalsCommand).resolvesOnce({ principals: [certArn("b".repeat(64)), certArn("d".repeat(64))] }).resolves({ principals: [certArn("b".repeat(64))] });
            ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }));
            const { h, reason } = hook(registryMode);
            assert.deepStrictEqual(await h(event()), DENY);
            assert.deepStrictEqual(await h(event()), DENY);
            assert.deepStrictEqual([reason(0), reason(1)], ["thing-has-other-certificates", "rotation-pending"]);
            assert.strictEqual(ddb.commandCalls(UpdateItemCommand).length, 1, "nothing written to the registry");
        });

        it("without key binding (deviceKeys: aws) a provisioned serial never registers again with another certificate", async () => {
            ddb.on(GetItemCommand).resolves({ Item: item("provisioned", ["fms-kr-vehicle"], "b".repeat(64), null) });
            const { h, reason } = hook(hookConfig({ bindKeys: false }));
            assert.deepStrictEqual(await h(event()), DENY);
            assert.strictEqual(reason(), "serial-already-provisioned");
        });

        it("denies a device parameter the template does not declare", async () => {
            const { h, reason } = hook(registryMode);
            assert.deepStrictEqual(await h(event({ SerialNumber: "297468000123", CertDate: "20990101" })), DENY);
            assert.strictEqual(reason(), "unexpected-parameter");
            assert.strictEqual(ddb.calls().length, 0);
        });

        it("denies the loser of a race (the conditional write fails)", async () => {
            ddb.on(GetItemCommand).resolves({ Item: item("active") });
            ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }));
            const { h, reason } = hook(registryMode);
            assert.deepStrictEqual(await h(event()), DENY);
            assert.strictEqual(reason(), "serial-already-provisioned");
        });

        it("does not consult the registry for a serial with a wrong prefix", async () => {
            const { h } = hook(registryMode);
            await h(event({ SerialNumber: "999999" }));
            assert.strictEqual(ddb.calls().length, 0);
        });

        it("denies, without throwing, when the registry fails", async () => {
            ddb.on(GetItemCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "ProvisionedThroughputExceededException" }));
            const { h, reason } = hook(registryMode);
            assert.deepStrictEqual(await h(event()), DENY);
            assert.strictEqual(reason(), "registry-error:ProvisionedThroughputExceededException");
        });

        it("denies when AWS does not answer within its budget (far inside the 5 s limit)", async () => {
            ddb.on(GetItemCommand).callsFake(() => new Promise(() => undefined));
            const { h, reason } = hook(registryMode, 30);
            assert.deepStrictEqual(await h(event()), DENY);
            assert.strictEqual(reason(), "registry-error:RegistryTimeout");
        });
    });

    describe("rotation template", () => {
        const rotate = (requester = CLAIM_ID) => event(undefined, "fms-kr-rotate", { claimCertificateId: requester, clientId: "test-thing-297468000123" });

        it("allows a certificate attached to the serial's Thing, and sets the new CertDate and CertExpiry", async () => {
            iot.on(ListThingPrincipalsCommand).resolves({ principals: [certArn(CLAIM_ID)] });
            const { h } = hook(prefixMode);
            assert.deepStrictEqual(await h(rotate()), { allowProvisioning: true, parameterOverrides: { CertDate: "20261122", CertExpiry: "20491231" } });
            assert.deepStrictEqual(iot.commandCalls(ListThingPrincipalsCommand)[0].args[0].input, { thingName: "test-thing-297468000123", nextToken: undefined });
        });

        it("denies another vehicle's (or the claim) certificate: it is not attached to that Thing", async () => {
            iot.on(ListThingPrincipalsCommand).resolves({ principals: [certArn("d".repeat(64))] });
            const { h, reason } = hook(prefixMode);
            assert.deepStrictEqual(await h(rotate()), DENY);
            assert.strictEqual(reason(), "requester-not-attached-to-thing");
        });

        it("reads every page of the Thing's certificates", async () => {
            iot.on(ListThingPrincipalsCommand).resolvesOnce({ principals: [], nextToken: "n" }).resolvesOnce({ principals: [certArn(CLAIM_ID)] });
            const { h } = hook(prefixMode);
            assert.strictEqual((await h(rotate())).allowProvisioning, true);
        });

        it("records the new certificate as unconfirmed, only if nothing is pending for that Thing", async () => {
            iot.on(ListThingPrincipalsCommand).resolves({ principals: [certArn(CLAIM_ID)] });
            ddb.on(UpdateItemCommand).resolvesOnce({}).rejects(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }));
            const { h, reason } = hook(prefixMode);
            assert.strictEqual((await h(rotate())).allowProvisioning, true);
            const w = ddb.commandCalls(UpdateItemCommand)[0].args[0].input;
            assert.deepStrictEqual([w.TableName, w.Key, w.ConditionExpression], ["fms-kr-rotation", { thingName: { S: "test-thing-297468000123" } }, "attribute_not_exists(#u) AND attribute_not_exists(#r)"]);
            assert.deepStrictEqual(w.ExpressionAttributeValues, { ":new": { S: certArn(CERT_ID) }, ":by": { S: "2026-11-23T23:59:59.000Z" } });
            assert.deepStrictEqual(await h(rotate()), DENY);
            assert.strictEqual(reason(1), "rotation-pending");
        });

        it("denies a Thing that does not exist, and one that already holds two certificates (a rotation in its grace period)", async () => {
            iot.on(ListThingPrincipalsCommand).rejectsOnce(notFound()).resolves({ principals: [certArn(CLAIM_ID), certArn("d".repeat(64))] });
            const { h, reason } = hook(prefixMode);
            assert.deepStrictEqual(await h(rotate()), DENY);
            assert.deepStrictEqual(await h(rotate()), DENY);
            assert.deepStrictEqual([reason(0), reason(1)], ["thing-not-found", "too-many-certificates"]);
        });

        it("registry mode: a revoked serial cannot rotate", async () => {
            iot.on(ListThingPrincipalsCommand).resolves({ principals: [certArn(CLAIM_ID)] });
            ddb.on(GetItemCommand).resolves({ Item: item("revoked") });
            const { h, reason } = hook(registryMode);
            assert.deepStrictEqual(await h(rotate()), DENY);
            assert.strictEqual(reason(), "serial-not-provisioned");
            ddb.on(GetItemCommand).resolves({ Item: item("provisioned") });
            assert.strictEqual((await h(rotate())).allowProvisioning, true);
        });
    });

    describe("malformed events are denied without throwing", () => {
        const huge = "2".repeat(1_000_000);
        const cases: [string, () => unknown][] = [
            ["null", () => null],
            ["a string", () => "297468000123"],
            ["an array", () => [event()]],
            ["an empty object", () => ({})],
            ["missing parameters", () => ({ ...event(), parameters: undefined })],
            ["parameters null", () => event(null)],
            ["parameters as an array", () => event(["297468000123"])],
            ["missing SerialNumber", () => event({})],
            ["SerialNumber as a number", () => event({ SerialNumber: 297468000123 })],
            ["SerialNumber with a slash", () => event({ SerialNumber: "297468/../admin" })],
            ["SerialNumber empty", () => event({ SerialNumber: "" })],
            ["a huge SerialNumber", () => event({ SerialNumber: huge })],
            ["missing certificateId", () => ({ ...event(), certificateId: undefined })],
            ["certificateId of the wrong shape", () => ({ ...event(), certificateId: huge })],
            ["claimCertificateId missing", () => ({ ...event(), claimCertificateId: undefined })],
            ["templateArn huge", () => ({ ...event(), templateArn: huge })],
        ];
        for (const [label, e] of cases) {
            it(label, async () => {
                const { h, lines } = hook(registryMode);
                assert.deepStrictEqual(await h(e()), DENY);
                assert.strictEqual(lines.length, 1);
                assert.ok(lines[0].length < 1000, "the log line stays small");
                assert.strictEqual(ddb.calls().length + iot.calls().length, 0);
            });
        }
    });

    it("denies everything when its environment is misconfigured", async () => {
        const templates = JSON.stringify(TEMPLATES);
        const env = { REGISTRY_TABLE: "r", ROTATION_TABLE: "rot", BIND_KEYS: "false", GRACE_PERIOD_HOURS: "72", CONFIRM_TIMEOUT_HOURS: "24" };
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "registry", REGISTRY_TABLE: undefined, HOOK_TEMPLATES: templates }), undefined, "registry mode without a table");
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "registry", ROTATION_TABLE: undefined, HOOK_TEMPLATES: templates }), undefined, "no rotation table");
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "registry", BIND_KEYS: undefined, HOOK_TEMPLATES: templates }), undefined, "key binding unsaid");
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "registry", CONFIRM_TIMEOUT_HOURS: "0", HOOK_TEMPLATES: templates }), undefined, "no time to confirm");
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "prefix", HOOK_TEMPLATES: JSON.stringify({ t: { ...TEMPLATES["fms-kr-vehicle"], deviceParameters: [] } }) }), undefined, "no device parameters");
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "prefix", HOOK_TEMPLATES: "{}" }), undefined, "no templates");
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "prefix", HOOK_TEMPLATES: "{" }), undefined, "not JSON");
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "prefix", HOOK_TEMPLATES: JSON.stringify({ t: { purpose: "anything", thingNamePrefix: "x", serialPrefixes: ["1"], deviceParameters: ["SerialNumber"] } }) }), undefined, "unknown purpose");
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "prefix", HOOK_TEMPLATES: JSON.stringify({ t: { purpose: "provision", thingNamePrefix: "x", serialPrefixes: [] } }) }), undefined, "no prefixes");
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "allow-all", HOOK_TEMPLATES: templates }), undefined, "unknown mode");
        assert.deepStrictEqual(configFromEnv({ ...env, HOOK_MODE: "prefix", HOOK_TEMPLATES: templates, ALLOW_REPROVISIONING: "true" }),
            { mode: "prefix", tableName: "r", templates: TEMPLATES, allowReprovisioning: true, bindKeys: false, rotationTable: "rot", gracePeriodHours: 72, confirmTimeoutHours: 24, minRotationIntervalHours: 0 });
        assert.strictEqual(configFromEnv({ ...env, HOOK_MODE: "registry", HOOK_TEMPLATES: templates, MIN_ROTATION_INTERVAL_HOURS: "-1" }), undefined, "a negative interval");
        const { h, reason } = hook(undefined);
        assert.deepStrictEqual(await h(event()), DENY);
        assert.strictEqual(reason(), "hook-misconfigured");
    });

    it("records every decision with time, certificate ids, template and result, and never the certificate PEM", async () => {
        iot.on(DescribeThingCommand).rejects(notFound());
        const { h, lines } = hook(prefixMode);
        await h(event());
        await h(event({ SerialNumber: "111" }));
        const [allowed, denied] = lines.map((l) => JSON.parse(l));
        assert.strictEqual(allowed.time, NOW.toISOString());
        assert.deepStrictEqual([allowed.certificateId, allowed.claimCertificateId, allowed.templateArn], [CERT_ID, CLAIM_ID, ARN("fms-kr-vehicle")]);
        assert.strictEqual(allowed.allowProvisioning, true);
        assert.strictEqual(denied.allowProvisioning, false);
        for (const l of lines) assert.ok(!l.includes("BEGIN CERTIFICATE") && !l.includes(pem().split("\n")[1]), l);
    });

    it("the Lambda entry point reads its configuration from the environment", async () => {
        const env = { ...process.env };
        Object.assign(process.env, {
            HOOK_MODE: "registry", REGISTRY_TABLE: "fms-dev-registry", HOOK_TEMPLATES: JSON.stringify(TEMPLATES),
            BIND_KEYS: "true", ROTATION_TABLE: "fms-dev-rotation", GRACE_PERIOD_HOURS: "24", CONFIRM_TIMEOUT_HOURS: "24",
        });
        const ddb = mockClient(DynamoDBClient); // the entry point makes its own client (restored below)
        ddb.on(GetItemCommand).resolves({ Item: item("active") });
        ddb.on(UpdateItemCommand).resolves({});
        const write = process.stdout.write;
        const written: string[] = [];
        process.stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write;
        try {
            const res = await handler(event());
            assert.strictEqual(res.allowProvisioning, true);
            assert.match(res.parameterOverrides?.CertDate ?? "", /^\d{8}$/);
            assert.strictEqual(ddb.commandCalls(GetItemCommand)[0].args[0].input.TableName, "fms-dev-registry");
            // One raw JSON line per decision: what the CloudWatch metric filter for denials parses.
            assert.strictEqual(written.length, 1);
            assert.ok(written[0].endsWith("\n"));
            const line = JSON.parse(written[0]);
            assert.deepStrictEqual([line.event, line.allowProvisioning], ["provisioning-decision", true]);
        } finally {
            process.stdout.write = write;
            process.env = env;
            ddb.restore();
        }
    });
});
