import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { PROJECT_ROOT } from "../config/stackFile";
import { ACCOUNT_ID } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import { assertConfigError, parsePolicy, statement } from "./support/assertions";

const REGION = "ap-northeast-2";
const arn = (r: string) => `arn:aws:iot:${REGION}:${ACCOUNT_ID}:${r}`;
const THING = "${iot:Connection.Thing.ThingName}";

describe("edge: Greengrass v2 (kr)", function () {
    this.timeout(60_000);
    let run: ProgramRun;
    before(async () => { run = await runStack("kr"); });

    it("token-exchange role: trusted by the credentials provider; its own logs and this stack's artifacts only", () => {
        const role = run.one("aws:iam/role:Role", "-token-exchange-role");
        assert.deepStrictEqual(parsePolicy(role.inputs.assumeRolePolicy).Statement[0].Principal, { Service: "credentials.iot.amazonaws.com" });
        const doc = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-token-exchange-policy").inputs.policy);
        const logs = `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/greengrass/*`;
        assert.deepStrictEqual(statement(doc, "GreengrassLogs").Resource, [logs, `${logs}:*`]);
        const bucket = run.one("aws:s3/bucket:Bucket", "-artifacts-bucket").state.arn;
        assert.deepStrictEqual(statement(doc, "ReadComponentArtifacts"), { Sid: "ReadComponentArtifacts", Effect: "Allow", Action: ["s3:GetObject"], Resource: [`${bucket}/*`] });
        for (const s of doc.Statement) {
            assert.ok(!s.Action.some((a) => a === "*" || a.endsWith(":*")), s.Sid);
            assert.ok(!(s.Resource ?? []).includes("*"), s.Sid);
        }
    });

    it("role alias: the token-exchange role, credential duration from config", () => {
        const alias = run.one("aws:iot/roleAlias:RoleAlias");
        assert.strictEqual(alias.inputs.alias, "fms-kr-gg-token-exchange");
        assert.strictEqual(alias.inputs.roleArn, run.one("aws:iam/role:Role", "-token-exchange-role").state.arn);
        assert.strictEqual(alias.inputs.credentialDuration, 3600);
    });

    it("core-device policy: its own Thing, AssumeRoleWithCertificate on this role alias only, no wildcard actions", () => {
        const doc = parsePolicy(run.one("aws:iot/policy:Policy", "-core-policy").inputs.policy);
        assert.deepStrictEqual(statement(doc, "ConnectAsOwnThing").Resource, [arn(`client/${THING}`)]);
        assert.deepStrictEqual(statement(doc, "TokenExchangeThroughRoleAlias"), {
            Sid: "TokenExchangeThroughRoleAlias", Effect: "Allow", Action: ["iot:AssumeRoleWithCertificate"], Resource: [arn("rolealias/fms-kr-gg-token-exchange")],
        });
        assert.ok(statement(doc, "OwnTopics").Resource!.includes(arn(`topic/$aws/things/${THING}/greengrassv2/health/json`)));
        assert.deepStrictEqual(statement(doc, "BasicIngest").Resource, [1, 2, 3].map((n) => arn(`topic/$aws/rules/fms_kr_rule${n}/*`)));
        for (const s of doc.Statement) {
            assert.ok(!s.Action.some((a) => a === "*" || a.endsWith(":*")), `${s.Sid}: no greengrass:* or iot:*`);
            if ((s.Resource ?? []).includes("*")) {
                assert.strictEqual(s.Sid, "GreengrassDataPlane", "only the data-plane calls that take no resource");
                assert.ok(s.Action.every((a) => a.startsWith("greengrass:")));
            }
        }
    });

    it("core template: its own Thing names, the core group and policy fixed by the template, the shared hook", () => {
        const t = run.one("aws:iot/provisioningTemplate:ProvisioningTemplate", "-core-template");
        const hook = run.one("aws:lambda/function:Function", "-hook");
        assert.strictEqual(t.inputs.name, "fms-kr-edge-core");
        assert.strictEqual(t.inputs.enabled, true);
        assert.deepStrictEqual(t.inputs.preProvisioningHook, { targetArn: hook.state.arn, payloadVersion: "2020-04-01" });
        const body = JSON.parse(t.inputs.templateBody);
        assert.deepStrictEqual(body.Resources.thing.Properties.ThingName, { "Fn::Join": ["", ["test-thing-core-", { Ref: "SerialNumber" }]] });
        assert.deepStrictEqual(body.Resources.thing.Properties.ThingGroups, ["fms-kr-edge-cores"]);
        assert.deepStrictEqual(body.Resources.policy.Properties, { PolicyName: "fms-kr-edge-core" });
        const perms = run.ofType("aws:lambda/permission:Permission").filter((p) => p.inputs.function === hook.state.name);
        assert.deepStrictEqual(perms.map((p) => p.inputs.sourceArn).sort(), ["edge-core", "rotate", "vehicle"].map((t) => arn(`provisioningtemplate/fms-kr-${t}`)));
        assert.ok(perms.every((p) => p.inputs.function === hook.state.name && p.inputs.sourceAccount === ACCOUNT_ID));
    });

    it("the claim policy covers the core template too", () => {
        const doc = parsePolicy(run.one("aws:iot/policy:Policy", "-claim-policy").inputs.policy);
        assert.ok(statement(doc, "ProvisioningTopics").Resource!.includes(arn("topic/$aws/provisioning-templates/fms-kr-edge-core/provision/*")));
    });

    it("component: the recipe parses and runs the program shipped here, from our private bucket, publishing to Basic Ingest only", () => {
        const recipe = JSON.parse(run.one("aws-native:greengrassv2:ComponentVersion").inputs.inlineRecipe);
        const bucket = run.one("aws:s3/bucket:Bucket", "-artifacts-bucket").state.bucket;
        const artifact = run.one("aws:s3/bucketObjectv2:BucketObjectv2", "-telemetry-artifact");
        assert.strictEqual(artifact.inputs.bucket, bucket);
        assert.strictEqual(artifact.inputs.serverSideEncryption, "aws:kms");
        assert.strictEqual(recipe.ComponentName, "com.fms.VehicleTelemetry");
        assert.strictEqual(recipe.ComponentVersion, "1.0.0");
        assert.deepStrictEqual(recipe.Manifests[0].Artifacts.map((a: { URI: string }) => a.URI), [`s3://${bucket}/${artifact.inputs.key}`]);
        assert.match(artifact.inputs.key, /^artifacts\/com\.fms\.VehicleTelemetry\/1\.0\.0\/[0-9a-f]{16}\/telemetry\.py$/);
        assert.match(recipe.Manifests[0].Lifecycle.Run, /\{artifacts:path\}\/telemetry\.py --topic '\{configuration:\/topic\}'/);
        const config = recipe.ComponentConfiguration.DefaultConfiguration;
        assert.strictEqual(config.topic, "$aws/rules/fms_kr_rule1/test-rule/rule1");
        assert.deepStrictEqual(config.accessControl["aws.greengrass.ipc.mqttproxy"]["com.fms.VehicleTelemetry:mqttproxy:1"].resources, ["$aws/rules/fms_kr_rule1/*"]);
        assert.deepStrictEqual(config.accessControl["aws.greengrass.ipc.mqttproxy"]["com.fms.VehicleTelemetry:mqttproxy:1"].operations, ["aws.greengrass#PublishToIoTCore"]);
    });

    it("deployment: to the core group, nucleus and log manager configured (capped file logs, errors to CloudWatch), rollback on failure", () => {
        const d = run.one("aws-native:greengrassv2:Deployment").inputs;
        assert.strictEqual(d.targetArn, run.one("aws:iot/thingGroup:ThingGroup", "-core-group").state.arn);
        assert.deepStrictEqual(Object.keys(d.components).sort(), ["aws.greengrass.LogManager", "aws.greengrass.Nucleus", "com.fms.VehicleTelemetry"]);
        assert.deepStrictEqual(JSON.parse(d.components["aws.greengrass.Nucleus"].configurationUpdate.merge).logging, { level: "INFO", format: "TEXT", fileSizeKB: 1024, totalLogsSizeKB: 10240 });
        const logs = JSON.parse(d.components["aws.greengrass.LogManager"].configurationUpdate.merge).logsUploaderConfiguration;
        assert.strictEqual(logs.systemLogsConfiguration.uploadToCloudWatch, "true");
        assert.strictEqual(logs.systemLogsConfiguration.minimumLogLevel, "ERROR");
        assert.strictEqual(logs.componentLogsConfigurationMap["com.fms.VehicleTelemetry"].minimumLogLevel, "ERROR");
        assert.strictEqual(d.components["com.fms.VehicleTelemetry"].componentVersion, "1.0.0");
        assert.strictEqual(d.deploymentPolicies.failureHandlingPolicy, "ROLLBACK");
        assert.strictEqual(d.iotJobConfiguration.jobExecutionsRolloutConfig.maximumPerMinute, 50);
        assert.strictEqual(d.iotJobConfiguration.abortConfig.criteriaList[0].thresholdPercentage, 10);
    });

    it("outputs: role alias, thing group, core template, component, deployment", () => {
        const o = run.outputs;
        assert.strictEqual(o.edgeRoleAliasName, "fms-kr-gg-token-exchange");
        assert.strictEqual(o.edgeThingGroupArn, arn("thinggroup/fms-kr-edge-cores"));
        assert.strictEqual(o.edgeCoreTemplateName, "fms-kr-edge-core");
        assert.match(String(o.edgeComponentArn), /:components:com\.fms\.VehicleTelemetry:versions:1\.0\.0$/);
        assert.match(String(o.edgeDeploymentId), /^[0-9a-f-]{36}$/);
    });
});

