import { ArnContext, iotArn, PolicyDocument, policyDocument, Statement } from "./document";

/**
 * Trust policy for an AWS service principal. `sourceAccount` adds the confused-deputy guard
 * `aws:SourceAccount` (the service may assume the role only on behalf of this account);
 * `sourceArns` also `aws:SourceArn` (only on behalf of these resources), as AWS's "Cross-service
 * confused deputy prevention" recommends (IAM User Guide and AWS IoT developer guide).
 */
export function serviceTrustPolicy(service: string, sourceAccount?: string, sourceArns?: readonly string[]): PolicyDocument {
    const condition = {
        ...(sourceAccount ? { StringEquals: { "aws:SourceAccount": sourceAccount } } : {}),
        ...(sourceArns?.length ? { ArnLike: { "aws:SourceArn": [...sourceArns] } } : {}),
    };
    return policyDocument({
        Effect: "Allow",
        Principal: { Service: service },
        Action: ["sts:AssumeRole"],
        ...(Object.keys(condition).length ? { Condition: condition } : {}),
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
    /** Prefix mode: the hook claims serials with a conditional put into the registry table. */
    prefixClaim?: boolean;
    /** The rotation state table: the hook records unconfirmed rotations and re-registered certificates. */
    rotationTableArn: string;
    /** Attributes the hook writes there (its IAM condition lists exactly these). */
    rotationAttributes: readonly string[];
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
    // AWS docs, DynamoDB developer guide, "Using IAM policy conditions for fine-grained access control":
    // the listed attributes "can be read, written, or evaluated in a conditional write", the list "must
    // specify the names of all of the primary key ... attributes", and a write-only policy uses
    // StringEquals on dynamodb:ReturnValues "because the ReturnValues parameter always has a value
    // (NONE unless otherwise specified)".
    const onlyAttributes = (attributes: readonly string[]) => ({
        "ForAllValues:StringEquals": { "dynamodb:Attributes": [...attributes] },
        StringEquals: { "dynamodb:ReturnValues": "NONE" },
    });
    const tables = [args.rotationTableArn];
    if (args.registryTableArn) {
        tables.push(args.registryTableArn);
        // Prefix mode never reads the registry (it claims by conditional put): the read is registry mode's only.
        if (!args.prefixClaim) statements.Statement.push({ Sid: "ReadRegistry", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [args.registryTableArn] });
        statements.Statement.push(
            {
                Sid: args.prefixClaim ? "ClaimSerialOnceByPut" : "ClaimSerialOnce",
                Effect: "Allow",
                Action: [args.prefixClaim ? "dynamodb:PutItem" : "dynamodb:UpdateItem"],
                Resource: [args.registryTableArn],
                Condition: onlyAttributes(args.registryClaimAttributes ?? []),
            },
        );
    }
    statements.Statement.push(
        {
            Sid: "RecordRotationState",
            Effect: "Allow",
            Action: ["dynamodb:UpdateItem"],
            Resource: [args.rotationTableArn],
            Condition: onlyAttributes(args.rotationAttributes),
        },
        {
            Sid: "UseTableKeyThroughDynamoDB",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:DescribeKey"],
            Resource: [args.keyArn],
            Condition: { StringEquals: { "kms:ViaService": `dynamodb.${args.region}.amazonaws.com` } },
        },
    );
    if (args.describeThingPrefixes?.length) statements.Statement.push(onThings(args, "LookUpOwnThings", "iot:DescribeThing", args.describeThingPrefixes));
    if (args.listPrincipalsThingPrefixes?.length) {
        statements.Statement.push(
            onThings(args, "ListOwnThingsCertificates", "iot:ListThingPrincipals", args.listPrincipalsThingPrefixes),
            // Whether each attached certificate still counts (INACTIVE leftovers do not): DescribeCertificate is authorized
            // on resource type `cert` only (SAR, iam-data iot.json), with no condition key naming the Thing.
            { Sid: "ReadOwnThingsCertificateStatus", Effect: "Allow", Action: ["iot:DescribeCertificate"], Resource: [iotArn(args, "cert/*")] },
        );
    }
    return statements;
}

/** One IoT action on the Things whose names start with these prefixes (`thing/<prefix>*`). */
export function onThings(ctx: ArnContext, sid: string, action: string, thingNamePrefixes: readonly string[]): Statement {
    return { Sid: sid, Effect: "Allow", Action: [action], Resource: thingNamePrefixes.map((p) => iotArn(ctx, `thing/${p}*`)) };
}
