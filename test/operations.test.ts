import * as assert from "assert";
import { ConfigName } from "@aws-sdk/client-iot";
import { ALLOWED_PATTERN, AUDIT_CHECKS, DENIED_PATTERN, EVICTION_SIGNAL_PATTERN, EVICTION_SIGNALS_METRIC } from "../components/operations/operations";
import { claimCertificateProvider } from "../components/provisioning/claimCertificateProvider";
import { createHandler } from "../components/provisioning/lambda/provisioningHook";
import { ACCOUNT_ID } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import { assertStackConfigError, parsePolicy, statement } from "./support/assertions";

const REGION = "ap-northeast-2";

const SETTINGS = "pulumi-nodejs:dynamic/iot:RegionSettings";

for (const stack of ["kr", "dev"]) {
    const production = stack === "kr";
    /** kr owns ap-northeast-2's AWS IoT settings; dev (same account and region) names kr as their owner. */
    const owner = stack === "kr";
    describe(`operations on the ${stack} stack`, function () {
        this.timeout(60_000);
        let run: ProgramRun;
        before(async () => { run = await runStack(stack); });
        const topicArn = () => run.one("aws:sns/topic:Topic").state.arn;

        it(owner ? "IoT logging at ERROR, in the region settings inside the Operations component" : "no region settings: kr owns them", () => {
            if (!owner) {
                for (const type of [SETTINGS, "aws-native:iot:ScheduledAudit", "aws-native:iot:FleetMetric", "aws:iot/loggingOptions:LoggingOptions", "aws:iot/indexingConfiguration:IndexingConfiguration"]) {
                    assert.strictEqual(run.ofType(type).length, 0, type);
                }
                assert.strictEqual(run.ofType("aws:cloudwatch/logGroup:LogGroup").filter((l) => l.inputs.name === "AWSIotLogsV2").length, 0);
                return;
            }
            const settings = run.one(SETTINGS);
            assert.deepStrictEqual(settings.inputs.logging, { roleArn: run.one("aws:iam/role:Role", "-logging-role").state.arn, defaultLogLevel: "ERROR" });
            assert.strictEqual(settings.inputs.owner, "kr");
            assert.strictEqual(settings.inputs.region, REGION);
            const parentOf = (urn: string | null) => run.resources.find((r) => r.urn === urn)!;
            assert.strictEqual(parentOf(settings.parent).type, "fms:iot:Operations");
            for (const dep of ["-logging-policy", "-logging-log-group"]) assert.ok(settings.dependencies.includes(run.one(dep.endsWith("group") ? "aws:cloudwatch/logGroup:LogGroup" : "aws:iam/rolePolicy:RolePolicy", dep).urn), dep);
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

        it("Device Defender audit: the checks enabled (API names), certificate thresholds, findings to the topic, after the roles' policies", () => {
            if (!owner) return;
            const settings = run.one(SETTINGS);
            const audit = settings.inputs.audit;
            assert.strictEqual(audit.roleArn, run.one("aws:iam/role:Role", "-audit-role").state.arn);
            assert.deepStrictEqual(Object.keys(audit.checks).sort(), Object.values(AUDIT_CHECKS).sort());
            for (const check of Object.values(AUDIT_CHECKS)) assert.strictEqual(audit.checks[check].enabled, true, check);
            // The SDK's ConfigName values (CERT_AGE_THRESHOLD_IN_DAYS, CERT_EXPIRATION_THRESHOLD_IN_DAYS).
            assert.deepStrictEqual(audit.checks.DEVICE_CERTIFICATE_AGE_CHECK.configuration, { [ConfigName.CERT_AGE_THRESHOLD_IN_DAYS]: "365" });
            assert.deepStrictEqual(audit.checks.DEVICE_CERTIFICATE_EXPIRING_CHECK.configuration, { [ConfigName.CERT_EXPIRATION_THRESHOLD_IN_DAYS]: "30" });
            assert.deepStrictEqual(audit.sns, { targetArn: topicArn(), roleArn: run.one("aws:iam/role:Role", "-notifier-role").state.arn });
            for (const [type, name] of [["aws:iam/rolePolicyAttachment:RolePolicyAttachment", "-audit-policy"], ["aws:iam/rolePolicy:RolePolicy", "-notifier-policy"]]) {
                assert.ok(settings.dependencies.includes(run.one(type, name).urn), `waits for ${name}`);
            }
            const policy = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "-audit-policy").inputs.policyArn;
            assert.strictEqual(policy, "arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit");
            const scheduled = run.one("aws-native:iot:ScheduledAudit");
            assert.strictEqual(scheduled.inputs.frequency, "DAILY");
            assert.deepStrictEqual(scheduled.inputs.targetCheckNames, Object.values(AUDIT_CHECKS));
            assert.ok(scheduled.dependencies.includes(settings.urn));
        });

        it("security profile on the vehicle group: authorization failures and message volume, alerts to the topic", () => {
            const p = run.one("aws-native:iot:SecurityProfile").inputs;
            assert.deepStrictEqual(p.targetArns, [run.one("aws:iot/thingGroup:ThingGroup", "-provisioning-thing-group").state.arn]);
            assert.deepStrictEqual(p.behaviors.map((b: { metric: string; criteria: { value: { count: string } } }) => [b.metric, b.criteria.value.count]),
                [["aws:num-authorization-failures", "10"], ["aws:num-messages-sent", "600"]]);
            assert.strictEqual(p.alertTargets.SNS.alertTargetArn, topicArn());
        });

        it("alarms: each metric, threshold and action; rule alarms one per rule of this stack, one Metrics Insights query each", () => {
            const hook = run.one("aws:lambda/function:Function", "-hook").state.name;
            const templates = [run.outputs.provisioningTemplateName, run.outputs.rotationTemplateName, ...(run.outputs.edgeCoreTemplateName ? [run.outputs.edgeCoreTemplateName, run.outputs.edgeCoreRotationTemplateName] : [])] as string[];
            const others = ["-expiring-device-certificates", "-rule-destination-disabled", "-rotation-confirm-errors", "-rotation-sweep-errors", "-rotation-confirm-dead-letters", "-rotation-retire-failures"];
            const alarms = Object.fromEntries(run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => !others.some((o) => a.inputs.name.endsWith(o))).map((a) => [a.inputs.name.replace(`fms-${stack}-`, ""), a.inputs]));
            const rules = [1, 2, 3].map((n) => `fms_${stack}_rule${n}`).concat(`fms_${stack}_cert_confirm`);
            const expected: Record<string, [string | undefined, string | undefined, Record<string, string> | undefined, number]> = {
                "hook-errors": ["AWS/Lambda", "Errors", { FunctionName: hook }, 1],
                "hook-throttles": ["AWS/Lambda", "Throttles", { FunctionName: hook }, 1],
                "hook-denies": [`FMS/IoT/fms-${stack}`, "ProvisioningDenied", undefined, production ? 20 : 100],
                "connect-auth-errors": ["AWS/IoT", "Connect.AuthError", { Protocol: "MQTT" }, production ? 50 : 500],
                "rule-action-failures": [`FMS/IoT/fms-${stack}`, "RuleActionFailures", undefined, 1],
                // A thief holding a unit's current key (issue 26): every eviction signal alarms.
                "eviction-signals": [`FMS/IoT/fms-${stack}`, "EvictionSignals", undefined, 1],
                ...Object.fromEntries(rules.map((r) => [`error-action-failures-${r}`, [undefined, undefined, undefined, 1]])),
                // Misuse of a leaked claim certificate: volume, not denials (issue 19).
                "provisionings-per-hour": [`FMS/IoT/fms-${stack}`, "ProvisioningAllowed", undefined, production ? 1000 : 100],
                "claim-registrations-per-hour": [undefined, undefined, undefined, production ? 1000 : 100],
                "claim-create-failures": [undefined, undefined, undefined, production ? 20 : 100],
                ...Object.fromEntries(templates.map((_, i) => [`register-thing-failures-${i}`, [undefined, undefined, undefined, production ? 20 : 100]])),
                // Stacks with cores: failed deployments and unhealthy cores (test/greengrassHealth.test.ts).
                ...(run.outputs.edgeCoreTemplateName ? {
                    "greengrass-deployment-failures": [`FMS/IoT/fms-${stack}`, "GreengrassDeploymentFailures", undefined, 1],
                    "greengrass-unhealthy-cores": [`FMS/IoT/fms-${stack}`, "GreengrassUnhealthyCoreReports", undefined, 1],
                } : {}),
            };
            assert.deepStrictEqual(Object.keys(alarms).sort(), Object.keys(expected).sort());
            for (const [name, [namespace, metricName, dimensions, threshold]] of Object.entries(expected)) {
                const a = alarms[name];
                assert.deepStrictEqual([a.namespace, a.metricName, a.dimensions, a.threshold], [namespace, metricName, dimensions, threshold], name);
                assert.deepStrictEqual(a.alarmActions, [topicArn()], name);
                assert.strictEqual(a.comparisonOperator, "GreaterThanOrEqualToThreshold");
            }
            // AWS IoT's fleet-provisioning metrics (developer guide, "AWS IoT metrics and dimensions", device provisioning
            // metrics and their dimensions ClaimCertificateId and TemplateName), one Metrics Insights query each.
            const claim = run.outputs.claimCertificateId as string;
            assert.deepStrictEqual([alarms["claim-registrations-per-hour"].metricQueries, alarms["provisionings-per-hour"].period], [[{
                id: "m", expression: `SELECT SUM(ApproximateNumberOfThingsRegistered) FROM SCHEMA("AWS/IoT", ClaimCertificateId) WHERE ClaimCertificateId = '${claim}'`, period: 3600, returnData: true,
            }], 3600]);
            assert.strictEqual(alarms["claim-create-failures"].metricQueries[0].expression, `SELECT SUM(CreateKeysAndCertificateFailed) FROM SCHEMA("AWS/IoT", ClaimCertificateId) WHERE ClaimCertificateId = '${claim}'`);
            assert.deepStrictEqual(templates.map((_, i) => alarms[`register-thing-failures-${i}`].metricQueries[0].expression),
                templates.map((t) => `SELECT SUM(RegisterThingFailed) FROM SCHEMA("AWS/IoT", TemplateName) WHERE TemplateName = '${t}'`));
            const allowed = run.one("aws:cloudwatch/logMetricFilter:LogMetricFilter", "-hook-allowed").inputs;
            assert.deepStrictEqual([allowed.pattern, allowed.metricTransformation.name], [ALLOWED_PATTERN, "ProvisioningAllowed"]);
            for (const r of rules) {
                // CloudWatch: an alarm takes one Metrics Insights query.
                assert.deepStrictEqual(alarms[`error-action-failures-${r}`].metricQueries, [{ id: "m", expression: `SELECT SUM(ErrorActionFailure) FROM SCHEMA("AWS/IoT", ActionType, RuleName) WHERE RuleName = '${r}'`, period: 300, returnData: true }]);
            }
            // Failed actions: one metric from this stack's rule error log groups (one error document per failure).
            const filters = run.ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter").filter((f) => f.inputs.metricTransformation.name === "RuleActionFailures");
            const errorGroups = run.ofType("aws:cloudwatch/logGroup:LogGroup").filter((g) => g.inputs.name.startsWith("/aws/iot/rules/")).map((g) => g.state.name).sort();
            assert.deepStrictEqual(filters.map((f) => f.inputs.logGroupName).sort(), errorGroups);
            for (const f of filters) {
                assert.strictEqual(f.inputs.pattern, '{ $.ruleName = "*" }');
                assert.strictEqual(f.inputs.metricTransformation.namespace, `FMS/IoT/fms-${stack}`);
            }
            assert.deepStrictEqual(rules.filter((r) => !run.ofType("aws:iot/topicRule:TopicRule").some((t) => t.inputs.name === r)), [], "each alarmed rule is one of this stack's");
        });

        it("hook denials become a metric, from the very JSON lines the hook writes", async () => {
            const filter = run.one("aws:cloudwatch/logMetricFilter:LogMetricFilter", "-hook-denied").inputs;
            assert.strictEqual(filter.logGroupName, run.one("aws:cloudwatch/logGroup:LogGroup", "-hook-logs").state.name);
            assert.strictEqual(filter.pattern, DENIED_PATTERN);
            assert.deepStrictEqual([filter.metricTransformation.namespace, filter.metricTransformation.name], [`FMS/IoT/fms-${stack}`, "ProvisioningDenied"]);
            const lines: string[] = [];
            const hook = createHandler({ config: { mode: "prefix", allowReprovisioning: true, bindKeys: false, rotationTable: "r", gracePeriodHours: 1, confirmTimeoutHours: 1, templates: { t: { purpose: "provision", thingNamePrefix: "t-", serialPrefixes: ["297468"], deviceParameters: ["SerialNumber"] } } }, dynamo: { send: async () => ({}) } as never, iot: { send: async () => ({}) } as never, now: () => new Date(), log: (l) => lines.push(l), registryTimeoutMs: 10 });
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

        it("eviction signals (issue 26): the hook's and the confirmation's log lines, one metric, one alarm to the operations topic", () => {
            const filters = run.ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter").filter((f) => f.inputs.metricTransformation.name === EVICTION_SIGNALS_METRIC);
            const groups = ["-hook-logs", "-rotation-confirm-logs"].map((suffix) => run.one("aws:cloudwatch/logGroup:LogGroup", suffix).state.name).sort();
            assert.deepStrictEqual(filters.map((f) => f.inputs.logGroupName).sort(), groups);
            for (const f of filters) {
                // CloudWatch Logs filter pattern syntax ("JSON log events"): a string-valued field, any value.
                assert.deepStrictEqual([f.inputs.pattern, f.inputs.metricTransformation.namespace], ['{ $.evictionSignal = "*" }', `FMS/IoT/fms-${stack}`]);
            }
            assert.strictEqual(EVICTION_SIGNAL_PATTERN, '{ $.evictionSignal = "*" }');
            const alarm = run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.inputs.name === `fms-${stack}-eviction-signals`)!.inputs;
            const topic = run.one("aws:sns/topic:Topic", "-topic").state.arn;
            assert.deepStrictEqual([alarm.namespace, alarm.metricName, alarm.statistic, alarm.period, alarm.threshold, alarm.comparisonOperator, alarm.alarmActions],
                [`FMS/IoT/fms-${stack}`, EVICTION_SIGNALS_METRIC, "Sum", 300, 1, "GreaterThanOrEqualToThreshold", [topic]]);
        });

        it("fleet index: exactly the attributes the templates write, as custom fields; fleet metrics only after the index is ready", () => {
            if (!owner) return;
            const settings = run.one(SETTINGS);
            const fields = settings.inputs.indexing.customFields as { name: string; type: string }[];
            for (const t of run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate")) {
                const attributes = Object.keys(JSON.parse(t.inputs.templateBody).Resources.thing.Properties.AttributePayload);
                assert.deepStrictEqual(fields.map((f) => f.name).sort(), attributes.map((a) => `attributes.${a}`).sort(), t.name);
            }
            assert.deepStrictEqual(fields.find((f) => f.name === "attributes.CertDate"), { name: "attributes.CertDate", type: "Number" });
            const metrics = Object.fromEntries(run.ofType("aws-native:iot:FleetMetric").map((m) => [m.inputs.metricName, m]));
            const type = `fms-${stack}-vehicle`;
            assert.deepStrictEqual(metrics[`fms-${stack}-connected-vehicles`].inputs.queryString, `thingTypeName:${type} AND connectivity.connected:true`);
            assert.deepStrictEqual(metrics[`fms-${stack}-connected-vehicles`].inputs.aggregationType, { name: "Statistics", values: ["count"] });
            assert.strictEqual(metrics[`fms-${stack}-certificate-date`].inputs.aggregationField, "attributes.CertDate");
            assert.deepStrictEqual(metrics[`fms-${stack}-certificate-date`].inputs.aggregationType.values, ["minimum", "average"]);
            for (const m of Object.values(metrics) as { dependencies: string[] }[]) assert.ok(m.dependencies.includes(settings.urn), "created once RegionSettings has seen the index ACTIVE");
        });
    });
}

describe("operations: region settings, kill switch, config", function () {
    this.timeout(60_000);

    it("a stack that names another owner keeps its topic, profile and alarms only", async () => {
        // dev names kr, which shares its region (a name across stack files that owns nothing is refused: config/crossStack.ts).
        const run = await runStack("dev");
        for (const type of [SETTINGS, "aws-native:iot:ScheduledAudit", "aws-native:iot:FleetMetric"]) {
            assert.strictEqual(run.ofType(type).length, 0, type);
        }
        assert.strictEqual(run.ofType("aws-native:iot:SecurityProfile").length, 1);
        assert.strictEqual(run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").length, 6 + 4 + 7 + 5 + 1 + 2,
            "six operations alarms (the eviction signals among them), one per rule for lost messages (three routes and the confirmation), seven for provisioning misuse (four templates), rotation's five (retire failures among them), the destination watch's, Greengrass's two (dev has cores)");
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
        // The host never reads `stables` (README "Day two": what the preview of the switch-off shows), so none is claimed.
        assert.strictEqual(diff.stables, undefined);
    });

    // What `pulumi preview` shows for the switch-off: a dynamic resource has no preview, so the engine hands back its
    // new inputs as its state (pulumi/pulumi v3.248.0 sdk/go/common/resource/plugin/provider_plugin.go:1661-1676) and
    // its computed outputs are unknown; the id of a resource being updated is known. plan/mocks.ts answers so here.
    it("claim kill switch, previewed: the policy attachment and PEM object keys are known (built from the id), so they preview unchanged", async () => {
        const run = await runStack("kr", { previewUpdate: true, edit: (c) => {
            c["fms-iot:claimCertificate"] = JSON.stringify({ ...JSON.parse(c["fms-iot:claimCertificate"]), status: "INACTIVE" });
        } });
        const attach = run.one("aws:iot/policyAttachment:PolicyAttachment");
        assert.match(attach.inputs.target, /^arn:aws:iot:ap-northeast-2:\d{12}:cert\/[0-9a-f]{64}$/, "known in the preview");
        const objects = run.ofType("aws:s3/bucketObjectv2:BucketObjectv2").filter((o) => String(o.inputs.key).startsWith("claim-certificate/"));
        assert.strictEqual(objects.length, 3);
        for (const o of objects) assert.match(o.inputs.key, /^claim-certificate\/[0-9a-f]{64}\/[a-z.]+$/, "object keys known: no replacement");
        // The simulation is a preview: what the provider computes (the PEM) is unknown.
        assert.strictEqual((objects.find((o) => o.inputs.key.endsWith("certificate.pem.crt"))!.inputs.content as { __pulumiUnknown?: boolean }).__pulumiUnknown, true);
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
            assertStackConfigError("kr", (c) => { c["fms-iot:operations"] = JSON.stringify(ops); }, key, allowed);
        });
    }
});
