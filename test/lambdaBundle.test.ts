import * as assert from "assert";
import Module = require("module");
import * as path from "path";
import { HOOK_ENTRY } from "../components/provisioning/fleetProvisioning";
import { bundleHandler } from "../components/lambdaBundle";
import { LocalDynamo } from "./support/dynalite";

describe("hook bundle", () => {
    const code = bundleHandler(HOOK_ENTRY);

    it("leaves the AWS SDK to the Node.js 22 runtime and stays small", () => {
        assert.match(code, /require\("@aws-sdk\/client-dynamodb"\)/);
        assert.ok(!code.includes("smithy"), "no SDK code bundled");
        assert.ok(Buffer.byteLength(code) < 20_000, `${Buffer.byteLength(code)} bytes`);
        assert.strictEqual(bundleHandler(HOOK_ENTRY), code, "deterministic: an unchanged handler is no change");
    });

    it("is a working Lambda module: index.handler answers an event (claiming the serial in a real DynamoDB)", async () => {
        const local = await LocalDynamo.start();
        await local.table("registry", "serialNumber");
        const endpoint = await local.client.config.endpoint!();
        const m = new Module(path.join(__dirname, "bundle-index.js")) as Module & { _compile(code: string, file: string): void };
        m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
        m._compile(code, m.id);
        const env = { ...process.env };
        Object.assign(process.env, {
            HOOK_MODE: "prefix", ALLOW_REPROVISIONING: "true", REGISTRY_TABLE: "registry", ROTATION_TABLE: "rotation", BIND_KEYS: "false",
            GRACE_PERIOD_HOURS: "1", CONFIRM_TIMEOUT_HOURS: "1",
            HOOK_TEMPLATES: JSON.stringify({ v: { purpose: "provision", thingNamePrefix: "t-", serialPrefixes: ["297468"], deviceParameters: ["SerialNumber"] } }),
            // The SDK's service-specific endpoint variable (AWS SDKs and Tools reference, "Service-specific endpoints").
            AWS_ENDPOINT_URL_DYNAMODB: `http://${endpoint.hostname}:${endpoint.port}`, AWS_REGION: "ap-northeast-2", AWS_ACCESS_KEY_ID: "t", AWS_SECRET_ACCESS_KEY: "t",
        });
        const write = process.stdout.write;
        process.stdout.write = (() => true) as typeof process.stdout.write;
        try {
            const handler = (m.exports as { handler(e: unknown): Promise<{ allowProvisioning: boolean }> }).handler;
            const e = (serial: string) => ({ certificateId: "b".repeat(64), claimCertificateId: "c".repeat(64), templateArn: "arn:aws:iot:ap-northeast-2:123456789012:provisioningtemplate/v", parameters: { SerialNumber: serial } });
            const res = await handler(e("297468777"));
            assert.strictEqual(res.allowProvisioning, true);
            assert.strictEqual((await handler(e("1"))).allowProvisioning, false);
        } finally {
            process.stdout.write = write;
            process.env = env;
            await local.stop();
        }
    });
});
