import * as assert from "assert";
import { AUDIT_CHECKS, DENIED_PATTERN } from "../components/operations";
import { claimCertificateProvider } from "../components/claimCertificateProvider";
import { createHandler } from "../lambda/provisioningHook";
import { ACCOUNT_ID } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import { assertConfigError, parsePolicy, statement } from "./support/assertions";

const REGION = "ap-northeast-2";

for (const stack of ["kr", "dev"]) {
    const production = stack === "kr";
    describe(`operations on the ${stack} stack`, function () {
        this.timeout(60_000);
        let run: ProgramRun;
        before(async () => { run = await runStack(stack); });
        const topicArn = () => run.one("aws:sns/topic:Topic").state.arn;

        it(`IoT logging at ${production ? "ERROR" : "INFO"}, inside the Operations component`, () => {
            const options = run.one("aws:iot/loggingOptions:LoggingOptions");
            assert.strictEqual(options.inputs.defaultLogLevel, production ? "ERROR" : "INFO");
            const parentOf = (urn: string | null) => run.resources.find((r) => r.urn === urn)!;
            const logging = parentOf(options.parent);
            assert.deepStrictEqual([logging.type, parentOf(logging.parent).type], ["fms:iot:Logging", "fms:iot:Operations"]);
        });

        it("findings and alarms go to an SNS topic encrypted with the stack key, with the configured subscribers", () => {
            const topic = run.one("aws:sns/topic:Topic");
            const key = run.one("aws:kms/key:Key", "-key-key");
            assert.strictEqual(topic.inputs.kmsMasterKeyId, key.state.arn);
            assert.deepStrictEqual(run.ofType("aws:sns/topicSubscription:TopicSubscription").map((s) => [s.inputs.protocol, s.inputs.endpoint, s.inputs.topic]),
                [["email", `fms-${stack}-ops@example.com`, topic.state.arn]]);
            const cw = statement(parsePolicy(key.inputs.policy), "CloudWatchAlarmsToEncryptedTopics");
            assert.deepStrictEqual(cw.Principal, { Service: "cloudwatch.amazonaws.com" });
            assert.deepStrictEqual(cw.Condition, { StringEquals: { "aws:SourceAccount": ACCOUNT_ID } });
            const notifier = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-notifier-policy").inputs.policy);
            assert.deepStrictEqual(statement(notifier, "PublishFindings").Resource, [topic.state.arn]);
        });

        it("Device Defender audit: the checks enabled, certificate thresholds, findings to the topic", () => {
            const audit = run.one("aws-native:iot:AccountAuditConfiguration").inputs;
            assert.strictEqual(audit.accountId, ACCOUNT_ID);
            assert.strictEqual(audit.roleArn, run.one("aws:iam/role:Role", "-audit-role").state.arn);
            for (const check of Object.keys(AUDIT_CHECKS)) assert.strictEqual(audit.auditCheckConfigurations[check]?.enabled, true, check);
            for (const required of ["iotPolicyOverlyPermissiveCheck", "iotRoleAliasOverlyPermissiveCheck", "deviceCertificateSharedCheck", "conflictingClientIdsCheck", "deviceCertificateExpiringCheck", "deviceCertificateAgeCheck", "loggingDisabledCheck"]) {
                assert.ok(required in audit.auditCheckConfigurations, required);
            }
            assert.deepStrictEqual(audit.auditCheckConfigurations.deviceCertificateAgeCheck.configuration, { certAgeThresholdInDays: "365" });
            assert.deepStrictEqual(audit.auditNotificationTargetConfigurations.sns, { enabled: true, targetArn: topicArn(), roleArn: run.one("aws:iam/role:Role", "-notifier-role").state.arn });
            const policy = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "-audit-policy").inputs.policyArn;
            assert.strictEqual(policy, "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit");
            const scheduled = run.one("aws-native:iot:ScheduledAudit").inputs;
            assert.strictEqual(scheduled.frequency, production ? "DAILY" : "WEEKLY");
            assert.strictEqual(scheduled.dayOfWeek, production ? undefined : "MON");
            assert.deepStrictEqual(scheduled.targetCheckNames, Object.values(AUDIT_CHECKS));
        });

        it("security profile on the vehicle group: authorization failures and message volume, alerts to the topic", () => {
            const p = run.one("aws-native:iot:SecurityProfile").inputs;
            assert.deepStrictEqual(p.targetArns, [run.one("aws:iot/thingGroup:ThingGroup", "-provisioning-thing-group").state.arn]);
            assert.deepStrictEqual(p.behaviors.map((b: { metric: string; criteria: { value: { count: string } } }) => [b.metric, b.criteria.value.count]),
                [["aws:num-authorization-failures", "10"], ["aws:num-messages-sent", "600"]]);
            assert.strictEqual(p.alertTargets.SNS.alertTargetArn, topicArn());
        });

        it("alarms: each metric, threshold and action", () => {
            const hook = run.one("aws:lambda/function:Function", "-hook").state.name;
            const alarms = Object.fromEntries(run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => !a.inputs.name.endsWith("-expiring-device-certificates")).map((a) => [a.inputs.name.replace(`fms-${stack}-`, ""), a.inputs]));
            const expected: Record<string, [string | undefined, string | undefined, Record<string, string> | undefined, number]> = {
                "hook-errors": ["AWS/Lambda", "Errors", { FunctionName: hook }, 1],
                "hook-throttles": ["AWS/Lambda", "Throttles", { FunctionName: hook }, 1],
                "hook-denies": [`FMS/IoT/fms-${stack}`, "ProvisioningDenied", undefined, production ? 20 : 100],
                "connect-auth-errors": ["AWS/IoT", "Connect.AuthError", { Protocol: "MQTT" }, production ? 50 : 500],
                "rule-action-failures": [undefined, undefined, undefined, 1],
                "error-action-invocations": [undefined, undefined, undefined, 1],
            };
            assert.deepStrictEqual(Object.keys(alarms).sort(), Object.keys(expected).sort());
            for (const [name, [namespace, metricName, dimensions, threshold]] of Object.entries(expected)) {
                const a = alarms[name];
                assert.deepStrictEqual([a.namespace, a.metricName, a.dimensions, a.threshold], [namespace, metricName, dimensions, threshold], name);
                assert.deepStrictEqual(a.alarmActions, [topicArn()], name);
                assert.strictEqual(a.comparisonOperator, "GreaterThanOrEqualToThreshold");
            }
            assert.match(alarms["rule-action-failures"].metricQueries[0].expression, /^SELECT SUM\(Failure\) FROM SCHEMA\("AWS\/IoT", ActionType, RuleName\)$/);
            const errorQueries = alarms["error-action-invocations"].metricQueries;
            assert.deepStrictEqual(errorQueries.map((q: { expression: string }) => q.expression.match(/SUM\((\w+)\)/)?.[1] ?? q.expression), ["ErrorActionSuccess", "ErrorActionFailure", "ok + failed"]);
        });

        it("hook denials become a metric, from the very JSON lines the hook writes", async () => {
            const filter = run.one("aws:cloudwatch/logMetricFilter:LogMetricFilter").inputs;
            assert.strictEqual(filter.logGroupName, run.one("aws:cloudwatch/logGroup:LogGroup", "-hook-logs").state.name);
            assert.strictEqual(filter.pattern, DENIED_PATTERN);
            assert.deepStrictEqual([filter.metricTransformation.namespace, filter.metricTransformation.name], [`FMS/IoT/fms-${stack}`, "ProvisioningDenied"]);
            const lines: string[] = [];
            const hook = createHandler({ config: { mode: "prefix", allowReprovisioning: true, templates: { t: { purpose: "provision", thingNamePrefix: "t-", serialPrefixes: ["297468"] } } }, dynamo: { send: async () => ({}) } as never, iot: { send: async () => ({}) } as never, now: () => new Date(), log: (l) => lines.push(l), registryTimeoutMs: 10 });
            await hook({ certificateId: "a".repeat(64), parameters: { SerialNumber: "1" } });
            const decision = JSON.parse(lines[0]);
            const terms = [...DENIED_PATTERN.matchAll(/\$\.(\w+) (?:= "([^"]+)"|IS FALSE)/g)];
            assert.deepStrictEqual(terms.map((t) => t[1]), ["event", "allowProvisioning"]);
            for (const [, field, value] of terms) {
                assert.ok(field in decision, `the hook writes ${field}`);
                if (value) assert.strictEqual(decision[field], value);
            }
            assert.strictEqual(decision.allowProvisioning, false);
        });

        it("fleet index: registry, connectivity, and exactly the attributes the templates write, as custom fields", () => {
            const index = run.one("aws:iot/indexingConfiguration:IndexingConfiguration").inputs.thingIndexingConfiguration;
            assert.strictEqual(index.thingIndexingMode, "REGISTRY");
            assert.strictEqual(index.thingConnectivityIndexingMode, "STATUS");
            for (const t of run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate")) {
                const attributes = Object.keys(JSON.parse(t.inputs.templateBody).Resources.thing.Properties.AttributePayload);
                assert.deepStrictEqual(index.customFields.map((f: { name: string }) => f.name).sort(), attributes.map((a) => `attributes.${a}`).sort(), t.name);
            }
            assert.deepStrictEqual(index.customFields.find((f: { name: string }) => f.name === "attributes.CertDate"), { name: "attributes.CertDate", type: "Number" });
        });

        it("fleet metrics: connected vehicles, and certificate issue dates", () => {
            const metrics = Object.fromEntries(run.ofType("aws-native:iot:FleetMetric").map((m) => [m.inputs.metricName, m.inputs]));
            const type = `fms-${stack}-vehicle`;
            assert.deepStrictEqual(metrics[`fms-${stack}-connected-vehicles`].queryString, `thingTypeName:${type} AND connectivity.connected:true`);
            assert.deepStrictEqual(metrics[`fms-${stack}-connected-vehicles`].aggregationType, { name: "Statistics", values: ["count"] });
            assert.strictEqual(metrics[`fms-${stack}-certificate-date`].aggregationField, "attributes.CertDate");
            assert.deepStrictEqual(metrics[`fms-${stack}-certificate-date`].aggregationType.values, ["minimum", "average"]);
        });
    });
}

