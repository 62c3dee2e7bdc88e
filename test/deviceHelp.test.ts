/**
 * What `npm run device` says about itself agrees with what it does: --stack without the Pulumi CLI names the flags
 * --stack would have filled for that command, register's help lists --stack, --port's help says which ports each
 * command takes, and edge-config's saved outputs need no --show-secrets (none it reads is secret).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run, USAGE } from "../device/cli";
import { runStack } from "../plan/program";

async function device(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
}
const block = (command: string) => USAGE.split(/\n {2}(?=[a-z-]+ +--)/).find((b) => b.startsWith(command))!;

describe("npm run device: its help and messages agree with what it does", function () {
    this.timeout(60_000);
    const noCli = spawnSync("pulumi", ["version"]).error !== undefined;

    it("--stack without the Pulumi CLI names what --stack fills for that command (keygen: --template; register: --table and --region)", async function () {
        if (!noCli) this.skip(); // the Pulumi CLI is on PATH here: --stack would call it
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-help-"));
        try {
            const keygen = await device(["keygen", "--stack", "kr", "--serial", "297468000123", "--out", dir]);
            assert.deepStrictEqual([keygen.code, keygen.err[0]], [2, "error: --stack needs the Pulumi CLI on PATH; pass --stack-outputs <file> (pulumi stack output --json, saved where the CLI is) or --template instead"]);
            // What it names is enough: keygen with --template runs.
            const passed = await device(["keygen", "--template", "fms-kr-vehicle", "--serial", "297468000123", "--out", dir]);
            assert.strictEqual(passed.code, 0, passed.err.join("\n"));
            const register = await device(["register", "--stack", "kr", "--csv", path.join(dir, "r.csv")]);
            assert.deepStrictEqual([register.code, register.err[0]], [2, "error: --stack needs the Pulumi CLI on PATH; pass --stack-outputs <file> (pulumi stack output --json, saved where the CLI is) or --table and --region instead"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("register's help lists --stack (the README uses it) and the CSV it reads", () => {
        assert.match(block("register"), /--stack fills --table and --region/);
        assert.match(block("register"), /header line is optional/);
    });

    it("--port: edge-config takes 8883 or 443 only, as its help now says; the vehicle commands any TCP port", async () => {
        assert.match(USAGE, /--port <n>[\s\S]*edge-config takes 8883 or 443 only, the vehicle commands any\s+port 1-65535/);
        assert.doesNotMatch(USAGE, /allow only HTTPS\); 1-65535/);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-port-"));
        try {
            const saved = path.join(dir, "kr.json");
            fs.writeFileSync(saved, JSON.stringify((await runStack("kr")).outputs));
            const edge = await device(["edge-config", "--stack-outputs", saved, "--serial", "2974690007", "--out", path.join(dir, "core"), "--port", "1883"]);
            assert.strictEqual(edge.code, 2);
            assert.match(edge.err[0], /--port 1883: 8883, or 443/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("edge-config reads no secret output: its help says pulumi stack output --json, without --show-secrets", async () => {
        const kr = await runStack("kr");
        const read = ["iotEndpoint", "awsRegion", "iotCredentialEndpoint", "edgeRoleAliasName", "edgeCoreTemplateName", "claimClientIdPrefix", "edgeNucleusVersion", "edgeCoreThingNamePrefix", "edgeSerialPrefixes", "deviceKeys"];
        for (const k of read) assert.ok(k in kr.outputs, `${k} is an output of kr`);
        assert.deepStrictEqual(read.filter((k) => kr.secretOutputs.has(k)), []);
        assert.doesNotMatch(USAGE, /--show-secrets/);
    });
});
