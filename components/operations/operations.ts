import * as aws from "@pulumi/aws";
import * as awsnative from "@pulumi/aws-native";
import * as pulumi from "@pulumi/pulumi";
import { topicAlarm } from "../topicAlarm";
import { trustedBy } from "../arnContext";
import { OperationsConfig } from "../../config/operationsConfig";
import { ArnContext } from "../../policies/document";
import { deviceDefenderAuditPolicyArn, notificationPolicy } from "../../policies/operations";
import { AwsTarget } from "../iotSdk";
import { IotLogging } from "./iotLogging";
import { AuditCheck, RegionSettings } from "./regionSettings";
import { THING_ATTRIBUTES } from "../provisioning/templateBody";

/** This stack's CloudWatch metric namespace. */
export function metricNamespace(namePrefix: string): string {
    return `FMS/IoT/${namePrefix}`;
}

/** Device Defender audit checks this stack enables (the API's check names). */
export const AUDIT_CHECKS = {
    iotPolicyOverlyPermissiveCheck: "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    ioTPolicyPotentialMisConfigurationCheck: "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK",
    iotRoleAliasOverlyPermissiveCheck: "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK",
    iotRoleAliasAllowsAccessToUnusedServicesCheck: "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
    deviceCertificateSharedCheck: "DEVICE_CERTIFICATE_SHARED_CHECK",
    conflictingClientIdsCheck: "CONFLICTING_CLIENT_IDS_CHECK",
    deviceCertificateExpiringCheck: "DEVICE_CERTIFICATE_EXPIRING_CHECK",
    deviceCertificateAgeCheck: "DEVICE_CERTIFICATE_AGE_CHECK",
    deviceCertificateKeyQualityCheck: "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
    revokedDeviceCertificateStillActiveCheck: "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
    loggingDisabledCheck: "LOGGING_DISABLED_CHECK",
    caCertificateExpiringCheck: "CA_CERTIFICATE_EXPIRING_CHECK",
    caCertificateKeyQualityCheck: "CA_CERTIFICATE_KEY_QUALITY_CHECK",
    revokedCaCertificateStillActiveCheck: "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK",
    intermediateCaRevokedForActiveDeviceCertificatesCheck: "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
} as const;

/** The audit checks in the API's form: each on, the certificate age and expiry thresholds from config. */
export function auditCheckConfigurations(ops: OperationsConfig): Record<string, AuditCheck> {
    const checks: Record<string, AuditCheck> = Object.fromEntries(Object.values(AUDIT_CHECKS).map((c) => [c, { enabled: true }]));
    checks[AUDIT_CHECKS.deviceCertificateAgeCheck] = { enabled: true, configuration: { CERT_AGE_THRESHOLD_IN_DAYS: String(ops.certificateAgeDays) } };
    checks[AUDIT_CHECKS.deviceCertificateExpiringCheck] = { enabled: true, configuration: { CERT_EXPIRATION_THRESHOLD_IN_DAYS: String(ops.certificateExpiringDays) } };
    return checks;
}

/** Fleet-index custom fields: the Thing attributes the provisioning templates write. */
export function indexCustomFields(): { name: string; type: "String" | "Number" }[] {
    return [
        { name: `attributes.${THING_ATTRIBUTES.serial}`, type: "String" },
        { name: `attributes.${THING_ATTRIBUTES.country}`, type: "String" },
        // YYYYMMDD as a number: "certificates issued before X" is a range query.
        { name: `attributes.${THING_ATTRIBUTES.certDate}`, type: "Number" },
        // The certificate's expiry, YYYYMMDD: "certificates expiring before X" (rotation candidates).
        { name: `attributes.${THING_ATTRIBUTES.certExpiry}`, type: "Number" },
    ];
}

/**
 * Failed rule actions, counted from this stack's rule error log groups: AWS IoT writes one error-action
 * document (`{"ruleName": ..., "topic": ..., "failures": [...]}`, AWS IoT Core Developer Guide, "Error
 * action message format") per failed action. One metric (and one alarm) for all of a stack's rules.
 */
export const RULE_FAILURES_METRIC = "RuleActionFailures";
export const ERROR_DOCUMENT_PATTERN = '{ $.ruleName = "*" }';

/** The metric filter each rule error log group of a stack gets. */
export function ruleFailureMetricFilter(name: string, logGroupName: pulumi.Input<string>, namespace: string, parent: pulumi.Resource): aws.cloudwatch.LogMetricFilter {
    return new aws.cloudwatch.LogMetricFilter(name, {
        logGroupName,
        pattern: ERROR_DOCUMENT_PATTERN,
        metricTransformation: { namespace, name: RULE_FAILURES_METRIC, value: "1", defaultValue: "0", unit: "Count" },
    }, { parent });
}

