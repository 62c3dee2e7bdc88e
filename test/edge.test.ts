import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT, readStackFile, stackNames } from "../config/stackFile";
import { stackConfigFromEngine } from "../config/stackConfig";
import { ACCOUNT_ID, AwsMocks } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import { contentVersion, telemetryArtifactKey, telemetryRecipe } from "../components/edge/edgeRuntime";
import { LOG_MANAGER, NUCLEUS } from "../config/awsComponents";
import { nucleusClientIds } from "../policies/greengrass";
import { PolicyDocument } from "../policies/document";
import { IOT_POLICY_MAX_CHARS, iotPolicySize } from "../policies/document";
import { evaluate, RULES } from "../guardrails/rules";
import { evaluateTemplate } from "./support/templateEvaluator";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { CREATE_LOG_GROUP_FORMS, ledgerArn, LOG_MANAGER_CALLS, logManagerGroups, logManagerStream } from "./ledger/greengrassLogManager";
import { assertStackConfigError, parsePolicy, statement } from "./support/assertions";
import { isAllowed } from "./support/iotPolicyEvaluator";
import { inside, physicalNames } from "./support/physicalNames";

/** IAM resource matching: `*` matches any run of characters, including `/` and `:`. */
function iamMatches(pattern: string, value: string): boolean {
    return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(value);
}

const REGION = "ap-northeast-2";
const view = (r: { urn: string; type: string; name: string; inputs: Record<string, any>; dependencies: string[] }) => ({ urn: r.urn, type: r.type, name: r.name, props: r.inputs, dependencies: r.dependencies });
const arn = (r: string) => `arn:aws:iot:${REGION}:${ACCOUNT_ID}:${r}`;

