import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * A CloudWatch alarm that notifies one SNS topic (the stack's operations topic) when it fires and when it
 * clears: one evaluation period, missing data not breaching, `>=` the threshold, unless `args` says otherwise.
 */
export function topicAlarm(logicalName: string, parent: pulumi.Resource, topicArn: pulumi.Input<string>, args: aws.cloudwatch.MetricAlarmArgs): aws.cloudwatch.MetricAlarm {
    return new aws.cloudwatch.MetricAlarm(logicalName, {
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [topicArn],
        okActions: [topicArn],
        ...args,
    }, { parent });
}
