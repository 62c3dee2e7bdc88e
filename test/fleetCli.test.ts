import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { main, parseArgs } from "../fleet/cli";
import { FleetReport } from "../fleet/fleet";
import { OperationError } from "../fleet/runner";
import { AlarmReader, CloudWatchAlarms, StatusReport } from "../fleet/status";
import { AwsTarget } from "../components/iotSdk";
import { FakeRunner, outcome } from "./support/fakeRunner";

/** A project of its own: Pulumi.yaml and one stack file per stack (the CLI lists stacks from the files). */
function project(stacks: Record<string, { region: string; account?: string; profile?: string }>): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cli-"));
    fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: fms-iot\nruntime: nodejs\n");
    for (const [stack, s] of Object.entries(stacks)) {
        fs.writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), [
            "config:", `  aws:region: ${s.region}`, `  fms-iot:namePrefix: fms-${stack}`,
            ...(s.account ? ["  aws:allowedAccountIds:", `    - "${s.account}"`] : []),
            ...(s.profile ? [`  aws:profile: ${s.profile}`] : []), "",
        ].join("\n"));
    }
    fs.mkdirSync(path.join(root, "guardrails", "node_modules"), { recursive: true });
    return root;
}

function io(root: string, runner: FakeRunner, extra: { env?: Record<string, string>; alarms?: AlarmReader } = {}) {
    const out: string[] = [];
    const err: string[] = [];
    return {
        out, err,
        io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: extra.env ?? {}, signal: new AbortController().signal, root, runner, alarms: extra.alarms, cancelGraceMs: 10 },
    };
}

const STACKS = { dev: { region: "ap-northeast-2", account: "111122223333" }, kr: { region: "ap-northeast-2", account: "111122223333" }, us: { region: "us-east-1" } };

