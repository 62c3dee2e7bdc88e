import { ArnContext, iotArn, PolicyDocument, policyDocument, Statement } from "./document";

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
    /** Registry table the hook reads and claims serials in (registry mode). */
    registryTableArn?: string;
    /** Attributes the hook's conditional claim names (the only ones it may write). */
    registryClaimAttributes?: readonly string[];
    /** Customer-managed key the registry table is encrypted with. */
    keyArn: string;
    /** Prefix mode: Thing-name prefixes whose Things the hook looks up (refusing a second provisioning). */
    describeThingPrefixes?: readonly string[];
    /** Rotation: Thing-name prefixes whose certificates the hook lists (is the requester attached?). */
    listPrincipalsThingPrefixes?: readonly string[];
}

/**
 * Pre-provisioning hook: write its own log group; in registry mode read its registry and claim a
 * serial with one conditional write that names only the claim attributes; look up this stack's
 * Things (and their certificates) by name prefix. Nothing else.
 */
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
                // AWS docs, DynamoDB developer guide, "Using IAM policy conditions for fine-grained access
                // control": the listed attributes "can be read, written, or evaluated in a conditional write",
                // the list "must specify the names of all of the primary key ... attributes", and a write-only
                // UpdateItem policy uses StringEquals on dynamodb:ReturnValues "because the ReturnValues
                // parameter always has a value (NONE unless otherwise specified)".
                Sid: "ClaimSerialOnce",
                Effect: "Allow",
                Action: ["dynamodb:UpdateItem"],
                Resource: [args.registryTableArn],
                Condition: {
                    "ForAllValues:StringEquals": { "dynamodb:Attributes": [...(args.registryClaimAttributes ?? [])] },
                    StringEquals: { "dynamodb:ReturnValues": "NONE" },
                },
            },
            {
                Sid: "UseRegistryKeyThroughDynamoDB",
                Effect: "Allow",
                Action: ["kms:Decrypt", "kms:DescribeKey"],
                Resource: [args.keyArn],
                Condition: { StringEquals: { "kms:ViaService": `dynamodb.${args.region}.amazonaws.com` } },
            },
        );
    }
    if (args.describeThingPrefixes?.length) statements.Statement.push(onThings(args, "LookUpOwnThings", "iot:DescribeThing", args.describeThingPrefixes));
    if (args.listPrincipalsThingPrefixes?.length) statements.Statement.push(onThings(args, "ListOwnThingsCertificates", "iot:ListThingPrincipals", args.listPrincipalsThingPrefixes));
    return statements;
}

/** One IoT action on the Things whose names start with these prefixes (`thing/<prefix>*`). */
export function onThings(ctx: ArnContext, sid: string, action: string, thingNamePrefixes: readonly string[]): Statement {
    return { Sid: sid, Effect: "Allow", Action: [action], Resource: thingNamePrefixes.map((p) => iotArn(ctx, `thing/${p}*`)) };
}
