/**
 * The rotation Lambdas on their own: confirm and sweep against a real DynamoDB (dynalite, which
 * parses the ADD/SET/condition expressions) and a fake AWS IoT (answers shaped as the AWS IoT API
 * reference gives them: ListThingPrincipals principals as certificate ARNs, DescribeCertificate's
 * creationDate, DescribeAuditTask's taskStartTime and auditDetails).
 */
import * as assert from "assert";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
    DescribeAuditTaskCommand, DescribeCertificateCommand, DetachThingPrincipalCommand, ListAuditTasksCommand, ListThingPrincipalsCommand, UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { configFromEnv, confirm, EXPIRING_CHECK, RotationConfig, RotationDeps, sweep } from "../components/provisioning/lambda/certificateRotation";
import { LocalDynamo } from "./support/dynalite";
import { FakeClient } from "./support/fakeClient";

const TABLE = "fms-kr-rotation";
const NOW = new Date("2026-11-23T10:00:00Z");
const id = (c: string) => c.repeat(64);
const arn = (c: string) => `arn:aws:iot:ap-northeast-2:123456789012:cert/${id(c)}`;
const config: RotationConfig = { tableName: TABLE, thingNamePrefixes: ["test-thing-"], gracePeriodHours: 24, metricNamespace: "FMS/IoT/fms-kr" };

