import { ArnContext, PolicyDocument, policyDocument } from "./document";

/**
 * Trust policy for an AWS service principal. `sourceAccount` adds the confused-deputy guard
 * `aws:SourceAccount` (the service may assume the role only on behalf of this account).
 */
export function serviceTrustPolicy(service: string, sourceAccount?: string): PolicyDocument {
    return policyDocument({
        Effect: "Allow",
        Principal: { Service: service },
        Action: ["sts:AssumeRole"],
        ...(sourceAccount ? { Condition: { StringEquals: { "aws:SourceAccount": sourceAccount } } } : {}),
    });
}

/** The AWS-managed policy the fleet-provisioning role needs to register Things. */
export function thingsRegistrationPolicyArn(partition: string): string {
    return `arn:${partition}:iam::aws:policy/service-role/AWSIoTThingsRegistration`;
}

export interface HookRolePolicyArgs extends ArnContext {
    logGroupArn: string;
    /** Registry table the hook reads (registry mode). */
    registryTableArn?: string;
    /** Customer-managed key the registry table is encrypted with. */
    keyArn: string;
}

/** Pre-provisioning hook: write its own log group, read its own registry table. Nothing else. */
export function hookRolePolicy(args: HookRolePolicyArgs): PolicyDocument {
    const statements = policyDocument({
        Sid: "OwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [`${args.logGroupArn}:*`],
    });
    if (args.registryTableArn) {
        statements.Statement.push(
            {
                Sid: "ReadRegistry",
                Effect: "Allow",
                Action: ["dynamodb:GetItem"],
                Resource: [args.registryTableArn],
            },
            {
                Sid: "DecryptRegistryThroughDynamoDB",
                Effect: "Allow",
                Action: ["kms:Decrypt", "kms:DescribeKey"],
                Resource: [args.keyArn],
                Condition: { StringEquals: { "kms:ViaService": `dynamodb.${args.region}.amazonaws.com` } },
            },
        );
    }
    return statements;
}
