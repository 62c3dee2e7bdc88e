import * as assert from "assert";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { configFromEnv, createHandler, handler, HookConfig, HookResponse } from "../lambda/provisioningHook";

const NOW = new Date("2026-11-22T23:59:59Z");
const CERT_ID = "a".repeat(64);
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB-secret-looking-body\n-----END CERTIFICATE-----\n";

function event(parameters: unknown = { SerialNumber: "297468000123" }): Record<string, unknown> {
    return {
        claimCertificateId: "c".repeat(64),
        certificateId: CERT_ID,
        certificatePem: PEM,
        templateArn: "arn:aws:iot:ap-northeast-2:123456789012:provisioningtemplate/fms-kr-vehicle",
        clientId: "claim-297468000123",
        parameters,
    };
}

const ddb = mockClient(DynamoDBClient);

function hook(config: HookConfig | undefined, registryTimeoutMs = 200) {
    const lines: string[] = [];
    const h = createHandler({ config, dynamo: new DynamoDBClient({ region: "ap-northeast-2" }), now: () => NOW, log: (l) => lines.push(l), registryTimeoutMs });
    return { h, lines };
}

const prefixMode: HookConfig = { serialPrefixes: ["297468"], mode: "prefix", thingNamePrefix: "test-thing-" };
const registryMode: HookConfig = { ...prefixMode, mode: "registry", tableName: "fms-kr-registry" };
const DENY: HookResponse = { allowProvisioning: false };