describe("certificate rotation Lambdas (dynalite + fake IoT)", function () {
    this.timeout(20_000);
    let local: LocalDynamo;
    const iot = new FakeClient();
    const cloudwatch = new FakeClient();
    const lines: Record<string, unknown>[] = [];
    const deps = (now = NOW): RotationDeps => ({ config, dynamo: local.client, iot: iot as never, cloudwatch: cloudwatch as never, now: () => now, log: (l) => lines.push(JSON.parse(l)) });
    const item = async (thing: string) => (await local.client.send(new GetItemCommand({ TableName: TABLE, Key: { thingName: { S: thing } }, ConsistentRead: true }))).Item;

    before(async () => {
        local = await LocalDynamo.start();
        await local.table(TABLE, "thingName");
    });
    after(async () => local?.stop());
    const noAudits = () => iot.on(ListAuditTasksCommand).resolves({ tasks: [] });
    beforeEach(() => { iot.reset(); cloudwatch.reset(); lines.length = 0; noAudits(); });

    /** DescribeCertificate answers with a creation date per certificate (by its id's first digit: day of January). */
    function creationDates(dates: Record<string, number>) {
        iot.on(DescribeCertificateCommand).callsFake(async (input: { certificateId: string }) => ({
            certificateDescription: { certificateId: input.certificateId, creationDate: new Date(Date.UTC(2026, 0, dates[input.certificateId[0]])) },
        }));
    }

    it("confirm: schedules every OLDER certificate of the Thing, after the grace period", async () => {
        // The hook recorded c as the Thing's unconfirmed rotation: only what the state names confirms (issue 26).
        await local.client.send(new PutItemCommand({ TableName: TABLE, Item: { thingName: { S: "test-thing-1" }, unconfirmedCertificateArn: { S: arn("c") }, confirmBy: { S: "2026-11-24T10:00:00.000Z" } } }));
        iot.on(ListThingPrincipalsCommand).resolves({ principals: [arn("a"), arn("b"), arn("c")] });
        creationDates({ a: 1, b: 2, c: 3 });
        const r = await confirm({ certificateId: id("c"), thingName: "test-thing-1" }, deps());
        assert.deepStrictEqual(r, { confirmed: true, thingName: "test-thing-1", retiring: [arn("a"), arn("b")], retireAfter: "2026-11-24T10:00:00.000Z", current: true });
        const got = (await item("test-thing-1"))!;
        assert.deepStrictEqual([got.keeperCertificateArn.S, [...got.retiringCertificateArns.SS!].sort(), got.retireAfter.S], [arn("c"), [arn("a"), arn("b")], "2026-11-24T10:00:00.000Z"]);
    });

    it("confirm with an OLD certificate retires nothing newer (a stolen old key cannot evict the vehicle's new one)", async () => {
        iot.on(ListThingPrincipalsCommand).resolves({ principals: [arn("d"), arn("e")] });
        creationDates({ d: 1, e: 2 });
        const r = await confirm({ certificateId: id("d"), thingName: "test-thing-2" }, deps());
        assert.deepStrictEqual(r, { confirmed: true, thingName: "test-thing-2", retiring: [], current: false, evictionSignal: "replaced-certificate-in-use" }, "confirms nothing, and is seen");
        assert.strictEqual(await item("test-thing-2"), undefined, "nothing scheduled");
    });

    it("confirm refuses a certificate not attached to the Thing, another prefix's Thing, and malformed events", async () => {
        iot.on(ListThingPrincipalsCommand).resolves({ principals: [arn("a")] });
        assert.deepStrictEqual(await confirm({ certificateId: id("f"), thingName: "test-thing-3" }, deps()), { confirmed: false, reason: "certificate-not-attached" });
        assert.deepStrictEqual(await confirm({ certificateId: id("a"), thingName: "claim-297468" }, deps()), { confirmed: false, reason: "not-a-vehicle" });
        assert.deepStrictEqual(await confirm({ certificateId: "nope", thingName: "test-thing-3" }, deps()), { confirmed: false, reason: "invalid-certificate-id" });
        assert.deepStrictEqual(await confirm(null, deps()), { confirmed: false, reason: "invalid-certificate-id" });
        assert.deepStrictEqual(await confirm({ certificateId: id("a"), thingName: "test-thing-3" }, { ...deps(), config: undefined }), { confirmed: false, reason: "misconfigured" });
        assert.strictEqual(lines.length, 5, "every confirmation is logged");
    });

    it("a repeated confirmation adds to what retires and keeps the earlier time (a retry never extends a rotated-out key)", async () => {
        await local.client.send(new PutItemCommand({ TableName: TABLE, Item: {
            thingName: { S: "test-thing-4" }, keeperCertificateArn: { S: arn("c") }, retiringCertificateArns: { SS: [arn("a")] }, retireAfter: { S: "2026-11-23T12:00:00.000Z" },
        } }));
        iot.on(ListThingPrincipalsCommand).resolves({ principals: [arn("a"), arn("b"), arn("c")] });
        creationDates({ a: 1, b: 2, c: 3 });
        await confirm({ certificateId: id("c"), thingName: "test-thing-4" }, deps());
        const got = (await item("test-thing-4"))!;
        assert.deepStrictEqual([got.keeperCertificateArn.S, [...got.retiringCertificateArns.SS!].sort(), got.retireAfter.S], [arn("c"), [arn("a"), arn("b")], "2026-11-23T12:00:00.000Z"]);
    });

    it("sweep: before the time nothing; after it, deactivate then detach each, and the item goes", async () => {
        await local.client.send(new PutItemCommand({ TableName: TABLE, Item: {
            thingName: { S: "test-thing-5" }, keeperCertificateArn: { S: arn("3") }, retiringCertificateArns: { SS: [arn("1"), arn("3")] }, retireAfter: { S: "2026-11-24T10:00:00.000Z" },
        } }));
        assert.ok(!(await sweep(deps(new Date("2026-11-24T09:59:00Z")))).retired.includes(arn("1")), "not before its time");
        assert.ok(await item("test-thing-5"));
        const r = await sweep(deps(new Date("2026-11-24T10:00:00Z")));
        assert.ok(r.retired.includes(arn("1")));
        assert.ok(!r.retired.includes(arn("3")), "the keeper is never retired, even when listed");
        const calls = iot.calls().filter((c) => (c as { input: { certificateId?: string; principal?: string } }).input.certificateId === id("1") || (c as { input: { principal?: string } }).input.principal === arn("1"));
        assert.deepStrictEqual(calls.map((c) => c.constructor.name), ["UpdateCertificateCommand", "DetachThingPrincipalCommand"]);
        assert.deepStrictEqual(iot.commandCalls(UpdateCertificateCommand).find((c) => c.args[0].input.certificateId === id("1"))!.args[0].input, { certificateId: id("1"), newStatus: "INACTIVE" });
        assert.deepStrictEqual(iot.commandCalls(DetachThingPrincipalCommand).find((c) => c.args[0].input.principal === arn("1"))!.args[0].input, { thingName: "test-thing-5", principal: arn("1") });
        assert.strictEqual(await item("test-thing-5"), undefined);
    });

    it("sweep: a rotated certificate never confirmed by its time is retired; one confirmed in time is not", async () => {
        await local.client.send(new PutItemCommand({ TableName: TABLE, Item: {
            thingName: { S: "test-thing-7" }, unconfirmedCertificateArn: { S: arn("9") }, confirmBy: { S: "2026-11-23T09:00:00.000Z" },
        } }));
        await local.client.send(new PutItemCommand({ TableName: TABLE, Item: {
            thingName: { S: "test-thing-8" }, unconfirmedCertificateArn: { S: arn("8") }, confirmBy: { S: "2026-11-24T09:00:00.000Z" },
        } }));
        const r = await sweep(deps());
        // Claim first, act later: it joins the replaced certificates due now (a late confirmation can still keep it)...
        assert.ok(!r.retired.includes(arn("9")));
        assert.deepStrictEqual((await item("test-thing-7"))!.retiringCertificateArns.SS, [arn("9")]);
        // ... and the next sweep retires it.
        const next = await sweep(deps());
        assert.ok(next.retired.includes(arn("9")));
        assert.ok(!r.retired.includes(arn("8")) && !next.retired.includes(arn("8")), "still in time");
        assert.strictEqual(await item("test-thing-7"), undefined, "nothing pending any more: the Thing may rotate again");
        iot.on(ListThingPrincipalsCommand).resolves({ principals: [arn("7"), arn("8")] });
        creationDates({ 7: 1, 8: 2 });
        assert.strictEqual((await confirm({ certificateId: id("8"), thingName: "test-thing-8" }, deps())).confirmed, true);
        const after = (await item("test-thing-8"))!;
        assert.deepStrictEqual([after.unconfirmedCertificateArn, after.keeperCertificateArn.S, after.retiringCertificateArns.SS], [undefined, arn("8"), [arn("7")]]);
    });

    it("sweep: a failed deactivation keeps the item for the next sweep; a certificate already gone is not a failure", async () => {
        await local.client.send(new PutItemCommand({ TableName: TABLE, Item: {
            thingName: { S: "test-thing-6" }, keeperCertificateArn: { S: arn("c") }, retiringCertificateArns: { SS: [arn("a"), arn("b")] }, retireAfter: { S: "2026-11-20T00:00:00.000Z" },
        } }));
        const gone = Object.assign(new Error("gone"), { name: "ResourceNotFoundException" });
        const throttled = Object.assign(new Error("slow down"), { name: "ThrottlingException" });
        iot.on(UpdateCertificateCommand).rejectsOnce(gone).rejectsOnce(throttled).rejects(throttled);
        const r = await sweep(deps());
        assert.deepStrictEqual(r.failed.filter((f) => f.arn.includes(id("a")) || f.arn.includes(id("b"))).map((f) => f.error), ["ThrottlingException"]);
        assert.ok(await item("test-thing-6"), "kept for the next sweep");
        iot.reset();
        noAudits();
        const again = await sweep(deps());
        assert.deepStrictEqual(again.failed, []);
        assert.strictEqual(await item("test-thing-6"), undefined);
    });

    it("sweep publishes DEVICE_CERTIFICATE_EXPIRING_CHECK's count from the newest completed audit only", async () => {
        iot.on(ListAuditTasksCommand).resolves({ tasks: [{ taskId: "zzz-old" }, { taskId: "aaa-new" }] });
        iot.on(DescribeAuditTaskCommand).callsFake(async (input: { taskId: string }) => {
            const newest = input.taskId === "aaa-new";
            return { taskStartTime: new Date(newest ? "2026-11-22T00:00:00Z" : "2026-11-01T00:00:00Z"), auditDetails: { [EXPIRING_CHECK]: { nonCompliantResourcesCount: newest ? 3 : 40 } } };
        });
        assert.strictEqual((await sweep(deps())).expiringCertificates, 3);
        const put = cloudwatch.commandCalls(PutMetricDataCommand)[0].args[0].input;
        assert.deepStrictEqual([put.Namespace, put.MetricData![0].MetricName, put.MetricData![0].Value], ["FMS/IoT/fms-kr", "ExpiringDeviceCertificates", 3]);
        // No audit yet (or the check is off): no data point, so the alarm's missing data stays "not breaching".
        iot.reset(); cloudwatch.reset();
        iot.on(ListAuditTasksCommand).resolves({ tasks: [] });
        assert.strictEqual((await sweep(deps())).expiringCertificates, undefined);
        assert.strictEqual(cloudwatch.calls().length, 0);
    });

    it("a core's extra connection (<thing>#<n>, as its policy allows) confirms for its Thing; a foreign prefix does not", async () => {
        iot.on(ListThingPrincipalsCommand).resolves({ principals: [arn("a")] });
        creationDates({ a: 1 });
        const deps2 = { ...deps(), config: { ...config, thingNamePrefixes: ["test-thing-", "test-core-"] } };
        assert.deepStrictEqual(await confirm({ certificateId: id("a"), thingName: "test-core-9#rotate" }, deps2), { confirmed: true, thingName: "test-core-9", retiring: [], current: true });
        assert.deepStrictEqual(iot.commandCalls(ListThingPrincipalsCommand)[0].args[0].input.thingName, "test-core-9");
        assert.deepStrictEqual(await confirm({ certificateId: id("a"), thingName: "other-9#1" }, deps2), { confirmed: false, reason: "not-a-vehicle" });
    });

    it("reads its configuration from the environment, and rejects a bad one", () => {
        assert.deepStrictEqual(configFromEnv({ ROTATION_TABLE: TABLE, THING_NAME_PREFIXES: "test-thing-", GRACE_PERIOD_HOURS: "24", METRIC_NAMESPACE: "FMS/IoT/fms-kr" }), { ...config, registryTable: undefined });
        assert.strictEqual(configFromEnv({ ROTATION_TABLE: TABLE, THING_NAME_PREFIXES: "test-thing-", GRACE_PERIOD_HOURS: "24", METRIC_NAMESPACE: "x", REGISTRY_TABLE: "reg" })?.registryTable, "reg");
        assert.strictEqual(configFromEnv({ ROTATION_TABLE: TABLE, THING_NAME_PREFIXES: "test-thing-", GRACE_PERIOD_HOURS: "-1", METRIC_NAMESPACE: "x" }), undefined);
        assert.strictEqual(configFromEnv({ THING_NAME_PREFIXES: "test-thing-", GRACE_PERIOD_HOURS: "1", METRIC_NAMESPACE: "x" }), undefined);
        assert.deepStrictEqual(configFromEnv({ ROTATION_TABLE: TABLE, THING_NAME_PREFIXES: "a-,b-", GRACE_PERIOD_HOURS: "1", METRIC_NAMESPACE: "x" })?.thingNamePrefixes, ["a-", "b-"]);
        assert.strictEqual(configFromEnv({ ROTATION_TABLE: TABLE, THING_NAME_PREFIXES: "", GRACE_PERIOD_HOURS: "1", METRIC_NAMESPACE: "x" }), undefined);
    });
});
