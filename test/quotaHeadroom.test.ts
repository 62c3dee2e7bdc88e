/**
 * AWS's quotas at plan time (issue 29, item 3): what each stack's plan uses of every per-resource quota in
 * config/awsQuotas.ts, measured on the resources the plan records (plan/quotaHeadroom.ts): over a quota fails the
 * plan, within 10% of it warns, each naming the quota and its AWS page; the program itself refuses a policy or a
 * template body AWS would refuse, so `pulumi preview` fails too; and the cross-stack topic-rule count
 * (config/accountQuotas.ts) is the count of rules each stack really creates.
 *
 * AWS behaviour relied on (pages also in config/awsQuotas.ts beside each row):
 * - policy documents: at most 2048 characters, white space excluded (CreatePolicy / CreatePolicyVersion,
 *   https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/IoT/TCreatePolicyVersionRequest.html);
 * - provisioning template bodies: at most 10240 characters (templateBody,
 *   https://docs.aws.amazon.com/iot/latest/apireference/API_CreateProvisioningTemplate.html);
 * - a rule's actions are its `actions` list; `errorAction` is a separate field (CreateTopicRule's TopicRulePayload,
 *   https://docs.aws.amazon.com/iot/latest/apireference/API_TopicRulePayload.html), so it is not counted.
 */
import * as assert from "assert";
import { accountShare } from "../config/accountQuotas";
import { AWS_QUOTAS } from "../config/awsQuotas";
import { readStackFile, stackNames } from "../config/stackFile";
import { stackConfigFromEngine } from "../config/stackConfig";
import { checkedTemplateBody } from "../components/provisioning/hookedTemplate";
import { checkCorePolicySize, corePolicyTemplateDocument, MAX_SERIAL, partitionOfRegion } from "../components/edge/corePolicy";
import { ResourceView } from "../guardrails/rules";
import { exitCodeFor, main } from "../plan/cli";
import { ProgramFailed, runStack } from "../plan/program";
import { quotaFindings, quotaUses } from "../plan/quotaHeadroom";
import { views } from "../plan/report";
import { evaluateTemplate } from "./support/templateEvaluator";

const STACK_URN = "urn:pulumi:t::fms-iot::pulumi:pulumi:Stack::fms-iot-t";
const stackView: ResourceView = { urn: STACK_URN, type: "pulumi:pulumi:Stack", name: "fms-iot-t", props: {}, dependencies: [] };
const view = (type: string, name: string, props: Record<string, unknown>): ResourceView =>
    ({ urn: `urn:pulumi:t::fms-iot::${type}::${name}`, type, name, props, dependencies: [] });
/** A policy document of exactly `n` characters once white space is removed, with `spaces` spaces inside it. */
const policyOf = (n: number, spaces = 0) => {
    const skeleton = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iot:Connect", Resource: "" }] });
    const doc = JSON.parse(skeleton);
    doc.Statement[0].Resource = "r".repeat(n - skeleton.length);
    return JSON.stringify(doc, null, 0).replace('"Version"', `${" ".repeat(spaces)}"Version"`);
};

