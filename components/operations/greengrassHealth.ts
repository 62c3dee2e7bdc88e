import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { topicAlarm } from "../topicAlarm";
import { ArnContext } from "../../policies/document";
import { eventsToLogGroupPolicy } from "../../policies/operations";

/**
 * Greengrass health as metrics the stack owns. AWS IoT Greengrass V2 publishes no CloudWatch metric for a
 * deployment's outcome or a core's health; it sends EventBridge events, best effort, to the account's default bus
 * (AWS IoT Greengrass V2 Developer Guide, "Get deployment and component health status notifications":
 * https://docs.aws.amazon.com/greengrass/v2/developerguide/deployment-health-notifications.html):
 * - "Greengrass V2 Effective Deployment Status Change", `detail.coreDeviceExecutionStatus` one of FAILED, SUCCEEDED
 *   (a thing-group deployment done), COMPLETED (a thing deployment done), REJECTED, CANCELED;
 * - "Greengrass V2 Installed Component Status Change" when a component enters ERRORED or BROKEN (and when a
 *   deployment completes), `detail.components[].lifecycleState`.
 * Both carry the core device as `resources: ["arn:<partition>:greengrass:<region>:<account>:coreDevices:<thing name>"]`.
 * A core is UNHEALTHY when "the AWS IoT Greengrass Core software or a component is in an error state"
 * ("Check Greengrass core device status": https://docs.aws.amazon.com/greengrass/v2/developerguide/device-status.html):
 * an ERRORED/BROKEN component event is a core reporting itself unhealthy.
 */
export const GREENGRASS_SOURCE = "aws.greengrass";
export const DEPLOYMENT_EVENT = "Greengrass V2 Effective Deployment Status Change";
export const COMPONENT_EVENT = "Greengrass V2 Installed Component Status Change";
/** Component lifecycle states that make a core UNHEALTHY (the states the component event is emitted for). */
export const UNHEALTHY_STATES = ["ERRORED", "BROKEN"] as const;
/** Deployment outcomes that are failures: FAILED, and REJECTED (the core refused the deployment). */
export const FAILED_DEPLOYMENT_STATES = ["FAILED", "REJECTED"] as const;

/** Own metric names (this stack's namespace); the dashboard and its test read them. */
export const GREENGRASS_METRICS = {
    /** Every deployment outcome on one of this stack's cores, by `Status`. */
    deployments: "GreengrassDeployments",
    /** Deployment outcomes FAILED or REJECTED on one of this stack's cores (no dimension: the alarm's). */
    deploymentFailures: "GreengrassDeploymentFailures",
    /** ERRORED/BROKEN component reports from this stack's cores: a core reporting itself UNHEALTHY. */
    unhealthyReports: "GreengrassUnhealthyCoreReports",
} as const;

/** The ARN prefix of this stack's core devices (Greengrass core device ARNs are named by their Thing name). */
export function coreDeviceArnPrefix(ctx: ArnContext, coreThingNamePrefix: string): string {
    return `arn:${ctx.partition}:greengrass:${ctx.region}:${ctx.accountId}:coreDevices:${coreThingNamePrefix}`;
}

/**
 * The two rules' event patterns, scoped to this stack's cores by the event's `resources` (EventBridge content
 * filtering, prefix matching: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-prefix-matching),
 * so a stack sharing the account and region never counts another stack's cores (core Thing-name prefixes of
 * stacks that can share an account and region may not overlap: config/crossStack.ts). The component rule passes
 * only events where a component is ERRORED or BROKEN (a pattern on an array field matches when any element
 * matches: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html).
 */
export function greengrassEventPatterns(ctx: ArnContext, coreThingNamePrefix: string): { deployments: object; components: object } {
    const resources = [{ prefix: coreDeviceArnPrefix(ctx, coreThingNamePrefix) }];
    return {
        deployments: { source: [GREENGRASS_SOURCE], "detail-type": [DEPLOYMENT_EVENT], resources },
        components: {
            source: [GREENGRASS_SOURCE], "detail-type": [COMPONENT_EVENT], resources,
            detail: { components: { lifecycleState: [...UNHEALTHY_STATES] } },
        },
    };
}

/**
 * Metric filter patterns over the events as EventBridge writes them to the log group (the whole event as JSON).
 * JSON filter pattern syntax (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html):
 * `$.detail.coreDeviceExecutionStatus` exists on deployment events only; component events carry `detail.components`
 * and reach the log group only when a component is ERRORED or BROKEN (the rule's pattern).
 */
export const GREENGRASS_PATTERNS = {
    deployments: `{ $.source = "${GREENGRASS_SOURCE}" && $.detail.coreDeviceExecutionStatus = "*" }`,
    deploymentFailures: `{ $.source = "${GREENGRASS_SOURCE}" && (${FAILED_DEPLOYMENT_STATES.map((s) => `$.detail.coreDeviceExecutionStatus = "${s}"`).join(" || ")}) }`,
    unhealthyReports: `{ $.source = "${GREENGRASS_SOURCE}" && $.detail.components[0].lifecycleState = "*" }`,
} as const;

export interface GreengrassHealthArgs {
    ctx: pulumi.Input<ArnContext>;
    namePrefix: string;
    coreThingNamePrefix: string;
    /** This stack's metric namespace. */
    namespace: string;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    alarmTopicArn: pulumi.Input<string>;
}

