import * as assert from "assert";
import Module = require("module");
import * as path from "path";
import { HOOK_ENTRY } from "../components/provisioning/fleetProvisioning";
import { bundleHandler } from "../components/lambdaBundle";

describe("hook bundle", () => {
    const code = bundleHandler(HOOK_ENTRY);

    it("leaves the AWS SDK to the Node.js 22 runtime and stays small", () => {
        assert.match(code, /require\("@aws-sdk\/client-dynamodb"\)/);
        assert.ok(!code.includes("smithy"), "no SDK code bundled");
        assert.ok(Buffer.byteLength(code) < 20_000, `${Buffer.byteLength(code)} bytes`);
        assert.strictEqual(bundleHandler(HOOK_ENTRY), code, "deterministic: an unchanged handler is no change");
    });

    it("is a working Lambda module: index.handler answers an event", async () => {
        const m = new Module(path.join(__dirname, "bundle-index.js")) as Module & { _compile(code: string, file: string): void };
        m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
        m._compile(code, m.id);
        const env = { ...process.env };
        Object.assign(process.env, { HOOK_MODE: "prefix", ALLOW_REPROVISIONING: "true", HOOK_TEMPLATES: JSON.stringify({ v: { purpose: "provision", thingNamePrefix: "t-", serialPrefixes: ["297468"] } }) });
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
        }
    });
});
