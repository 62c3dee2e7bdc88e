import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROTECTED_TYPES } from "../fleet/gates";
import { FleetOptions, FleetReport, runFleet } from "../fleet/fleet";
import { OperationError, StackLockedError } from "../fleet/runner";
import { planWaves, UsageError } from "../fleet/waves";
import { FakeRunner, outcome } from "./support/fakeRunner";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "fleet-"));
const until = async (cond: () => boolean) => { while (!cond()) await new Promise((r) => setImmediate(r)); };

function options(runner: FakeRunner, waves: string[][], extra: Partial<FleetOptions> = {}): FleetOptions & { lines: string[] } {
    const lines: string[] = [];
    return {
        command: "up", waves, runner, parallel: 4, allowReplace: [], policyPacks: ["/pack"], logDir: tmp(),
        place: (s) => ({ region: `region-of-${s}`, account: "111122223333" }),
        progress: (l) => lines.push(l), signal: new AbortController().signal, cancelGraceMs: 50, sigintDelayMs: 0, lines, ...extra,
    };
}
const result = (r: FleetReport, stack: string) => r.stacks.find((s) => s.stack === stack)!;

describe("fleet waves (--waves, --stacks)", () => {
    const known = ["au", "dev", "jp", "kr", "us"];
    it("orders the stacks as the waves say; rest is every selected stack not named, in stack-file order", () => {
        assert.deepStrictEqual(planWaves(known, "dev;kr,jp;rest"), [["dev"], ["kr", "jp"], ["au", "us"]]);
        assert.deepStrictEqual(planWaves(known, "rest;dev"), [["au", "jp", "kr", "us"], ["dev"]]);
        assert.deepStrictEqual(planWaves(known, "dev;rest", ["dev", "jp"]), [["dev"], ["jp"]]);
        // rest with nothing left is no wave at all.
        assert.deepStrictEqual(planWaves(known, "dev;rest", ["dev"]), [["dev"]]);
        assert.deepStrictEqual(planWaves(known, undefined, ["kr", "dev"]), [["kr", "dev"]]);
        assert.deepStrictEqual(planWaves(known, undefined), [known]);
    });

    it("refuses a stack without a stack file, a stack twice, rest inside a wave, and waves that leave stacks out", () => {
        const bad: [string | undefined, string[] | undefined, RegExp][] = [
            ["dev;mx;rest", undefined, /--waves: mx has no Pulumi.<stack>.yaml \(stacks: au, dev, jp, kr, us\)/],
            [undefined, ["dev", "mx"], /--stacks: mx has no Pulumi/],
            ["dev;dev,kr;rest", undefined, /dev is in more than one wave/],
            ["dev,rest;kr", undefined, /"rest" is a wave of its own/],
            ["rest;rest", undefined, /"rest" is a wave of its own/],
            ["dev;;rest", undefined, /an empty wave/],
            ["dev;kr", undefined, /leaves out au, jp, us: name them, or end with ";rest"/],
            ["dev;jp", ["dev"], /--waves names jp, which --stacks leaves out/],
        ];
        for (const [spec, stacks, message] of bad) assert.throws(() => planWaves(known, spec, stacks), (e: Error) => e instanceof UsageError && message.test(e.message), `${spec} ${stacks}`);
    });
});

