import * as assert from "assert";
import { PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { GetTopicRuleDestinationCommand, UpdateTopicRuleDestinationCommand } from "@aws-sdk/client-iot";
import { configFromEnv, DISABLED_METRIC, watch, WatchDeps } from "../components/routing/lambda/destinationWatch";
import { ACCOUNT_ID } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import { parsePolicy, statement } from "./support/assertions";
import { FakeClient } from "./support/fakeClient";

const ARN = `arn:aws:iot:ap-northeast-2:${ACCOUNT_ID}:ruledestination/vpc/2ce781c8-68a6-4c52-9c62-63fe489ecc60`;

describe("VPC rule destination watch (AWS IoT disables a destination after 30 days without traffic)", function () {
    this.timeout(60_000);
    const iot = new FakeClient();
    const cloudwatch = new FakeClient();
    const lines: Record<string, unknown>[] = [];
    const deps = (reenable = true): WatchDeps => ({
        config: { destinationArn: ARN, metricNamespace: "FMS/IoT/fms-kr", reenable }, iot: iot as never, cloudwatch: cloudwatch as never, log: (l) => lines.push(JSON.parse(l)),
    });
    const metric = () => cloudwatch.commandCalls(PutMetricDataCommand)[0].args[0].input;
    beforeEach(() => { iot.reset(); cloudwatch.reset(); lines.length = 0; });

    it("enabled: reports 0, changes nothing", async () => {
        iot.on(GetTopicRuleDestinationCommand).resolves({ topicRuleDestination: { arn: ARN, status: "ENABLED" } });
        assert.deepStrictEqual(await watch(deps()), { status: "ENABLED", reenabled: false });
        assert.strictEqual(iot.commandCalls(UpdateTopicRuleDestinationCommand).length, 0);
        assert.deepStrictEqual(metric(), { Namespace: "FMS/IoT/fms-kr", MetricData: [{ MetricName: DISABLED_METRIC, Value: 0, Unit: "Count" }] });
    });

    it("disabled after 30 quiet days: re-enabled (UpdateTopicRuleDestination status ENABLED), and this period still reports 1", async () => {
        iot.on(GetTopicRuleDestinationCommand).resolves({ topicRuleDestination: { arn: ARN, status: "DISABLED", statusReason: "No traffic for 30 days" } });
        assert.deepStrictEqual(await watch(deps()), { status: "DISABLED", reenabled: true });
        assert.deepStrictEqual(iot.commandCalls(UpdateTopicRuleDestinationCommand)[0].args[0].input, { arn: ARN, status: "ENABLED" });
        assert.strictEqual(metric().MetricData[0].Value, 1);
        assert.deepStrictEqual(lines[0], { event: "rule-destination-status", status: "DISABLED", reason: "No traffic for 30 days", reenabled: true });
    });

    it("re-enable off, or failing (a subnet the destination used is gone): reports 1, says why", async () => {
        iot.on(GetTopicRuleDestinationCommand).resolves({ topicRuleDestination: { status: "DISABLED" } });
        assert.deepStrictEqual(await watch(deps(false)), { status: "DISABLED", reenabled: false });
        assert.strictEqual(iot.commandCalls(UpdateTopicRuleDestinationCommand).length, 0);
        iot.reset(); cloudwatch.reset();
        iot.on(GetTopicRuleDestinationCommand).resolves({ topicRuleDestination: { status: "DISABLED" } });
        iot.on(UpdateTopicRuleDestinationCommand).rejects(Object.assign(new Error("subnet-0a1 does not exist"), { name: "InvalidRequestException" }));
        const r = await watch(deps());
        assert.deepStrictEqual(r, { status: "DISABLED", reenabled: false, error: "InvalidRequestException: subnet-0a1 does not exist" });
        assert.strictEqual(metric().MetricData[0].Value, 1);
    });

    it("reads its configuration from the environment the component sets", () => {
        assert.deepStrictEqual(configFromEnv({ DESTINATION_ARN: ARN, METRIC_NAMESPACE: "FMS/IoT/fms-kr", REENABLE: "true" }), { destinationArn: ARN, metricNamespace: "FMS/IoT/fms-kr", reenable: true });
        assert.strictEqual(configFromEnv({ DESTINATION_ARN: "arn:aws:iot:ap-northeast-2:1:rule/x", METRIC_NAMESPACE: "x" }), undefined);
    });

    describe("on the kr stack", () => {
        let run: ProgramRun;
        before(async () => { run = await runStack("kr"); });

        it("an hourly function on this stack's destination only, its metric alarmed to the operations topic", () => {
            const destination = run.one("aws:iot/topicRuleDestination:TopicRuleDestination").state.arn;
            const fn = run.one("aws:lambda/function:Function", "-destination-watch-function");
            assert.deepStrictEqual(fn.inputs.environment.variables, { DESTINATION_ARN: destination, METRIC_NAMESPACE: "FMS/IoT/fms-kr", REENABLE: "true" });
            const policy = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-destination-watch-function-policy").inputs.policy);
            assert.deepStrictEqual(statement(policy, "ThisStacksDestination").Resource, [destination]);
            assert.deepStrictEqual(statement(policy, "PublishDisabledMetric").Condition, { StringEquals: { "cloudwatch:namespace": "FMS/IoT/fms-kr" } });
            assert.strictEqual(run.one("aws:cloudwatch/eventRule:EventRule", "-destination-watch-schedule").inputs.scheduleExpression, "rate(1 hour)");
            const alarm = run.one("aws:cloudwatch/metricAlarm:MetricAlarm", "-destination-watch-alarm").inputs;
            assert.deepStrictEqual([alarm.namespace, alarm.metricName, alarm.threshold, alarm.alarmActions], ["FMS/IoT/fms-kr", DISABLED_METRIC, 1, [run.one("aws:sns/topic:Topic").state.arn]]);
        });

        it("routing.reenableDestination: false only watches", async () => {
            const off = await runStack("kr", { edit: (c) => { const r = JSON.parse(c["fms-iot:routing"]); r.reenableDestination = false; c["fms-iot:routing"] = JSON.stringify(r); } });
            assert.strictEqual(off.one("aws:lambda/function:Function", "-destination-watch-function").inputs.environment.variables.REENABLE, "false");
        });
    });
});
