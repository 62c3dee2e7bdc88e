import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../config/stackFile";
import * as pulumi from "@pulumi/pulumi";
import { exitCodeFor, main } from "../plan/cli";
import { runStack, unwrap } from "../plan/program";

/** A scratch folder with Pulumi.yaml and a stack file written by the test. */
function stackDir(stack: string, edit: (yaml: string) => string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-plan-"));
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), edit(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.kr.yaml"), "utf8")));
    return dir;
}

describe("npm run plan", function () {
    this.timeout(60_000);

    it("--json prints one document: stack, region, resources with parent and inputs, outputs, violations", async () => {
        const { stdout, stderr, exit } = await main(["--stack", "kr", "--json"]);
        assert.strictEqual(exit, 0, stderr);
        const doc = JSON.parse(stdout);
        assert.strictEqual(doc.stack, "kr");
        assert.strictEqual(doc.region, "ap-northeast-2");
        assert.deepStrictEqual(doc.violations, []);
        const byName = (n: string) => doc.resources.find((r: { name: string }) => r.name === n);
        const component = byName("fms-kr-provisioning");
        assert.strictEqual(component.type, "fms:iot:FleetProvisioning");
        assert.strictEqual(component.parent, null);
        const policy = byName("fms-kr-provisioning-device-policy");
        assert.strictEqual(policy.type, "aws:iot/policy:Policy");
        assert.strictEqual(policy.parent, component.urn);
        assert.match(policy.urn, /^urn:pulumi:kr::fms-iot::fms:iot:FleetProvisioning\$aws:iot\/policy:Policy::fms-kr-provisioning-device-policy$/);
        assert.strictEqual(JSON.parse(policy.inputs.policy).Statement[0].Sid, "ConnectAsOwnThing", "policy documents as they will be sent");
        assert.strictEqual(JSON.parse(byName("fms-kr-provisioning-template").inputs.templateBody).Resources.thing.Type, "AWS::IoT::Thing");
        assert.strictEqual(doc.outputs.provisioningTemplateName, "fms-kr-vehicle");
    });

    it("prints secrets as [secret], never their value", async () => {
        const { stdout } = await main(["--stack", "kr", "--json"]);
        const doc = JSON.parse(stdout);
        const content = (n: string) => doc.resources.find((r: { name: string }) => r.name === n).inputs;
        assert.strictEqual(content("fms-kr-claim-private.pem.key").content, "[secret]");
        assert.strictEqual(content("fms-kr-routing-scram-value").secretString, "[secret]");
        assert.ok(!stdout.includes("PRIVATE KEY") && !stdout.includes("generated-password"), "no secret value anywhere");
    });

    it("plans secure: values with placeholder secrets and says so", async () => {
        const dir = stackDir("kr", (y) => `${y}  fms-iot:mskPassword:\n    secure: AAABAJ1cYmD9u2Z+nC0ECVB8F8pQ2Jc=\n`);
        const json = await main(["--stack", "kr", "--json"], dir);
        const doc = JSON.parse(json.stdout);
        assert.deepStrictEqual(doc.placeholders, ["fms-iot:mskPassword"]);
        assert.ok(!doc.resources.some((r: { type: string }) => r.type === "random:index/randomPassword:RandomPassword"), "the placeholder stands in for the configured password");
        const text = await main(["--stack", "kr"], dir);
        assert.match(text.stdout, /note: fms-iot:mskPassword is encrypted \(secure:\) and cannot be decrypted offline; planned with a placeholder secret/);
        assert.ok(!text.stdout.includes("offline-placeholder"));
    });

    it("text: the tree of components and resources, the outputs and the guardrail summary", async () => {
        const { stdout, exit } = await main(["--stack", "jp"]);
        assert.strictEqual(exit, 0);
        assert.match(stdout, /^Stack jp \(ap-northeast-1\): \d+ resources/);
        assert.match(stdout, /\nfms:iot:ClaimCertificate {2}fms-jp-claim\n/);
        assert.match(stdout, /\n├─ fms:storage:SecureBucket {2}fms-jp-claim-pems {2}\(protected\)\n│ {2}├─ aws:s3\/bucket:Bucket {2}fms-jp-claim-pems-bucket {2}\(protected\)\n/);
        assert.match(stdout, /\nOutputs:\n {2}iotEndpoint: "a1b2c3d4e5f6g7-ats\.iot\.ap-northeast-1\.amazonaws\.com"/);
        assert.match(stdout, /\nGuardrails: 0 mandatory, 0 advisory\n$/);
    });

    it("every URN is the one Pulumi makes (its createUrn: the parent's whole type chain), grandchildren included", async () => {
        // The SDK's mock monitor prefixes only the parent's own type; plan/program.ts gives the engine's rule.
        const run = await runStack("kr");
        let nested = 0;
        for (const r of run.resources) {
            if (r.type.startsWith("pulumi:providers:")) continue;
            const want = (await unwrap(pulumi.createUrn(r.name, r.type, r.parent ?? undefined, "fms-iot", "kr"))).value;
            assert.strictEqual(r.urn, want);
            if ((r.urn.split("::")[2].match(/\$/g) ?? []).length >= 2) nested++;
        }
        assert.ok(nested > 0, "kr has resources two components deep");
    });

    it("--all plans every stack file", async () => {
        const { stdout, exit } = await main(["--all", "--json"]);
        assert.strictEqual(exit, 0);
        assert.deepStrictEqual(JSON.parse(stdout).map((d: { stack: string }) => d.stack), ["au", "dev", "jp", "kr", "us"]);
    });

    it("--all --json keeps a stack that failed in the array, as {stack, error}, and exits with the worst status", async () => {
        const dir = stackDir("good", (y) => y);
        fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.kr.yaml"), "utf8").replace("fms-iot:country: KR", "fms-iot:country: XX"));
        const { stdout, stderr, exit } = await main(["--all", "--json"], dir);
        assert.strictEqual(exit, 2);
        const docs = JSON.parse(stdout);
        assert.deepStrictEqual(docs.map((d: { stack: string }) => d.stack), ["bad", "good"]);
        assert.deepStrictEqual(Object.keys(docs[0]), ["stack", "error"]);
        assert.match(docs[0].error, /^Pulumi\.bad\.yaml: Invalid stack config fms-iot:country = "XX"/);
        assert.ok(Array.isArray(docs[1].resources) && docs[1].resources.length > 50);
        assert.strictEqual(stderr, `${docs[0].error}\n`);
    });

    it("a config error exits 2 with one line naming the key, and prints no plan", async () => {
        const dir = stackDir("bad", (y) => y.replace("fms-iot:country: KR", "fms-iot:country: XX"));
        const { stdout, stderr, exit } = await main(["--stack", "bad", "--json"], dir);
        assert.strictEqual(exit, 2);
        assert.strictEqual(stdout, "");
        assert.strictEqual(stderr, 'Pulumi.bad.yaml: Invalid stack config fms-iot:country = "XX": unknown ISO 3166-1 alpha-2 country code (such as KR, JP, US)\n');
    });

    it("bad arguments exit 2 with the usage", async () => {
        for (const argv of [[], ["--stack"], ["--stack", "mars"], ["--stack", "kr", "--json", "--mermaid"], ["--stack", "kr", "--mermaid=everything"], ["--frobnicate"]]) {
            const { stderr, exit } = await main(argv);
            assert.strictEqual(exit, 2, argv.join(" "));
            assert.ok(stderr.length > 0);
        }
    });

    it("exits 1 on a mandatory violation, not on advisories", () => {
        const finding = (level: "mandatory" | "advisory") => ({ policy: "p", urn: "u", message: "m", level });
        assert.strictEqual(exitCodeFor([finding("advisory")]), 0);
        assert.strictEqual(exitCodeFor([finding("advisory"), finding("mandatory")]), 1);
        assert.strictEqual(exitCodeFor([]), 0);
    });
});
