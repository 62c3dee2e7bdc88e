import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { AutomationRunner } from "../fleet/automationRunner";
import { runFleet } from "../fleet/fleet";
import { PROJECT_ROOT } from "../config/stackFile";

/**
 * Why the run skips without a CLI, and what it would prove. Neither the npm registry nor Debian ships Pulumi's
 * release binaries: the npm package `pulumi` (pulumi/pulumi, npm/) only downloads them from get.pulumi.com on first
 * use, and the `random` provider plugin this project needs comes from Pulumi's plugin downloads too.
 */
const NO_CLI = "no pulumi CLI on PATH (CI installs it with pulumi/actions; locally: https://www.pulumi.com/docs/install/; "
    + "neither npm nor Debian ships Pulumi's release binaries). With it, this drives fleet/automationRunner.ts against a local "
    + "file backend: waves in order (a before b), a failing stack that skips the later wave, drift, and a Ctrl-C cancel that leaves no lock";

/** The `pulumi` CLI on PATH, or why not: the end-to-end run needs the real engine. */
function pulumiCli(): { version?: string; why?: string } {
    try {
        return { version: execFileSync("pulumi", ["version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() };
    } catch (err) {
        return { why: (err as NodeJS.ErrnoException).code === "ENOENT" ? NO_CLI : `pulumi version failed: ${(err as Error).message}` };
    }
}

/**
 * A project that needs no cloud: `random` resources only, a stack that fails on purpose (config `fail`), and one
 * whose update takes a while (config `slowSeconds`, a dynamic resource that waits) so that it can be cancelled.
 */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const random = require("@pulumi/random");
const config = new pulumi.Config();
if (config.getBoolean("fail")) throw new Error("fleet end-to-end: this stack fails on purpose");
const pet = new random.RandomPet("pet", { length: 2 });
const slow = config.getNumber("slowSeconds");
if (slow) {
    const waits = { async create(inputs) { await new Promise((r) => setTimeout(r, inputs.ms)); return { id: "slow", outs: inputs }; } };
    new pulumi.dynamic.Resource(waits, "slow", { ms: slow * 1000 }, { dependsOn: [pet] });
}
exports.pet = pet.id;
`;

const cli = pulumiCli();
const title = cli.version ? `fleet end to end on the pulumi CLI ${cli.version} (local file backend)` : `fleet end to end — skipped: ${cli.why}`;

describe(title, function () {
    this.timeout(600_000);
    let dir: string;
    let env: Record<string, string>;

    before(async function () {
        if (!cli.version) {
            // Said where mocha lists the run, and why.
            console.log(`      skipped: ${cli.why}`);
            this.skip();
        }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-e2e-"));
        const project = path.join(dir, "project");
        fs.mkdirSync(project);
        fs.mkdirSync(path.join(dir, "state"));
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: fleet-e2e\nruntime: nodejs\nmain: index.js\n");
        fs.writeFileSync(path.join(project, "index.js"), PROGRAM);
        // @pulumi/pulumi and @pulumi/random from this project (both are dependencies).
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(project, "node_modules"));
        env = { PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`, PULUMI_CONFIG_PASSPHRASE: "fleet-e2e", PULUMI_SKIP_UPDATE_CHECK: "true" };
        const config: Record<string, Record<string, string>> = { a: {}, b: {}, broken: { fail: "true" }, c: {}, slow: { slowSeconds: "60" } };
        for (const [stack, values] of Object.entries(config)) {
            const s = await LocalWorkspace.createStack({ stackName: stack, workDir: project }, { envVars: env });
            for (const [k, v] of Object.entries(values)) await s.setConfig(k, { value: v });
        }
    });

    const options = (waves: string[][], signal: AbortSignal, lines: string[]) => ({
        command: "up" as const, waves, runner: new AutomationRunner(path.join(dir, "project"), env), parallel: 2, allowReplace: [], policyPacks: [],
        logDir: path.join(dir, `logs-${waves.flat().join("-")}`), place: () => ({ region: "-", account: "-" }), progress: (l: string) => lines.push(l), signal, cancelGraceMs: 120_000,
    });

    it("up in waves: previews and updates each stack, a failing stack stops the later waves, the engine output in per-stack logs", async () => {
        const lines: string[] = [];
        const report = await runFleet(options([["a"], ["b", "broken"], ["c"]], new AbortController().signal, lines));
        assert.deepStrictEqual(report.stacks.map((s) => [s.stack, s.result]), [["a", "succeeded"], ["b", "succeeded"], ["broken", "failed"], ["c", "skipped"]]);
        assert.strictEqual(report.exitCode, 1);
        const a = report.stacks[0];
        assert.ok(a.changes.create >= 1, "the pet (and, on a first update, the stack) created");
        assert.match(fs.readFileSync(a.logFile, "utf8"), /random:index:RandomPet/);
        assert.match(report.stacks[2].reason!, /fails on purpose|error/);
        const runner = new AutomationRunner(path.join(dir, "project"), env);
        assert.match(String((await runner.outputs("a")).pet.value), /^\w+-\w+$/);
        assert.deepStrictEqual(await runner.outputs("c"), {}, "a later wave never ran");
        const last = await runner.lastUpdate("b");
        assert.deepStrictEqual([last?.kind, last?.result], ["update", "succeeded"]);
        // Waves in order: the first wave's update ended before the second wave's began (the engine's own times).
        const first = await runner.lastUpdate("a");
        assert.ok(first?.endTime && Date.parse(first.endTime) <= Date.parse(last!.startTime), `a ended ${first?.endTime}, b started ${last?.startTime}`);
        // Nothing changed since: drift (refresh --preview-only) finds none.
        const drift = await runFleet({ ...options([["a", "b"]], new AbortController().signal, []), command: "drift" });
        assert.deepStrictEqual(drift.stacks.map((s) => s.result), ["succeeded", "succeeded"]);
    });

    it("Ctrl-C cancels the running update and leaves the stack unlocked", async () => {
        const lines: string[] = [];
        const ctrlC = new AbortController();
        const run = runFleet(options([["slow"]], ctrlC.signal, lines));
        // Wait until the update (not the preview) is running, then cancel.
        while (!lines.some((l) => l.startsWith("slow: update"))) await new Promise((r) => setTimeout(r, 500));
        await new Promise((r) => setTimeout(r, 5_000));
        ctrlC.abort();
        const report = await run;
        assert.strictEqual(report.stacks[0].result, "cancelled");
        assert.ok(lines.includes("slow: cancelled; its lock is released"), lines.join("\n"));
        // No lock left: the file backend keeps locks under .pulumi/locks; another operation runs at once.
        const locks = path.join(dir, "state", ".pulumi", "locks");
        const lockFiles = fs.existsSync(locks) ? execFileSync("find", [locks, "-type", "f"], { encoding: "utf8" }).trim() : "";
        assert.strictEqual(lockFiles, "");
        const after = await runFleet({ ...options([["slow"]], new AbortController().signal, []), command: "refresh" });
        assert.strictEqual(after.stacks[0].result, "succeeded");
    });
});