describe("npm run fleet (the CLI)", () => {
    it("takes the stacks from the stack files and prints the table: stack, region, account, changes, duration, result, log file", async () => {
        const root = project(STACKS);
        const runner = new FakeRunner().on("up", "kr", async () => outcome({ changes: { create: 3, update: 1, replace: 0, delete: 2 } }));
        const r = io(root, runner);
        const code = await main(["up", "--waves", "dev;rest", "--policy-pack", path.join(root, "guardrails"), "--log-dir", path.join(root, "logs")], r.io);
        assert.strictEqual(code, 0);
        const table = r.out[r.out.length - 1].trim().split("\n");
        assert.match(table[0], /^STACK +WAVE +REGION +ACCOUNT +CREATE +UPDATE +REPLACE +DELETE +DURATION +RESULT +LOG$/);
        const kr = table.find((l) => l.startsWith("kr "))!.split(/ +/);
        assert.deepStrictEqual(kr.slice(0, 8), ["kr", "2", "ap-northeast-2", "111122223333", "3", "1", "0", "2"]);
        assert.deepStrictEqual(kr.slice(9), ["succeeded", path.join(root, "logs", "kr.log")]);
        assert.deepStrictEqual(table.find((l) => l.startsWith("us "))!.split(/ +/).slice(0, 4), ["us", "2", "us-east-1", "-"]);
        // The progress lines came before the table, one per state change.
        assert.ok(r.out.includes("wave 1: dev") && r.out.includes("wave 2: kr, us"));
        assert.ok(runner.calls.indexOf("end up dev") < runner.calls.indexOf("preview kr"));
    });

    it("--json prints one document on stdout (progress on stderr), its shape the contract in docs/operations.md, and exits 1 on a failure", async () => {
        const root = project(STACKS);
        const runner = new FakeRunner().on("up", "dev", async () => { throw new OperationError("error: boom", outcome()); });
        const r = io(root, runner);
        const code = await main(["up", "--waves", "dev;rest", "--json", "--policy-pack", path.join(root, "guardrails"), "--log-dir", path.join(root, "logs")], r.io);
        assert.strictEqual(code, 1);
        assert.strictEqual(r.out.length, 1);
        const report: FleetReport = JSON.parse(r.out[0]);
        assert.deepStrictEqual(Object.keys(report), ["command", "waves", "stacks", "exitCode"]);
        assert.deepStrictEqual(report.waves, [["dev"], ["kr", "us"]]);
        assert.strictEqual(report.exitCode, 1);
        const [dev, kr] = report.stacks;
        assert.deepStrictEqual(Object.keys(dev).sort(), ["account", "changes", "durationSeconds", "logFile", "reason", "region", "result", "stack", "violations", "wave"]);
        assert.deepStrictEqual(dev.changes, { create: 0, update: 0, replace: 0, delete: 0 });
        assert.deepStrictEqual([dev.result, dev.reason, kr.result], ["failed", "error: boom", "skipped"]);
        assert.strictEqual(kr.logFile, "", "a stack never started has no log");
        assert.ok(r.err.includes("wave 1: dev"));
    });

    it("in GitHub Actions the table is also appended to the job summary, as Markdown", async () => {
        const root = project(STACKS);
        const summary = path.join(root, "summary.md");
        fs.writeFileSync(summary, "earlier step\n");
        const r = io(root, new FakeRunner(), { env: { GITHUB_STEP_SUMMARY: summary } });
        assert.strictEqual(await main(["preview", "--stacks", "us", "--policy-pack", path.join(root, "guardrails"), "--log-dir", path.join(root, "l")], r.io), 0);
        const md = fs.readFileSync(summary, "utf8").split("\n");
        assert.strictEqual(md[0], "earlier step");
        assert.strictEqual(md[1], "### fleet preview");
        assert.strictEqual(md[3], "| STACK | WAVE | REGION | ACCOUNT | CREATE | UPDATE | REPLACE | DELETE | DURATION | RESULT | LOG |");
        assert.match(md[5], /^\| us \| 1 \| us-east-1 \| - \| 0 \| 0 \| 0 \| 0 \| \d+s \| succeeded \| .*us\.log \|$/);
    });

    it("bad usage is one line and exit 2, before any stack is touched", async () => {
        const root = project(STACKS);
        const cases: [string[], RegExp][] = [
            [[], /^usage: npm run fleet -- <preview\|up\|refresh\|drift\|status>/],
            [["destroy"], /^unknown command destroy/],
            [["up", "--parallel", "0"], /--parallel 0: a whole number of stacks, at least 1/],
            [["up", "--parallel"], /--parallel needs a value/],
            [["up", "--stacks", "mx"], /--stacks: mx has no Pulumi.<stack>.yaml \(stacks: dev, kr, us\)/],
            [["up", "--waves", "dev;kr"], /leaves out us/],
            [["up", "--allow-replace", "registry"], /--allow-replace registry: a resource URN/],
            [["up", "--force"], /unknown flag --force/],
            [["status", "--waves", "dev;rest"], /status takes --stacks, --parallel and --json only/],
        ];
        for (const [argv, message] of cases) {
            const runner = new FakeRunner();
            const r = io(root, runner);
            assert.strictEqual(await main(argv, r.io), 2, argv.join(" "));
            assert.match(r.err.join("\n"), message, argv.join(" "));
            assert.deepStrictEqual(runner.calls, []);
        }
    });

    it("without a pulumi CLI on PATH (as here) the real runner is not tried: one line saying so, exit 2", async function () {
        const which = require("child_process").spawnSync("pulumi", ["version"]);
        if (!(which.error && which.error.code === "ENOENT")) this.skip();
        const root = project(STACKS);
        const err: string[] = [];
        const code = await main(["preview", "--policy-pack", path.join(root, "guardrails")], { out: () => undefined, err: (t) => err.push(t), env: {}, signal: new AbortController().signal, root });
        assert.strictEqual(code, 2);
        assert.deepStrictEqual(err, ["the pulumi CLI is not on PATH: the fleet drives it through Pulumi's Automation API (install: https://www.pulumi.com/docs/install/)"]);
    });

    it("up and preview refuse to run without the policy pack's dependencies (the guardrails would not load)", async () => {
        const root = project(STACKS);
        const pack = path.join(root, "bare-pack");
        fs.mkdirSync(pack);
        const runner = new FakeRunner();
        const r = io(root, runner);
        assert.strictEqual(await main(["up", "--policy-pack", pack], r.io), 2);
        assert.match(r.err[0], /the policy pack's dependencies are not installed: npm ci --prefix/);
        assert.deepStrictEqual(runner.calls, []);
        // The default pack is the project's guardrails/.
        assert.strictEqual(parseArgs(["up"]).policyPack, path.join(__dirname, "..", "guardrails"));
        assert.deepStrictEqual(parseArgs(["up", "--allow-replace", "urn:pulumi:a::b::c::d", "--allow-replace", "urn:pulumi:a::b::c::e"]).allowReplace, ["urn:pulumi:a::b::c::d", "urn:pulumi:a::b::c::e"]);
    });
});

describe("npm run fleet -- status", () => {
    const topic = (stack: string) => `arn:aws:sns:ap-northeast-2:111122223333:fms-${stack}-iot-operations`;
    function statusRunner(): FakeRunner {
        const runner = new FakeRunner();
        for (const s of ["dev", "kr"]) {
            runner.outputsOf.set(s, { dashboardUrl: { value: `https://console.aws.amazon.com/cloudwatch/home?region=ap-northeast-2#dashboards/dashboard/fms-${s}-fleet`, secret: false }, operationsTopicArn: { value: topic(s), secret: false } });
            runner.updates.set(s, { kind: "update", result: "succeeded", startTime: "2026-12-01T10:00:00.000Z", endTime: "2026-12-01T10:05:00.000Z", who: "Ana Kim via GitHub Actions" });
        }
        return runner;
    }

    it("one table for the fleet: last update (time, result, who), the alarms in ALARM, the dashboard; exit 1 when any fires", async () => {
        const root = project({ dev: STACKS.dev, kr: STACKS.kr });
        const asked: [AwsTarget, string, string | undefined][] = [];
        const alarms: AlarmReader = { inAlarm: async (t, prefix, topicArn) => { asked.push([t, prefix, topicArn]); return prefix === "fms-kr-" ? ["fms-kr-hook-errors"] : []; } };
        const r = io(root, statusRunner(), { alarms });
        assert.strictEqual(await main(["status"], r.io), 1);
        const lines = r.out[0].split("\n");
        assert.match(lines[0], /^STACK +REGION +ACCOUNT +LAST UPDATE +BY +IN ALARM +DASHBOARD$/);
        assert.match(lines.find((l) => l.startsWith("kr "))!, /update succeeded 2026-12-01T10:05:00.000Z +Ana Kim via GitHub Actions +fms-kr-hook-errors +https:\/\/console.aws.amazon.com\/cloudwatch\/home\?region=ap-northeast-2#dashboards\/dashboard\/fms-kr-fleet$/);
        assert.match(lines.find((l) => l.startsWith("dev "))!, / none +https:/);
        // Each stack's alarms are read in its own region, with its account pinned, filtered to its own topic.
        assert.deepStrictEqual(asked.sort((a, b) => a[1].localeCompare(b[1])), [
            [{ region: "ap-northeast-2", allowedAccountIds: ["111122223333"] }, "fms-dev-", topic("dev")],
            [{ region: "ap-northeast-2", allowedAccountIds: ["111122223333"] }, "fms-kr-", topic("kr")],
        ]);
    });

    it("--json; a stack whose alarms cannot be read is an error in its row and exit 1, never 'none'", async () => {
        const root = project({ dev: STACKS.dev, kr: STACKS.kr });
        const alarms: AlarmReader = { inAlarm: async (_t, prefix) => { if (prefix === "fms-dev-") throw new Error("ExpiredToken: the security token included in the request is expired"); return []; } };
        const r = io(root, statusRunner(), { alarms });
        assert.strictEqual(await main(["status", "--json"], r.io), 1);
        const report: StatusReport = JSON.parse(r.out[0]);
        assert.deepStrictEqual(Object.keys(report), ["command", "stacks", "exitCode"]);
        const dev = report.stacks.find((s) => s.stack === "dev")!;
        assert.strictEqual(dev.alarms, undefined);
        assert.match(dev.error!, /^alarms: ExpiredToken/);
        assert.deepStrictEqual(report.stacks.find((s) => s.stack === "kr")!.alarms, []);
    });

    it("CloudWatchAlarms: DescribeAlarms for ALARM state under the stack's prefix, every page, only alarms notifying the stack's topic, after the account check", async () => {
        const cw = mockClient(CloudWatchClient);
        try {
            cw.on(DescribeAlarmsCommand, { NextToken: undefined }).resolves({
                MetricAlarms: [
                    { AlarmName: "fms-kr-hook-errors", AlarmActions: [topic("kr")] },
                    // Another stack whose prefix extends ours (fms-kr-x): not ours.
                    { AlarmName: "fms-kr-x-hook-errors", AlarmActions: ["arn:aws:sns:ap-northeast-2:111122223333:fms-kr-x-iot-operations"] },
                ],
                NextToken: "page2",
            });
            cw.on(DescribeAlarmsCommand, { NextToken: "page2" }).resolves({ CompositeAlarms: [{ AlarmName: "fms-kr-all", AlarmActions: [topic("kr")] }] });
            const checked: AwsTarget[] = [];
            const targets: AwsTarget[] = [];
            const reader = new CloudWatchAlarms((t) => { targets.push(t); return new CloudWatchClient({ region: t.region }); }, async (t) => { checked.push(t); });
            const target = { region: "ap-northeast-2", profile: "fms-kr", allowedAccountIds: ["111122223333"] };
            assert.deepStrictEqual(await reader.inAlarm(target, "fms-kr-", topic("kr")), ["fms-kr-all", "fms-kr-hook-errors"]);
            assert.deepStrictEqual([checked, targets], [[target], [target]]);
            const calls = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
            assert.strictEqual(calls.length, 2);
            for (const input of calls) {
                assert.strictEqual(input.StateValue, "ALARM");
                assert.strictEqual(input.AlarmNamePrefix, "fms-kr-");
                assert.deepStrictEqual(input.AlarmTypes, ["MetricAlarm", "CompositeAlarm"]);
            }
            // Credentials for the wrong account: the check throws, nothing is read (no false "none").
            const refusing = new CloudWatchAlarms(() => new CloudWatchClient({ region: "x" }), async () => { throw new Error("the credentials are for account 999999999999"); });
            await assert.rejects(refusing.inAlarm(target, "fms-kr-", topic("kr")), /999999999999/);
            assert.strictEqual(cw.commandCalls(DescribeAlarmsCommand).length, 2);
        } finally {
            cw.restore();
        }
    });
});
