import * as assert from "assert";
import { readStackFile, stackNames } from "../config/stackFile";
import { ACCOUNT_ID } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import {
    COMPONENT_EVENT, DEPLOYMENT_EVENT, GREENGRASS_METRICS, greengrassEventsLogGroup,
} from "../components/operations/greengrassHealth";
import { metricNamespace } from "../components/operations/operations";
import { matchesEventPattern } from "./support/eventMatching";
import { matchesFilter } from "./support/filterPattern";

/**
 * Sample events in the shape of AWS IoT Greengrass V2 Developer Guide, "Get deployment and component health status
 * notifications" (https://docs.aws.amazon.com/greengrass/v2/developerguide/deployment-health-notifications.html,
 * "Deployment status change event" and "Component status change event"): the page's own examples, with the core
 * device ARN, account and region set to the stack's and the status each case needs.
 */
function deploymentEvent(coreArn: string, region: string, status: string): Record<string, unknown> {
    return {
        version: "0", id: "cd4d811e-ab12-322b-8255-EXAMPLEb1bc8", "detail-type": DEPLOYMENT_EVENT, source: "aws.greengrass",
        account: ACCOUNT_ID, region, time: "2018-03-22T00:38:11Z", resources: [coreArn],
        detail: {
            deploymentId: "4f38f1a7-3dd0-42a1-af48-EXAMPLE09681",
            coreDeviceExecutionStatus: status,
            statusDetails: { errorStack: ["DEPLOYMENT_FAILURE", "ARTIFACT_DOWNLOAD_ERROR", "S3_ERROR", "S3_ACCESS_DENIED", "S3_HEAD_OBJECT_ACCESS_DENIED"], errorTypes: ["DEPENDENCY_ERROR", "PERMISSION_ERROR"] },
            reason: "S3_HEAD_OBJECT_ACCESS_DENIED: FAILED_NO_STATE_CHANGE: Failed to download artifact",
        },
    };
}

function componentEvent(coreArn: string, region: string, states: string[]): Record<string, unknown> {
    return {
        version: "0", id: "cd4d811e-ab12-322b-8255-EXAMPLEb1bc8", "detail-type": COMPONENT_EVENT, source: "aws.greengrass",
        account: ACCOUNT_ID, region, time: "2018-03-22T00:38:11Z", resources: [coreArn],
        detail: {
            components: states.map((lifecycleState, i) => ({
                componentName: `MyComponent${i}`, componentVersion: "1.0.0", root: true, lifecycleState,
                lifecycleStatusCodes: ["STARTUP_ERROR"], lifecycleStateDetails: "An error occurred during startup. The startup script exited with code 1.",
            })),
        },
    };
}

const greengrassStacks = stackNames().filter((s) => readStackFile(s).config["fms-iot:greengrass"] !== undefined);
const prefixOf = (stack: string): string => JSON.parse(JSON.stringify(readStackFile(stack).config["fms-iot:namePrefix"]));

interface Health {
    run: ProgramRun;
    prefix: string;
    coreArn: (thing: string) => string;
    rules: { deployments: Record<string, any>; components: Record<string, any> };
    patterns: { deployments: Record<string, unknown>; components: Record<string, unknown> };
    filters: Record<string, any>[];
}

async function health(stack: string): Promise<Health> {
    const run = await runStack(stack);
    const prefix = prefixOf(stack);
    const rule = (name: string) => {
        const r = run.ofType("aws:cloudwatch/eventRule:EventRule").find((e) => e.inputs.name === name);
        assert.ok(r, `${stack}: event rule ${name}`);
        return r!;
    };
    const rules = { deployments: rule(`${prefix}-greengrass-deployments`), components: rule(`${prefix}-greengrass-unhealthy`) };
    const logGroup = greengrassEventsLogGroup(prefix);
    return {
        run, prefix, rules,
        coreArn: (thing) => `arn:aws:greengrass:${run.region}:${ACCOUNT_ID}:coreDevices:${thing}`,
        patterns: { deployments: JSON.parse(rules.deployments.inputs.eventPattern), components: JSON.parse(rules.components.inputs.eventPattern) },
        filters: run.ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter").filter((f) => f.inputs.logGroupName === logGroup),
    };
}