/** A Metrics Insights query over one topic rule's action metric. */
export function ruleMetricQuery(metricName: "Failure" | "ErrorActionFailure" | string, ruleName: string): string {
    if (!/^[A-Za-z0-9_]+$/.test(ruleName)) throw new Error(`ruleMetricQuery: ${ruleName} is not a topic rule name`);
    return `SELECT SUM(${metricName}) FROM SCHEMA("AWS/IoT", ActionType, RuleName) WHERE RuleName = '${ruleName}'`;
}

/** The metric filter pattern for hook decisions that denied provisioning. */
export const DENIED_PATTERN = '{ $.event = "provisioning-decision" && $.allowProvisioning IS FALSE }';
/** The metric filter pattern for hook decisions that allowed it (a successful squat or a flood denies nothing). */
export const ALLOWED_PATTERN = '{ $.event = "provisioning-decision" && $.allowProvisioning IS TRUE }';

/**
 * Metrics Insights queries over AWS IoT's fleet-provisioning metrics (AWS IoT developer guide, "AWS IoT
 * metrics and dimensions", Device provisioning metrics: ApproximateNumberOfThingsRegistered,
 * CreateKeysAndCertificateFailed, RegisterThingFailed; dimensions ClaimCertificateId and TemplateName).
 */
export function provisioningMetricQuery(metricName: "ApproximateNumberOfThingsRegistered" | "CreateKeysAndCertificateFailed", claimCertificateId: string): string;
export function provisioningMetricQuery(metricName: "RegisterThingFailed", templateName: string): string;
export function provisioningMetricQuery(metricName: string, value: string): string {
    const dimension = metricName === "RegisterThingFailed" ? "TemplateName" : "ClaimCertificateId";
    if (!/^[0-9A-Za-z_-]{1,64}$/.test(value)) throw new Error(`provisioningMetricQuery: ${value} is not a ${dimension}`);
    return `SELECT SUM(${metricName}) FROM SCHEMA("AWS/IoT", ${dimension}) WHERE ${dimension} = '${value}'`;
}

export interface OperationsArgs {
    ctx: pulumi.Input<ArnContext>;
    /** Where the region-settings dynamic provider calls AWS (the stack's region, profile, accounts). */
    awsTarget: AwsTarget;
    stack: string;
    namePrefix: string;
    operations: OperationsConfig;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    /** The function that decides provisionings: the pre-provisioning hook, or (oemCa) the JITR function; its decision log. */
    hookFunctionName: pulumi.Input<string>;
    hookLogGroupName: pulumi.Input<string>;
    /** The claim certificate whose registrations are counted (AWS/IoT ApproximateNumberOfThingsRegistered); none in oemCa mode. */
    claimCertificateId?: pulumi.Input<string>;
    /** This stack's provisioning templates, whose RegisterThing failures are alarmed. */
    templateNames: pulumi.Input<string>[];
    /** The group the vehicles' security profile watches. */
    vehicleThingGroupArn: pulumi.Input<string>;
    thingTypeName: pulumi.Input<string>;
    /** This stack's topic rules: their action failures are alarmed, one alarm per rule and metric. */
    ruleNames: string[];
}

/**
 * Seeing and stopping trouble without leaving the stack: AWS IoT logging, Device Defender audit
 * (checks, schedule, findings to an encrypted SNS topic) and detect (a security profile on the
 * vehicles), CloudWatch alarms to the same topic, fleet indexing and fleet metrics.
 */
export class Operations extends pulumi.ComponentResource {
    public readonly topicArn: pulumi.Output<string>;
    public readonly alarmNames: pulumi.Output<string>[];

