import { ArnContext, PolicyDocument, policyDocument, Statement } from "./document";

export interface StackKeyPolicyArgs extends ArnContext {
    /** Log-group name patterns (such as `/aws/lambda/fms-kr-*`) CloudWatch Logs may encrypt with this key. */
    logGroupPatterns: readonly string[];
    /** Let CloudWatch alarms of this account publish to SNS topics encrypted with this key. */
    alarmsPublishToEncryptedTopics?: boolean;
}

/**
 * Key policy of the stack's customer-managed key. The account root keeps administering the key
 * (otherwise KMS refuses the policy), which also lets IAM policies grant use of it; CloudWatch
 * Logs may use it only for this stack's log groups.
 */
export function stackKeyPolicy(args: StackKeyPolicyArgs): PolicyDocument {
    const statements: Statement[] = [rootAdministersKey(args)];
    if (args.logGroupPatterns.length > 0) {
        // No kms:DescribeKey here: a DescribeKey request carries no encryption context, so under the
        // kms:EncryptionContext:aws:logs:arn condition it could never be allowed (the Service Authorization
        // Reference lists no such condition key for DescribeKey; IAM evaluates a condition on an absent key as false).
        statements.push({
            Sid: "CloudWatchLogsForStackLogGroups",
            Effect: "Allow",
            Principal: { Service: `logs.${args.region}.amazonaws.com` },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"],
            Resource: ["*"],
            Condition: {
                ArnLike: {
                    "kms:EncryptionContext:aws:logs:arn": args.logGroupPatterns.map(
                        (p) => `arn:${args.partition}:logs:${args.region}:${args.accountId}:log-group:${p}`),
                },
            },
        });
    }
    if (args.alarmsPublishToEncryptedTopics) {
        statements.push({
            Sid: "CloudWatchAlarmsToEncryptedTopics",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: ["*"],
            Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
        });
    }
    return policyDocument(...statements);
}

/** The statement every key policy keeps: the account root administers the key. */
export function rootAdministersKey(ctx: ArnContext): Statement {
    return {
        Sid: "AccountRootAdministersKey",
        Effect: "Allow",
        Principal: { AWS: `arn:${ctx.partition}:iam::${ctx.accountId}:root` },
        Action: ["kms:*"],
        Resource: ["*"],
    };
}

export interface SecretKeyPolicyArgs extends ArnContext {
    /** Roles that read the secret through Secrets Manager (the rule-engine role). */
    readerRoleArns: readonly string[];
}

/**
 * Key policy of the key that encrypts the MSK SCRAM secret: the root administers it, and the
 * reader roles may decrypt only through Secrets Manager in this region.
 */
export function secretKeyPolicy(args: SecretKeyPolicyArgs): PolicyDocument {
    const doc = policyDocument(rootAdministersKey(args));
    if (args.readerRoleArns.length === 0) return doc;
    doc.Statement.push({
        Sid: "ReadersDecryptThroughSecretsManager",
        Effect: "Allow",
        Principal: { AWS: [...args.readerRoleArns] },
        Action: ["kms:Decrypt", "kms:DescribeKey"],
        Resource: ["*"],
        Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.region}.amazonaws.com` } },
    });
    return doc;
}