/** The metrics (name and dimension values) the stack's filters on the events log group would publish for one event. */
function metricsFor(h: Health, event: Record<string, unknown>): string[] {
    return h.filters.filter((f) => matchesFilter(f.inputs.pattern, JSON.stringify(event))).map((f) => {
        const t = f.inputs.metricTransformation;
        const dims = Object.entries(t.dimensions ?? {}).map(([k, sel]) => `${k}=${String(sel).split(".").slice(1).reduce((v: any, p) => v?.[p], event)}`);
        return [t.name, ...dims].join(" ");
    }).sort();
}

describe("Greengrass health: deployment outcomes and unhealthy cores from EventBridge, as the stack's own metrics and alarms", function () {
    this.timeout(120_000);

    it("the shipped stack files include stacks with cores (else this suite proves nothing)", () => {
        assert.ok(greengrassStacks.length > 0);
    });

    for (const stack of greengrassStacks) {
        describe(stack, () => {
            let h: Health;
            before(async () => { h = await health(stack); });

            it("two rules on the default bus, Greengrass's two event types, scoped by resource ARN to this stack's core Thing-name prefix", () => {
                const prefix = String(h.run.outputs.edgeCoreThingNamePrefix);
                const resources = [{ prefix: `arn:aws:greengrass:${h.run.region}:${ACCOUNT_ID}:coreDevices:${prefix}` }];
                assert.deepStrictEqual(h.patterns.deployments, { source: ["aws.greengrass"], "detail-type": ["Greengrass V2 Effective Deployment Status Change"], resources });
                assert.deepStrictEqual(h.patterns.components, {
                    source: ["aws.greengrass"], "detail-type": ["Greengrass V2 Installed Component Status Change"], resources,
                    detail: { components: { lifecycleState: ["ERRORED", "BROKEN"] } },
                });
                for (const r of Object.values(h.rules)) assert.strictEqual(r.inputs.eventBusName, undefined, "the default bus: where AWS services send their events");
            });

            it("the AWS page's sample events: this stack's cores match, another stack's cores, vehicles and other regions do not", () => {
                const core = h.coreArn(`${h.run.outputs.edgeCoreThingNamePrefix}0001`);
                assert.ok(matchesEventPattern(h.patterns.deployments, deploymentEvent(core, h.run.region, "FAILED")));
                assert.ok(matchesEventPattern(h.patterns.deployments, deploymentEvent(core, h.run.region, "SUCCEEDED")));
                assert.ok(!matchesEventPattern(h.patterns.components, deploymentEvent(core, h.run.region, "FAILED")), "a deployment event is not a component event");
                assert.ok(matchesEventPattern(h.patterns.components, componentEvent(core, h.run.region, ["RUNNING", "BROKEN"])), "one broken component of several");
                assert.ok(matchesEventPattern(h.patterns.components, componentEvent(core, h.run.region, ["ERRORED"])));
                assert.ok(!matchesEventPattern(h.patterns.components, componentEvent(core, h.run.region, ["RUNNING", "FINISHED"])), "a deployment's completion with healthy components");
                // Every other stack's cores and vehicles, by their Thing-name prefixes.
                for (const other of stackNames().filter((s) => s !== stack)) {
                    const c = readStackFile(other).config;
                    const otherPrefix = prefixOf(other);
                    for (const thing of [`${otherPrefix}-core-0001`, `${otherPrefix}-0001`]) {
                        if (thing.startsWith(String(h.run.outputs.edgeCoreThingNamePrefix))) continue;
                        assert.ok(!matchesEventPattern(h.patterns.deployments, deploymentEvent(h.coreArn(thing), h.run.region, "FAILED")), `${other} (${c["aws:region"]}): ${thing}`);
                        assert.ok(!matchesEventPattern(h.patterns.components, componentEvent(h.coreArn(thing), h.run.region, ["BROKEN"])), `${other}: ${thing}`);
                    }
                }
                assert.ok(!matchesEventPattern(h.patterns.deployments, deploymentEvent(h.coreArn(`${h.run.outputs.thingNamePrefix}0001`), h.run.region, "FAILED")), "a vehicle's Thing name");
                const elsewhere = core.replace(`:${h.run.region}:`, ":eu-west-1:").replace(`:${ACCOUNT_ID}:`, ":210987654321:");
                assert.ok(!matchesEventPattern(h.patterns.deployments, deploymentEvent(elsewhere, h.run.region, "FAILED")), "another account's core of the same name");
            });

            it("metric filters turn each sample event into the right metrics: failures, unhealthy reports, every outcome by status", () => {
                const core = h.coreArn(`${h.run.outputs.edgeCoreThingNamePrefix}0001`);
                const r = h.run.region;
                assert.deepStrictEqual(metricsFor(h, deploymentEvent(core, r, "FAILED")), [`${GREENGRASS_METRICS.deploymentFailures}`, `${GREENGRASS_METRICS.deployments} Status=FAILED`]);
                assert.deepStrictEqual(metricsFor(h, deploymentEvent(core, r, "REJECTED")), [`${GREENGRASS_METRICS.deploymentFailures}`, `${GREENGRASS_METRICS.deployments} Status=REJECTED`]);
                for (const ok of ["SUCCEEDED", "COMPLETED", "CANCELED"]) {
                    assert.deepStrictEqual(metricsFor(h, deploymentEvent(core, r, ok)), [`${GREENGRASS_METRICS.deployments} Status=${ok}`], ok);
                }
                assert.deepStrictEqual(metricsFor(h, componentEvent(core, r, ["RUNNING", "BROKEN"])), [GREENGRASS_METRICS.unhealthyReports]);
                // All into this stack's namespace; the alarm-facing ones default to 0, the dimensioned one cannot (MetricTransformation).
                for (const f of h.filters) assert.strictEqual(f.inputs.metricTransformation.namespace, metricNamespace(h.prefix));
                const byName = Object.fromEntries(h.filters.map((f) => [f.inputs.metricTransformation.name, f.inputs.metricTransformation]));
                assert.deepStrictEqual([byName[GREENGRASS_METRICS.deploymentFailures].defaultValue, byName[GREENGRASS_METRICS.unhealthyReports].defaultValue, byName[GREENGRASS_METRICS.deployments].defaultValue], ["0", "0", undefined]);
            });

            it("each rule targets the stack's encrypted events log group, with no role (CloudWatch Logs targets take none)", () => {
                const logGroup = h.run.ofType("aws:cloudwatch/logGroup:LogGroup").find((g) => g.inputs.name === greengrassEventsLogGroup(h.prefix))!;
                assert.ok(logGroup);
                assert.strictEqual(logGroup.inputs.kmsKeyId, h.run.one("aws:kms/key:Key", "-key-key").state.arn);
                const targets = h.run.ofType("aws:cloudwatch/eventTarget:EventTarget").filter((t) => t.inputs.arn === logGroup.state.arn);
                assert.deepStrictEqual(targets.map((t) => t.inputs.rule).sort(), [h.rules.deployments.inputs.name, h.rules.components.inputs.name].sort());
                for (const t of targets) assert.strictEqual(t.inputs.roleArn, undefined);
                // The stack key lets CloudWatch Logs encrypt this group.
                const keyPolicy = JSON.parse(h.run.one("aws:kms/key:Key", "-key-key").inputs.policy);
                const logs = keyPolicy.Statement.find((s: any) => s.Sid === "CloudWatchLogsForStackLogGroups");
                assert.ok(logs.Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"].includes(logGroup.state.arn), "the key policy names the events log group");
            });

            it("least privilege: EventBridge may write only this log group, only for these two rules", () => {
                const policies = h.run.ofType("aws:cloudwatch/logResourcePolicy:LogResourcePolicy");
                assert.strictEqual(policies.length, 1);
                assert.strictEqual(policies[0].inputs.policyName, `${h.prefix}-greengrass-events`);
                const doc = JSON.parse(policies[0].inputs.policyDocument);
                const logGroupArn = `arn:aws:logs:${h.run.region}:${ACCOUNT_ID}:log-group:${greengrassEventsLogGroup(h.prefix)}`;
                assert.deepStrictEqual(doc.Statement, [{
                    Sid: "EventBridgeRulesToLogGroup", Effect: "Allow", Principal: { Service: "events.amazonaws.com" },
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logGroupArn}:*`],
                    Condition: { ArnEquals: { "aws:SourceArn": [h.rules.deployments.state.arn, h.rules.components.state.arn] } },
                }]);
                assert.ok([h.rules.deployments.state.arn, h.rules.components.state.arn].every((a: string) => a.startsWith(`arn:aws:events:${h.run.region}:${ACCOUNT_ID}:rule/${h.prefix}-`)));
            });

            it("two alarms to the operations topic on the stack's own Greengrass metrics, on the dashboard", () => {
                const topic = h.run.outputs.operationsTopicArn;
                const alarms = h.run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => String(a.inputs.name).startsWith(`${h.prefix}-greengrass-`));
                assert.deepStrictEqual(alarms.map((a) => [a.inputs.name, a.inputs.namespace, a.inputs.metricName, a.inputs.threshold, a.inputs.comparisonOperator]).sort(), [
                    [`${h.prefix}-greengrass-deployment-failures`, metricNamespace(h.prefix), GREENGRASS_METRICS.deploymentFailures, 1, "GreaterThanOrEqualToThreshold"],
                    [`${h.prefix}-greengrass-unhealthy-cores`, metricNamespace(h.prefix), GREENGRASS_METRICS.unhealthyReports, 1, "GreaterThanOrEqualToThreshold"],
                ]);
                for (const a of alarms) assert.deepStrictEqual([a.inputs.alarmActions, a.inputs.okActions], [[topic], [topic]]);
                const body = JSON.parse(h.run.one("aws:cloudwatch/dashboard:Dashboard").inputs.dashboardBody);
                const text = JSON.stringify(body);
                for (const m of Object.values(GREENGRASS_METRICS)) assert.ok(text.includes(m), `dashboard shows ${m}`);
                const alarmWidgets = body.widgets.filter((w: any) => w.type === "alarm").flatMap((w: any) => w.properties.alarms);
                for (const a of alarms) assert.ok(alarmWidgets.includes(a.state.arn), `${a.inputs.name} on the dashboard`);
            });
        });
    }

    it("a stack without cores has no Greengrass rule, log group, resource policy, alarm or widget", async () => {
        const stack = greengrassStacks[0];
        const run = await runStack(stack, { fresh: true, edit: (c) => { delete c["fms-iot:greengrass"]; } });
        const prefix = prefixOf(stack);
        assert.deepStrictEqual(run.ofType("fms:iot:GreengrassHealth"), []);
        assert.deepStrictEqual(run.ofType("aws:cloudwatch/logResourcePolicy:LogResourcePolicy"), []);
        assert.deepStrictEqual(run.ofType("aws:cloudwatch/eventRule:EventRule").filter((r) => String(r.inputs.name).includes("greengrass")), []);
        assert.deepStrictEqual(run.ofType("aws:cloudwatch/logGroup:LogGroup").filter((g) => g.inputs.name === greengrassEventsLogGroup(prefix)), []);
        assert.deepStrictEqual(run.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => String(a.inputs.name).includes("greengrass")), []);
        const body = run.one("aws:cloudwatch/dashboard:Dashboard").inputs.dashboardBody;
        for (const m of Object.values(GREENGRASS_METRICS)) assert.ok(!body.includes(m), m);
    });
});
