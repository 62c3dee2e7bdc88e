import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { topicAlarm } from "../topicAlarm";
import { DISABLED_METRIC } from "./lambda/destinationWatch";
import { ArnContext } from "../../policies/document";
import { destinationWatchPolicy } from "../../policies/ruleEngine";
import { handlerArchive } from "../lambdaBundle";
import { nodeLambda } from "../nodeLambda";

export const WATCH_ENTRY = path.join(__dirname, "lambda", "destinationWatch.ts");
/** Often enough that a disabled route costs at most an hour of error-action traffic. */
export const WATCH_SCHEDULE = "rate(1 hour)";

export interface DestinationWatchArgs {
    ctx: pulumi.Output<ArnContext>;
    namePrefix: string;
    destinationArn: pulumi.Input<string>;
    metricNamespace: string;
    /** Set a destination AWS IoT disabled (30 days without traffic) back to ENABLED. */
    reenable: boolean;
    alarmTopicArn: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
}

/**
 * AWS IoT disables a VPC rule destination after 30 days without traffic (see components/routing/lambda/destinationWatch.ts):
 * an hourly function reports its status as a metric, re-enables it when allowed, and an alarm tells
 * the operations topic while it is disabled.
 */
export class DestinationWatch extends pulumi.ComponentResource {
    public readonly functionName: pulumi.Output<string>;
    public readonly alarmName: pulumi.Output<string>;

    constructor(name: string, args: DestinationWatchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:DestinationWatch", name, {}, opts);
        const parent = { parent: this };
        const description = "Keeps the Kafka route's VPC rule destination enabled (AWS IoT disables it after 30 days without traffic)";
        const { fn } = nodeLambda(`${name}-function`, this, {
            ctx: args.ctx,
            functionName: `${args.namePrefix}-destination-watch`,
            description,
            roleDescription: description,
            code: handlerArchive(WATCH_ENTRY),
            handler: "index.handler",
            timeout: 30,
            environment: { DESTINATION_ARN: args.destinationArn, METRIC_NAMESPACE: args.metricNamespace, REENABLE: String(args.reenable) },
            kmsKeyArn: args.kmsKeyArn,
            logRetentionDays: args.logRetentionDays,
            policyInputs: { destinationArn: args.destinationArn },
            policy: (_c, logGroupArn, v) => destinationWatchPolicy({ logGroupArn, destinationArn: v.destinationArn, metricNamespace: args.metricNamespace }),
        });
        const schedule = new aws.cloudwatch.EventRule(`${name}-schedule`, {
            name: `${args.namePrefix}-destination-watch`,
            description: "Check the Kafka route's VPC rule destination",
            scheduleExpression: WATCH_SCHEDULE,
        }, parent);
        const invoke = new aws.lambda.Permission(`${name}-invoke`, {
            function: fn.name,
            action: "lambda:InvokeFunction",
            principal: "events.amazonaws.com",
            sourceAccount: args.ctx.accountId,
            sourceArn: schedule.arn,
        }, parent);
        new aws.cloudwatch.EventTarget(`${name}-target`, { rule: schedule.name, arn: fn.arn }, { parent: this, dependsOn: [invoke] });
        const alarm = topicAlarm(`${name}-alarm`, this, args.alarmTopicArn, {
            name: `${args.namePrefix}-rule-destination-disabled`,
            alarmDescription: "The Kafka route's VPC rule destination is disabled (30 days without traffic, or a resource it uses changed): messages go to the error action. See docs/day-two.md.",
            namespace: args.metricNamespace,
            metricName: DISABLED_METRIC,
            statistic: "Maximum",
            period: 3600,
            threshold: 1,
            treatMissingData: "missing",
        });
        this.functionName = fn.name;
        this.alarmName = alarm.name;
        this.registerOutputs({ functionName: this.functionName, alarmName: this.alarmName });
    }
}