    constructor(name: string, args: OperationsArgs, opts?: pulumi.ComponentResourceOptions) {
        // Recorded on the component: the guardrails read which stack owns the region's settings.
        super("fms:iot:Operations", name, { regionSettingsOwner: args.operations.regionSettingsOwner }, opts);
        const parent = { parent: this };
        const ctx = pulumi.output(args.ctx);
        const ops = args.operations;
        const owns = ops.ownsRegionSettings;

        const topic = new aws.sns.Topic(`${name}-topic`, {
            name: `${args.namePrefix}-iot-operations`,
            displayName: `FMS IoT ${args.namePrefix}: Device Defender findings and alarms`,
            kmsMasterKeyId: args.kmsKeyArn,
        }, parent);
        ops.notifyEmails.forEach((email, i) => new aws.sns.TopicSubscription(`${name}-email-${i}`, {
            topic: topic.arn, protocol: "email", endpoint: email,
        }, parent));

        const notifier = new aws.iam.Role(`${name}-notifier-role`, {
            description: "Device Defender: publish findings and alarms to the operations topic",
            assumeRolePolicy: trustedBy("iot.amazonaws.com", ctx),
        }, parent);
        const notifierPolicy = new aws.iam.RolePolicy(`${name}-notifier-policy`, {
            role: notifier.id,
            policy: pulumi.all([ctx, topic.arn, args.kmsKeyArn]).apply(([c, topicArn, kmsKeyArn]) =>
                JSON.stringify(notificationPolicy({ region: c.region, topicArn, kmsKeyArn }))),
        }, parent);

        let settings: RegionSettings | undefined;
        if (owns) {
            const logging = new IotLogging(`${name}-logging`, {
                ctx, manageLogGroup: ops.manageIotLogGroup, kmsKeyArn: args.kmsKeyArn, logRetentionDays: args.logRetentionDays,
            }, parent);
            const auditRole = new aws.iam.Role(`${name}-audit-role`, {
                description: "Device Defender audit: read the account's AWS IoT configuration",
                assumeRolePolicy: trustedBy("iot.amazonaws.com", ctx),
            }, parent);
            const auditPolicy = new aws.iam.RolePolicyAttachment(`${name}-audit-policy`, {
                role: auditRole.name, policyArn: ctx.apply((c) => deviceDefenderAuditPolicyArn(c.partition)),
            }, parent);
            settings = new RegionSettings(`${name}-region-settings`, {
                ...args.awsTarget,
                owner: args.stack,
                logging: { roleArn: logging.roleArn, defaultLogLevel: ops.logLevel },
                audit: { roleArn: auditRole.arn, checks: auditCheckConfigurations(ops), sns: { targetArn: topic.arn, roleArn: notifier.arn } },
                indexing: { customFields: indexCustomFields() },
            }, { parent: this, dependsOn: [...logging.ready, auditPolicy, notifierPolicy] });
            new awsnative.iot.ScheduledAudit(`${name}-scheduled-audit`, {
                scheduledAuditName: `${args.namePrefix}-${ops.auditFrequency.toLowerCase()}`,
                frequency: ops.auditFrequency,
                ...(ops.auditFrequency === "WEEKLY" || ops.auditFrequency === "BIWEEKLY" ? { dayOfWeek: "MON" as const } : {}),
                ...(ops.auditFrequency === "MONTHLY" ? { dayOfMonth: "1" } : {}),
                targetCheckNames: Object.values(AUDIT_CHECKS),
            }, { parent: this, dependsOn: [settings] });
        }

        const every5min = { comparisonOperator: "greater-than" as const, durationSeconds: 300, consecutiveDatapointsToAlarm: 1, consecutiveDatapointsToClear: 1 };
        new awsnative.iot.SecurityProfile(`${name}-vehicle-profile`, {
            securityProfileName: `${args.namePrefix}-vehicles`,
            securityProfileDescription: "Vehicles: authorization failures and message volume",
            targetArns: [args.vehicleThingGroupArn],
            behaviors: [
                { name: "AuthorizationFailures", metric: "aws:num-authorization-failures", criteria: { ...every5min, value: { count: String(ops.securityProfile.authorizationFailures) } } },
                { name: "MessagesSent", metric: "aws:num-messages-sent", criteria: { ...every5min, value: { count: String(ops.securityProfile.messagesSent) } } },
            ],
            alertTargets: { SNS: { alertTargetArn: topic.arn, roleArn: notifier.arn } },
        }, { parent: this, dependsOn: [notifierPolicy] });

        // Hook decisions are JSON lines; denials become a metric.
        const deniedNamespace = metricNamespace(args.namePrefix);
        new aws.cloudwatch.LogMetricFilter(`${name}-hook-denied`, {
            logGroupName: args.hookLogGroupName,
            pattern: DENIED_PATTERN,
            metricTransformation: { namespace: deniedNamespace, name: "ProvisioningDenied", value: "1", defaultValue: "0", unit: "Count" },
        }, parent);

        new aws.cloudwatch.LogMetricFilter(`${name}-hook-allowed`, {
            logGroupName: args.hookLogGroupName,
            pattern: ALLOWED_PATTERN,
            metricTransformation: { namespace: deniedNamespace, name: "ProvisioningAllowed", value: "1", defaultValue: "0", unit: "Count" },
        }, parent);

        const alarm = (suffix: string, description: string, threshold: number, metric: Partial<aws.cloudwatch.MetricAlarmArgs>) =>
            topicAlarm(`${name}-${suffix}`, this, topic.arn, { name: `${args.namePrefix}-${suffix}`, alarmDescription: description, threshold, ...metric });
        const sum5min = { statistic: "Sum", period: 300 };
        // A failed error action leaves no document: AWS/IoT ErrorActionFailure (RuleName, ActionType dimensions),
        // one Metrics Insights query per alarm (CloudWatch takes one), scoped to one of this stack's rules with
        // `WHERE RuleName = '<rule>'` (the documented WHERE operators are =, != and AND: no prefix match).
        const perRule = (suffix: string, description: string, threshold: number, metricName: string) => args.ruleNames.map((rule) =>
            alarm(`${suffix}-${rule}`, `${description} (rule ${rule})`, threshold, {
                metricQueries: [{ id: "m", expression: ruleMetricQuery(metricName, rule), period: 300, returnData: true }],
            }));
        const claimCertificateId = args.claimCertificateId;
        const alarms = [
            alarm("hook-errors", "The pre-provisioning hook failed: vehicles cannot provision", ops.alarms.hookErrors,
                { namespace: "AWS/Lambda", metricName: "Errors", dimensions: { FunctionName: args.hookFunctionName }, ...sum5min }),
            alarm("hook-throttles", "The pre-provisioning hook was throttled: provisioning requests are refused", ops.alarms.hookThrottles,
                { namespace: "AWS/Lambda", metricName: "Throttles", dimensions: { FunctionName: args.hookFunctionName }, ...sum5min }),
            alarm("hook-denies", "Unusually many provisioning requests denied (unknown, revoked or foreign serials)", ops.alarms.hookDenies,
                { namespace: deniedNamespace, metricName: "ProvisioningDenied", ...sum5min }),
            alarm("connect-auth-errors", "MQTT connections AWS IoT refused to authorize", ops.alarms.connectAuthErrors,
                { namespace: "AWS/IoT", metricName: "Connect.AuthError", dimensions: { Protocol: "MQTT" }, ...sum5min }),
            alarm("rule-action-failures", "Actions of this stack's rules failed; the messages went to the error action (for example Kafka unreachable)", ops.alarms.ruleActionFailures,
                { namespace: deniedNamespace, metricName: RULE_FAILURES_METRIC, ...sum5min }),
            ...perRule("error-action-failures", "Error actions failed: those messages are lost", ops.alarms.errorActionFailures, "ErrorActionFailure"),
            // Misuse of a leaked claim certificate shows as volume, not as denials (docs/provisioning-security.md).
            alarm("provisionings-per-hour", "More provisionings allowed in an hour than the factory makes: a leaked claim certificate? (docs/provisioning-security.md)",
                ops.alarms.provisioningsPerHour, { namespace: deniedNamespace, metricName: "ProvisioningAllowed", statistic: "Sum", period: 3600 }),
            ...(claimCertificateId === undefined ? [] : [
                alarm("claim-registrations-per-hour", "More Things registered with the claim certificate in an hour than the factory makes (AWS IoT's own count)",
                    ops.alarms.provisioningsPerHour, {
                        metricQueries: [{ id: "m", expression: pulumi.output(claimCertificateId).apply((id) => provisioningMetricQuery("ApproximateNumberOfThingsRegistered", id)), period: 3600, returnData: true }],
                    }),
                alarm("claim-create-failures", "CreateKeysAndCertificate failures with the claim certificate (a flood, or AWS refusing)", ops.alarms.provisioningFailures, {
                    metricQueries: [{ id: "m", expression: pulumi.output(claimCertificateId).apply((id) => provisioningMetricQuery("CreateKeysAndCertificateFailed", id)), period: 300, returnData: true }],
                }),
            ]),
            ...args.templateNames.map((t, i) => alarm(`register-thing-failures-${i}`, "RegisterThing failures of one of this stack's templates", ops.alarms.provisioningFailures, {
                metricQueries: [{ id: "m", expression: pulumi.output(t).apply((name) => provisioningMetricQuery("RegisterThingFailed", name)), period: 300, returnData: true }],
            })),
        ];

        if (settings) {
            // Created only once the fleet index is ACTIVE (RegionSettings waits for it): no IndexNotReadyException.
            const metric = (suffix: string, description: string, queryString: pulumi.Input<string>, aggregationField: string, values: string[]) =>
                new awsnative.iot.FleetMetric(`${name}-${suffix}`, {
                    metricName: `${args.namePrefix}-${suffix}`,
                    description,
                    indexName: "AWS_Things",
                    queryString,
                    queryVersion: "2017-09-30",
                    aggregationField,
                    aggregationType: { name: "Statistics", values },
                    period: 300,
                }, { parent: this, dependsOn: [settings!] });
            metric("connected-vehicles", "Vehicles connected now", pulumi.interpolate`thingTypeName:${args.thingTypeName} AND connectivity.connected:true`, "registry.version", ["count"]);
            metric("certificate-date", "Oldest and average certificate issue date (YYYYMMDD) of the vehicles",
                pulumi.interpolate`thingTypeName:${args.thingTypeName}`, `attributes.${THING_ATTRIBUTES.certDate}`, ["minimum", "average"]);
        }

        this.topicArn = topic.arn;
        this.alarmNames = alarms.map((a) => a.name);
        this.registerOutputs({ topicArn: this.topicArn, alarmNames: this.alarmNames });
    }
}
