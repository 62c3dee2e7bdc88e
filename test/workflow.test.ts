import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT_ROOT, readStackFile, stackNames } from "../config/stackFile";

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
        assert.deepStrictEqual(job.needs, "test-and-plan");
        assert.strictEqual(job.permissions["id-token"], "write");
        assert.strictEqual(job.permissions["pull-requests"], "write");
        const matrix = job.strategy.matrix.include as { stack: string; region: string }[];
        assert.deepStrictEqual(matrix.map((m) => m.stack).sort(), stackNames());
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
    });

    it("leaves forks (which have no secrets) at the offline plan", () => {
        assert.match(workflow.jobs.preview.if, /head\.repo\.full_name == github\.repository/);
    });
});
