import * as assert from "assert";
import { isAllowed, PrincipalContext } from "./support/iotPolicyEvaluator";
import { evaluateTemplate, TemplateError } from "./support/templateEvaluator";
import { policyDocument } from "../policies/document";

/** The end-to-end test trusts these two test helpers; they must refuse what AWS IoT refuses. */
describe("test helpers: IoT policy and template evaluators", () => {
    const arn = (r: string) => `arn:aws:iot:ap-northeast-2:123456789012:${r}`;
    const ctx: PrincipalContext = { region: "ap-northeast-2", accountId: "123456789012", clientId: "t-1", attachedThing: "t-1" };
    const allow = (action: string, resource: string) => ({ Effect: "Allow" as const, Action: [action], Resource: [arn(resource)] });

    it("an explicit Deny wins over an Allow", () => {
        const doc = policyDocument(allow("iot:Publish", "topic/a/*"), { Effect: "Deny", Action: ["iot:Publish"], Resource: [arn("topic/a/secret")] });
        assert.strictEqual(isAllowed([doc], "iot:Publish", "topic/a/open", ctx), true);
        assert.strictEqual(isAllowed([doc], "iot:Publish", "topic/a/secret", ctx), false);
    });

    it("only * is a wildcard: MQTT's + and # are literal in policies", () => {
        const doc = policyDocument(allow("iot:Subscribe", "topicfilter/a/+/b"));
        assert.strictEqual(isAllowed([doc], "iot:Subscribe", "topicfilter/a/+/b", ctx), true);
        assert.strictEqual(isAllowed([doc], "iot:Subscribe", "topicfilter/a/x/b", ctx), false);
    });

    it("the Thing-name variable and IsAttached hold only when the client id names the attached Thing", () => {
        const doc = policyDocument({ ...allow("iot:Connect", "client/${iot:Connection.Thing.ThingName}"), Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } } });
        assert.strictEqual(isAllowed([doc], "iot:Connect", "client/t-1", ctx), true);
        assert.strictEqual(isAllowed([doc], "iot:Connect", "client/t-2", { ...ctx, clientId: "t-2" }), false);
        assert.strictEqual(isAllowed([doc], "iot:Connect", "client/t-1", { ...ctx, attachedThing: undefined }), false);
    });

    it("an unknown condition key never matches", () => {
        const doc = policyDocument({ ...allow("iot:Publish", "topic/x"), Condition: { StringEquals: { "iot:ClientId": "t-1" } } });
        assert.strictEqual(isAllowed([doc], "iot:Publish", "topic/x", ctx), false);
    });

    it("templates: Ref and Fn::Join evaluate; a missing parameter, another intrinsic or resource type is an error", () => {
        const body = {
            Parameters: { S: { Type: "String" }, D: { Type: "String", Default: "x" }, "AWS::IoT::Certificate::Id": { Type: "String" } },
            Resources: {
                thing: { Type: "AWS::IoT::Thing", Properties: { ThingName: { "Fn::Join": ["-", ["v", { Ref: "S" }, { Ref: "D" }]] } } },
                certificate: { Type: "AWS::IoT::Certificate", Properties: { CertificateId: { Ref: "AWS::IoT::Certificate::Id" }, Status: "ACTIVE" } },
            },
        };
        assert.strictEqual(evaluateTemplate(body, { S: "1", "AWS::IoT::Certificate::Id": "c" }).thingName, "v-1-x");
        assert.throws(() => evaluateTemplate(body, { "AWS::IoT::Certificate::Id": "c" }), /parameter S is required/);
        const sub = { ...body, Resources: { ...body.Resources, thing: { Type: "AWS::IoT::Thing", Properties: { ThingName: { "Fn::Sub": "v-${S}" } } } } };
        assert.throws(() => evaluateTemplate(sub as never, { S: "1", "AWS::IoT::Certificate::Id": "c" }), (e: Error) => e instanceof TemplateError && /Fn::Sub is not supported/.test(e.message));
        const other = { ...body, Resources: { ...body.Resources, group: { Type: "AWS::IoT::ThingGroup", Properties: {} } } };
        assert.throws(() => evaluateTemplate(other as never, { S: "1", "AWS::IoT::Certificate::Id": "c" }), /type AWS::IoT::ThingGroup, not supported/);
    });

    it("templates: a policy resource names an existing policy or creates one from its document, never both (AWS IoT, 'Provisioning templates > Policy resources')", () => {
        const withPolicy = (properties: object) => ({
            Parameters: { S: { Type: "String" }, "AWS::IoT::Certificate::Id": { Type: "String" } },
            Resources: {
                thing: { Type: "AWS::IoT::Thing", Properties: { ThingName: { "Fn::Join": ["", ["core-", { Ref: "S" }]] } } },
                certificate: { Type: "AWS::IoT::Certificate", Properties: { CertificateId: { Ref: "AWS::IoT::Certificate::Id" }, Status: "ACTIVE" } },
                policy: { Type: "AWS::IoT::Policy", Properties: properties },
            },
        });
        const doc = { "Fn::Join": ["", ['{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],"Resource":["client/core-', { Ref: "S" }, '"]}]}']] };
        const run = (properties: object, serial: string) => evaluateTemplate(withPolicy(properties) as never, { S: serial, "AWS::IoT::Certificate::Id": "c" });
        assert.deepStrictEqual([run({ PolicyName: "p" }, "1").policyNames, run({ PolicyName: "p" }, "1").createdPolicies], [["p"], {}]);
        const one = run({ PolicyDocument: doc }, "1");
        // "PolicyName: ... Defaults to a hash of the policy document": the same document, the same name.
        assert.deepStrictEqual(Object.keys(one.createdPolicies), one.policyNames);
        assert.deepStrictEqual(JSON.parse(one.createdPolicies[one.policyNames[0]]).Statement[0].Resource, ["client/core-1"]);
        assert.deepStrictEqual(run({ PolicyDocument: doc }, "1").policyNames, one.policyNames);
        assert.notDeepStrictEqual(run({ PolicyDocument: doc }, "2").policyNames, one.policyNames);
        assert.throws(() => run({ PolicyName: "p", PolicyDocument: doc }, "1"), /PolicyName or PolicyDocument, but not both/);
        assert.throws(() => run({}, "1"), /PolicyName or PolicyDocument, but not both/);
        assert.throws(() => run({ PolicyDocument: "{not json" }, "1"), /PolicyDocument is not JSON/);
    });
});