describe("edge: stacks and config", function () {
    this.timeout(60_000);

    it("a stack without the greengrass section creates none of it", async () => {
        const run = await runStack("jp");
        assert.strictEqual(run.ofType("fms:iot:EdgeRuntime").length, 0);
        assert.strictEqual(run.resources.filter((r) => r.type.startsWith("aws-native:greengrassv2") || r.type === "aws:iot/roleAlias:RoleAlias").length, 0);
        assert.strictEqual(run.outputs.edgeDeploymentId, undefined);
    });

    const edit = (change: (g: any) => void, dropRouting = false) => (c: Record<string, string>) => {
        const g = JSON.parse(c["fms-iot:greengrass"]);
        change(g);
        c["fms-iot:greengrass"] = JSON.stringify(g);
        if (dropRouting) delete c["fms-iot:routing"];
    };
    const BAD: [string, (c: Record<string, string>) => void, string, RegExp][] = [
        ["a telemetry route that does not exist", edit((g) => { g.telemetry.route = "rule9"; }), "fms-iot:greengrass.telemetry.route", /one of the routing route keys: rule1, rule2, rule3/],
        ["greengrass without routing", edit(() => undefined, true), "fms-iot:greengrass.telemetry.route", /needs a routing section/],
        ["a credential duration over 12 hours", edit((g) => { g.credentialDurationSeconds = 50000; }), "fms-iot:greengrass.credentialDurationSeconds", /900 to 43200/],
        ["a core template name over 36 characters", edit((g) => { g.templateName = "x".repeat(37); }), "fms-iot:greengrass.templateName", /1-36/],
        ["core Thing names equal to vehicle Thing names", edit((g) => { g.coreThingNamePrefix = "test-thing-"; }), "fms-iot:greengrass.coreThingNamePrefix", /must differ/],
        ["a component version that is not semver", edit((g) => { g.telemetry.componentVersion = "latest"; }), "fms-iot:greengrass.telemetry.componentVersion", /semantic version/],
    ];
    for (const [label, change, key, allowed] of BAD) {
        it(`config error: ${label}`, async () => {
            await assertConfigError(runStack("kr", { edit: change }), key, allowed);
        });
    }

    it("a route with wildcards gets a concrete Basic Ingest topic for the Thing", async () => {
        const run = await runStack("kr", { edit: (c) => {
            const r = JSON.parse(c["fms-iot:routing"]);
            r.routes[0].sql = "SELECT topic(4) as device_id, temperature FROM 'device/+/data'";
            c["fms-iot:routing"] = JSON.stringify(r);
        } });
        const recipe = JSON.parse(run.one("aws-native:greengrassv2:ComponentVersion").inputs.inlineRecipe);
        assert.strictEqual(recipe.ComponentConfiguration.DefaultConfiguration.topic, "$aws/rules/fms_kr_rule1/device/{thingName}/data");
    });

    it("the telemetry program's own tests pass (python3 -m unittest)", () => {
        const out = execFileSync("python3", ["-m", "unittest", "-v", "test_telemetry"], { cwd: path.join(PROJECT_ROOT, "edge", "telemetry"), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
        assert.strictEqual(out, "");
    });
});
