/**
 * Adopting a country's CDK stacks (seed 000) with `npm run plan -- --stack <s> --import-file --cloudformation ...`.
 * The fixtures are `aws cloudformation describe-stack-resources` output for the two stacks of
 * aws-samples/42dot-cdk-fleetmanagement-system as deployed with its config (service fleetmgmt, application iot,
 * environment dev): CDK's logical ids (construct id without non-alphanumerics, an 8-hex hash for L2 constructs),
 * CloudFormation's physical ids (names, an ARN for the rule destination and the secret, a key id for the key).
 *
 * Referees: Pulumi's own `createUrn` for the URNs the imported resources will have (they must be the URNs the
 * program registers, or `pulumi up` would create a second copy), Pulumi's `automation.ImportResource` type for the
 * entries' shape, and @pulumi/aws's classes for the type tokens.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ImportResource } from "@pulumi/pulumi/automation";
import { PROJECT_ROOT } from "../config/stackFile";
import { CDK_MAPPINGS, ImportFile, MAPPING_MARKERS, mappingTable, pluginVersion } from "../plan/adopt";
import { markedSection, replaceMarkedSection } from "../plan/readmeSection";
import { main } from "../plan/cli";
import { ProgramRun, runStack, unwrap } from "../plan/program";

const FIXTURES = path.join(PROJECT_ROOT, "test", "fixtures");
const CFN = ["--cloudformation", path.join(FIXTURES, "cdk-provisioning-stack.json"), "--cloudformation", path.join(FIXTURES, "cdk-rule-stack.json")];

/** A scratch project: Pulumi.yaml and a copy of kr's stack file, edited. */
function stackDir(edit: (yaml: string) => string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-adopt-"));
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, "Pulumi.kr.yaml"), edit(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.kr.yaml"), "utf8")));
    return dir;
}

/** kr's stack file with the config lines the first run asks for. */
const ADOPTING = (yaml: string) => yaml
    .replace("    templateName: fms-kr-vehicle\n", "    templateName: fleetmgmt-dev-provision-template\n    devicePolicyName: fleetmgmt-dev-device-policy\n")
    .replace(/^( +)- key: (rule[123])$/gm, "$1- key: $2\n$1  ruleName: test_rule_$2");

/** Every resource type token @pulumi/aws defines (each resource class's `__pulumiType`). */
function awsTypeTokens(): Set<string> {
    const tokens = new Set<string>();
    for (const mod of Object.values(aws as Record<string, unknown>)) {
        if (typeof mod !== "object" || mod === null) continue;
        for (const cls of Object.values(mod as Record<string, unknown>)) {
            const t = (cls as { __pulumiType?: unknown })?.__pulumiType;
            if (typeof t === "string") tokens.add(t);
        }
    }
    return tokens;
}