describe("fleet run (injected runner)", () => {
    it("up previews each stack with the guardrails, then updates it; a wave starts only after the one before ended", async () => {
        const runner = new FakeRunner();
        const seen: string[][] = [];
        for (const s of ["dev", "kr", "jp", "us"]) {
            runner.on("preview", s, async (_s, o) => { seen.push(o.policyPacks); return outcome({ changes: { create: 1, update: 2, replace: 0, delete: 0 } }); });
        }
        const report = await runFleet(options(runner, [["dev"], ["kr", "jp"], ["us"]]));
        assert.strictEqual(report.exitCode, 0);
        assert.ok(seen.every((p) => p[0] === "/pack") && seen.length === 4);
        const at = (c: string) => runner.calls.indexOf(c);
        for (const s of ["dev", "kr", "jp", "us"]) assert.ok(at(`end preview ${s}`) < at(`up ${s}`), s);
        assert.ok(at("end up dev") < at("preview kr") && at("end up dev") < at("preview jp"));
        assert.ok(Math.max(at("end up kr"), at("end up jp")) < at("preview us"));
        assert.deepStrictEqual(report.stacks.map((s) => [s.stack, s.wave, s.result]), [["dev", 1, "succeeded"], ["kr", 2, "succeeded"], ["jp", 2, "succeeded"], ["us", 3, "succeeded"]]);
    });

    it("--parallel bounds the stacks running at once inside a wave (and the bound is reached)", async () => {
        for (const parallel of [1, 2, 3]) {
            const runner = new FakeRunner();
            const stacks = ["a", "b", "c", "d", "e", "f", "g"];
            const report = await runFleet(options(runner, [stacks], { parallel }));
            assert.strictEqual(report.exitCode, 0);
            assert.strictEqual(runner.maxRunning, parallel, `--parallel ${parallel}`);
        }
    });

    it("a failing stack stops later waves: they are reported skipped with the reason, and the exit code is 1", async () => {
        const runner = new FakeRunner().on("up", "kr", async () => { throw new OperationError("error: creating IoT policy: AccessDenied", outcome()); });
        const report = await runFleet(options(runner, [["dev"], ["kr", "jp"], ["us", "au"]]));
        assert.strictEqual(report.exitCode, 1);
        assert.deepStrictEqual(report.stacks.map((s) => s.result), ["succeeded", "failed", "succeeded", "skipped", "skipped"]);
        assert.strictEqual(result(report, "kr").reason, "error: creating IoT policy: AccessDenied");
        assert.strictEqual(result(report, "us").reason, "not started: wave 2 did not succeed (kr)");
        assert.ok(!runner.calls.some((c) => / (us|au)$/.test(c)), "no operation on a later wave");
    });

    it("a failure inside a wave starts no further stack of that wave (they are skipped, not run)", async () => {
        const runner = new FakeRunner().on("preview", "a", async () => { throw new Error("error: preview failed"); });
        const report = await runFleet(options(runner, [["a", "b", "c"]], { parallel: 1 }));
        assert.deepStrictEqual(report.stacks.map((s) => s.result), ["failed", "skipped", "skipped"]);
        assert.match(result(report, "b").reason!, /another stack of wave 1 did not succeed/);
        assert.deepStrictEqual(runner.calls, ["preview a", "end preview a"]);
    });

    it("a preview that would replace or delete a protected resource stops the wave, unless --allow-replace names it", async () => {
        const table = "urn:pulumi:kr::fms-iot::fms:iot:FleetProvisioning$aws:dynamodb/table:Table::fms-kr-registry";
        const policy = "urn:pulumi:kr::fms-iot::aws:iot/policy:Policy::fms-kr-device";
        const steps = [
            { urn: table, type: "aws:dynamodb/table:Table", op: "replace", protect: true },
            { urn: policy, type: "aws:iot/policy:Policy", op: "replace", protect: false },
        ];
        const runner = () => new FakeRunner().on("preview", "kr", async () => outcome({ steps, changes: { create: 0, update: 0, replace: 2, delete: 0 } }));
        const blocked = await runFleet(options(runner(), [["kr"], ["jp"]]));
        assert.strictEqual(result(blocked, "kr").result, "blocked");
        assert.match(result(blocked, "kr").reason!, /would replace urn:pulumi:kr::.*registry \(protect\): if intended, rerun with --allow-replace <urn>/);
        assert.doesNotMatch(result(blocked, "kr").reason!, /fms-kr-device/, "an unprotected replacement is no gate");
        assert.strictEqual(result(blocked, "jp").result, "skipped");
        assert.strictEqual(blocked.exitCode, 1);
        const r = runner();
        const allowed = await runFleet(options(r, [["kr"], ["jp"]], { allowReplace: [table] }));
        assert.deepStrictEqual(allowed.stacks.map((s) => s.result), ["succeeded", "succeeded"]);
        assert.ok(r.calls.includes("up kr"));
    });

    it("the project's protected types are gated on a stack that protects nothing (dev): a key deletion, a bucket replacement", async () => {
        for (const [type, op] of [["aws:kms/key:Key", "delete"], ["aws:s3/bucket:Bucket", "delete-replaced"], ["aws:dynamodb/table:Table", "create-replacement"]]) {
            assert.ok(PROTECTED_TYPES.includes(type));
            const urn = `urn:pulumi:dev::fms-iot::${type}::x`;
            const runner = new FakeRunner().on("preview", "dev", async () => outcome({ steps: [{ urn, type, op, protect: false }] }));
            const report = await runFleet(options(runner, [["dev"]]));
            assert.strictEqual(result(report, "dev").result, "blocked", type);
            assert.match(result(report, "dev").reason!, new RegExp(`${op} ${urn.replace(/[$]/g, "\\$")} \\(protected type\\)`));
            assert.ok(!runner.calls.includes("up dev"));
        }
        // Updating a protected resource in place is what protection allows.
        const runner = new FakeRunner().on("preview", "dev", async () => outcome({ steps: [{ urn: "urn:pulumi:dev::fms-iot::aws:kms/key:Key::k", type: "aws:kms/key:Key", op: "update", protect: true }] }));
        assert.strictEqual(result(await runFleet(options(runner, [["dev"]])), "dev").result, "succeeded");
    });

    it("a mandatory guardrail violation stops the wave, whether the preview reports it or fails on it; an advisory one does not", async () => {
        const violation = { pack: "fms-iot-guardrails", policy: "iot-policy-least-privilege", urn: "urn:pulumi:jp::fms-iot::aws:iot/policy:Policy::p", message: "iot:* on *" };
        const reported = new FakeRunner().on("preview", "jp", async () => outcome({ violations: [{ ...violation, level: "mandatory" }] }));
        const r1 = await runFleet(options(reported, [["jp"], ["kr"]]));
        assert.strictEqual(result(r1, "jp").result, "blocked");
        assert.match(result(r1, "jp").reason!, /mandatory guardrail violation: iot-policy-least-privilege on urn:pulumi:jp::/);
        assert.ok(!reported.calls.includes("up jp") && !reported.calls.includes("preview kr"));
        assert.strictEqual(result(r1, "jp").violations.length, 1);
        const failed = new FakeRunner().on("preview", "jp", async () => { throw new OperationError("error: preview failed", outcome({ violations: [{ ...violation, level: "mandatory" }] })); });
        assert.strictEqual(result(await runFleet(options(failed, [["jp"]])), "jp").result, "blocked");
        const advisory = new FakeRunner().on("preview", "jp", async () => outcome({ violations: [{ ...violation, level: "advisory" }] }));
        assert.strictEqual(result(await runFleet(options(advisory, [["jp"]])), "jp").result, "succeeded");
    });

    it("a stack locked by another update is reported locked at once, not waited on; the fleet goes no further", async () => {
        const runner = new FakeRunner().on("preview", "kr", async () => { throw new StackLockedError("kr", "the stack is currently locked by 1 lock(s)"); });
        const report = await runFleet(options(runner, [["kr"], ["jp"]]));
        assert.strictEqual(result(report, "kr").result, "locked");
        assert.match(result(report, "kr").reason!, /kr is locked by another update .*pulumi cancel --stack kr/);
        assert.deepStrictEqual(runner.calls, ["preview kr", "end preview kr"]);
        assert.strictEqual(report.exitCode, 1);
    });

    it("Ctrl-C cancels the running stacks through the runner (no lock left), starts no new one, and reports each", async () => {
        const runner = new FakeRunner().hold("up", "a").hold("up", "b");
        const ctrlC = new AbortController();
        const o = options(runner, [["a", "b", "c"], ["d"]], { parallel: 2, signal: ctrlC.signal });
        const run = runFleet(o);
        await until(() => runner.held.has("up a") && runner.held.has("up b"));
        ctrlC.abort();
        const report = await run;
        assert.deepStrictEqual(runner.cancelled.sort(), ["a", "b"]);
        assert.deepStrictEqual(report.stacks.map((s) => [s.stack, s.result]), [["a", "cancelled"], ["b", "cancelled"], ["c", "skipped"], ["d", "skipped"]]);
        assert.match(result(report, "c").reason!, /not started: cancelled \(Ctrl-C\)/);
        assert.ok(!runner.calls.some((c) => / [cd]$/.test(c)), "nothing started after Ctrl-C");
        assert.ok(o.lines.includes("a: cancelled; its lock is released"));
        assert.strictEqual(report.exitCode, 1);
    });

    it("a CLI that got the terminal's Ctrl-C itself (it says \"^C received; cancelling\") gets no second SIGINT, which would terminate it at once", async () => {
        let signalled: boolean | undefined;
        const runner = new FakeRunner().on("up", "a", (_s, o) => new Promise((_resolve, reject) => {
            // The CLI's words on its first SIGINT (pulumi/pulumi pkg/backend/cancellation_scope.go:88).
            o.log("^C received; cancelling. If you would like to terminate immediately, press ^C again.\n");
            setTimeout(() => { signalled = o.signal.aborted; reject(new Error("error: update canceled")); }, 100);
        }));
        const ctrlC = new AbortController();
        const run = runFleet(options(runner, [["a"]], { signal: ctrlC.signal, sigintDelayMs: 20 }));
        await until(() => runner.calls.includes("up a"));
        ctrlC.abort();
        const report = await run;
        assert.strictEqual(signalled, false, "no second SIGINT");
        assert.deepStrictEqual(runner.cancelled, ["a"], "the lock is still released");
        assert.strictEqual(report.stacks[0].result, "cancelled");
    });

    it("Ctrl-C during a preview that still completes: the update never starts", async () => {
        const ctrlC = new AbortController();
        let previewing = false;
        const runner = new FakeRunner().on("preview", "a", () => new Promise((resolve) => {
            previewing = true;
            ctrlC.signal.addEventListener("abort", () => resolve(outcome()));
        }));
        const run = runFleet(options(runner, [["a"]], { signal: ctrlC.signal, sigintDelayMs: 1_000 }));
        await until(() => previewing);
        ctrlC.abort();
        const report = await run;
        assert.ok(!runner.calls.includes("up a"));
        assert.strictEqual(report.stacks[0].result, "cancelled");
        assert.match(report.stacks[0].reason!, /cancelled before the update started/);
    });

    it("a stack whose operation ignores SIGINT is still cancelled after the grace period", async () => {
        const runner = new FakeRunner().on("up", "a", () => new Promise(() => undefined));
        const ctrlC = new AbortController();
        const run = runFleet(options(runner, [["a"]], { signal: ctrlC.signal, cancelGraceMs: 10 }));
        await until(() => runner.calls.includes("up a"));
        ctrlC.abort();
        await until(() => runner.cancelled.includes("a"));
        void run;
    });

    it("engine output goes to one log file per stack, the terminal gets one progress line per state change", async () => {
        const runner = new FakeRunner();
        const o = options(runner, [["dev", "kr"]]);
        const report = await runFleet(o);
        for (const s of report.stacks) {
            assert.strictEqual(s.logFile, path.join(o.logDir, `${s.stack}.log`));
            const log = fs.readFileSync(s.logFile, "utf8");
            assert.match(log, new RegExp(`engine output of preview ${s.stack}\n`));
            assert.match(log, new RegExp(`engine output of up ${s.stack}\n`));
            assert.match(log, /# fleet: succeeded\n$/);
        }
        assert.ok(!o.lines.some((l) => l.includes("engine output")));
        assert.deepStrictEqual(o.lines.filter((l) => l.startsWith("dev:")).map((l) => l.replace(/ in \d+s/, "")), ["dev: preview", "dev: update +0 ~0 ±0 -0", "dev: succeeded +0 ~0 ±0 -0"]);
    });

    it("drift reports the resources refresh --preview-only found changed (update) or gone (delete), and exits 1", async () => {
        const runner = new FakeRunner().on("drift", "kr", async () => outcome({
            changes: { create: 0, update: 1, replace: 0, delete: 1 },
            steps: [
                { urn: "urn:pulumi:kr::fms-iot::aws:iot/policy:Policy::p", type: "aws:iot/policy:Policy", op: "update", protect: false },
                { urn: "urn:pulumi:kr::fms-iot::aws:sns/topic:Topic::t", type: "aws:sns/topic:Topic", op: "delete", protect: false },
                { urn: "urn:pulumi:kr::fms-iot::aws:kms/key:Key::k", type: "aws:kms/key:Key", op: "same", protect: true },
            ],
        }));
        const report = await runFleet(options(runner, [["kr"], ["jp"]], { command: "drift" }));
        assert.deepStrictEqual(result(report, "kr").drift, [
            { urn: "urn:pulumi:kr::fms-iot::aws:iot/policy:Policy::p", op: "update" },
            { urn: "urn:pulumi:kr::fms-iot::aws:sns/topic:Topic::t", op: "delete" },
        ]);
        assert.strictEqual(result(report, "kr").result, "drifted");
        // Drift changes nothing: every stack is read, whatever an earlier one found.
        assert.strictEqual(result(report, "jp").result, "succeeded");
        assert.ok(!runner.calls.some((c) => c.startsWith("up") || c.startsWith("preview")));
        assert.strictEqual(report.exitCode, 1);
    });

    it("refresh refreshes each stack (no preview, no policy gate)", async () => {
        const runner = new FakeRunner();
        const report = await runFleet(options(runner, [["dev"], ["kr"]], { command: "refresh" }));
        assert.deepStrictEqual(runner.calls, ["refresh dev", "end refresh dev", "refresh kr", "end refresh kr"]);
        assert.strictEqual(report.exitCode, 0);
    });

    it("preview stops at a gate as up does, and never updates", async () => {
        const runner = new FakeRunner().on("preview", "dev", async () => outcome({ steps: [{ urn: "urn:pulumi:dev::fms-iot::aws:kms/key:Key::k", type: "aws:kms/key:Key", op: "delete", protect: false }] }));
        const report = await runFleet(options(runner, [["dev"], ["kr"]], { command: "preview" }));
        assert.deepStrictEqual(report.stacks.map((s) => s.result), ["blocked", "skipped"]);
        assert.ok(!runner.calls.some((c) => c.startsWith("up")));
    });
});
