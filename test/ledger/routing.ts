import type { ActorLedger } from "./types";
import { lambdaLogCalls, otherFunctionLogs } from "./lambdaLogs";

const WATCH = "components/routing/lambda/destinationWatch.ts";
const IOT_RULES = "https://docs.aws.amazon.com/iot/latest/developerguide";
const eni = "arn:${Partition}:ec2:${Region}:${Account}:network-interface/eni-0123456789abcdef0";
const errorStream = "arn:${Partition}:logs:${Region}:${Account}:log-group:${ruleErrorLogGroup}:log-stream:0123456789abcdef";

/**
 * The rule engine's role, as AWS IoT uses it: the Kafka action reads the SCRAM credentials with `get_secret`
 * (AWS IoT SQL reference, "get_secret": the role needs secretsmanager:GetSecretValue, and kms:Decrypt when the
 * secret is on a customer managed key), the VPC destination makes its network interfaces ("Virtual private cloud
 * (VPC) destinations", the role's permissions), and the error action writes the error log group ("CloudWatch Logs"
 * rule action: logs:CreateLogStream, logs:DescribeLogStreams, logs:PutLogEvents).
 */
export const ruleEngine: ActorLedger = {
    actor: "rule engine (Kafka action, VPC destination, error action)",
    principal: { role: "-routing-rule-role" },
    // Every route's rule (`<namePrefix>-routing-<route key>`), whatever its key.
    rules: ["-routing-"],
    calls: [
        { action: "secretsmanager:GetSecretValue", resource: "${MskSecretArn}", source: `${IOT_RULES}/iot-sql-functions.html#iot-sql-function-get-secret` },
        { action: "kms:Decrypt", resource: "${SecretKeyArn}", context: { "kms:ViaService": "secretsmanager.${Region}.amazonaws.com" }, source: `${IOT_RULES}/iot-sql-functions.html#iot-sql-function-get-secret` },
        { action: "ec2:CreateNetworkInterface", resource: eni, source: `${IOT_RULES}/vpc-rule-action.html` },
        { action: "ec2:DescribeNetworkInterfaces", resource: "*", source: `${IOT_RULES}/vpc-rule-action.html` },
        { action: "ec2:DescribeSubnets", resource: "*", source: `${IOT_RULES}/vpc-rule-action.html` },
        { action: "ec2:DescribeSecurityGroups", resource: "*", source: `${IOT_RULES}/vpc-rule-action.html` },
        { action: "ec2:DescribeVpcs", resource: "*", source: `${IOT_RULES}/vpc-rule-action.html` },
        { action: "ec2:DeleteNetworkInterface", resource: eni, source: `${IOT_RULES}/vpc-rule-action.html` },
        { action: "ec2:CreateNetworkInterfacePermission", resource: eni, context: { "ec2:ResourceTag/VPCDestinationENI": "true" }, source: `${IOT_RULES}/vpc-rule-action.html` },
        {
            action: "ec2:CreateTags", resource: eni, context: { "ec2:CreateAction": "CreateNetworkInterface", "aws:RequestTag/VPCDestinationENI": "true", "aws:TagKeys": ["VPCDestinationENI"] },
            source: `${IOT_RULES}/vpc-rule-action.html`,
        },
        { action: "logs:CreateLogStream", resource: errorStream, source: `${IOT_RULES}/cloudwatch-logs-rule-action.html` },
        { action: "logs:PutLogEvents", resource: errorStream, source: `${IOT_RULES}/cloudwatch-logs-rule-action.html` },
        { action: "logs:DescribeLogStreams", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:${ruleErrorLogGroup}", source: `${IOT_RULES}/cloudwatch-logs-rule-action.html` },
    ],
    mustDeny: [
        { action: "secretsmanager:GetSecretValue", resource: "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:AmazonMSK_fms-other-AbCdEf", why: "another stack's secret", source: `${IOT_RULES}/iot-sql-functions.html` },
        { action: "kms:Decrypt", resource: "${SecretKeyArn}", context: { "kms:ViaService": "s3.${Region}.amazonaws.com" }, why: "the secret's key outside Secrets Manager", source: `${IOT_RULES}/iot-sql-functions.html` },
        { action: "ec2:CreateNetworkInterfacePermission", resource: eni, context: { "ec2:ResourceTag/VPCDestinationENI": "false" }, why: "interfaces AWS IoT did not tag", source: `${IOT_RULES}/vpc-rule-action.html` },
        { action: "ec2:CreateTags", resource: "arn:${Partition}:ec2:${Region}:${Account}:instance/i-0123456789abcdef0", context: { "ec2:CreateAction": "RunInstances", "aws:RequestTag/VPCDestinationENI": "true" }, why: "tagging anything but a new destination interface", source: `${IOT_RULES}/vpc-rule-action.html` },
        otherFunctionLogs(),
    ],
};

/** The destination watch (scheduled Lambda), as its handler calls AWS today. */
export const destinationWatch: ActorLedger = {
    actor: "destination watch",
    principal: { role: "-destination-watch-function-role" },
    lambdas: ["-destination-watch-function"],
    calls: [
        ...lambdaLogCalls("${NamePrefix}-destination-watch"),
        { action: "iot:GetTopicRuleDestination", resource: "${DestinationArn}", source: `${WATCH}:49` },
        { action: "iot:UpdateTopicRuleDestination", resource: "${DestinationArn}", source: `${WATCH}:55` },
        { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "FMS/IoT/${NamePrefix}" }, source: `${WATCH}:63` },
    ],
    mustDeny: [
        otherFunctionLogs(),
        { action: "iot:UpdateTopicRuleDestination", resource: "arn:${Partition}:iot:${Region}:${Account}:ruledestination/vpc/00000000-aaaa-bbbb-cccc-000000000000", why: "other destinations", source: `${WATCH}:55` },
        { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "AWS/IoT" }, why: "another metric namespace", source: `${WATCH}:63` },
    ],
};
