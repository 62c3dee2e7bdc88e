import type { ActorLedger } from "./types";

const DD = "https://docs.aws.amazon.com/iot-device-defender/latest/devguide";

/** Device Defender's notifications (audit findings, detect alarms) to the operations topic ("Sending alerts": SNS). */
export const notifier: ActorLedger = {
    actor: "Device Defender notifications",
    principal: { role: "-operations-notifier-role" },
    calls: [
        { action: "sns:Publish", resource: "${operationsTopicArn}", source: `${DD}/dd-detect-ml-notifications.html` },
        // SNS developer guide, "Encryption at rest": a publisher to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt.
        { action: "kms:GenerateDataKey", resource: "${StackKeyArn}", context: { "kms:ViaService": "sns.${Region}.amazonaws.com" }, source: "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html" },
    ],
    mustDeny: [
        { action: "sns:Publish", resource: "arn:${Partition}:sns:${Region}:${Account}:fms-other-iot-operations", why: "other topics", source: `${DD}/dd-detect-ml-notifications.html` },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: { "kms:ViaService": "s3.${Region}.amazonaws.com" }, why: "the stack key outside SNS", source: "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html" },
    ],
};

/** AWS IoT's own logging role (SetV2LoggingOptions): writes AWSIotLogsV2 ("Configure AWS IoT logging", the role's policy). */
export const iotLogging: ActorLedger = {
    actor: "AWS IoT logging",
    principal: { role: "-operations-logging-role" },
    calls: [
        { action: "logs:CreateLogStream", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:AWSIotLogsV2:log-stream:0123abcd", source: "https://docs.aws.amazon.com/iot/latest/developerguide/configure-logging.html" },
        { action: "logs:PutLogEvents", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:AWSIotLogsV2:log-stream:0123abcd", source: "https://docs.aws.amazon.com/iot/latest/developerguide/configure-logging.html" },
    ],
    mustDeny: [
        { action: "logs:PutLogEvents", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/lambda/${NamePrefix}-provisioning-hook:log-stream:x", why: "log groups of functions", source: "https://docs.aws.amazon.com/iot/latest/developerguide/configure-logging.html" },
    ],
};

/** Device Defender audit: AWS drives it with its managed policy (no published call list); the plan must attach exactly that. */
export const audit: ActorLedger = {
    actor: "Device Defender audit",
    principal: { role: "-operations-audit-role" },
    managedPolicies: ["service-role/AWSIoTDeviceDefenderAudit"],
    calls: [],
    mustDeny: [],
    notes: "Calls chosen by AWS per audit check; the managed policy is AWS's (not simulated).",
};

/** The confirmation rule's error action: its own log group ("CloudWatch Logs" rule action). */
export const confirmErrors: ActorLedger = {
    actor: "rotation confirm rule, error action",
    principal: { role: "-rotation-confirm-errors-role" },
    rules: ["-rotation-confirm-topic-rule"],
    calls: [
        { action: "logs:CreateLogStream", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/iot/rules/${NamePrefix}-certificate-rotation:log-stream:x", source: "https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html" },
        { action: "logs:PutLogEvents", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/iot/rules/${NamePrefix}-certificate-rotation:log-stream:x", source: "https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html" },
    ],
    mustDeny: [
        { action: "logs:PutLogEvents", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:${ruleErrorLogGroup}:log-stream:x", when: { ruleErrorLogGroup: true }, why: "the routing rules' error log", source: "https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html" },
    ],
};