/** The log group EventBridge writes this stack's Greengrass events to. */
export function greengrassEventsLogGroup(namePrefix: string): string {
    return `/aws/events/${namePrefix}-greengrass`;
}

/**
 * This stack's cores' deployment outcomes and unhealthy reports: two EventBridge rules on the default bus to one
 * encrypted log group (a CloudWatch Logs resource policy lets EventBridge write there and nowhere else), metric
 * filters into the stack's namespace, and two alarms to the operations topic.
 */
export class GreengrassHealth extends pulumi.ComponentResource {
    public readonly logGroupName: pulumi.Output<string>;
    public readonly ruleNames: pulumi.Output<string>[];
    public readonly alarmArns: pulumi.Output<string>[];

    constructor(name: string, args: GreengrassHealthArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:GreengrassHealth", name, {}, opts);
        const parent = { parent: this };
        const ctx = pulumi.output(args.ctx);
        const patterns = ctx.apply((c) => greengrassEventPatterns(c, args.coreThingNamePrefix));

        const logGroup = new aws.cloudwatch.LogGroup(`${name}-events`, {
            name: greengrassEventsLogGroup(args.namePrefix),
            retentionInDays: args.logRetentionDays,
            kmsKeyId: args.kmsKeyArn,
        }, parent);
        const rules = {
            deployments: new aws.cloudwatch.EventRule(`${name}-deployments`, {
                name: `${args.namePrefix}-greengrass-deployments`,
                description: `Greengrass deployment outcomes on this stack's cores (${args.coreThingNamePrefix}*)`,
                eventPattern: patterns.apply((p) => JSON.stringify(p.deployments)),
            }, parent),
            components: new aws.cloudwatch.EventRule(`${name}-components`, {
                name: `${args.namePrefix}-greengrass-unhealthy`,
                description: `Components ERRORED or BROKEN on this stack's cores (${args.coreThingNamePrefix}*): the core is UNHEALTHY`,
                eventPattern: patterns.apply((p) => JSON.stringify(p.components)),
            }, parent),
        };
        // EventBridge writes to CloudWatch Logs under a CloudWatch Logs resource policy, not a role ("Using resource-based
        // policies for Amazon EventBridge", CloudWatch Logs permissions:
        // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-cloudwatchlogs-permissions).
        // An account has at most 10 such named policies per region (PutResourcePolicy:
        // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html): one per stack with cores.
        const policy = new aws.cloudwatch.LogResourcePolicy(`${name}-events-policy`, {
            policyName: `${args.namePrefix}-greengrass-events`,
            policyDocument: pulumi.all([logGroup.arn, rules.deployments.arn, rules.components.arn]).apply(([logGroupArn, d, c]) =>
                JSON.stringify(eventsToLogGroupPolicy({ logGroupArn, ruleArns: [d, c] }))),
        }, parent);
        for (const [key, rule] of Object.entries(rules)) {
            new aws.cloudwatch.EventTarget(`${name}-${key}-target`, { rule: rule.name, arn: logGroup.arn }, { parent: this, dependsOn: [policy] });
        }

        const ns = args.namespace;
        new aws.cloudwatch.LogMetricFilter(`${name}-deployments-filter`, {
            logGroupName: logGroup.name,
            pattern: GREENGRASS_PATTERNS.deployments,
            // A filter with dimensions takes no default value (CloudWatch Logs API, MetricTransformation:
            // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_MetricTransformation.html); the
            // statuses are the event's five.
            metricTransformation: { namespace: ns, name: GREENGRASS_METRICS.deployments, value: "1", unit: "Count", dimensions: { Status: "$.detail.coreDeviceExecutionStatus" } },
        }, parent);
        new aws.cloudwatch.LogMetricFilter(`${name}-deployment-failures-filter`, {
            logGroupName: logGroup.name,
            pattern: GREENGRASS_PATTERNS.deploymentFailures,
            metricTransformation: { namespace: ns, name: GREENGRASS_METRICS.deploymentFailures, value: "1", defaultValue: "0", unit: "Count" },
        }, parent);
        new aws.cloudwatch.LogMetricFilter(`${name}-unhealthy-filter`, {
            logGroupName: logGroup.name,
            pattern: GREENGRASS_PATTERNS.unhealthyReports,
            metricTransformation: { namespace: ns, name: GREENGRASS_METRICS.unhealthyReports, value: "1", defaultValue: "0", unit: "Count" },
        }, parent);

        const alarm = (suffix: string, description: string, metricName: string) => topicAlarm(`${name}-${suffix}`, this, args.alarmTopicArn, {
            name: `${args.namePrefix}-${suffix}`, alarmDescription: description, threshold: 1,
            namespace: ns, metricName, statistic: "Sum", period: 300,
        });
        const alarms = [
            alarm("greengrass-deployment-failures", "A Greengrass deployment FAILED or was REJECTED on one of this stack's cores (docs/operations.md, Greengrass)", GREENGRASS_METRICS.deploymentFailures),
            alarm("greengrass-unhealthy-cores", "A core of this stack reported a component ERRORED or BROKEN: the core is UNHEALTHY (docs/operations.md, Greengrass)", GREENGRASS_METRICS.unhealthyReports),
        ];

        this.logGroupName = logGroup.name;
        this.ruleNames = [rules.deployments.name, rules.components.name];
        this.alarmArns = alarms.map((a) => a.arn);
        this.registerOutputs({ logGroupName: this.logGroupName, ruleNames: this.ruleNames });
    }
}