describe("edge: Greengrass v2 (kr)", function () {
    this.timeout(60_000);
    let run: ProgramRun;
    before(async () => { run = await runStack("kr"); });

    it("token-exchange role: what the log manager calls (CreateLogGroup on the two groups, each core's own streams), GetBucketLocation on the artifact bucket", () => {
        const role = run.one("aws:iam/role:Role", "-token-exchange-role");
        assert.deepStrictEqual(parsePolicy(role.inputs.assumeRolePolicy).Statement[0].Principal, { Service: "credentials.iot.amazonaws.com" });
        const doc = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-token-exchange-policy").inputs.policy);
        const bucket = run.one("aws:s3/bucket:Bucket", "-artifacts-bucket").state.arn;
        const group = (n: string) => `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:${n}`;
        const groups = [`/aws/greengrass/GreengrassSystemComponent/${REGION}/System`, `/aws/greengrass/UserComponent/${REGION}/com.fms.fms-kr.VehicleTelemetry`];
        assert.deepStrictEqual(statement(doc, "GreengrassLogGroupsExist"), { Sid: "GreengrassLogGroupsExist", Effect: "Allow", Action: ["logs:CreateLogGroup"], Resource: groups.flatMap((g) => [group(g), `${group(g)}:*`]) });
        assert.deepStrictEqual(statement(doc, "GreengrassOwnLogStreams").Action, ["logs:CreateLogStream", "logs:PutLogEvents"]);
        assert.deepStrictEqual(statement(doc, "GreengrassOwnLogStreams").Resource, groups.map((g) => `${group(g)}:log-stream:/*/thing/\${credentials-iot:ThingName}`));
        assert.deepStrictEqual(statement(doc, "ArtifactBucketLocation"), { Sid: "ArtifactBucketLocation", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: [bucket] });
        assert.deepStrictEqual(statement(doc, "ReadComponentArtifacts").Resource, [`${bucket}/artifacts/*`]);

        // AWS's default token-exchange policy for nucleus v2.5.0 and later (Greengrass developer guide,
        // "Authorize core devices to interact with AWS services"), plus s3:GetObject for S3 artifacts:
        //   "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
        //              "logs:DescribeLogStreams", "s3:GetBucketLocation"], "Resource": "*"
        // aws-greengrass-log-manager v2.3.11 never calls DescribeLogStreams (src/main has only
        // putLogEvents, createLogGroup, createLogStream: CloudWatchLogsUploader.java L143, L193, L215).
        const awsDefault = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "s3:GetBucketLocation", "s3:GetObject"];
        const granted = new Set(doc.Statement.flatMap((s) => s.Action));
        assert.deepStrictEqual(awsDefault.filter((a) => !granted.has(a)), ["logs:DescribeLogStreams"], "everything AWS's default grants but DescribeLogStreams, which nothing calls");
        for (const s of doc.Statement) {
            assert.ok(!s.Action.some((a) => a === "*" || a.endsWith(":*")), s.Sid);
            assert.ok(!(s.Resource ?? []).includes("*"), s.Sid);
        }
    });

    it("token-exchange role: a core may create and write only the streams the log manager names after it", () => {
        const doc = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-token-exchange-policy").inputs.policy);
        const put = statement(doc, "GreengrassOwnLogStreams");
        // aws-greengrass-log-manager v2.3.11, CloudWatchAttemptLogsProcessor.java:
        //   L61 DEFAULT_LOG_STREAM_NAME = "/{date}/thing/{thingName}";  L75 date as "yyyy/MM/dd" (UTC);
        //   L110 return logStreamName.replace(":", "+");
        const streamOf = (thing: string, date = "2026/11/23") => `/${date}/thing/${thing}`.replace(":", "+");
        const systemGroup = `arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/greengrass/GreengrassSystemComponent/${REGION}/System`;
        const canPut = (credentialThing: string, streamThing: string) => put.Resource!.some((r) =>
            iamMatches(r.split("${credentials-iot:ThingName}").join(credentialThing), `${systemGroup}:log-stream:${streamOf(streamThing)}`));
        assert.ok(canPut("fms-kr-core-2974690001", "fms-kr-core-2974690001"));
        assert.ok(!canPut("fms-kr-core-2974690001", "fms-kr-core-2974690002"), "not another core's stream");
        assert.ok(!canPut("fms-kr-core-2974690001", "fms-kr-core-2974690001x"));
    });

    it("token-exchange role, replayed: the log manager's call sequence (test/ledger) against the planned policy in an IAM policy simulator (@cloud-copilot/iam-simulate)", async () => {
        const planned = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-token-exchange-policy").inputs.policy);
        // AWS resolves credentials-iot:ThingName from the x-amzn-iot-thingname header the nucleus sends
        // (IotCloudHelper.java L35, v2.16.1); the simulator does not know that key, so it is substituted here,
        // and the simulator judges the rest (actions, ARNs, wildcards) on its own.
        const asCore = (doc: PolicyDocument, thing: string) => JSON.parse(JSON.stringify(doc).split("${credentials-iot:ThingName}").join(thing));
        const simulate = async (doc: PolicyDocument, thing: string, action: string, resource: string) => {
            const r = await runSimulation({
                request: { principal: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/fms-kr-edge-token-exchange-role/${thing}`, action, resource: { resource, accountId: ACCOUNT_ID }, contextVariables: {} },
                identityPolicies: [{ name: "token-exchange", policy: asCore(doc, thing) }], serviceControlPolicies: [], resourceControlPolicies: [],
            }, {});
            assert.strictEqual(r.resultType, "single", JSON.stringify(r));
            return (r as { overallResult: string }).overallResult;
        };
        const core = "fms-kr-core-2974690001";
        const stream = logManagerStream(core, new Date("2026-12-03T10:00:00Z"));
        assert.strictEqual(stream, "/2026/12/03/thing/fms-kr-core-2974690001");
        const groups = logManagerGroups(REGION, ["com.fms.fms-kr.VehicleTelemetry"]);
        const arnOf = (template: string, group: string, s = stream) => ledgerArn(template, { Partition: "aws", Region: REGION, Account: ACCOUNT_ID, LogGroupName: group, LogStreamName: s });
        assert.deepStrictEqual(LOG_MANAGER_CALLS.map((c) => c.action), ["logs:PutLogEvents", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]);
        for (const group of groups) {
            for (const call of LOG_MANAGER_CALLS) {
                assert.strictEqual(await simulate(planned, core, call.action, arnOf(call.resource, group)), "Allowed", `${call.action} on ${group} (${call.source})`);
            }
        }
        // CreateLogGroup in every form AWS may authorize it on (test/ledger CREATE_LOG_GROUP_FORMS): the bare group
        // (Service Authorization Reference) and `<group>:log-stream:` (CloudWatch Logs' AccessDenied messages).
        for (const group of groups) {
            for (const form of CREATE_LOG_GROUP_FORMS) {
                assert.strictEqual(await simulate(planned, core, "logs:CreateLogGroup", arnOf(form, group)), "Allowed", `CreateLogGroup as ${form} on ${group}`);
            }
        }
        for (const form of CREATE_LOG_GROUP_FORMS) {
            assert.strictEqual(await simulate(planned, core, "logs:CreateLogGroup", arnOf(form, `/aws/greengrass/UserComponent/${REGION}/com.example.Other`)), "ImplicitlyDenied", `CreateLogGroup as ${form} on another group`);
        }
        // Refused: another core's streams, a log group that is not the log manager's, other actions.
        const other = logManagerStream("fms-kr-core-2974690002", new Date("2026-12-03T10:00:00Z"));
        const [createGroup, createStream, put] = [LOG_MANAGER_CALLS[1], LOG_MANAGER_CALLS[2], LOG_MANAGER_CALLS[0]];
        for (const call of [createStream, put]) {
            assert.strictEqual(await simulate(planned, core, call.action, arnOf(call.resource, groups[0], other)), "ImplicitlyDenied", `${call.action} on another core's stream`);
        }
        for (const group of [`/aws/greengrass/UserComponent/${REGION}/com.fms.fms-dev.VehicleTelemetry`, "/aws/lambda/fms-kr-hook", `/aws/greengrass/UserComponent/${REGION}/com.example.Other`]) {
            assert.strictEqual(await simulate(planned, core, createGroup.action, arnOf(createGroup.resource, group)), "ImplicitlyDenied", `CreateLogGroup ${group}`);
        }
        assert.strictEqual(await simulate(planned, core, "logs:DeleteLogGroup", arnOf(createGroup.resource, groups[0])), "ImplicitlyDenied");
        // The role as it was (no CreateLogGroup): the second call of every new stream is denied, and the log
        // manager gives up on it (CloudWatchLogsUploader.java L196-198) -- no log line ever reached CloudWatch.
        const before: PolicyDocument = { ...planned, Statement: planned.Statement.filter((x) => !x.Action.includes("logs:CreateLogGroup")) };
        assert.strictEqual(await simulate(before, core, createGroup.action, arnOf(createGroup.resource, groups[0])), "ImplicitlyDenied");
    });

    it("role alias: the token-exchange role, credential duration from config", () => {
        const alias = run.one("aws:iot/roleAlias:RoleAlias");
        assert.strictEqual(alias.inputs.alias, "fms-kr-gg-token-exchange");
        assert.strictEqual(alias.inputs.roleArn, run.one("aws:iam/role:Role", "-token-exchange-role").state.arn);
        assert.strictEqual(alias.inputs.credentialDuration, 3600);
    });

    it("core-device policy: one per core, made by the core template from the core's own Thing name; no prefix wildcard", () => {
        assert.deepStrictEqual(run.ofType("aws:iot/policy:Policy").filter((p) => p.name.endsWith("-core-policy")), [], "no shared core policy");
        const body = JSON.parse(run.one("aws:iot/provisioningTemplate:ProvisioningTemplate", "-core-template").inputs.templateBody);
        // AWS IoT developer guide, "Provisioning templates > Policy resources": PolicyName or PolicyDocument, not both.
        assert.deepStrictEqual(Object.keys(body.Resources.policy.Properties), ["PolicyDocument"]);
        const provisioned = (serial: string) => evaluateTemplate(body, { SerialNumber: serial, CertDate: "20261203", CertExpiry: "20491231", "AWS::IoT::Certificate::Id": "c".repeat(64) });
        const core = "fms-kr-core-2974690001";
        const mine = provisioned("2974690001");
        assert.strictEqual(mine.thingName, core);
        const [name] = mine.policyNames;
        const doc = JSON.parse(mine.createdPolicies[name]) as PolicyDocument;
        assert.ok(iotPolicySize(doc) <= IOT_POLICY_MAX_CHARS);
        assert.strictEqual(provisioned("2974690001").policyNames[0], name, "the same Thing gets the same document, so the same policy (what a rotation template relies on)");
        assert.notStrictEqual(provisioned("2974690002").policyNames[0], name, "another core, another policy");
        // "Minimal AWS IoT policy for AWS IoT Greengrass V2 core devices" (Greengrass developer guide,
        // device-auth), each (action, resource) with core-device-thing-name replaced by this core.
        const documented: [string, string][] = [
            ["iot:Connect", "client/core-device-thing-name"],
            ["iot:Publish", "topic/$aws/things/core-device-thing-name/greengrass/health/json"],
            ["iot:Publish", "topic/$aws/things/core-device-thing-name/greengrassv2/health/json"],
            ["iot:Publish", "topic/$aws/things/core-device-thing-name/jobs/start-next"],
            ["iot:Receive", "topic/$aws/things/core-device-thing-name/jobs/notify-next"],
            ["iot:Publish", "topic/$aws/things/core-device-thing-name/shadow/update"],
            ["iot:Subscribe", "topicfilter/$aws/things/core-device-thing-name/jobs/*"],
            ["iot:Subscribe", "topicfilter/$aws/things/core-device-thing-name/shadow/*"],
            ["iot:GetThingShadow", "thing/core-device-thing-name"],
            ["iot:UpdateThingShadow", "thing/core-device-thing-name"],
            ["iot:DeleteThingShadow", "thing/core-device-thing-name"],
            ["iot:AssumeRoleWithCertificate", "rolealias/fms-kr-gg-token-exchange"],
        ];
        const at = (clientId: string) => ({ region: REGION, accountId: ACCOUNT_ID, clientId });
        // aws-greengrass-nucleus v2.16.1, MqttClient.java L983-987: client ids <thing>, then <thing>#2, #3, ...
        assert.deepStrictEqual(nucleusClientIds(core, 3), [core, `${core}#2`, `${core}#3`]);
        for (const clientId of nucleusClientIds(core, 3)) {
            for (const [action, resource] of documented) {
                assert.ok(isAllowed([doc], action, resource.replace("core-device-thing-name", core), at(clientId)), `${clientId}: ${action} ${resource}`);
            }
        }
        const other = "fms-kr-core-2974690002";
        for (const id of [other, `${other}#2`, `${core}0`, "fms-kr-core-", "kr-claim-2974690001", "kr-vehicle-2974680001", "fms-dev-core-2974690001"]) {
            assert.ok(!isAllowed([doc], "iot:Connect", `client/${id}`, at(id)), `a core certificate cannot connect as ${id}`);
        }
        for (const [action, resource] of documented.filter(([a]) => a !== "iot:Connect" && a !== "iot:AssumeRoleWithCertificate")) {
            assert.ok(!isAllowed([doc], action, resource.replace("core-device-thing-name", other), at(core)), `not another core's ${action} ${resource}`);
            assert.ok(!isAllowed([doc], action, resource.replace("core-device-thing-name", `${core}0`), at(core)), `not a longer serial's ${action}`);
        }
        assert.ok(!isAllowed([doc], "iot:Subscribe", "topicfilter/$aws/things/kr-vehicle-2974680001/jobs/*", at(core)), "nor a vehicle's jobs");
        assert.deepStrictEqual(statement(doc, "BasicIngest").Resource, [1, 2, 3].map((n) => arn(`topic/$aws/rules/fms_kr_rule${n}/*`)));
        assert.deepStrictEqual(statement(doc, "GreengrassDataPlane").Action, ["greengrass:ResolveComponentCandidates", "greengrass:GetDeploymentConfiguration", "greengrass:ListThingGroupsForCoreDevice"]);
        for (const s of doc.Statement) {
            assert.ok(!s.Action.some((a) => a === "*" || a.endsWith(":*")), `${s.Sid}: no greengrass:* or iot:*`);
            if ((s.Resource ?? []).includes("*")) assert.strictEqual(s.Sid, "GreengrassDataPlane", "only the data-plane calls AWS documents with Resource *");
            for (const r of (s.Resource ?? []).filter((x) => x.startsWith(`arn:aws:iot:${REGION}:`) && !x.includes(":rolealias/") && !x.includes("$aws/rules/"))) {
                assert.ok(r.includes(core), `${s.Sid}: ${r} names this core`);
            }
        }
        // The guardrail that keeps it so, on the template as planned.
        assert.deepStrictEqual(evaluate([view(run.one("aws:iot/provisioningTemplate:ProvisioningTemplate", "-core-template"))], RULES.filter((r) => r.name === "iot-template-policy-per-thing")), []);
    });

    it("the claim policy covers the core template too", () => {
        const doc = parsePolicy(run.one("aws:iot/policy:Policy", "-claim-policy").inputs.policy);
        assert.ok(statement(doc, "ProvisioningTopics").Resource!.includes(arn("topic/$aws/provisioning-templates/fms-kr-edge-core/provision/*")));
    });

    it("component: named per stack; the recipe runs the program shipped here, from our private bucket, publishing to Basic Ingest only", () => {
        const recipe = JSON.parse(run.one("aws-native:greengrassv2:ComponentVersion").inputs.inlineRecipe);
        const bucket = run.one("aws:s3/bucket:Bucket", "-artifacts-bucket").state.bucket;
        const artifact = run.one("aws:s3/bucketObjectv2:BucketObjectv2", "-telemetry-artifact");
        assert.strictEqual(artifact.inputs.bucket, bucket);
        assert.strictEqual(artifact.inputs.serverSideEncryption, "aws:kms");
        assert.strictEqual(recipe.ComponentName, "com.fms.fms-kr.VehicleTelemetry");
        assert.deepStrictEqual(recipe.Manifests[0].Artifacts.map((a: { URI: string }) => a.URI), [`s3://${bucket}/${artifact.inputs.key}`]);
        assert.match(artifact.inputs.key, /^artifacts\/com\.fms\.fms-kr\.VehicleTelemetry\/[0-9a-f]{16}\/telemetry\.py$/);
        assert.match(recipe.Manifests[0].Lifecycle.Run, /\{artifacts:path\}\/telemetry\.py --topic '\{configuration:\/topic\}'/);
        const config = recipe.ComponentConfiguration.DefaultConfiguration;
        assert.strictEqual(config.topic, "$aws/rules/fms_kr_rule1/test-rule/rule1");
        const acl = config.accessControl["aws.greengrass.ipc.mqttproxy"]["com.fms.fms-kr.VehicleTelemetry:mqttproxy:1"];
        assert.deepStrictEqual(acl.resources, ["$aws/rules/fms_kr_rule1/*"]);
        assert.deepStrictEqual(acl.operations, ["aws.greengrass#PublishToIoTCore"]);
    });

    it("component install works on PEP 668 systems: a virtual environment in the component's work directory, the program run with its python", () => {
        const recipe = JSON.parse(run.one("aws-native:greengrassv2:ComponentVersion").inputs.inlineRecipe);
        const lifecycle = recipe.Manifests[0].Lifecycle;
        // PEP 668: pip refuses `--user` installs into an EXTERNALLY-MANAGED python (Debian 12, Ubuntu
        // 23.04+, Raspberry Pi OS bookworm); a venv is not externally managed. {work:path} is the
        // component's own directory (aws-greengrass-nucleus v2.16.1, KernelConfigResolver.java L126).
        assert.strictEqual(lifecycle.Install.Script, "python3 -m venv {work:path}/venv && {work:path}/venv/bin/python3 -m pip install --disable-pip-version-check --no-cache-dir 'awsiotsdk>=1.21,<2'");
        assert.ok(!/--user/.test(lifecycle.Install.Script));
        assert.match(lifecycle.Run, /^\{work:path\}\/venv\/bin\/python3 -u \{artifacts:path\}\/telemetry\.py /);
    });

    it("replaced component versions and artifacts stay in AWS (retainOnDelete), so a core can roll back to them", () => {
        const component = run.one("aws-native:greengrassv2:ComponentVersion");
        const artifact = run.one("aws:s3/bucketObjectv2:BucketObjectv2", "-telemetry-artifact");
        assert.deepStrictEqual([component.retainOnDelete, artifact.retainOnDelete], [true, true]);
    });

    it("component version: major.minor from config, the patch from the recipe's content (within the recipe's 999999 limit)", () => {
        const recipe = JSON.parse(run.one("aws-native:greengrassv2:ComponentVersion").inputs.inlineRecipe);
        const { ComponentVersion: version, ...content } = recipe;
        assert.match(version, /^1\.0\.(0|[1-9]\d{0,5})$/);
        assert.strictEqual(version, contentVersion("1.0", content));
        const d = run.one("aws-native:greengrassv2:Deployment").inputs;
        assert.strictEqual(d.components["com.fms.fms-kr.VehicleTelemetry"].componentVersion, version);
    });

    it("log groups the log manager writes: created here (kr owns the region's system group), retention and the stack key", () => {
        const key = run.one("aws:kms/key:Key", "-key-key").state.arn;
        const groups = run.ofType("aws:cloudwatch/logGroup:LogGroup").filter((g) => g.inputs.name.startsWith("/aws/greengrass/"));
        assert.deepStrictEqual(groups.map((g) => g.inputs.name).sort(), [`/aws/greengrass/GreengrassSystemComponent/${REGION}/System`, `/aws/greengrass/UserComponent/${REGION}/com.fms.fms-kr.VehicleTelemetry`]);
        for (const g of groups) {
            assert.strictEqual(g.inputs.retentionInDays, 365);
            assert.strictEqual(g.inputs.kmsKeyId, key);
        }
        // The region's system group: other stacks' cores write to it, so it is protected (kr: protect) and
        // retained when kr is destroyed.
        const system = groups.find((g) => g.inputs.name.endsWith("/System"))!;
        assert.deepStrictEqual([system.protect, system.retainOnDelete], [true, true]);
        const keyPolicy = parsePolicy(run.one("aws:kms/key:Key", "-key-key").inputs.policy);
        const allowedGroups = statement(keyPolicy, "CloudWatchLogsForStackLogGroups").Condition!.ArnLike["kms:EncryptionContext:aws:logs:arn"] as string[];
        for (const g of groups) assert.ok(allowedGroups.includes(g.state.arn), `the key lets CloudWatch Logs encrypt ${g.inputs.name}`);
        const d = run.one("aws-native:greengrassv2:Deployment");
        for (const g of groups) assert.ok(d.dependencies.includes(g.urn), "the deployment waits for the log groups");
    });

    it("deployment: to the core group, nucleus and log manager at published versions, capped file logs, errors to CloudWatch, rollback on failure", () => {
        const d = run.one("aws-native:greengrassv2:Deployment").inputs;
        assert.strictEqual(d.targetArn, run.one("aws:iot/thingGroup:ThingGroup", "-core-group").state.arn);
        assert.deepStrictEqual(Object.keys(d.components).sort(), ["aws.greengrass.LogManager", "aws.greengrass.Nucleus", "com.fms.fms-kr.VehicleTelemetry"]);
        assert.strictEqual(d.components["aws.greengrass.Nucleus"].componentVersion, NUCLEUS.defaultVersion);
        assert.strictEqual(d.components["aws.greengrass.LogManager"].componentVersion, LOG_MANAGER.defaultVersion);
        assert.deepStrictEqual(JSON.parse(d.components["aws.greengrass.Nucleus"].configurationUpdate.merge).logging, { level: "INFO", format: "JSON", fileSizeKB: 1024, totalLogsSizeKB: 10240 });
        const logs = JSON.parse(d.components["aws.greengrass.LogManager"].configurationUpdate.merge).logsUploaderConfiguration;
        assert.strictEqual(logs.systemLogsConfiguration.uploadToCloudWatch, "true");
        assert.strictEqual(logs.systemLogsConfiguration.minimumLogLevel, "ERROR");
        // kr asks for ERROR: the nucleus' own lines from ERROR, the component's from WARN (its stderr, tracebacks).
        assert.strictEqual(logs.componentLogsConfigurationMap["com.fms.fms-kr.VehicleTelemetry"].minimumLogLevel, "WARN");
        assert.strictEqual(d.deploymentPolicies.failureHandlingPolicy, "ROLLBACK");
        assert.strictEqual(d.iotJobConfiguration.jobExecutionsRolloutConfig.maximumPerMinute, 50);
        // The job is continuous (a growing thing group): a CANCEL reaches every core provisioned later, so
        // only FAILED executions count (AWS IoT Jobs failureType FAILED | REJECTED | TIMED_OUT | ALL; a
        // parked vehicle times out), and only after 100 cores have run it.
        assert.deepStrictEqual(d.iotJobConfiguration.abortConfig.criteriaList, [{ action: "CANCEL", failureType: "FAILED", minNumberOfExecutedThings: 100, thresholdPercentage: 10 }]);
    });

    // AWS IoT API reference, TimeoutConfig (https://docs.aws.amazon.com/iot/latest/apireference/API_TimeoutConfig.html):
    // "Whenever a job execution remains in the IN_PROGRESS status for longer than this interval, the job execution
    // will fail and switch to the terminal TIMED_OUT status." The nucleus only ever asks for `$next`
    // (aws-greengrass-nucleus v2.16.1, src/main/java/com/aws/greengrass/deployment/IotJobsHelper.java L99, L468-473),
    // which is a QUEUED or IN_PROGRESS execution, never a terminal one; and the abort rule counts FAILED only.
    it("deployment reaches parked vehicles: no in-progress timeout (TIMED_OUT is terminal and never offered again), and nothing the abort rule ignores ends an execution", () => {
        const job = run.one("aws-native:greengrassv2:Deployment").inputs.iotJobConfiguration;
        assert.strictEqual(job.timeoutConfig?.inProgressTimeoutInMinutes, undefined, "an execution still IN_PROGRESS (a vehicle switched off mid-deployment) must not time out");
        // A vehicle off for a week mid-deployment: its execution stays IN_PROGRESS, so `$next` hands it back on power-up.
        const terminalAfter = (minutesOff: number) => job.timeoutConfig?.inProgressTimeoutInMinutes !== undefined && minutesOff > job.timeoutConfig.inProgressTimeoutInMinutes;
        for (const minutesOff of [61, 24 * 60, 7 * 24 * 60 + 1]) assert.strictEqual(terminalAfter(minutesOff), false, `${minutesOff} min parked`);
    });

    // What reaches CloudWatch at the configured level. A port of the log manager's filter: aws-greengrass-log-manager
    // v2.3.11, src/main/java/com/aws/greengrass/logmanager/CloudWatchAttemptLogsProcessor.java L253-262 (a line that
    // parses as a Greengrass JSON log message is filtered by level, L364-366) and L263-286 (any other line is
    // uploaded unfiltered). The lines are the nucleus' own and a component's stdout (INFO) and stderr (WARN):
    // aws-greengrass-nucleus v2.16.1, src/main/java/com/aws/greengrass/lifecyclemanager/ShellRunner.java L55, L59.
    it("logs arrive at the level asked: the nucleus writes JSON (the only format the log manager filters), and a component's tracebacks (stderr, WARN) are kept", () => {
        const d = run.one("aws-native:greengrassv2:Deployment").inputs;
        const format = JSON.parse(d.components["aws.greengrass.Nucleus"].configurationUpdate.merge).logging.format as string;
        const uploader = JSON.parse(d.components["aws.greengrass.LogManager"].configurationUpdate.merge).logsUploaderConfiguration;
        const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];
        const render = (level: string, eventType: string, message: string) => format === "JSON"
            ? JSON.stringify({ thread: "pool-2-thread-3", level, eventType, message, contexts: {}, loggerName: "com.fms.fms-kr.VehicleTelemetry", timestamp: Date.parse("2026-12-03T10:00:00Z"), cause: null })
            : `2026-12-03T10:00:00.000Z [${level}] (pool-2-thread-3) com.fms.fms-kr.VehicleTelemetry: ${eventType}. ${message}. {scriptName=services.com.fms.fms-kr.VehicleTelemetry.lifecycle.Run}`;
        const uploaded = (line: string, minimum: string) => {
            if (!line.startsWith("{")) return true;
            const m = JSON.parse(line) as { level?: string };
            return !m.level || LEVELS.indexOf(m.level) >= LEVELS.indexOf(minimum);
        };
        const system = uploader.systemLogsConfiguration.minimumLogLevel as string;
        const component = uploader.componentLogsConfigurationMap["com.fms.fms-kr.VehicleTelemetry"].minimumLogLevel as string;
        assert.strictEqual(uploaded(render("INFO", "deployment-status", "chatter"), system), false, "a nucleus INFO line is not uploaded at ERROR");
        assert.strictEqual(uploaded(render("ERROR", "mqtt-connect", "failed"), system), true);
        assert.strictEqual(uploaded(render("INFO", "stdout", "published status"), component), false, "a component's stdout (INFO) is not uploaded");
        assert.strictEqual(uploaded(render("WARN", "stderr", "Traceback (most recent call last):"), component), true, "a component's traceback (stderr, WARN) is");
    });

    it("outputs: role alias, thing group, core template, component, deployment", () => {
        const o = run.outputs;
        assert.strictEqual(o.edgeRoleAliasName, "fms-kr-gg-token-exchange");
        assert.strictEqual(o.edgeThingGroupArn, arn("thinggroup/fms-kr-edge-cores"));
        assert.strictEqual(o.edgeCoreTemplateName, "fms-kr-edge-core");
        assert.match(String(o.edgeComponentArn), /:components:com\.fms\.fms-kr\.VehicleTelemetry:versions:1\.0\.\d+$/);
        assert.strictEqual(o.edgeComponentName, "com.fms.fms-kr.VehicleTelemetry");
        assert.strictEqual(o.edgeCoreThingNamePrefix, "fms-kr-core-");
        assert.strictEqual(o.iotCredentialEndpoint, `c1b2c3d4e5f6g7.credentials.iot.${REGION}.amazonaws.com`);
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
        ["core Thing names equal to vehicle Thing names", edit((g) => { g.coreThingNamePrefix = "kr-vehicle-"; }), "fms-iot:greengrass.coreThingNamePrefix", /does not overlap provisioning.thingNamePrefix/],
        ["a core prefix that vehicle Thing names start with", edit((g) => { g.coreThingNamePrefix = "kr-"; }), "fms-iot:greengrass.coreThingNamePrefix", /does not overlap provisioning.thingNamePrefix "kr-vehicle-"/],
        ["a core prefix the claim client ids would match", edit((g) => { g.coreThingNamePrefix = "kr-claim-core-"; }), "fms-iot:greengrass.coreThingNamePrefix", /does not overlap provisioning.claimClientIdPrefix "kr-claim-"/],
        ["a core prefix with a colon (log streams write it as +)", edit((g) => { g.coreThingNamePrefix = "kr:core-"; }), "fms-iot:greengrass.coreThingNamePrefix", /no `:`/],
        ["a full component version (the patch follows the content)", edit((g) => { g.telemetry.componentVersion = "1.0.0"; }), "fms-iot:greengrass.telemetry.componentVersion", /major\.minor such as 1\.0/],
        ["a component version that is not a version", edit((g) => { g.telemetry.componentVersion = "latest"; }), "fms-iot:greengrass.telemetry.componentVersion", /major\.minor/],
        ["a nucleus older than the policies assume", edit((g) => { g.nucleusVersion = "2.4.0"; }), "fms-iot:greengrass.nucleusVersion", /2\.5\.0 or later: .*ListThingGroupsForCoreDevice/],
        ["a nucleus version AWS has not published", edit((g) => { g.nucleusVersion = "2.16.9"; }), "fms-iot:greengrass.nucleusVersion", /a version AWS publishes \(known here: .*2\.16\.1/],
        ["a log manager older than AWS recommends", edit((g) => { g.logManagerVersion = "2.3.4"; }), "fms-iot:greengrass.logManagerVersion", /2\.3\.5 or later/],
        ["a system log group setting that is neither create nor shared", edit((g) => { g.logs.systemLogGroup = "adopt"; }), "fms-iot:greengrass.logs.systemLogGroup", /create, shared/],
    ];
    for (const [label, change, key, allowed] of BAD) {
        it(`config error: ${label}`, async () => {
            assertStackConfigError("kr", change, key, allowed);
        });
    }

    it("the component version follows the content: a changed program or setting is a new version, an unchanged one keeps its version", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-telemetry-"));
        try {
            const source = path.join(dir, "telemetry.py");
            fs.writeFileSync(source, "print('v1')\n");
            const key1 = telemetryArtifactKey("com.fms.fms-kr.VehicleTelemetry", source);
            fs.writeFileSync(source, "print('v2')\n");
            const key2 = telemetryArtifactKey("com.fms.fms-kr.VehicleTelemetry", source);
            assert.notStrictEqual(key1, key2, "the artifact key carries the program's digest");
            const recipe = (artifactKey: string, intervalSeconds = 60) => telemetryRecipe({
                componentName: "com.fms.fms-kr.VehicleTelemetry", majorMinor: "1.0", artifactUri: `s3://bucket/${artifactKey}`,
                topicTemplate: "$aws/rules/fms_kr_rule1/test-rule/rule1", ruleName: "fms_kr_rule1", intervalSeconds,
            }).ComponentVersion as string;
            assert.strictEqual(recipe(key1), recipe(key1), "same content, same version");
            assert.notStrictEqual(recipe(key1), recipe(key2), "a changed program is a new version");
            assert.notStrictEqual(recipe(key1), recipe(key1, 30), "a changed setting in the recipe is a new version");
            for (const v of [recipe(key1), recipe(key2), recipe(key1, 30)]) assert.match(v, /^1\.0\.(0|[1-9]\d{0,5})$/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("dev leaves the region's system log group to kr (its region-settings owner): looks it up instead, and its cores may still write their own streams there", async () => {
        const lookedUp: string[] = [];
        const call = AwsMocks.prototype.call;
        AwsMocks.prototype.call = function (this: AwsMocks, args) {
            if (args.token === "aws:cloudwatch/getLogGroup:getLogGroup") lookedUp.push(args.inputs.name);
            return call.call(this, args);
        };
        let dev: ProgramRun;
        try {
            dev = await runStack("dev", { fresh: true }); // the lookups happen during the run
        } finally {
            AwsMocks.prototype.call = call;
        }
        const created = dev.ofType("aws:cloudwatch/logGroup:LogGroup").map((g) => g.inputs.name).filter((n) => n.startsWith("/aws/greengrass/"));
        assert.deepStrictEqual(created, [`/aws/greengrass/UserComponent/${REGION}/com.fms.fms-dev.VehicleTelemetry`]);
        // A lookup, not a create: dev's `up` fails until kr's has created the group (retention, KMS).
        assert.deepStrictEqual(lookedUp, [`/aws/greengrass/GreengrassSystemComponent/${REGION}/System`]);
        const doc = parsePolicy(dev.one("aws:iam/rolePolicy:RolePolicy", "-token-exchange-policy").inputs.policy);
        assert.ok(statement(doc, "GreengrassOwnLogStreams").Resource!.some((r) => r.includes(`/aws/greengrass/GreengrassSystemComponent/${REGION}/System:log-stream:`)));
        assert.ok(statement(doc, "GreengrassLogGroupsExist").Resource!.includes(`arn:aws:logs:${REGION}:${ACCOUNT_ID}:log-group:/aws/greengrass/GreengrassSystemComponent/${REGION}/System`),
            "CreateLogGroup on it (answered ResourceAlreadyExists), without which the log manager gives up");
    });

    it("the system log group's owner follows operations.regionSettingsOwner unless logs.systemLogGroup says otherwise", () => {
        const resolve = (stack: string, edit: (c: Record<string, string>) => void) => {
            const f = readStackFile(stack);
            edit(f.config);
            return stackConfigFromEngine(f.project, stack, f.config).greengrass!.logs.systemLogGroup;
        };
        const dropSetting = (c: Record<string, string>) => {
            const g = JSON.parse(c["fms-iot:greengrass"]);
            delete g.logs.systemLogGroup;
            c["fms-iot:greengrass"] = JSON.stringify(g);
        };
        assert.strictEqual(resolve("dev", dropSetting), "shared", "dev names kr as its region-settings owner");
        assert.strictEqual(resolve("kr", dropSetting), "create");
        assert.strictEqual(resolve("dev", () => undefined), "shared");
    });

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
        const out = execFileSync("python3", ["-m", "unittest", "-v", "test_telemetry"], { cwd: path.join(PROJECT_ROOT, "components", "edge", "telemetry"), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
        assert.strictEqual(out, "");
    });
});

describe("edge: many stacks in one account and region", function () {
    this.timeout(120_000);

    /** Physical names (account- and region-wide in AWS) of what a stack's EdgeRuntime creates. */
    function edgeNames(run: ProgramRun): string[] {
        const names = physicalNames(run, inside(run, run.one("fms:iot:EdgeRuntime").urn)).map((n) => n.key);
        assert.ok(names.length >= 6, `${run.stack}: the edge resources were found`);
        return names;
    }

    it("no two shipped stacks with Greengrass in one region share a name, a core Thing-name space, or the system log group", async () => {
        const runs: ProgramRun[] = [];
        for (const stack of stackNames()) {
            const r = await runStack(stack);
            if (r.resources.some((x) => x.type === "fms:iot:EdgeRuntime")) runs.push(r);
        }
        assert.ok(runs.length >= 2, "dev and kr both run Greengrass");
        const overlap = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
        let pairs = 0;
        for (const [i, a] of runs.entries()) {
            for (const b of runs.slice(i + 1)) {
                // The stack files name no account: stacks in one region are taken to share one (the worst case).
                if (a.region !== b.region) continue;
                pairs++;
                const shared = edgeNames(a).filter((n) => edgeNames(b).includes(n));
                assert.deepStrictEqual(shared, [], `${a.stack} and ${b.stack} would both create these`);
                const coreA = String(a.outputs.edgeCoreThingNamePrefix);
                const coreB = String(b.outputs.edgeCoreThingNamePrefix);
                const vehicles = (r: ProgramRun) => readStackConfigPrefix(r.stack);
                assert.ok(!overlap(coreA, coreB), `${a.stack}'s core policy (client/${coreA}*) must not reach ${b.stack}'s cores (${coreB})`);
                assert.ok(!overlap(coreA, vehicles(b)) && !overlap(coreB, vehicles(a)), "no core prefix reaches the other stack's vehicles");
            }
        }
        assert.ok(pairs >= 1, "dev and kr share ap-northeast-2");
    });
});

function readStackConfigPrefix(stack: string): string {
    const f = readStackFile(stack);
    return stackConfigFromEngine(f.project, stack, f.config).provisioning.thingNamePrefix;
}