describe("AWS's quotas at plan time", function () {
    this.timeout(60_000);

    describe("measured on planned resources", () => {
        it("a policy over 2048 characters (white space not counted) fails the plan, naming the quota and its page; within 10% warns", () => {
            const limit = AWS_QUOTAS.policyDocumentSize.value;
            const uses = quotaUses([stackView,
                view("aws:iot/policy:Policy", "over", { name: "over", policy: policyOf(limit + 1) }),
                view("aws:iot/policy:Policy", "spaced", { name: "spaced", policy: policyOf(limit, 400) }),
                view("aws:iot/policy:Policy", "near", { name: "near", policy: policyOf(Math.ceil(limit * 0.9)) }),
                view("aws:iot/policy:Policy", "roomy", { name: "roomy", policy: policyOf(Math.floor(limit * 0.9) - 1) }),
            ]);
            assert.deepStrictEqual(uses.map((u) => [u.subject, u.used]), [["policy over", limit + 1], ["policy spaced", limit], ["policy near", Math.ceil(limit * 0.9)], ["policy roomy", Math.floor(limit * 0.9) - 1]]);
            const findings = quotaFindings(uses);
            assert.deepStrictEqual(findings.map((f) => [f.message.split(":")[0], f.level]), [["policy over", "mandatory"], ["policy spaced", "advisory"], ["policy near", "advisory"]]);
            for (const f of findings) {
                assert.ok(f.message.includes(AWS_QUOTAS.policyDocumentSize.name) && f.message.includes(AWS_QUOTAS.policyDocumentSize.source), f.message);
                assert.ok(!f.message.includes("\n"));
            }
            assert.strictEqual(exitCodeFor(findings), 1, "an exceeded quota fails the plan");
            assert.strictEqual(exitCodeFor(findings.filter((f) => f.level === "advisory")), 0, "a warning does not");
        });

        it("a template's per-Thing policy is measured at the longest serial the hook admits, not at a short one", () => {
            // A document that fits with a 10-character serial and is over with a 64-character one.
            const fixed = AWS_QUOTAS.policyDocumentSize.value - 10 - 40;
            const document = { "Fn::Join": ["", [`{"Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"client/`, { Ref: "SerialNumber" }, `${"x".repeat(fixed - 82)}"}]}`]] };
            const body = {
                Parameters: { SerialNumber: { Type: "String" }, "AWS::IoT::Certificate::Id": { Type: "String" } },
                Resources: {
                    thing: { Type: "AWS::IoT::Thing", Properties: { ThingName: { "Fn::Join": ["", ["core-", { Ref: "SerialNumber" }]] } } },
                    certificate: { Type: "AWS::IoT::Certificate", Properties: { CertificateId: { Ref: "AWS::IoT::Certificate::Id" }, Status: "Active" } },
                    policy: { Type: "AWS::IoT::Policy", Properties: { PolicyDocument: document } },
                },
            };
            const atShort = Object.values(evaluateTemplate(body as never, { SerialNumber: "S".repeat(10), "AWS::IoT::Certificate::Id": "c".repeat(64) }).createdPolicies)[0];
            assert.ok(atShort.length <= AWS_QUOTAS.policyDocumentSize.value, "the stand-in fits at a short serial");
            const uses = quotaUses([stackView, view("aws:iot/provisioningTemplate:ProvisioningTemplate", "t", { name: "t", templateBody: JSON.stringify(body) })]);
            const perThing = uses.find((u) => u.quota === "policyDocumentSize")!;
            const atLongest = evaluateTemplate(body as never, { SerialNumber: "S".repeat(MAX_SERIAL), "AWS::IoT::Certificate::Id": "c".repeat(64) }).createdPolicies;
            assert.strictEqual(perThing.used, JSON.stringify(JSON.parse(Object.values(atLongest)[0])).length);
            assert.ok(perThing.used > AWS_QUOTAS.policyDocumentSize.value);
            assert.strictEqual(quotaFindings(uses).filter((f) => f.level === "mandatory").length, 1);
            assert.deepStrictEqual(uses.find((u) => u.quota === "policiesPerCertificate")?.used, 1, "each AWS::IoT::Policy of a template is one more policy on the certificate");
        });

        it("a rule with more than 10 actions fails; its error action is not counted", () => {
            const kafka = { destinationArn: "d", topic: "t", clientProperties: {} };
            const uses = quotaUses([stackView,
                view("aws:iot/topicRule:TopicRule", "ten", { name: "ten", kafkas: Array(9).fill(kafka), lambdas: [{ functionArn: "f" }], errorAction: { cloudwatchLogs: { logGroupName: "g", roleArn: "r" } }, tags: [] }),
                view("aws:iot/topicRule:TopicRule", "eleven", { name: "eleven", kafkas: Array(10).fill(kafka), lambdas: [{ functionArn: "f" }] }),
            ]);
            assert.deepStrictEqual(uses.filter((u) => u.quota === "actionsPerRule").map((u) => u.used), [10, 11]);
            assert.deepStrictEqual(quotaFindings(uses).filter((f) => f.level === "mandatory").map((f) => f.message.split(":")[0]), ["rule eleven"]);
            assert.strictEqual(uses.find((u) => u.quota === "rulesPerAccount")?.used, 2);
        });

        it("every shipped stack's plan: each IoT policy, template and topic rule measured; within every quota", async () => {
            for (const stack of stackNames()) {
                const resources = views(await runStack(stack));
                const uses = quotaUses(resources);
                const subjects = new Set(uses.map((u) => u.urn));
                for (const r of resources.filter((x) => ["aws:iot/policy:Policy", "aws:iot/provisioningTemplate:ProvisioningTemplate", "aws:iot/topicRule:TopicRule"].includes(x.type))) {
                    assert.ok(subjects.has(r.urn), `${stack}: ${r.urn} measured`);
                }
                for (const t of resources.filter((x) => x.type === "aws:iot/provisioningTemplate:ProvisioningTemplate")) {
                    // The template body AWS receives, and each per-Thing policy at the longest serial (the test's own evaluator).
                    const body = JSON.parse(t.props.templateBody);
                    assert.ok(uses.some((u) => u.urn === t.urn && u.quota === "provisioningTemplateSize" && u.used === t.props.templateBody.length));
                    const created = evaluateTemplate(body, { SerialNumber: "S".repeat(MAX_SERIAL), CertDate: "20261206", CertExpiry: "20491231", "AWS::IoT::Certificate::Id": "c".repeat(64) }).createdPolicies;
                    for (const doc of Object.values(created)) {
                        const size = JSON.stringify(JSON.parse(doc)).length;
                        assert.ok(uses.some((u) => u.urn === t.urn && u.quota === "policyDocumentSize" && u.used === size), `${stack}: per-Thing policy of ${t.name} at ${size}`);
                    }
                }
                assert.deepStrictEqual(quotaFindings(uses).filter((f) => f.level === "mandatory"), [], stack);
            }
        });

        it("npm run plan prints the quota section (the fullest use of each quota); --json carries every use", async () => {
            const text = await main(["--stack", "dev"]);
            assert.match(text.stdout, /\nAWS quotas \(config\/awsQuotas\.ts; the fullest use of each\): 0 over, \d+ within 10%\n/);
            assert.match(text.stdout, /\n {2}Maximum size of a policy document: \d+ of 2048 \(\d+%\), /);
            const json = JSON.parse((await main(["--stack", "dev", "--json"])).stdout);
            assert.ok(json.quotas.uses.some((u: { quota: string }) => u.quota === "provisioningTemplateSize"));
        });
    });

    describe("refused by the program itself (pulumi preview fails, not pulumi up)", () => {
        it("a template body over 10240 characters, naming the template, the quota and its page", () => {
            const limit = AWS_QUOTAS.provisioningTemplateSize.value;
            assert.strictEqual(checkedTemplateBody("t", "x".repeat(limit)).length, limit);
            assert.throws(() => checkedTemplateBody("fms-kr-vehicle", "x".repeat(limit + 1)),
                (e: Error) => e.message.includes("fms-kr-vehicle") && e.message.includes(AWS_QUOTAS.provisioningTemplateSize.name) && e.message.includes(AWS_QUOTAS.provisioningTemplateSize.source));
        });

        it("a core prefix so long the per-core policy would pass 2048 characters at the longest serial: a config error naming the file and key", async () => {
            const args = { partition: "aws", region: "ap-northeast-2", accountId: "123456789012", roleAliasArn: "arn:aws:iot:ap-northeast-2:123456789012:rolealias/fms-kr-gg-token-exchange", basicIngestRuleNames: ["fms_kr_rule1"], basicIngestRulePrefix: "fms_kr_" };
            const long = `${"c".repeat(63)}-`;
            assert.doesNotThrow(() => corePolicyTemplateDocument({ ...args, coreThingNamePrefix: "fms-kr-core-" }));
            assert.throws(() => corePolicyTemplateDocument({ ...args, coreThingNamePrefix: long }),
                (e: Error) => e.message.includes(AWS_QUOTAS.policyDocumentSize.name) && e.message.includes(AWS_QUOTAS.policyDocumentSize.source));
            await assert.rejects(runStack("kr", { edit: (c) => { const g = JSON.parse(c["fms-iot:greengrass"]!); g.coreThingNamePrefix = long; c["fms-iot:greengrass"] = JSON.stringify(g); } }), (e: unknown) => {
                const err = e instanceof ProgramFailed ? e.cause : e;
                // The program runs in the mocks' module instance: the error is a ConfigError by name (as plan/cli.ts reads it).
                assert.strictEqual((err as Error).name, "ConfigError", String(err));
                const line = (err as Error).message;
                for (const part of ["Pulumi.kr.yaml", "fms-iot:greengrass.coreThingNamePrefix", AWS_QUOTAS.policyDocumentSize.name, AWS_QUOTAS.policyDocumentSize.source]) assert.ok(line.includes(part), `${part} in ${line}`);
                assert.ok(!line.includes("\n"));
                return true;
            });
        });
    });

    describe("the per-core policy check before any resource: the region's partition counts", () => {
        it("some prefix that fits in aws does not in aws-cn (longer ARNs, same region length): each region is measured in its own partition", () => {
            assert.deepStrictEqual(["ap-northeast-2", "cn-north-1", "us-gov-west-1"].map(partitionOfRegion), ["aws", "aws-cn", "aws-us-gov"]);
            const basic = { basicIngestRuleNames: ["fms_x_rule1"], basicIngestRulePrefix: "fms_x_" };
            const fits = (region: string, namePrefix: string, n: number) => {
                try {
                    checkCorePolicySize({ region, roleAlias: `${namePrefix}-gg-token-exchange`, key: "fms-iot:greengrass.coreThingNamePrefix", file: "Pulumi.x.yaml" }, { ...basic, coreThingNamePrefix: `${"c".repeat(n - 1)}-` });
                    return true;
                } catch (e) {
                    assert.strictEqual((e as Error).name, "ConfigError");
                    assert.match((e as Error).message, /^Pulumi\.x\.yaml: Invalid stack config fms-iot:greengrass\.coreThingNamePrefix = "c+-": a shorter prefix: /);
                    return false;
                }
            };
            // namePrefix is 3-20 characters (config), the core prefix 1-64: some pair fits in eu-north-1 and not in cn-north-1.
            const split: string[] = [];
            for (let len = 3; len <= 20; len++) {
                for (let n = 1; n <= 64; n++) if (fits("eu-north-1", "f".repeat(len), n) && !fits("cn-north-1", "f".repeat(len), n)) split.push(`${len}/${n}`);
            }
            assert.ok(split.length > 0, "the partition changes no verdict: the check is not measuring in the region's partition");
        });
    });

    describe("topic rules per account, across stacks: the count config sums is what each stack creates", () => {
        it("for every shipped stack, oemCa's just-in-time-registration rules included", async () => {
            for (const stack of stackNames()) {
                const config = stackConfigFromEngine("fms-iot", stack, readStackFile(stack).config);
                const planned = (await runStack(stack)).resources.filter((r) => r.type === "aws:iot/topicRule:TopicRule").length;
                assert.strictEqual(accountShare(config).rules, planned, `Pulumi.${stack}.yaml`);
            }
        });
    });
});
