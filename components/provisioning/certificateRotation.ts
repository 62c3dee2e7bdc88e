import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArnContext } from "../../policies/document";
import { RotationRoleArgs, rotationConfirmPolicy, rotationSweepPolicy, ruleErrorLogPolicy } from "../../policies/rotation";
import { trustedBy } from "../arnContext";
import { handlerArchive } from "../lambdaBundle";
import { nodeLambda } from "../nodeLambda";
import { topicAlarm } from "../topicAlarm";
import { evictionSignalMetricFilter, ruleFailureMetricFilter } from "../operations/operations";
import { CONFIRM_TOPIC } from "../../policies/topics";
import { EXPIRING_METRIC, SWEEP_METRICS } from "./lambda/certificateRotation";

export const ROTATION_ENTRY = path.join(__dirname, "lambda", "certificateRotation.ts");


/**
 * The rule's SQL: the certificate and client id come from AWS IoT's connection, not from the payload.
 * AWS IoT developer guide, "AWS IoT SQL reference > Functions": principal() is the certificate id for
 * connections authenticated with an X.509 certificate; clientid() the MQTT client id (here the Thing
 * name, the only one the device policy lets that certificate connect as).
 */
export const CONFIRM_SQL = `SELECT principal() AS certificateId, clientid() AS thingName FROM '${CONFIRM_TOPIC}'`;

/** How often the sweep retires certificates whose grace period is over. */
export const SWEEP_SCHEDULE = "rate(15 minutes)";
/** One sweep period, the retire-failures alarm's period (one sweep, one datapoint). */
const SWEEP_PERIOD_SECONDS = 900;

export interface CertificateRotationArgs {
    ctx: pulumi.Input<ArnContext>;
    namePrefix: string;
    /** The confirmation rule's name (`^[a-zA-Z0-9_]+$`), reached through Basic Ingest. */
    ruleName: string;
    /** Thing-name prefixes of the devices that rotate (vehicles, and Greengrass cores if the stack has them). */
    thingNamePrefixes: string[];
    gracePeriodHours: number;
    /** CloudWatch namespace of this stack's metrics. */
    metricNamespace: string;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    /** Where the expiring-certificates alarm notifies (the operations topic). */
    alarmTopicArn: pulumi.Input<string>;
    /** The rotation state table (FleetProvisioning owns it: the hook writes it too). */
    table: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
    /** Registry mode: the serial registry, where a confirmation records the current certificate. */
    registryTable?: { name: pulumi.Input<string>; arn: pulumi.Input<string> };
}

/**
 * After a vehicle has a new certificate from the rotation template: the rule it confirms through
 * (with its new certificate), the Lambda that schedules its older certificates for retirement, the
 * schedule table, and the sweep that deactivates and detaches them after the grace period and
 * publishes Device Defender's expiring-certificate count.
 */
export class CertificateRotation extends pulumi.ComponentResource {
    public readonly ruleName: pulumi.Output<string>;
    public readonly tableName: pulumi.Output<string>;
    public readonly failureQueueUrl: pulumi.Output<string>;
    public readonly confirmFunctionName: pulumi.Output<string>;
    public readonly sweepFunctionName: pulumi.Output<string>;
    public readonly failureQueueName: pulumi.Output<string>;
    /** The rotation's alarms (they notify the operations topic). */
    public readonly alarmArns: pulumi.Output<string>[];