describe("pre-provisioning hook", () => {
    beforeEach(() => ddb.reset());

    it("allows a serial with an allowed prefix and sets CertDate (YYYYMMDD, UTC)", async () => {
        const { h } = hook(prefixMode);
        assert.deepStrictEqual(await h(event()), { allowProvisioning: true, parameterOverrides: { CertDate: "20261122" } });
    });

    it("denies a serial with another prefix", async () => {
        const { h, lines } = hook(prefixMode);
        assert.deepStrictEqual(await h(event({ SerialNumber: "123456000001" })), DENY);
        assert.strictEqual(JSON.parse(lines[0]).reason, "serial-prefix-not-allowed");
    });

    it("denies a serial whose Thing name would exceed 128 characters", async () => {
        const { h } = hook({ ...prefixMode, thingNamePrefix: "p".repeat(100) });
        assert.deepStrictEqual(await h(event({ SerialNumber: `297468${"0".repeat(40)}` })), DENY);
    });

    describe("registry mode", () => {
        it("allows a registered, active serial (consistent read by serialNumber)", async () => {
            ddb.on(GetItemCommand).resolves({ Item: { serialNumber: { S: "297468000123" }, status: { S: "active" } } });
            const { h } = hook(registryMode);
            assert.strictEqual((await h(event())).allowProvisioning, true);
            const input = ddb.commandCalls(GetItemCommand)[0].args[0].input;
            assert.strictEqual(input.TableName, "fms-kr-registry");
            assert.deepStrictEqual(input.Key, { serialNumber: { S: "297468000123" } });
            assert.strictEqual(input.ConsistentRead, true);
        });

        for (const [label, item, reason] of [
            ["revoked", { serialNumber: { S: "297468000123" }, status: { S: "revoked" } }, "serial-revoked"],
            ["unknown", undefined, "serial-not-registered"],
            ["registered without a status", { serialNumber: { S: "297468000123" } }, "serial-status-not-active"],
        ] as const) {
            it(`denies a ${label} serial`, async () => {
                ddb.on(GetItemCommand).resolves({ Item: item });
                const { h, lines } = hook(registryMode);
                assert.deepStrictEqual(await h(event()), DENY);
                assert.strictEqual(JSON.parse(lines[0]).reason, reason);
            });
        }

        it("does not consult the registry for a serial with a wrong prefix", async () => {
            const { h } = hook(registryMode);
            await h(event({ SerialNumber: "999999" }));
            assert.strictEqual(ddb.commandCalls(GetItemCommand).length, 0);
        });

        it("denies, without throwing, when the registry fails", async () => {
            ddb.on(GetItemCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "ProvisionedThroughputExceededException" }));
            const { h, lines } = hook(registryMode);
            assert.deepStrictEqual(await h(event()), DENY);
            assert.strictEqual(JSON.parse(lines[0]).reason, "registry-error:ProvisionedThroughputExceededException");
        });

        it("denies when the registry does not answer in time (far inside the 5 s limit)", async () => {
            ddb.on(GetItemCommand).callsFake(() => new Promise(() => undefined));
            const { h, lines } = hook(registryMode, 30);
            assert.deepStrictEqual(await h(event()), DENY);
            assert.strictEqual(JSON.parse(lines[0]).reason, "registry-error:RegistryTimeout");
        });
    });

    describe("malformed events are denied without throwing", () => {
        const huge = "2".repeat(1_000_000);
        const cases: [string, unknown][] = [
            ["null", null],
            ["a string", "297468000123"],
            ["an array", [event()]],
            ["an empty object", {}],
            ["missing parameters", { ...event(), parameters: undefined }],
            ["parameters null", event(null)],
            ["parameters as an array", event(["297468000123"])],
            ["missing SerialNumber", event({})],
            ["SerialNumber as a number", event({ SerialNumber: 297468000123 })],
            ["SerialNumber with a slash", event({ SerialNumber: "297468/../admin" })],
            ["SerialNumber empty", event({ SerialNumber: "" })],
            ["a huge SerialNumber", event({ SerialNumber: huge })],
            ["missing certificateId", { ...event(), certificateId: undefined }],
            ["certificateId of the wrong shape", { ...event(), certificateId: huge }],
        ];
        for (const [label, e] of cases) {
            it(label, async () => {
                const { h, lines } = hook(registryMode);
                assert.deepStrictEqual(await h(e), DENY);
                assert.strictEqual(lines.length, 1);
                assert.ok(lines[0].length < 1000, "the log line stays small");
            });
        }
    });

    it("denies everything when its environment is misconfigured", async () => {
        assert.strictEqual(configFromEnv({ HOOK_MODE: "registry", SERIAL_PREFIXES: "297468" }), undefined, "registry mode without a table");
        assert.strictEqual(configFromEnv({ HOOK_MODE: "prefix", SERIAL_PREFIXES: " , " }), undefined, "no prefixes");
        assert.strictEqual(configFromEnv({ HOOK_MODE: "allow-all", SERIAL_PREFIXES: "297468" }), undefined, "unknown mode");
        const { h, lines } = hook(undefined);
        assert.deepStrictEqual(await h(event()), DENY);
        assert.strictEqual(JSON.parse(lines[0]).reason, "hook-misconfigured");
    });

    it("records every decision with time, certificate id and result, and never the certificate PEM", async () => {
        const { h, lines } = hook(prefixMode);
        await h(event());
        await h(event({ SerialNumber: "111" }));
        const [allowed, denied] = lines.map((l) => JSON.parse(l));
        assert.strictEqual(allowed.time, NOW.toISOString());
        assert.strictEqual(allowed.certificateId, CERT_ID);
        assert.strictEqual(allowed.allowProvisioning, true);
        assert.strictEqual(denied.allowProvisioning, false);
        for (const l of lines) assert.ok(!l.includes("BEGIN CERTIFICATE") && !l.includes("MIIB"), l);
    });

    it("the Lambda entry point reads its configuration from the environment", async () => {
        process.env.SERIAL_PREFIXES = "297468";
        process.env.HOOK_MODE = "registry";
        process.env.REGISTRY_TABLE = "fms-dev-registry";
        process.env.THING_NAME_PREFIX = "test-thing-";
        ddb.on(GetItemCommand).resolves({ Item: { status: { S: "active" } } });
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
        }
    });
});