describe("operations: region settings, kill switch, config", function () {
    this.timeout(60_000);

    it("a stack that leaves the region settings to another keeps its topic, profile and alarms only", async () => {
        const run = await runStack("kr", { edit: (c) => { c["fms-iot:operations"] = JSON.stringify({ manageRegionSettings: false }); } });
        for (const type of ["aws:iot/loggingOptions:LoggingOptions", "aws:iot/indexingConfiguration:IndexingConfiguration", "aws-native:iot:AccountAuditConfiguration", "aws-native:iot:ScheduledAudit", "aws-native:iot:FleetMetric"]) {
            assert.strictEqual(run.ofType(type).length, 0, type);
        }
        assert.strictEqual(run.ofType("aws-native:iot:SecurityProfile").length, 1);
        assert.strictEqual(run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").length, 7, "six operations alarms and rotation's expiring-certificates alarm");
    });

    it("claim kill switch: status INACTIVE in config is an in-place update of the same certificate", async () => {
        const run = await runStack("kr", { edit: (c) => {
            c["fms-iot:claimCertificate"] = JSON.stringify({ ...JSON.parse(c["fms-iot:claimCertificate"]), status: "INACTIVE" });
        } });
        const inputs = run.one("pulumi-nodejs:dynamic/iot:ClaimCertificate").inputs;
        assert.strictEqual(inputs.status, "INACTIVE");
        const deployed = { region: REGION, rotation: inputs.rotation, status: "ACTIVE", certificateId: "c".repeat(64), certificateArn: "arn", certificatePem: "p", publicKeyPem: "k", privateKeyPem: "s", mode: "create-keys" as const };
        const diff = await claimCertificateProvider.diff!("c".repeat(64), deployed, { region: inputs.region, rotation: inputs.rotation, status: inputs.status });
        assert.deepStrictEqual([diff.changes, diff.replaces, diff.deleteBeforeReplace], [true, [], false]);
        assert.ok(diff.stables?.includes("certificateId"));
    });

    const BAD: [string, object, string, RegExp][] = [
        ["an e-mail that is not one", { notifyEmails: ["ops at example"] }, "fms-iot:operations.notifyEmails[0]", /e-mail address/],
        ["an unknown audit frequency", { auditFrequency: "HOURLY" }, "fms-iot:operations.auditFrequency", /DAILY, WEEKLY, BIWEEKLY, MONTHLY/],
        ["a zero alarm threshold", { alarms: { hookDenies: 0 } }, "fms-iot:operations.alarms.hookDenies", /whole number from 1/],
        ["a misspelt field", { logLevels: "INFO" }, "fms-iot:operations.logLevels", /unknown field/],
        ["an unknown log level", { logLevel: "TRACE" }, "fms-iot:operations.logLevel", /ERROR, WARN, INFO, DEBUG/],
    ];
    for (const [label, ops, key, allowed] of BAD) {
        it(`config error: ${label}`, async () => {
            await assertConfigError(runStack("kr", { edit: (c) => { c["fms-iot:operations"] = JSON.stringify(ops); } }), key, allowed);
        });
    }
});
