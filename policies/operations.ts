import { PolicyDocument, policyDocument } from "./document";

/** AWS-managed policy the Device Defender audit role needs to read the account's IoT configuration. */
export function deviceDefenderAuditPolicyArn(partition: string): string {
    return `arn:${partition}:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit`;
}

export interface NotificationPolicyArgs {
    region: string;
    topicArn: string;
    /** Key the topic is encrypted with. */
    kmsKeyArn: string;
}

/** Device Defender (audit findings, detect alarms) publishing to the operations topic, and nothing else. */
export function notificationPolicy(args: NotificationPolicyArgs): PolicyDocument {
    return policyDocument(
        { Sid: "PublishFindings", Effect: "Allow", Action: ["sns:Publish"], Resource: [args.topicArn] },
        {
            Sid: "EncryptForTopic",
            Effect: "Allow",
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: [args.kmsKeyArn],
            Condition: { StringEquals: { "kms:ViaService": `sns.${args.region}.amazonaws.com` } },
        },
    );
}

export interface EventsToLogGroupArgs {
    /** The log group's ARN as CloudWatch Logs reports it (`arn:...:log-group:<name>:*`). */
    logGroupArn: string;
    /** The rules allowed to write there. */
    ruleArns: string[];
}

/**
 * CloudWatch Logs resource policy for an EventBridge rule target: EventBridge (events.amazonaws.com) may create
 * streams in and put events into one log group, and only on behalf of the given rules (`aws:SourceArn`). Actions
 * as "Using resource-based policies for Amazon EventBridge", CloudWatch Logs permissions
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-cloudwatchlogs-permissions).
 */
export function eventsToLogGroupPolicy(args: EventsToLogGroupArgs): PolicyDocument {
    // A log group's ARN ends in `:*` (its streams); one form whichever the provider reports.
    const streams = args.logGroupArn.endsWith(":*") ? args.logGroupArn : `${args.logGroupArn}:*`;
    return policyDocument({
        Sid: "EventBridgeRulesToLogGroup",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [streams],
        Condition: { ArnEquals: { "aws:SourceArn": args.ruleArns } },
    });
}