describe("adopting a CDK country: npm run plan -- --import-file", function () {
    this.timeout(60_000);
    /** kr with the config lines the first run asks for: the import file, the report, and the program's plan. */
    let adopting: { file: ImportFile; stderr: string; exit: number; run: ProgramRun };

    before(async () => {
        const dir = stackDir(ADOPTING);
        const { stdout, stderr, exit } = await main(["--stack", "kr", "--import-file", ...CFN], dir);
        adopting = { file: JSON.parse(stdout || "{}"), stderr, exit, run: await runStack("kr", { stackDir: dir }) };
    });

    it("first run: adopts what keeps its name, names the config lines that keep the rest, says what stays with CloudFormation", async () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fms-adopt-")), "import-kr.json");
        const { stdout, stderr, exit } = await main(["--stack", "kr", `--import-file=${out}`, ...CFN]);
        assert.strictEqual(exit, 0, stderr);
        assert.strictEqual(stdout, "", "--import-file=<path> writes the document there, not to stdout");
        assert.ok(stderr.includes(`pulumi import --file ${out} --generate-code=false`));
        const file: ImportFile = JSON.parse(fs.readFileSync(out, "utf8"));
        const adopted = file.resources.filter((r) => !r.component).map((r) => `${r.name} ${r.id}`).sort();
        assert.deepStrictEqual(adopted, [
            "fms-kr-claim-pems-bucket fleetmgmt-dev-123456789012-cdk-s3-test-bucket",
            "fms-kr-claim-pems-tls-only fleetmgmt-dev-123456789012-cdk-s3-test-bucket",
            "fms-kr-provisioning-hook-role fleetmgmt-dev-pre-provisioning-lambda-role",
            "fms-kr-provisioning-provisioning-role fleetmgmt-dev-provisioning-template-role",
            "fms-kr-routing-rule-role fleetmgmt-dev-rule-engine-role",
            "fms-kr-routing-scram-key 0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e",
        ]);
        for (const line of [
            "fms-iot:provisioning.devicePolicyName: fleetmgmt-dev-device-policy",
            "fms-iot:provisioning.templateName: fleetmgmt-dev-provision-template",
            "fms-iot:routing.routes, the route with key rule1: ruleName: test_rule_rule1",
            "fms-iot:routing.routes, the route with key rule3: ruleName: test_rule_rule3",
        ]) assert.ok(stderr.includes(`      ${line}\n`), line);
        // Named here by the program, with no key to change it: left to CloudFormation, never replaced under a vehicle.
        assert.match(stderr, /IoTSecret: CloudFormation's AmazonMSK_iot-dev, this program's AmazonMSK_fms-kr .*\n {6}no config key names it/);
        assert.match(stderr, /fleetmgmtdevclaimcertificatepolicy: .*\n {6}no config key names it/);
        assert.match(stderr, /\(Custom::AWS\): the CDK claim certificate/);
        assert.match(stderr, /fleetmgmtdeviotcorerolepolicy2F3E4D5C \(AWS::IAM::Policy\): the CDK rule-engine policy/);
        assert.match(stderr, /MyCfnTopicRuleDestination \(AWS::IoT::TopicRuleDestination\): a VPC destination's VPC configuration .* is create-only/);
    });

    it("with those lines in the stack file: the template, device policy and Basic Ingest rules keep the names vehicles in the field use", async () => {
        const { file, stderr, exit, run } = adopting;
        assert.strictEqual(exit, 0, stderr);
        assert.doesNotMatch(stderr, /fms-iot:provisioning\.|ruleName: test_rule/);
        const ids = new Map(file.resources.filter((r) => !r.component).map((r) => [r.name, r.id]));
        assert.strictEqual(ids.get("fms-kr-provisioning-template"), "fleetmgmt-dev-provision-template");
        assert.strictEqual(ids.get("fms-kr-provisioning-device-policy"), "fleetmgmt-dev-device-policy");
        for (const k of [1, 2, 3]) assert.strictEqual(ids.get(`fms-kr-routing-rule${k}`), `test_rule_rule${k}`);

        // The program, planned with the same file, publishes the names the firmware already uses.
        assert.strictEqual(run.outputs.provisioningTemplateName, "fleetmgmt-dev-provision-template");
        assert.ok((run.outputs.basicIngestTopics as string[]).includes("$aws/rules/test_rule_rule1/test-rule/rule1"));
        const devicePolicy = JSON.parse(run.one("aws:iot/policy:Policy", "-provisioning-device-policy").inputs.policy);
        assert.ok(JSON.stringify(devicePolicy).includes("topic/$aws/rules/test_rule_rule2/"), "vehicles may still publish to the adopted rules");
    });

    it("the document is Pulumi's import file: its URNs are the ones the program registers, under the program's provider", async () => {
        const { file, run } = adopting;
        const entries: ImportResource[] = file.resources; // Pulumi's own type for an entry
        const planned = new Map(run.resources.map((r) => [r.urn, r]));
        const urnOf = new Map<string, string>();
        const tokens = awsTypeTokens();
        for (const e of entries) {
            // A parent is a component earlier in the file; a provider is in the name table (already in the stack).
            if (e.parent) assert.ok(urnOf.has(e.parent), `${e.name}: parent ${e.parent} comes earlier in the file`);
            const urn = (await unwrap(pulumi.createUrn(e.name, e.type, e.parent ? urnOf.get(e.parent) : undefined, "fms-iot", "kr"))).value;
            urnOf.set(e.name, urn);
            const ours = planned.get(urn);
            assert.ok(ours, `${urn} is not a URN the program registers`);
            assert.strictEqual(ours.type, e.type);
            if (e.component) {
                assert.strictEqual(ours.custom, false);
                assert.strictEqual(e.id, undefined);
                continue;
            }
            assert.ok(tokens.has(e.type), `${e.type} is an @pulumi/aws resource type`);
            assert.ok(e.provider && file.nameTable[e.provider], `${e.name}: provider in the name table`);
            assert.strictEqual(`${file.nameTable[e.provider]}`, ours.provider!.replace(/::[^:]*$/, ""), `${e.name}: the program's provider`);
        }
        for (const urn of Object.values(file.nameTable)) assert.strictEqual(planned.get(urn)?.type, "pulumi:providers:aws");
    });

    it("imports each resource by what the AWS provider's own docs say it is imported by, which is CloudFormation's physical id", () => {
        // @pulumi/aws documents each resource's import id in its .d.ts: "Using `pulumi import`, import IoT policies
        // using the `name`", "... KMS Keys using the `id`", "... `aws.secretsmanager.Secret` using the secret ARN".
        const sdk = path.dirname(require.resolve("@pulumi/aws/package.json"));
        for (const m of CDK_MAPPINGS) {
            const [, mod, file] = /^aws:([a-z0-9]+)\/([a-zA-Z0-9]+):/.exec(m.type)!;
            const doc = fs.readFileSync(path.join(sdk, mod, `${file}.d.ts`), "utf8");
            const by = /Using `pulumi import`, import .*? using the (?:`(\w+)`|secret (ARN)|(bucket) name)/.exec(doc);
            assert.ok(by, `${m.type}: no import section in @pulumi/aws`);
            assert.strictEqual(m.importBy, (by[1] ?? by[2] ?? by[3]).replace(/^ARN$/, "arn"), m.type);
            // CloudFormation's Ref (the physical id describe-stack-resources prints) for these types is the same
            // attribute: AWS CloudFormation User Guide, each resource's "Return values" (Ref returns the name of an
            // AWS::IoT::Policy, ::ProvisioningTemplate, ::TopicRule, AWS::IAM::Role, AWS::Lambda::Function,
            // AWS::KMS::Alias and AWS::S3::Bucket; the key ID of an AWS::KMS::Key; the ARN of an
            // AWS::IoT::TopicRuleDestination and an AWS::SecretsManager::Secret).
            assert.ok(m.cfnRef === m.importBy || (m.cfnRef === "name" && m.importBy === "functionName"), `${m.type}: ${m.cfnRef} vs ${m.importBy}`);
        }
    });

    // pulumi/pulumi v3.248.0 pkg/cmd/pulumi/operations/import.go: `importFile.ProviderInputs` ("allows the import
    // system to create explicit providers that are not yet in state with the correct configuration"), read per
    // entry's provider name; pkg/resource/deploy/import.go creates a provider not in state from those inputs, or from
    // an empty map when there are none (a provider with no region, profile or allowed accounts).
    it("the file carries providerInputs: the explicit provider is created by the import itself with the program's own inputs", () => {
        const { file, run } = adopting;
        const names = Object.keys(file.nameTable);
        assert.deepStrictEqual(Object.keys(file.providerInputs).sort(), names.sort(), "inputs for every provider the file names");
        for (const name of names) {
            const registered = run.resources.find((r) => r.urn === file.nameTable[name])!;
            assert.deepStrictEqual(file.providerInputs[name], registered.inputs);
            assert.strictEqual(file.providerInputs[name].region, "ap-northeast-2");
            // As the Node.js SDK registers a provider: structured inputs as JSON strings, the engine's provider inputs.
            assert.strictEqual(JSON.parse(file.providerInputs[name].defaultTags as string).tags.Country, "KR");
        }
        // The JSON keys are the CLI's own (importFile's json tags: nameTable, resources, providerInputs).
        assert.deepStrictEqual(Object.keys(file).sort(), ["nameTable", "providerInputs", "resources"]);
    });

    // pulumi/pulumi v3.248.0 pkg/resource/deploy/step_generator.go L710-713, L734: after the first up a resource is
    // protected as the program says (goal.Protect), whatever `pulumi import --protect` set. docs/adoption.md lists them.
    it("docs/adoption.md names exactly the adopted resources that stay protected after the first up (the program's protect)", () => {
        const { file, run } = adopting;
        const imported = file.resources.filter((r) => !r.component);
        const protectedTypes = [...new Set(imported.map((r) => run.resources.find((x) => x.name === r.name && x.type === r.type)!).filter((r) => r.protect).map((r) => r.type))].sort();
        const doc = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "adoption.md"), "utf8");
        const section = /<!-- adopted-protected:start[^>]*-->([\s\S]*?)<!-- adopted-protected:end -->/.exec(doc)![1];
        const named = [...section.matchAll(/`(aws:[^`]+)`/g)].map((m) => m[1]).sort();
        assert.deepStrictEqual(named, protectedTypes);
        assert.ok(imported.some((r) => !run.resources.find((x) => x.name === r.name && x.type === r.type)!.protect), "and some adopted resources are not protected, as the page says");
    });

    // pulumi/pulumi v3.248.0 pkg/cmd/pulumi/operations/import.go L168 (importSpec.Version) and L501-508: a version in
    // the file is the plugin version the import runs; without it the CLI resolves one of its own.
    it("every imported resource pins the provider plugin version this program is built with", () => {
        const { file } = adopting;
        const installed = (pkg: string) => (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", "@pulumi", pkg, "package.json"), "utf8")) as { version: string }).version;
        const imported = file.resources.filter((r) => !r.component);
        assert.ok(imported.length > 0);
        for (const r of imported) assert.strictEqual(r.version, installed(r.type.split(":")[0]), `${r.type} ${r.name}`);
        assert.strictEqual(pluginVersion("pulumi-nodejs:dynamic/iot:ClaimCertificate"), undefined, "a dynamic resource has no plugin to pin (and is not imported)");
    });

    /**
     * What makes the first up after the import replace instead of update: a property the provider marks ForceNew
     * whose imported value differs from the program's input. The ForceNew properties of each adopted type, from
     * terraform-provider-aws (internal/service/<svc>/<resource>.go, `ForceNew: true` in each schema), which
     * @pulumi/aws bridges; what the import reads is the resource as AWS has it (the CDK physical name in the name
     * property, no name prefix: an imported name was never generated from one).
     */
    const FORCE_NEW: Record<string, { props: string[]; named?: string }> = {
        "aws:s3/bucket:Bucket": { props: ["bucket", "bucketPrefix", "objectLockEnabled"], named: "bucket" }, // s3/bucket.go
        "aws:s3/bucketPolicy:BucketPolicy": { props: ["bucket"], named: "bucket" }, // s3/bucket_policy.go
        "aws:iam/role:Role": { props: ["name", "namePrefix", "path"], named: "name" }, // iam/role.go
        "aws:lambda/function:Function": { props: ["name"], named: "name" }, // lambda/function.go: function_name
        "aws:iot/policy:Policy": { props: ["name"], named: "name" }, // iot/policy.go
        "aws:iot/provisioningTemplate:ProvisioningTemplate": { props: ["name"], named: "name" }, // iot/provisioning_template.go
        "aws:iot/topicRule:TopicRule": { props: ["name"], named: "name" }, // iot/topic_rule.go
        "aws:kms/key:Key": { props: ["customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"] }, // kms/key.go
        "aws:kms/alias:Alias": { props: ["name", "namePrefix"], named: "name" }, // kms/alias.go
        "aws:secretsmanager/secret:Secret": { props: ["name", "namePrefix"], named: "name" }, // secretsmanager/secret.go
        "aws:iot/topicRuleDestination:TopicRuleDestination": { props: ["vpcConfiguration"] }, // iot/topic_rule_destination.go
    };

    it("replayed on the two CDK fixture stacks, every adopted resource is an update, never a replacement", () => {
        const { file, run } = adopting;
        const planned = new Map(run.resources.map((r) => [r.name, r]));
        const adoptedIds = new Map(file.resources.filter((e) => !e.component).map((e) => [planned.get(e.name)!.state.id ?? "", e.id]));
        for (const entry of file.resources.filter((e) => !e.component)) {
            const ours = planned.get(entry.name)!;
            const rule = FORCE_NEW[ours.type];
            assert.ok(rule, `${ours.type}: its ForceNew properties are listed here`);
            for (const prop of rule.props) {
                const value = ours.inputs[prop];
                if (value === undefined || ours.ignoreChanges.includes(prop)) continue;
                // A reference to another adopted resource's id is that resource's imported id (the bucket's name).
                const resolved = typeof value === "string" && adoptedIds.has(value) ? adoptedIds.get(value) : value;
                assert.ok(prop === rule.named && resolved === entry.id, `${entry.name} (${ours.type}): ${prop} = ${JSON.stringify(value)} would replace the adopted ${entry.id}`);
            }
        }
    });

    it("the claim bucket keeps an imported name: bucketPrefix is ignored once the bucket is in the state", () => {
        const bucket = adopting.run.one("aws:s3/bucket:Bucket", "-claim-pems-bucket");
        assert.strictEqual(bucket.inputs.bucketPrefix, "fms-kr-claim-");
        assert.deepStrictEqual(bucket.ignoreChanges, ["bucketPrefix"]);
    });

    it("refuses what it cannot use: no CloudFormation file, a file of another shape, several stacks", async () => {
        const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fms-adopt-")), "x.json");
        fs.writeFileSync(bad, JSON.stringify({ Stacks: [] }));
        for (const [argv, message] of [
            [["--stack", "kr", "--import-file"], /--import-file needs the CDK stacks' resources/],
            [["--stack", "kr", "--import-file", "--cloudformation", bad], /x\.json: not the output of aws cloudformation describe-stack-resources/],
            [["--stack", "kr", "--import-file", "--cloudformation", `${bad}.missing`], /x\.json\.missing: no such file\n$/],
            [["--stack", "kr", "--import-file", "--cloudformation", path.join(PROJECT_ROOT, "README.md")], /README\.md: not JSON \(/],
            [["--all", "--import-file", ...CFN], /adopts into one stack/],
            [["--stack", "kr", "--cloudformation", bad], /--cloudformation goes with --import-file/],
        ] as [string[], RegExp][]) {
            const { stderr, exit, stdout } = await main(argv);
            assert.strictEqual(exit, 2, argv.join(" "));
            assert.strictEqual(stdout, "");
            assert.match(stderr, message);
        }
    });

    it("an --import-file path it cannot write: one line naming it, exit 3", async () => {
        const { stderr, exit } = await main(["--stack", "kr", "--import-file=/nonexistent-dir/import.json", ...CFN]);
        assert.strictEqual(exit, 3);
        assert.match(stderr, /\n--import-file=\/nonexistent-dir\/import\.json: cannot write it \(ENOENT\)\n$/);
    });

    it("docs/adoption.md's mapping table is the one the code applies", () => {
        const file = path.join(PROJECT_ROOT, "docs", "adoption.md");
        const readme = fs.readFileSync(file, "utf8");
        if (process.env.UPDATE_README === "1") fs.writeFileSync(file, replaceMarkedSection(readme, MAPPING_MARKERS, mappingTable()));
        else assert.strictEqual(markedSection(readme, MAPPING_MARKERS), mappingTable(), "UPDATE_README=1 npm test regenerates it");
    });
});
