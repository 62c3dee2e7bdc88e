import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { main } from "../fleet/cli";
import { main as countryMain } from "../fleet/country";
import { workflowStacks } from "../fleet/stacks";
import { PROJECT_ROOT, readStackFile, stackNames } from "../config/stackFile";
import { FakeRunner } from "./support/fakeRunner";

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string; id?: string };
type Job = { needs?: string | string[]; if?: string; environment?: string; permissions?: Record<string, string>; strategy?: { "fail-fast"?: boolean; "max-parallel"?: number; matrix: { include: string } }; steps: Step[]; outputs?: Record<string, string> };

const read = (file: string) => parse(fs.readFileSync(path.join(PROJECT_ROOT, ".github/workflows", file), "utf8"));
const deploy = read("deploy.yml");
const preview = read("preview.yml");
const jobs = deploy.jobs as Record<string, Job>;
/** Input names of the pinned actions' action.yml (test/fixtures/action-inputs.json, with the commit each was read at). */
const ACTION_INPUTS: Record<string, { inputs: string[] }> = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "test/fixtures/action-inputs.json"), "utf8"));

describe("deploy workflow (.github/workflows/deploy.yml)", () => {
    it("runs on push to main, one deployment at a time, never cancelling one in progress", () => {
        assert.deepStrictEqual(deploy.on, { push: { branches: ["main"] } });
        assert.deepStrictEqual(deploy.concurrency, { group: "deploy", "cancel-in-progress": false });
        assert.deepStrictEqual(deploy.permissions, { contents: "read" });
    });

    it("tests first, then lists the stacks from the stack files (canary from the CANARY_STACKS variable)", () => {
        assert.deepStrictEqual(jobs.test.steps.map((s) => s.run).filter(Boolean), ["npm ci", "npm test"]);
        assert.strictEqual(jobs.stacks.needs, "test");
        const waves = jobs.stacks.steps.find((s) => s.id === "waves")!;
        assert.match(waves.run!, /^npm run --silent fleet -- list --canary "\$CANARY_STACKS" > stacks\.json$/m);
        assert.strictEqual(waves.env!.CANARY_STACKS, "${{ vars.CANARY_STACKS }}");
        assert.deepStrictEqual(jobs.stacks.outputs, { canary: "${{ steps.waves.outputs.canary }}", rest: "${{ steps.waves.outputs.rest }}" });
    });

    it("the list step's command gives both waves, from the stack files, with each stack's region", async () => {
        const out: string[] = [];
        const err: string[] = [];
        const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t), env: {}, signal: new AbortController().signal, runner: new FakeRunner() };
        const canary = stackNames()[0];
        assert.strictEqual(await main(["list", "--canary", canary], io), 0);
        const waves = JSON.parse(out[0]);
        assert.deepStrictEqual(waves.canary, [{ stack: canary, region: readStackFile(canary).config["aws:region"] }]);
        assert.deepStrictEqual(waves.rest.map((w: { stack: string }) => w.stack), stackNames().filter((s) => s !== canary));
        for (const w of waves.rest) assert.strictEqual(w.region, readStackFile(w.stack).config["aws:region"], w.stack);
        // No canary variable: one wave of every stack.
        out.length = 0;
        assert.strictEqual(await main(["list", "--canary", ""], io), 0);
        assert.deepStrictEqual(JSON.parse(out[0]).canary, []);
        assert.strictEqual(JSON.parse(out[0]).rest.length, stackNames().length);
        // A canary without a stack file fails the workflow here, before anything is deployed.
        assert.strictEqual(await main(["list", "--canary", "nosuchstack"], io), 2);
        assert.match(err.join("\n"), /--canary: nosuchstack has no Pulumi.<stack>.yaml/);
    });

    /** What each workflow's list step prints, read back: preview.yml's matrix, deploy.yml's two waves joined. */
    async function bothWorkflowsStacks(root: string, canary: string[]): Promise<{ preview: unknown[]; deploy: { canary: unknown[]; rest: unknown[] } }> {
        const printed = countryMain(["list", "--github-matrix"], root).stdout;
        const out: string[] = [];
        assert.strictEqual(await main(["list", "--canary", canary.join(",")], { out: (t) => out.push(t), err: () => undefined, env: {}, signal: new AbortController().signal, root, runner: new FakeRunner() }), 0);
        return { preview: JSON.parse(printed.slice("matrix=".length)).include, deploy: JSON.parse(out[0]) };
    }

    it("one stack list for both workflows: preview.yml's matrix and deploy.yml's waves are the stack files, each with its file's region", async () => {
        // Both list steps are what the workflows run (asserted above and in test/workflow.test.ts).
        assert.ok(preview.jobs.stacks.steps.some((s: Step) => s.run === 'npm run --silent country -- list --github-matrix >> "$GITHUB_OUTPUT"'));
        const fromFiles = stackNames().map((stack) => ({ stack, region: readStackFile(stack).config["aws:region"] }));
        assert.deepStrictEqual(workflowStacks(), fromFiles);
        for (const canary of [[], [stackNames()[0]], stackNames().slice(-2)]) {
            const { preview: matrix, deploy: waves } = await bothWorkflowsStacks(PROJECT_ROOT, canary);
            assert.deepStrictEqual(matrix, fromFiles, "preview.yml");
            // The deploy's two waves together are the same list (canary first, in the order given; the rest in file order).
            assert.deepStrictEqual([...waves.canary, ...waves.rest].map((w: any) => w.stack).sort(), stackNames().slice().sort(), `deploy.yml, canary ${canary}`);
            assert.deepStrictEqual([...waves.canary, ...waves.rest].sort((a: any, b: any) => a.stack.localeCompare(b.stack)), fromFiles.slice().sort((a, b) => a.stack.localeCompare(b.stack)));
        }
    });

    it("a stack file added or removed changes both workflows' lists alike (a temp project no list of ours knows)", async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "both-lists-"));
        fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: fms-iot\nruntime: nodejs\n");
        const write = (s: string, r: string) => fs.writeFileSync(path.join(root, `Pulumi.${s}.yaml`), `config:\n  aws:region: ${r}\n`);
        write("mx", "us-east-2");
        write("br", "sa-east-1");
        let both = await bothWorkflowsStacks(root, ["mx"]);
        assert.deepStrictEqual(both.preview, [{ stack: "br", region: "sa-east-1" }, { stack: "mx", region: "us-east-2" }]);
        assert.deepStrictEqual(both.deploy, { canary: [{ stack: "mx", region: "us-east-2" }], rest: [{ stack: "br", region: "sa-east-1" }] });
        write("cl", "sa-east-1");
        fs.rmSync(path.join(root, "Pulumi.br.yaml"));
        both = await bothWorkflowsStacks(root, []);
        assert.deepStrictEqual(both.preview, [{ stack: "cl", region: "sa-east-1" }, { stack: "mx", region: "us-east-2" }]);
        assert.deepStrictEqual(both.deploy, { canary: [], rest: both.preview });
    });

    it("a temp project's stack files are what list reports (never a list of our own)", async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-list-"));
        fs.writeFileSync(path.join(root, "Pulumi.yaml"), "name: fms-iot\nruntime: nodejs\n");
        for (const [s, r] of [["mx", "us-east-2"], ["br", "sa-east-1"]]) fs.writeFileSync(path.join(root, `Pulumi.${s}.yaml`), `config:\n  aws:region: ${r}\n`);
        const out: string[] = [];
        assert.strictEqual(await main(["list", "--canary", "mx"], { out: (t) => out.push(t), err: () => undefined, env: {}, signal: new AbortController().signal, root, runner: new FakeRunner() }), 0);
        assert.deepStrictEqual(JSON.parse(out[0]), { canary: [{ stack: "mx", region: "us-east-2" }], rest: [{ stack: "br", region: "sa-east-1" }] });
    });

    for (const wave of ["canary", "rest"]) {
        it(`${wave}: each stack in its own GitHub environment, OIDC credentials for its region, the pinned CLI, fleet up with the guardrails`, () => {
            const job = jobs[wave];
            assert.strictEqual(job.environment, "${{ matrix.stack }}");
            assert.deepStrictEqual(job.permissions, { contents: "read", "id-token": "write" });
            assert.strictEqual(job.strategy!.matrix.include, `\${{ fromJSON(needs.stacks.outputs.${wave}) }}`);
            const steps = job.steps;
            const at = (pred: (s: Step) => boolean) => steps.findIndex(pred);
            const aws = steps[at((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") ?? false)];
            assert.strictEqual(aws.with!["role-to-assume"], "${{ secrets.AWS_ROLE_ARN }}");
            assert.strictEqual(aws.with!["aws-region"], "${{ matrix.region }}");
            const cli = steps[at((s) => s.uses?.startsWith("pulumi/actions@") ?? false)];
            // No command: the action only installs the CLI (pulumi/actions v7 README, "Installation Only").
            assert.deepStrictEqual(cli.with, { "pulumi-version-file": ".pulumi.version" });
            const up = at((s) => s.run?.startsWith("npm run fleet -- up") ?? false);
            assert.strictEqual(steps[up].run, 'npm run fleet -- up --stacks "${{ matrix.stack }}" --policy-pack guardrails --log-dir fleet-logs');
            assert.ok(at((s) => s.run === "npm ci") < up && at((s) => s.run === "npm ci --prefix guardrails") < up);
            assert.ok(steps.indexOf(aws) < up && steps.indexOf(cli) < up);
            assert.deepStrictEqual(Object.keys(steps[up].env!).sort(), ["PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"]);
            assert.strictEqual(steps[up].env!.PULUMI_BACKEND_URL, "${{ vars.PULUMI_BACKEND_URL }}");
            const logs = steps[at((s) => s.uses?.startsWith("actions/upload-artifact@") ?? false)];
            assert.strictEqual(logs.if, "always()");
            assert.strictEqual(logs.with!.path, "fleet-logs/");
        });
    }

    it("the rest waits for every canary, runs without one, and never after a failed one", () => {
        assert.deepStrictEqual(jobs.canary.needs, "stacks");
        assert.strictEqual(jobs.canary.if, "needs.stacks.outputs.canary != '[]'");
        assert.deepStrictEqual(jobs.rest.needs, ["stacks", "canary"]);
        const cond = jobs.rest.if!;
        assert.match(cond, /^always\(\) && /, "runs when the canary job was skipped (no canary)");
        assert.match(cond, /needs\.stacks\.result == 'success'/);
        assert.match(cond, /\(needs\.canary\.result == 'success' \|\| needs\.canary\.result == 'skipped'\)/);
        assert.doesNotMatch(cond, /failure|cancelled/);
        assert.match(cond, /needs\.stacks\.outputs\.rest != '\[\]'/);
        // Every canary runs to its end (fail-fast off) so its summary says what happened.
        assert.strictEqual(jobs.canary.strategy!["fail-fast"], false);
    });

    it("keeps the PR workflow's pins: Node.js from .nvmrc, the CLI from .pulumi.version, the same action versions", () => {
        const uses = (wf: { jobs: Record<string, Job> }) => new Set(Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.uses).filter(Boolean)));
        for (const u of uses(preview)) {
            const name = u!.split("@")[0];
            const mine = [...uses(deploy)].find((d) => d!.startsWith(`${name}@`));
            if (mine) assert.strictEqual(mine, u, `${name}: the same pin in both workflows`);
        }
        for (const job of Object.values(jobs)) {
            const node = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))!;
            assert.strictEqual(node.with!["node-version-file"], ".nvmrc");
        }
    });

    it("the fleet's runtime needs are dependencies (status reads alarms with the CloudWatch SDK; the Automation API is @pulumi/pulumi's)", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
        assert.ok(pkg.dependencies["@aws-sdk/client-cloudwatch"] && !pkg.devDependencies["@aws-sdk/client-cloudwatch"]);
        assert.ok(pkg.dependencies["@pulumi/pulumi"] && pkg.dependencies["@pulumi/random"]);
        assert.strictEqual(pkg.scripts.fleet, "ts-node --transpile-only fleet/cli.ts");
    });

    it("every action input either workflow passes exists in the pinned action's action.yml", () => {
        for (const [file, wf] of [["deploy.yml", deploy], ["preview.yml", preview]] as const) {
            for (const [name, job] of Object.entries(wf.jobs as Record<string, Job>)) {
                for (const step of job.steps) {
                    if (!step.uses) continue;
                    const pinned = ACTION_INPUTS[step.uses];
                    assert.ok(pinned, `${file} ${name}: ${step.uses} is not in test/fixtures/action-inputs.json (record its inputs at that pin)`);
                    for (const input of Object.keys(step.with ?? {})) assert.ok(pinned.inputs.includes(input), `${file} ${name}: ${step.uses} has no input ${input}`);
                }
            }
        }
    });
});
