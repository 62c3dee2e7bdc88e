import * as assert from "assert";
import { CONFIRM_SQL, SWEEP_SCHEDULE } from "../components/provisioning/certificateRotation";
import { ACCOUNT_ID } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import { assertLeastPrivilege, parsePolicy, statement } from "./support/assertions";

const iot = (r: string) => `arn:aws:iot:ap-northeast-2:${ACCOUNT_ID}:${r}`;

describe("certificate rotation (kr)", () => {
    let run: ProgramRun;
    before(async () => { run = await runStack("kr"); });

    it("vehicles may call the rotation template's and CreateCertificateFromCsr's topics, and confirm through Basic Ingest", () => {
        const doc = parsePolicy(run.one("aws:iot/policy:Policy", "-device-policy").inputs.policy);
        const paths = ["$aws/certificates/create-from-csr/*", "$aws/provisioning-templates/fms-kr-rotate/provision/*"];
        assert.deepStrictEqual(statement(doc, "RotateOwnCertificate").Resource, paths.map((p) => iot(`topic/${p}`)));
        assert.deepStrictEqual(statement(doc, "RotateOwnCertificateFilters").Resource, paths.map((p) => iot(`topicfilter/${p}`)));
        assert.ok(statement(doc, "BasicIngest").Resource!.includes(iot("topic/$aws/rules/fms_kr_cert_confirm/*")));
        const claim = JSON.stringify(parsePolicy(run.one("aws:iot/policy:Policy", "-claim-policy").inputs.policy));
        assert.ok(!claim.includes("fms-kr-rotate"), "the claim certificate cannot reach the rotation template");
        // The per-core policy lives in the core template's PolicyDocument (components/edge/corePolicy.ts).
        const core = JSON.stringify(JSON.parse(run.one("aws:iot/provisioningTemplate:ProvisioningTemplate", "-core-template").inputs.templateBody).Resources.policy);
        assert.ok(!core.includes("fms-kr-rotate"));
    });

    it("the confirmation rule takes the certificate and Thing from the connection, invokes confirm, errors to an encrypted log", () => {
        const rule = run.one("aws:iot/topicRule:TopicRule", "-confirm-topic-rule").inputs;
        assert.strictEqual(rule.name, "fms_kr_cert_confirm");
        assert.strictEqual(rule.sql, CONFIRM_SQL);
        assert.strictEqual(CONFIRM_SQL, "SELECT principal() AS certificateId, clientid() AS thingName FROM 'certificates/confirm'");
        const confirm = run.one("aws:lambda/function:Function", "-rotation-confirm");
        assert.deepStrictEqual(rule.lambdas, [{ functionArn: confirm.state.arn }]);
        assert.strictEqual(confirm.inputs.handler, "index.confirmHandler");
        const errors = run.one("aws:cloudwatch/logGroup:LogGroup", "-confirm-errors");
        assert.strictEqual(rule.errorAction.cloudwatchLogs.logGroupName, errors.state.name);
        assert.ok(errors.inputs.kmsKeyId);
        const perm = run.ofType("aws:lambda/permission:Permission").find((p) => p.inputs.function === confirm.state.name)!;
        assert.deepStrictEqual([perm.inputs.principal, perm.inputs.sourceAccount, perm.inputs.sourceArn], ["iot.amazonaws.com", ACCOUNT_ID, iot("rule/fms_kr_cert_confirm")]);
    });

    it("confirm and sweep roles: this stack's vehicles and schedule table only", () => {
        const table = run.one("aws:dynamodb/table:Table", "-rotation-state").state.arn;
        const confirm = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-confirm-policy").inputs.policy);
        assertLeastPrivilege(confirm);
        assert.deepStrictEqual(statement(confirm, "ListVehicleCertificates").Resource, [iot("thing/kr-vehicle-*"), iot("thing/fms-kr-core-*")], "vehicles and cores");
        assert.deepStrictEqual(statement(confirm, "ScheduleRetirement").Resource, [table]);
        const sweep = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-sweep-policy").inputs.policy);
        assertLeastPrivilege(sweep);
        // SAR (iam-data iot.json): DetachThingPrincipal is authorized on `cert`, the Thing is condition key iot:thingArn.
        assert.deepStrictEqual(statement(sweep, "DetachFromVehicles").Resource, [iot("cert/*")]);
        assert.deepStrictEqual(statement(sweep, "DetachFromVehicles").Condition, { ArnLikeIfExists: { "iot:thingArn": [iot("thing/kr-vehicle-*"), iot("thing/fms-kr-core-*")] } });
        assert.deepStrictEqual(statement(confirm, "RecordCurrentCertificate").Resource, [run.one("aws:dynamodb/table:Table", "-registry").state.arn]);
        assert.deepStrictEqual(statement(confirm, "RecordCurrentCertificate").Condition!["ForAllValues:StringEquals"]!["dynamodb:Attributes"], ["serialNumber", "status", "certificateId", "publicKeyFingerprint", "confirmedAt", "publicKeyHistory", "previousPublicKeyFingerprint"]);
        assert.deepStrictEqual(statement(sweep, "DeactivateRetiredCertificates").Resource, [iot("cert/*")]);
        assert.deepStrictEqual(statement(sweep, "PublishExpiringMetric").Condition, { StringEquals: { "cloudwatch:namespace": "FMS/IoT/fms-kr" } });
        const env = run.one("aws:lambda/function:Function", "-rotation-sweep").inputs.environment.variables;
        assert.deepStrictEqual(env, {
            ROTATION_TABLE: run.one("aws:dynamodb/table:Table", "-rotation-state").state.name, THING_NAME_PREFIXES: "kr-vehicle-,fms-kr-core-", GRACE_PERIOD_HOURS: "72", METRIC_NAMESPACE: "FMS/IoT/fms-kr",
            REGISTRY_TABLE: run.one("aws:dynamodb/table:Table", "-registry").state.name,
        });
        assert.strictEqual(run.one("aws:cloudwatch/eventRule:EventRule", "-sweep-schedule").inputs.scheduleExpression, SWEEP_SCHEDULE);
    });

    it("the state table is the old schedule table (aliased, so pending retirements survive the move) and the hook writes it", () => {
        const table = run.one("aws:dynamodb/table:Table", "-rotation-state");
        assert.strictEqual(table.parent, run.one("fms:iot:FleetProvisioning").urn);
        const hook = run.one("aws:lambda/function:Function", "-provisioning-hook").inputs.environment.variables;
        assert.deepStrictEqual([hook.ROTATION_TABLE, hook.BIND_KEYS, hook.GRACE_PERIOD_HOURS, hook.CONFIRM_TIMEOUT_HOURS], [table.state.name, "true", "72", "24"]);
    });

    it("a confirmation that keeps failing goes to an encrypted queue, and confirm or sweep errors alarm", () => {
        const onFailure = run.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "-confirm-on-failure").inputs;
        const queue = run.one("aws:sqs/queue:Queue", "-confirm-failures");
        assert.deepStrictEqual(onFailure.destinationConfig, { onFailure: { destination: queue.state.arn } });
        assert.strictEqual(onFailure.functionName, run.one("aws:lambda/function:Function", "-rotation-confirm").state.name);
        assert.strictEqual(queue.inputs.kmsMasterKeyId, run.one("aws:kms/key:Key", "-key-key").state.arn);
        const confirm = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-confirm-policy").inputs.policy);
        assert.deepStrictEqual(statement(confirm, "DeadLetterFailedConfirmations").Resource, [queue.state.arn]);
        for (const [suffix, fn] of [["-rotation-confirm-errors", "-rotation-confirm"], ["-rotation-sweep-errors", "-rotation-sweep"]]) {
            const a = run.one("aws:cloudwatch/metricAlarm:MetricAlarm", suffix).inputs;
            assert.deepStrictEqual([a.namespace, a.metricName, a.dimensions, a.threshold], ["AWS/Lambda", "Errors", { FunctionName: run.one("aws:lambda/function:Function", fn).state.name }, 1]);
        }
        // The sweep records a refused deactivation and returns (its Lambda does not fail): the failures it logs alarm
        // when every sweep period of three running has one (review finding F4, issue 26). CloudWatch's "M out of N"
        // evaluation: DatapointsToAlarm 3 of EvaluationPeriods 3 (CloudWatch user guide, "Evaluating an alarm",
        // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation).
        const retire = run.one("aws:cloudwatch/metricAlarm:MetricAlarm", "-rotation-retire-failures").inputs;
        const filter = run.ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter").find((f) => f.inputs.metricTransformation.name === retire.metricName)!.inputs;
        assert.deepStrictEqual([filter.logGroupName, filter.metricTransformation.namespace, filter.metricTransformation.value], [run.one("aws:cloudwatch/logGroup:LogGroup", "-rotation-sweep-logs").state.name, retire.namespace, "$.failedCount"]);
        assert.deepStrictEqual([retire.statistic, retire.period, retire.evaluationPeriods, retire.datapointsToAlarm, retire.threshold, retire.comparisonOperator, retire.alarmActions],
            ["Sum", 900, 3, 3, 1, "GreaterThanOrEqualToThreshold", [run.outputs.operationsTopicArn]]);
    });

    it("outputs the rotation template and confirmation rule the simulator's --stack reads", () => {
        assert.deepStrictEqual([run.outputs.rotationTemplateName, run.outputs.certificateConfirmRuleName, run.outputs.deviceKeys], ["fms-kr-rotate", "fms_kr_cert_confirm", "device"]);
    });
});

describe("expiring-certificate alarm", () => {
    it("alarms on any DEVICE_CERTIFICATE_EXPIRING_CHECK finding the sweep publishes, to the operations topic", async () => {
        const run = await runStack("dev");
        const alarm = run.one("aws:cloudwatch/metricAlarm:MetricAlarm", "-expiring-certificates").inputs;
        assert.deepStrictEqual([alarm.namespace, alarm.metricName, alarm.comparisonOperator, alarm.threshold], ["FMS/IoT/fms-dev", "ExpiringDeviceCertificates", "GreaterThanThreshold", 0]);
        assert.deepStrictEqual(alarm.alarmActions, [run.outputs.operationsTopicArn]);
    });
});
