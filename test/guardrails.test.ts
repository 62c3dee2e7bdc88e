import * as assert from "assert";
import { evaluate, Finding, ResourceView, Rule, RULES } from "../guardrails/rules";
import { POLICIES } from "../guardrails/policies";
import { runStack } from "../plan/program";
import { guardrailFindings } from "../plan/report";

const ARN = "arn:aws:iot:ap-northeast-2:123456789012";
const THING = "${iot:Connection.Thing.ThingName}";
let n = 0;
function res(type: string, props: Record<string, any>, dependencies: string[] = []): ResourceView {
    n++;
    return { urn: `urn:pulumi:t::fms-iot::${type}::r${n}`, type, name: `r${n}`, props, dependencies };
}
const doc = (...Statement: object[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const rule = (name: string): Rule => RULES.find((r) => r.name === name)!;
const run = (name: string, resources: ResourceView[]): Finding[] => evaluate(resources, [rule(name)]);

/** Each rule: resources that comply, and resources that violate it. */
const CASES: Record<string, { compliant: ResourceView[][]; violating: ResourceView[][] }> = {
    "no-wildcard-actions-on-any-resource": {
        compliant: [
            [res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: ["ec2:DescribeVpcs"], Resource: ["*"] }) })],
            [res("aws:kms/key:Key", { enableKeyRotation: true, policy: doc({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: ["kms:*"], Resource: ["*"] }) })],
            [res("aws:s3/bucketPolicy:BucketPolicy", { policy: doc({ Effect: "Deny", Principal: "*", Action: ["s3:*"], Resource: ["*"] }) })],
        ],
        violating: [
            [res("aws:iam/rolePolicy:RolePolicy", { policy: doc({ Effect: "Allow", Action: ["*"], Resource: ["*"] }) })],
            [res("aws:iam/role:Role", { inlinePolicies: [{ name: "x", policy: doc({ Effect: "Allow", Action: "s3:*", Resource: "*" }) }] })],
            [res("aws:iot/policy:Policy", { policy: doc({ Effect: "Allow", Action: ["iot:*"], Resource: [`${ARN}:topic/a`] }) })],
            [res("aws:kms/key:Key", { policy: doc({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:role/app" }, Action: ["kms:*"], Resource: ["*"] }) })],
        ],
    },
    "iot-device-connects-as-its-thing": {
        compliant: [[res("aws:iot/policy:Policy", { policy: doc(
            { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/${THING}`], Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } } },
            { Effect: "Allow", Action: ["iot:Publish"], Resource: [`${ARN}:topic/vehicles/${THING}/*`, `${ARN}:topic/$aws/rules/fms_kr_rule1/*`] },
        ) })]],
        violating: [
            [res("aws:iot/policy:Policy", { policy: doc({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/*`] }) })],
            [res("aws:iot/policy:Policy", { policy: doc({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/${THING}`] }) })],
            [res("aws:iot/policy:Policy", { policy: doc({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/\${iot:ClientId}`] }) })],
            [res("aws:iot/policy:Policy", { policy: doc(
                { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/${THING}`], Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } } },
                { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [`${ARN}:topicfilter/$aws/things/*`] },
            ) })],
        ],
    },
    "providers-share-credentials": {
        compliant: [[
            res("pulumi:providers:aws", { region: "ap-northeast-2", profile: "kr" }),
            res("pulumi-nodejs:dynamic/iot:ClaimCertificate", { region: "ap-northeast-2", profile: "kr" }),
        ]],
        violating: [
            [res("pulumi:providers:aws", { region: "ap-northeast-2", profile: "kr" }), res("pulumi:providers:aws-native", { region: "ap-northeast-2" })],
            [res("pulumi:providers:aws", { region: "ap-northeast-2", allowedAccountIds: '["123456789012"]' }), res("pulumi-nodejs:dynamic/iot:TemplateVersionPruner", { region: "ap-northeast-2" })],
            [res("pulumi:providers:aws", { region: "ap-northeast-2" }), res("pulumi-nodejs:dynamic/iot:ClaimCertificate", { region: "eu-west-1" })],
        ],
    },
    "msk-password-from-secret-config": {
        compliant: [[res("aws:secretsmanager/secret:Secret", { tags: { PasswordSource: "secret-config" } })], [res("aws:secretsmanager/secret:Secret", { tags: { PasswordSource: "generated" } })]],
        violating: [[res("aws:secretsmanager/secret:Secret", { tags: { PasswordSource: "plain-config" } })]],
    },
    "iot-greengrass-core-policy-scoped": {
        compliant: [[res("aws:iot/policy:Policy", { tags: { FmsPolicy: "greengrass-core", CoreThingNamePrefix: "fms-kr-core-" }, policy: doc(
            { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/fms-kr-core-*`] },
            { Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: [`${ARN}:topic/$aws/things/fms-kr-core-*/greengrassv2/health/json`, `${ARN}:topic/$aws/things/fms-kr-core-*/jobs/*`] },
            { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [`${ARN}:topicfilter/$aws/things/fms-kr-core-*/shadow/*`] },
            { Effect: "Allow", Action: ["iot:GetThingShadow"], Resource: [`${ARN}:thing/fms-kr-core-*`] },
            { Effect: "Allow", Action: ["iot:AssumeRoleWithCertificate"], Resource: [`${ARN}:rolealias/fms-kr-gg-token-exchange`] },
            { Effect: "Allow", Action: ["greengrass:GetComponentVersionArtifact"], Resource: ["arn:aws:greengrass:ap-northeast-2:*:components:*"] },
            { Effect: "Allow", Action: ["greengrass:ResolveComponentCandidates"], Resource: ["*"] },
            { Effect: "Allow", Action: ["iot:Publish"], Resource: [`${ARN}:topic/$aws/rules/fms_kr_rule1/*`] },
        ) })]],
        violating: [
            // Widened to every client id, to every Thing's jobs, to an unneeded action, or tagged without a prefix.
            [res("aws:iot/policy:Policy", { tags: { FmsPolicy: "greengrass-core", CoreThingNamePrefix: "fms-kr-core-" }, policy: doc({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/*`] }) })],
            [res("aws:iot/policy:Policy", { tags: { FmsPolicy: "greengrass-core", CoreThingNamePrefix: "fms-kr-core-" }, policy: doc({ Effect: "Allow", Action: ["iot:Subscribe"], Resource: [`${ARN}:topicfilter/$aws/things/*/jobs/*`] }) })],
            [res("aws:iot/policy:Policy", { tags: { FmsPolicy: "greengrass-core", CoreThingNamePrefix: "fms-kr-core-" }, policy: doc({ Effect: "Allow", Action: ["iot:DeleteThing"], Resource: [`${ARN}:thing/fms-kr-core-*`] }) })],
            [res("aws:iot/policy:Policy", { tags: { FmsPolicy: "greengrass-core", CoreThingNamePrefix: "fms-kr-core-" }, policy: doc({ Effect: "Allow", Action: ["greengrass:GetConnectivityInfo"], Resource: ["*"] }) })],
            [res("aws:iot/policy:Policy", { tags: { FmsPolicy: "greengrass-core" }, policy: doc({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/fms-kr-core-*`] }) })],
            [res("aws:iot/policy:Policy", { tags: { FmsPolicy: "greengrass-core", CoreThingNamePrefix: "f" }, policy: doc({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/f*`] }) })],
        ],
    },
    "iot-template-policy-per-thing": (() => {
        // A core template as components/edge/corePolicy.ts makes it: the Thing name and the policy document
        // both follow SerialNumber (Fn::Join), every resource names that Thing.
        const thingName = { "Fn::Join": ["", ["fms-kr-core-", { Ref: "SerialNumber" }]] };
        const perThing = (...statements: object[]) => {
            const parts = doc(...statements).split("@THING@");
            const joined: unknown[] = [];
            parts.forEach((p, i) => { if (i > 0) joined.push({ Ref: "SerialNumber" }); joined.push(p); });
            return { "Fn::Join": ["", joined] };
        };
        const template = (policyProperties: object, name: object = thingName) => res("aws:iot/provisioningTemplate:ProvisioningTemplate", { templateBody: JSON.stringify({
            Parameters: { SerialNumber: { Type: "String" } },
            Resources: { thing: { Type: "AWS::IoT::Thing", Properties: { ThingName: name } }, policy: { Type: "AWS::IoT::Policy", Properties: policyProperties } },
        }) });
        const t = "fms-kr-core-@THING@";
        return {
            compliant: [
                [template({ PolicyDocument: perThing(
                    { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/${t}`, `${ARN}:client/${t}#*`] },
                    { Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: [`${ARN}:topic/$aws/things/${t}/*`] },
                    { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [`${ARN}:topicfilter/$aws/things/${t}/jobs/*`] },
                    { Effect: "Allow", Action: ["iot:GetThingShadow"], Resource: [`${ARN}:thing/${t}`] },
                    { Effect: "Allow", Action: ["iot:AssumeRoleWithCertificate"], Resource: [`${ARN}:rolealias/fms-kr-gg-token-exchange`] },
                    { Effect: "Allow", Action: ["greengrass:ResolveComponentCandidates"], Resource: ["*"] },
                    { Effect: "Allow", Action: ["iot:Publish"], Resource: [`${ARN}:topic/$aws/rules/fms_kr_rule1/*`] },
                ) })],
                [template({ PolicyName: "fms-kr-device" })],
            ],
            violating: [
                // The prefix wildcard back on client ids, another core's shadow, a longer serial's client id,
                // both PolicyName and PolicyDocument, a document whose Thing is not the template's.
                [template({ PolicyDocument: perThing({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/fms-kr-core-*`, `${ARN}:client/${t}`] }) })],
                [template({ PolicyDocument: perThing({ Effect: "Allow", Action: ["iot:GetThingShadow"], Resource: [`${ARN}:thing/fms-kr-core-2974690002`] }) })],
                [template({ PolicyDocument: perThing({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/${t}*`] }) })],
                [template({ PolicyName: "x", PolicyDocument: perThing({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/${t}`] }) })],
                [template({ PolicyDocument: perThing({ Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/${t}`] }) }, { "Fn::Join": ["", ["fms-kr-core-", "fixed"]] })],
                [template({ PolicyDocument: perThing({ Effect: "Allow", Action: ["iot:DeleteThing"], Resource: [`${ARN}:thing/${t}`] }) })],
            ],
        };
    })(),
    "iot-claim-policy-provisioning-only": {
        compliant: [
            [res("aws:iot/policy:Policy", { tags: { DeviceKeys: "aws" }, policy: doc(
                { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/claim-*`] },
                { Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: [`${ARN}:topic/$aws/certificates/create/*`, `${ARN}:topic/$aws/provisioning-templates/fms-kr-vehicle/provision/*`] },
                { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [`${ARN}:topicfilter/$aws/certificates/create/*`] },
            ) })],
            [res("aws:iot/policy:Policy", { tags: { DeviceKeys: "device" }, policy: doc(
                { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/claim-*`] },
                { Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: [`${ARN}:topic/$aws/certificates/create-from-csr/*`, `${ARN}:topic/$aws/provisioning-templates/fms-kr-vehicle/provision/*`] },
            ) })],
        ],
        violating: [
            // deviceKeys: device (tagged, or the default when untagged) with CreateKeysAndCertificate allowed.
            [res("aws:iot/policy:Policy", { tags: { DeviceKeys: "device" }, policy: doc(
                { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/claim-*`] },
                { Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: [`${ARN}:topic/$aws/certificates/create/*`] },
            ) })],
            [res("aws:iot/policy:Policy", { policy: doc(
                { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/claim-*`] },
                { Effect: "Allow", Action: ["iot:Subscribe"], Resource: [`${ARN}:topicfilter/$aws/certificates/create/*`] },
            ) })],
            [res("aws:iot/policy:Policy", { policy: doc(
                { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/claim-*`] },
                { Effect: "Allow", Action: ["iot:Publish"], Resource: [`${ARN}:topic/vehicles/*`] },
            ) })],
            [res("aws:iot/policy:Policy", { policy: doc(
                { Effect: "Allow", Action: ["iot:Connect"], Resource: [`${ARN}:client/claim-*`] },
                { Effect: "Allow", Action: ["iot:UpdateThingShadow"], Resource: [`${ARN}:thing/x`] },
            ) })],
        ],
    },
    "kms-key-rotation": {
        compliant: [[res("aws:kms/key:Key", { enableKeyRotation: true })], [res("aws:kms/key:Key", { keySpec: "RSA_2048" })]],
        violating: [[res("aws:kms/key:Key", {})], [res("aws:kms/key:Key", { enableKeyRotation: false })]],
    },
    "s3-bucket-private-encrypted-tls-only": (() => {
        const secure = (overrides: { pab?: object | null; sse?: string | null; tls?: boolean }) => {
            const bucket = res("aws:s3/bucket:Bucket", { bucket: "b1" });
            const out = [bucket];
            if (overrides.pab !== null) out.push(res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", { bucket: "b1", blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true, ...overrides.pab }));
            if (overrides.sse !== null) out.push(res("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: overrides.sse ?? "aws:kms" } }] }, [bucket.urn]));
            out.push(res("aws:s3/bucketPolicy:BucketPolicy", { bucket: "b1", policy: doc(overrides.tls === false
                ? { Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: ["s3:GetObject"], Resource: ["arn:aws:s3:::b1/*"] }
                : { Effect: "Deny", Principal: "*", Action: ["s3:*"], Resource: ["arn:aws:s3:::b1"], Condition: { Bool: { "aws:SecureTransport": "false" } } }) }));
            return out;
        };
        return {
            compliant: [secure({})],
            violating: [secure({ pab: null }), secure({ pab: { restrictPublicBuckets: false } }), secure({ sse: null }), secure({ sse: "AES256" }), secure({ tls: false }), [res("aws:s3/bucket:Bucket", { bucket: "lonely" })]],
        };
    })(),
    "secrets-manager-customer-managed-key": {
        compliant: [[res("aws:secretsmanager/secret:Secret", { name: "AmazonMSK_x", kmsKeyId: "arn:aws:kms:ap-northeast-2:123456789012:key/k" })]],
        violating: [[res("aws:secretsmanager/secret:Secret", { name: "AmazonMSK_x" })], [res("aws:secretsmanager/secret:Secret", { kmsKeyId: "alias/aws/secretsmanager" })]],
    },
    "iot-topic-rule-error-action-and-name": {
        compliant: [[res("aws:iot/topicRule:TopicRule", { name: "fms_kr_rule1", errorAction: { cloudwatchLogs: { logGroupName: "g", roleArn: "r" } } })]],
        violating: [[res("aws:iot/topicRule:TopicRule", { name: "fms_kr_rule1" })], [res("aws:iot/topicRule:TopicRule", { name: "fms-kr-rule1", errorAction: { s3: {} } })]],
    },
    "provisioning-template-pre-provisioning-hook": {
        compliant: [
            [res("pulumi:providers:aws", { defaultTags: JSON.stringify({ tags: { Environment: "production" } }) }), res("aws:iot/provisioningTemplate:ProvisioningTemplate", { preProvisioningHook: { targetArn: "arn:aws:lambda:x", payloadVersion: "2020-04-01" } })],
            [res("pulumi:providers:aws", { defaultTags: JSON.stringify({ tags: { Environment: "dev" } }) }), res("aws:iot/provisioningTemplate:ProvisioningTemplate", {})],
        ],
        violating: [
            [res("pulumi:providers:aws", { defaultTags: JSON.stringify({ tags: { Environment: "production" } }) }), res("aws:iot/provisioningTemplate:ProvisioningTemplate", {})],
            [res("aws:iot/provisioningTemplate:ProvisioningTemplate", {})],
        ],
    },
    "provisioning-hook-registry-outside-dev": {
        compliant: [
            [res("pulumi:providers:aws", { defaultTags: JSON.stringify({ tags: { Environment: "production" } }) }), res("aws:lambda/function:Function", { environment: { variables: { HOOK_MODE: "registry" } } })],
            [res("pulumi:providers:aws", { defaultTags: JSON.stringify({ tags: { Environment: "dev" } }) }), res("aws:lambda/function:Function", { environment: { variables: { HOOK_MODE: "prefix" } } })],
        ],
        violating: [
            [res("pulumi:providers:aws", { defaultTags: JSON.stringify({ tags: { Environment: "production" } }) }), res("aws:lambda/function:Function", { environment: { variables: { HOOK_MODE: "prefix" } } })],
            [res("pulumi:providers:aws", { defaultTags: JSON.stringify({ tags: { Environment: "staging" } }) }), res("aws:lambda/function:Function", { environment: { variables: { HOOK_MODE: "prefix" } } })],
        ],
    },
    "lambda-current-runtime-no-secret-env": {
        compliant: [[res("aws:lambda/function:Function", { runtime: "nodejs22.x", environment: { variables: { HOOK_MODE: "registry", REGISTRY_TABLE: "t" } } })]],
        violating: [
            [res("aws:lambda/function:Function", { runtime: "nodejs16.x" })],
            [res("aws:lambda/function:Function", { runtime: "nodejs22.x", environment: { variables: { MSK_PASSWORD: "x" } } })],
            [res("aws:lambda/function:Function", { runtime: "nodejs22.x", environment: { variables: { KEY: "-----BEGIN RSA PRIVATE KEY-----\nabc" } } })],
        ],
    },
    "iot-logging-enabled": {
        compliant: [[res("aws:iot/loggingOptions:LoggingOptions", { defaultLogLevel: "ERROR", disableAllLogs: false })]],
        violating: [[res("aws:iot/loggingOptions:LoggingOptions", { defaultLogLevel: "ERROR", disableAllLogs: true })], [res("aws:iot/loggingOptions:LoggingOptions", { defaultLogLevel: "DISABLED" })]],
    },
    "iot-logging-managed": {
        compliant: [[res("aws:iot/loggingOptions:LoggingOptions", { defaultLogLevel: "INFO" })]],
        violating: [[res("pulumi:pulumi:Stack", {})]],
    },
};

describe("guardrails", () => {
    it("every rule has compliant and violating cases here", () => {
        assert.deepStrictEqual(Object.keys(CASES).sort(), RULES.map((r) => r.name).sort());
    });

    for (const [name, { compliant, violating }] of Object.entries(CASES)) {
        describe(name, () => {
            compliant.forEach((resources, i) => it(`passes compliant case ${i + 1}`, () => {
                assert.deepStrictEqual(run(name, resources), []);
            }));
            violating.forEach((resources, i) => it(`reports violating case ${i + 1}`, () => {
                const findings = run(name, resources);
                assert.ok(findings.length > 0, JSON.stringify(resources));
                assert.ok(findings.every((f) => f.policy === name && f.level === rule(name).level && f.message.length > 0));
            }));
        });
    }

    it("the policy pack carries the same rules with their enforcement levels", () => {
        assert.deepStrictEqual(POLICIES.map((p) => [p.name, p.enforcementLevel]), RULES.map((r) => [r.name, r.level]));
        const wildcard = POLICIES.find((p) => p.name === "no-wildcard-actions-on-any-resource") as unknown as { validateResource: Function };
        const reported: string[] = [];
        wildcard.validateResource({ urn: "u", type: "aws:iam/rolePolicy:RolePolicy", name: "n", props: { policy: doc({ Effect: "Allow", Action: ["*"], Resource: ["*"] }) } }, (m: string) => reported.push(m));
        assert.strictEqual(reported.length, 1);
        const s3 = POLICIES.find((p) => p.name === "s3-bucket-private-encrypted-tls-only") as unknown as { validateStack: Function };
        const stackReports: [string, string | undefined][] = [];
        const bucket = { urn: "b", type: "aws:s3/bucket:Bucket", name: "b", props: {}, dependencies: [], propertyDependencies: {} };
        s3.validateStack({ resources: [bucket] }, (m: string, urn?: string) => stackReports.push([m, urn]));
        assert.ok(stackReports.length >= 3 && stackReports.every(([, urn]) => urn === "b"));
    });

    for (const stack of ["dev", "kr", "jp", "au", "us"]) {
        it(`the ${stack} stack has no guardrail finding`, async () => {
            const findings = guardrailFindings(await runStack(stack));
            assert.deepStrictEqual(findings, []);
        });
    }

    it("a plaintext mskPassword in the stack file is flagged; the same value as an encrypted config value is not", async () => {
        const plain = guardrailFindings(await runStack("kr", { edit: (c) => { c["fms-iot:mskPassword"] = "committed-in-plain-text"; } }));
        assert.deepStrictEqual(plain.filter((f) => f.policy === "msk-password-from-secret-config").map((f) => f.level), ["advisory"]);
        const secret = guardrailFindings(await runStack("kr", { edit: (c) => { c["fms-iot:mskPassword"] = "from-encrypted-config"; }, secretKeys: ["fms-iot:mskPassword"] }));
        assert.deepStrictEqual(secret.filter((f) => f.policy === "msk-password-from-secret-config"), []);
    });
});
