import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT_ROOT, readStackFile, stackNames } from "../config/stackFile";
import { main as countryCli } from "../fleet/country";

const workflow = parse(fs.readFileSync(path.join(PROJECT_ROOT, ".github/workflows/preview.yml"), "utf8"));
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };

describe("PR preview workflow", () => {
    it("runs on pull requests", () => {
        assert.ok(workflow.on.pull_request);
    });

    it("installs, tests and plans every stack offline, in that order", () => {
        const runs = (workflow.jobs["test-and-plan"].steps as Step[]).map((s) => s.run).filter(Boolean);
        assert.deepStrictEqual(runs, ["npm ci", "npm test", "npm run plan -- --all"]);
    });

    it("previews every stack with the guardrails and comments on the PR, with OIDC credentials for that stack's region", () => {
        const job = workflow.jobs.preview;
        assert.deepStrictEqual(job.needs, ["stacks", "test-and-plan"]);
        assert.strictEqual(job.permissions["id-token"], "write");
        assert.strictEqual(job.permissions["pull-requests"], "write");
        // The matrix is the first job's output: what `npm run country -- list --github-matrix` prints from the stack files.
        assert.strictEqual(job.strategy.matrix, "${{ fromJSON(needs.stacks.outputs.matrix) }}");
        const list = workflow.jobs.stacks;
        assert.strictEqual(list.outputs.matrix, "${{ steps.list.outputs.matrix }}");
        const listSteps = list.steps as (Step & { id?: string })[];
        assert.ok(listSteps.findIndex((s) => s.run === "npm ci") < listSteps.findIndex((s) => s.id === "list"));
        assert.strictEqual(listSteps.find((s) => s.id === "list")!.run, 'npm run --silent country -- list --github-matrix >> "$GITHUB_OUTPUT"');
        const printed = countryCli(["list", "--github-matrix"]).stdout;
        // GITHUB_OUTPUT takes name=value lines (docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#setting-an-output-parameter).
        assert.match(printed, /^matrix=\{.*\}\n$/);
        const matrix = JSON.parse(printed.slice("matrix=".length)).include as { stack: string; region: string }[];
        assert.deepStrictEqual(matrix.map((m) => m.stack), stackNames());
        for (const m of matrix) assert.strictEqual(m.region, readStackFile(m.stack).config["aws:region"], m.stack);
        const steps = job.steps as Step[];
        const aws = steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))!;
        assert.strictEqual(aws.with!["role-to-assume"], "${{ secrets.AWS_ROLE_ARN }}");
        assert.strictEqual(aws.with!["aws-region"], "${{ matrix.region }}");
        const pulumi = steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
        assert.ok(steps.indexOf(aws) < steps.indexOf(pulumi) && steps.some((s) => s.run === "npm ci"));
        assert.strictEqual(pulumi.with!.command, "preview");
        assert.strictEqual(pulumi.with!["stack-name"], "${{ matrix.stack }}");
        assert.strictEqual(pulumi.with!.policyPacks, "guardrails");
        assert.strictEqual(pulumi.with!["comment-on-pr"], true);
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "guardrails", "PulumiPolicy.yaml")));
        // The pack has its own dependencies; they are installed before the preview loads it.
        const packInstall = steps.findIndex((s) => s.run === "npm ci --prefix guardrails");
        assert.ok(packInstall >= 0 && packInstall < steps.indexOf(pulumi));
    });

    // A configured profile is what the AWS provider and the SDK use, failing when it is missing on the runner; the
    // job's OIDC credentials are in the environment (aws-actions/configure-aws-credentials exports AWS_ACCESS_KEY_ID etc.).
    it("a stack file's aws:profile works in the PR job too: the profile is made on the runner, reading the OIDC credentials, before the preview", () => {
        const steps = workflow.jobs.preview.steps as Step[];
        const aws = steps.findIndex((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
        const profile = steps.findIndex((s) => s.run === "npm run -s ci-profile -- --stack ${{ matrix.stack }}");
        const pulumi = steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
        assert.ok(aws >= 0 && aws < profile && profile < pulumi, "credentials, then the profile, then the preview");
        assert.ok(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).scripts["ci-profile"]);
    });

    it("uses pulumi/actions v7 with the CLI pinned by a version file, a rich diff, and no stack creation", () => {
        const pulumi = (workflow.jobs.preview.steps as Step[]).find((s) => s.uses?.startsWith("pulumi/actions@"))!;
        assert.strictEqual(pulumi.uses, "pulumi/actions@v7");
        assert.strictEqual(pulumi.with!.diff, true);
        // upsert would let a pull request create a stack in the backend; stacks are created once by hand (README).
        assert.strictEqual(pulumi.with!.upsert, false);
        const versionFile = pulumi.with!["pulumi-version-file"] as string;
        const pinned = fs.readFileSync(path.join(PROJECT_ROOT, versionFile), "utf8").trim();
        assert.match(pinned, /^\d+\.\d+\.\d+$/);
        // The CLI and the Node.js SDK are released together under one version number: keep them in step.
        const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package-lock.json"), "utf8"));
        assert.strictEqual(pinned, lock.packages["node_modules/@pulumi/pulumi"].version, `${versionFile} and the locked @pulumi/pulumi differ`);
    });

    it("runs Node.js 22 from .nvmrc in every job, the version package.json's engines require", () => {
        const nvmrc = fs.readFileSync(path.join(PROJECT_ROOT, ".nvmrc"), "utf8").trim();
        assert.strictEqual(nvmrc, "22");
        const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
        assert.strictEqual(pkg.engines.node, `>=${nvmrc}`);
        for (const job of Object.values(workflow.jobs) as { steps: Step[] }[]) {
            const node = job.steps.find((s) => s.uses?.startsWith("actions/setup-node@"))!;
            assert.strictEqual(node.with!["node-version-file"], ".nvmrc");
        }
    });

    it("keeps runtime dependencies for the program and the preview, tools for the tests and the simulator", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
        // mqtt is only the simulator's (npm run device); @pulumi/policy is loaded by `pulumi preview --policy-pack`.
        assert.ok(pkg.devDependencies.mqtt && !pkg.dependencies.mqtt);
        assert.ok(pkg.dependencies["@pulumi/policy"] && !pkg.devDependencies["@pulumi/policy"]);
    });

    it("leaves forks (which have no secrets) at the offline plan", () => {
        assert.match(workflow.jobs.preview.if, /head\.repo\.full_name == github\.repository/);
    });
});
