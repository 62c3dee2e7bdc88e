import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { PROJECT_ROOT } from "../config/stackFile";
import { evaluate, ResourceView, RULES } from "../guardrails/rules";
import { main as plan } from "../plan/cli";
import { runStack } from "../plan/program";
import { assertConfigError } from "./support/assertions";

const PROFILE = "kr-admin";
const ACCOUNTS = ["123456789012"];

describe("credentials: one profile and one set of allowed accounts for every provider of a stack", function () {
    this.timeout(60_000);

    it("aws:profile and aws:allowedAccountIds reach the explicit aws and aws-native providers and every dynamic resource", async () => {
        const run = await runStack("kr", { edit: (c) => { c["aws:profile"] = PROFILE; c["aws:allowedAccountIds"] = JSON.stringify(ACCOUNTS); } });
        const providers = run.resources.filter((r) => r.type.startsWith("pulumi:providers:aws"));
        assert.deepStrictEqual(providers.map((p) => p.type).sort(), ["pulumi:providers:aws", "pulumi:providers:aws-native"]);
        for (const p of providers) {
            assert.strictEqual(p.inputs.profile, PROFILE, p.name);
            assert.deepStrictEqual(JSON.parse(p.inputs.allowedAccountIds), ACCOUNTS, p.name);
        }
        const dynamic = run.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
        assert.ok(dynamic.length >= 4, "claim certificate and template-version pruners");
        for (const d of dynamic) {
            assert.strictEqual(d.inputs.profile, PROFILE, d.name);
            assert.deepStrictEqual(d.inputs.allowedAccountIds, ACCOUNTS, d.name);
        }
        // Every custom resource goes through one of those providers (none through an ambient default provider).
        const custom = run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:") && !r.type.startsWith("pulumi-nodejs:"));
        const providerUrns = new Set(providers.map((p) => p.urn));
        for (const r of custom.filter((x) => !x.type.startsWith("random:"))) assert.ok(r.provider && providerUrns.has(r.provider.split("::").slice(0, 4).join("::")), `${r.type} ${r.name} uses ${r.provider}`);
    });

    it("npm run plan on a copy of kr with aws:profile shows that profile on every provider", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-profile-"));
        try {
            fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            const kr = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.kr.yaml"), "utf8"));
            kr.config["aws:profile"] = PROFILE;
            fs.writeFileSync(path.join(dir, "Pulumi.kr.yaml"), stringify(kr));
            const r = await plan(["--stack", "kr"], dir);
            assert.strictEqual(r.exit, 0, r.stdout + r.stderr);
            const lines = r.stdout.split("\n");
            const start = lines.indexOf("Credentials (each provider, and each dynamic resource, calls AWS as):");
            const section = lines.slice(start + 1, lines.indexOf("", start));
            assert.ok(section.length >= 6, section.join("\n"));
            for (const line of section) assert.match(line, new RegExp(`region ap-northeast-2, profile ${PROFILE},`), line);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("aws:allowedAccountIds must be 12-digit account ids", async () => {
        await assertConfigError(runStack("kr", { edit: (c) => { c["aws:allowedAccountIds"] = JSON.stringify(["12345"]); } }), "aws:allowedAccountIds[0]", /a 12-digit AWS account id/);
    });

    describe("guardrail providers-share-credentials", () => {
        const rule = RULES.filter((r) => r.name === "providers-share-credentials");
        const view = (type: string, name: string, props: Record<string, unknown>): ResourceView => ({ urn: `urn:pulumi:kr::fms-iot::${type}::${name}`, type, name, props, dependencies: [] });
        it("passes when all agree, also for a provider that assumes a role into the cluster's account", () => {
            const findings = evaluate([
                view("pulumi:providers:aws", "fms-kr-aws", { region: "ap-northeast-2", profile: PROFILE, allowedAccountIds: JSON.stringify(ACCOUNTS) }),
                view("pulumi:providers:aws-native", "fms-kr-aws-native", { region: "ap-northeast-2", profile: PROFILE, allowedAccountIds: JSON.stringify(ACCOUNTS) }),
                view("pulumi:providers:aws", "fms-kr-msk-aws", { region: "ap-northeast-2", profile: PROFILE, allowedAccountIds: JSON.stringify(["210987654321"]), assumeRoles: JSON.stringify([{ roleArn: "arn:aws:iam::210987654321:role/x" }]) }),
                view("pulumi-nodejs:dynamic/iot:ClaimCertificate", "fms-kr-claim-certificate", { region: "ap-northeast-2", profile: PROFILE, allowedAccountIds: ACCOUNTS }),
            ], rule);
            assert.deepStrictEqual(findings, []);
        });
        it("fails a provider left on ambient credentials", () => {
            const findings = evaluate([
                view("pulumi:providers:aws", "fms-kr-aws", { region: "ap-northeast-2", profile: PROFILE }),
                view("pulumi:providers:aws-native", "fms-kr-aws-native", { region: "ap-northeast-2" }),
            ], rule);
            assert.deepStrictEqual(findings.map((f) => f.message), ["fms-kr-aws-native calls AWS with profile (ambient credentials) (not kr-admin): every provider of the stack must use the same credentials as fms-kr-aws"]);
        });
    });

});
