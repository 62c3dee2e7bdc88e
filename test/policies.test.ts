import * as assert from "assert";
import { claimPolicy } from "../policies/iotClaimPolicy";
import { devicePolicy, THING_NAME } from "../policies/iotDevicePolicy";
import { hookRolePolicy, serviceTrustPolicy } from "../policies/iam";
import { stackKeyPolicy } from "../policies/kms";
import { tlsOnlyBucketPolicy } from "../policies/s3";
import { assertLeastPrivilege, statement } from "./support/assertions";

const ctx = { partition: "aws", region: "ap-northeast-2", accountId: "123456789012" };
const arn = (r: string) => `arn:aws:iot:ap-northeast-2:123456789012:${r}`;

describe("policy builders", () => {
    it("device policy: Basic Ingest publish on exactly this stack's rules, never subscribe or receive", () => {
        const doc = devicePolicy({ ...ctx, deviceRoot: "vehicles", basicIngestRuleNames: ["fms_kr_rule1", "fms_kr_rule2"] });
        const ingest = statement(doc, "BasicIngest");
        assert.deepStrictEqual(ingest.Action, ["iot:Publish"]);
        assert.deepStrictEqual(ingest.Resource, [arn("topic/$aws/rules/fms_kr_rule1/*"), arn("topic/$aws/rules/fms_kr_rule2/*")]);
        assert.ok(doc.Statement.every((s) => !(s.Resource ?? []).some((r) => r.includes("topicfilter/$aws/rules"))));
        assertLeastPrivilege(doc);
    });

    it("device policy without rules has no Basic Ingest statement; every topic is the Thing's own", () => {
        const doc = devicePolicy({ ...ctx, deviceRoot: "fleet/kr", basicIngestRuleNames: [] });
        assert.ok(!doc.Statement.some((s) => s.Sid === "BasicIngest"));
        for (const s of doc.Statement) for (const r of s.Resource ?? []) assert.ok(r.includes(THING_NAME), r);
        assert.ok(doc.Statement.every((s) => !s.Action.includes("iot:RetainPublish")), "no retained messages: they outlive the certificate that wrote them");
    });

    it("claim policy covers every template it is given, and refuses none", () => {
        const doc = claimPolicy({ ...ctx, clientIdPrefix: "claim-", templateNames: ["veh", "core"], deviceKeys: "aws" });
        assert.deepStrictEqual(statement(doc, "ProvisioningTopicFilters").Resource, [
            arn("topicfilter/$aws/certificates/create/*"),
            arn("topicfilter/$aws/provisioning-templates/veh/provision/*"),
            arn("topicfilter/$aws/provisioning-templates/core/provision/*"),
        ]);
        assert.throws(() => claimPolicy({ ...ctx, clientIdPrefix: "claim-", templateNames: [], deviceKeys: "aws" }), /at least one provisioning template/);
    });

    it("claim policy in device-key mode: CreateCertificateFromCsr only, never CreateKeysAndCertificate", () => {
        // AWS IoT docs, "Device provisioning MQTT API": CreateCertificateFromCsr is $aws/certificates/create-from-csr/<format>.
        const doc = claimPolicy({ ...ctx, clientIdPrefix: "claim-", templateNames: ["veh"], deviceKeys: "device" });
        for (const sid of ["ProvisioningTopics", "ProvisioningTopicFilters"]) {
            const resources = statement(doc, sid).Resource!.join(" ");
            assert.ok(resources.includes("$aws/certificates/create-from-csr/*"), sid);
            assert.ok(!resources.includes("$aws/certificates/create/*"), sid);
        }
    });

    it("hook role with no registry and no lookups: its logs and the rotation state only", () => {
        const doc = hookRolePolicy({
            ...ctx, logGroupArn: "arn:aws:logs:ap-northeast-2:123456789012:log-group:/aws/lambda/h", keyArn: "arn:aws:kms:ap-northeast-2:123456789012:key/k",
            rotationTableArn: "arn:aws:dynamodb:ap-northeast-2:123456789012:table/rot", rotationAttributes: ["thingName", "unconfirmedCertificateArn"],
        });
        assert.deepStrictEqual(doc.Statement.map((s) => s.Sid), ["OwnLogs", "RecordRotationState", "UseTableKeyThroughDynamoDB"]);
        assert.deepStrictEqual(doc.Statement[1].Condition, {
            "ForAllValues:StringEquals": { "dynamodb:Attributes": ["thingName", "unconfirmedCertificateArn"] }, StringEquals: { "dynamodb:ReturnValues": "NONE" },
        });
        assertLeastPrivilege(doc);
    });

    it("service trust carries the confused-deputy guard when given an account", () => {
        assert.deepStrictEqual(serviceTrustPolicy("iot.amazonaws.com").Statement[0].Condition, undefined);
        assert.deepStrictEqual(serviceTrustPolicy("iot.amazonaws.com", "123456789012").Statement[0].Condition, { StringEquals: { "aws:SourceAccount": "123456789012" } });
        assert.deepStrictEqual(serviceTrustPolicy("iot.amazonaws.com", "123456789012", ["arn:aws:iot:ap-northeast-2:123456789012:provisioningtemplate/t"]).Statement[0].Condition, {
            StringEquals: { "aws:SourceAccount": "123456789012" }, ArnLike: { "aws:SourceArn": ["arn:aws:iot:ap-northeast-2:123456789012:provisioningtemplate/t"] },
        });
    });

    it("stack key lets CloudWatch Logs use it only for the stack's log groups", () => {
        const doc = stackKeyPolicy({ ...ctx, logGroupPatterns: ["/aws/lambda/fms-kr-*"] });
        assert.deepStrictEqual(statement(doc, "CloudWatchLogsForStackLogGroups").Condition, {
            ArnLike: { "kms:EncryptionContext:aws:logs:arn": ["arn:aws:logs:ap-northeast-2:123456789012:log-group:/aws/lambda/fms-kr-*"] },
        });
        assert.strictEqual(stackKeyPolicy({ ...ctx, logGroupPatterns: [] }).Statement.length, 1);
    });

    it("TLS-only bucket policy denies plain HTTP on the bucket and its objects", () => {
        const s = tlsOnlyBucketPolicy("arn:aws:s3:::b").Statement[0];
        assert.deepStrictEqual(s.Resource, ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]);
        assert.strictEqual(s.Effect, "Deny");
    });
});