    constructor(name: string, args: CertificateRotationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:CertificateRotation", name, {}, opts);
        const parent = { parent: this };
        const ctx = pulumi.output(args.ctx);

        const table = args.table;
        // A confirmation that keeps failing (AWS IoT invokes rule Lambda actions asynchronously: nobody
        // sees the error) lands here after Lambda's retries; an alarm watches it.
        const failures = new aws.sqs.Queue(`${name}-confirm-failures`, {
            name: `${args.namePrefix}-rotation-confirm-failures`,
            kmsMasterKeyId: args.kmsKeyArn,
            messageRetentionSeconds: 1_209_600,
        }, parent);

        const code = handlerArchive(ROTATION_ENTRY);
        const environment = {
            ROTATION_TABLE: table.name,
            THING_NAME_PREFIXES: args.thingNamePrefixes.join(","),
            GRACE_PERIOD_HOURS: String(args.gracePeriodHours),
            METRIC_NAMESPACE: args.metricNamespace,
            REGISTRY_TABLE: args.registryTable?.name ?? "",
        };
        const fn = (step: "confirm" | "sweep", description: string, timeout: number, policy: (r: RotationRoleArgs) => object) => nodeLambda(`${name}-${step}`, this, {
            ctx,
            functionName: `${args.namePrefix}-rotation-${step}`,
            description,
            roleDescription: description,
            code,
            handler: `index.${step}Handler`,
            timeout,
            environment,
            kmsKeyArn: args.kmsKeyArn,
            logRetentionDays: args.logRetentionDays,
            policyInputs: { tableArn: table.arn, keyArn: args.kmsKeyArn, registryTableArn: args.registryTable?.arn ?? "", failureQueueArn: failures.arn },
            policy: (c, logGroupArn, v) => policy({
                ...c, logGroupArn, tableArn: v.tableArn, keyArn: v.keyArn, thingNamePrefixes: args.thingNamePrefixes,
                registryTableArn: v.registryTableArn || undefined, failureQueueArn: v.failureQueueArn,
            }),
        });
        const { fn: confirm, logGroup: confirmLogs } = fn("confirm", "Certificate rotation: schedules a vehicle's older certificates once it confirms its new one", 30, rotationConfirmPolicy);
        const swept = fn("sweep", "Certificate rotation: retires certificates after their grace period", 300,
            (r) => rotationSweepPolicy({ ...r, metricNamespace: args.metricNamespace }));
        const sweep = swept.fn;
        // A confirmation from a replaced certificate: counted into the operations' eviction alarm (same namespace and metric).
        evictionSignalMetricFilter(`${name}-confirm-eviction-signals`, confirmLogs.name, args.metricNamespace, this);
        // Retirements, their failures and unconfirmed rotations, summed from the sweep's `rotation-sweep` line.
        for (const [metric, field] of Object.entries(SWEEP_METRICS)) {
            new aws.cloudwatch.LogMetricFilter(`${name}-${metric}`, {
                logGroupName: swept.logGroup.name,
                pattern: `{ $.event = "rotation-sweep" && $.${field} >= 0 }`,
                metricTransformation: { namespace: args.metricNamespace, name: metric, value: `$.${field}`, defaultValue: "0", unit: "Count" },
            }, parent);
        }

        // The confirmation rule: Basic Ingest only (nobody can subscribe to it), invoking `confirm`.
        const errorLogs = new aws.cloudwatch.LogGroup(`${name}-confirm-errors`, {
            name: `/aws/iot/rules/${args.namePrefix}-certificate-rotation`, retentionInDays: args.logRetentionDays, kmsKeyId: args.kmsKeyArn,
        }, parent);
        ruleFailureMetricFilter(`${name}-confirm-failures`, errorLogs.name, args.metricNamespace, this);
        const ruleRole = new aws.iam.Role(`${name}-confirm-errors-role`, {
            description: "Certificate confirmation rule: its error log only",
            assumeRolePolicy: trustedBy("iot.amazonaws.com", ctx),
        }, parent);
        const ruleRolePolicy = new aws.iam.RolePolicy(`${name}-confirm-errors-policy`, {
            role: ruleRole.id,
            policy: errorLogs.arn.apply((arn) => JSON.stringify(ruleErrorLogPolicy(arn))),
        }, parent);
        const ruleArn = ctx.apply((c) => `arn:${c.partition}:iot:${c.region}:${c.accountId}:rule/${args.ruleName}`);
        const invoke = new aws.lambda.Permission(`${name}-confirm-invoke`, {
            function: confirm.name,
            action: "lambda:InvokeFunction",
            principal: "iot.amazonaws.com",
            sourceAccount: ctx.accountId,
            sourceArn: ruleArn,
        }, parent);
        const rule = new aws.iot.TopicRule(`${name}-confirm-topic-rule`, {
            name: args.ruleName,
            description: "A vehicle confirms its new certificate (connected with it): its older ones retire after the grace period",
            enabled: true,
            sql: CONFIRM_SQL,
            sqlVersion: "2016-03-23",
            lambdas: [{ functionArn: confirm.arn }],
            errorAction: { cloudwatchLogs: { logGroupName: errorLogs.name, roleArn: ruleRole.arn } },
        }, { parent: this, dependsOn: [invoke, ruleRolePolicy] });

        new aws.lambda.FunctionEventInvokeConfig(`${name}-confirm-on-failure`, {
            functionName: confirm.name,
            maximumRetryAttempts: 2,
            destinationConfig: { onFailure: { destination: failures.arn } },
        }, parent);

        const schedule = new aws.cloudwatch.EventRule(`${name}-sweep-schedule`, {
            name: `${args.namePrefix}-rotation-sweep`,
            description: "Retire certificates whose grace period is over",
            scheduleExpression: SWEEP_SCHEDULE,
        }, parent);
        const sweepInvoke = new aws.lambda.Permission(`${name}-sweep-invoke`, {
            function: sweep.name,
            action: "lambda:InvokeFunction",
            principal: "events.amazonaws.com",
            sourceAccount: ctx.accountId,
            sourceArn: schedule.arn,
        }, parent);
        new aws.cloudwatch.EventTarget(`${name}-sweep-target`, { rule: schedule.name, arn: sweep.arn }, { parent: this, dependsOn: [sweepInvoke] });

        // Device Defender's DEVICE_CERTIFICATE_EXPIRING_CHECK, as the sweep publishes it: any finding alarms.
        const expiring = topicAlarm(`${name}-expiring-certificates`, this, args.alarmTopicArn, {
            name: `${args.namePrefix}-expiring-device-certificates`,
            alarmDescription: "Device Defender's latest audit found device certificates about to expire: rotate them (docs/provisioning.md, Vehicle certificate rotation)",
            namespace: args.metricNamespace,
            metricName: EXPIRING_METRIC,
            statistic: "Maximum",
            period: 3600,
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
        });

        // Silent failures are the dangerous ones here: a vehicle's old certificate would stay ACTIVE.
        const alarmOn = (suffix: string, description: string, metric: Partial<aws.cloudwatch.MetricAlarmArgs>) => topicAlarm(`${name}-${suffix}`, this, args.alarmTopicArn, {
            name: `${args.namePrefix}-${suffix}`, alarmDescription: description, statistic: "Sum", period: 300, threshold: 1, ...metric,
        });
        const errorAlarms = [alarmOn("rotation-confirm-errors", "Certificate confirmations failed: vehicles' old certificates are not scheduled for retirement (docs/provisioning-security.md)",
            { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: confirm.name } }),
        alarmOn("rotation-sweep-errors", "The certificate sweep failed: retired and unconfirmed certificates stay ACTIVE (docs/provisioning-security.md)",
            { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: sweep.name } }),
        alarmOn("rotation-confirm-dead-letters", "Certificate confirmations failed after Lambda's retries; the events are in the failure queue",
            { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", statistic: "Maximum", dimensions: { QueueName: failures.name } }),
        // The sweep does not fail when AWS refuses a deactivation (it records it and tries again next run), so its Lambda
        // errors never show a certificate that stays ACTIVE: a failure in three sweep periods in a row does (a
        // throttle the next sweep gets past does not). docs/provisioning-security.md, the sweep.
        alarmOn("rotation-retire-failures", "The certificate sweep could not deactivate a certificate in three sweeps running: an old or unconfirmed certificate stays ACTIVE and the Thing cannot rotate (docs/provisioning-security.md)",
            { namespace: args.metricNamespace, metricName: "CertificateRetireFailures" satisfies keyof typeof SWEEP_METRICS, period: SWEEP_PERIOD_SECONDS, evaluationPeriods: 3, datapointsToAlarm: 3 })];

        this.ruleName = rule.name;
        this.tableName = pulumi.output(table.name);
        this.confirmFunctionName = confirm.name;
        this.sweepFunctionName = sweep.name;
        this.failureQueueName = failures.name;
        this.alarmArns = [expiring, ...errorAlarms].map((a) => a.arn);
        this.failureQueueUrl = failures.url;
        this.registerOutputs({ ruleName: this.ruleName, tableName: this.tableName, failureQueueUrl: this.failureQueueUrl, confirmFunctionName: this.confirmFunctionName, sweepFunctionName: this.sweepFunctionName });
    }
}
