import { PolicyDocument, policyDocument, Statement } from "./document";

/** Tag AWS IoT puts on the network interfaces of a VPC rule destination. */
export const VPC_DESTINATION_TAG = "VPCDestinationENI";

/**
 * What a VPC topic-rule destination's role needs, as AWS documents it: network-interface actions
 * (EC2 does not scope these to an ARN), CreateNetworkInterfacePermission only on the interfaces IoT
 * tagged, and CreateTags only while creating such an interface with that tag.
 */
export function vpcDestinationStatements(): Statement[] {
    return [
        {
            Sid: "ManageDestinationNetworkInterfaces",
            Effect: "Allow",
            Action: [
                "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute",
            ],
            Resource: ["*"],
        },
        {
            Sid: "PermissionOnTaggedInterfacesOnly",
            Effect: "Allow",
            Action: ["ec2:CreateNetworkInterfacePermission"],
            Resource: ["*"],
            Condition: { StringEquals: { [`ec2:ResourceTag/${VPC_DESTINATION_TAG}`]: "true" } },
        },
        {
            Sid: "TagOnlyNewDestinationInterfaces",
            Effect: "Allow",
            Action: ["ec2:CreateTags"],
            Resource: ["*"],
            Condition: { StringEquals: { "ec2:CreateAction": "CreateNetworkInterface", [`aws:RequestTag/${VPC_DESTINATION_TAG}`]: "true" } },
        },
    ];
}

export interface RuleRolePolicyArgs {
    region: string;
    secretArn: string;
    secretKeyArn: string;
    errorLogGroupArn: string;
}

/** The rule-engine role: the VPC destination, this stack's MSK secret and key, and the error log group. */
export function ruleRolePolicy(args: RuleRolePolicyArgs): PolicyDocument {
    return policyDocument(
        ...vpcDestinationStatements(),
        {
            Sid: "ReadMskSecret",
            Effect: "Allow",
            Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            Resource: [args.secretArn],
        },
        {
            Sid: "DecryptMskSecret",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: [args.secretKeyArn],
            Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.region}.amazonaws.com` } },
        },
        ruleErrorLogStatement(args.errorLogGroupArn),
    );
}

/** A rule's error action writes to its CloudWatch log group (and its streams). */
export function ruleErrorLogStatement(logGroupArn: string): Statement {
    return {
        Sid: "WriteRuleErrors",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
    };
}

/** AWS IoT's own logging role: writes only the `AWSIotLogsV2` log group. */
export function iotLoggingPolicy(logGroupArn: string): PolicyDocument {
    return policyDocument({
        Sid: "WriteIotLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:PutRetentionPolicy", "logs:PutMetricFilter"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
    });
}

export interface DestinationWatchPolicyArgs {
    logGroupArn: string;
    destinationArn: string;
    metricNamespace: string;
}

/** The destination watch: its own logs, read (and re-enable) this stack's VPC rule destination, its one metric. */
export function destinationWatchPolicy(args: DestinationWatchPolicyArgs): PolicyDocument {
    return policyDocument(
        { Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${args.logGroupArn}:*`] },
        { Sid: "ThisStacksDestination", Effect: "Allow", Action: ["iot:GetTopicRuleDestination", "iot:UpdateTopicRuleDestination"], Resource: [args.destinationArn] },
        {
            Sid: "PublishDisabledMetric",
            Effect: "Allow",
            Action: ["cloudwatch:PutMetricData"],
            Resource: ["*"],
            Condition: { StringEquals: { "cloudwatch:namespace": args.metricNamespace } },
        },
    );
}
