import type { ActorLedger } from "./types";
import { lambdaLogCalls, otherFunctionLogs } from "./lambdaLogs";

const ROT = "components/provisioning/lambda/certificateRotation.ts";
const table = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${rotationScheduleTable}";
const thing = "arn:${Partition}:iot:${Region}:${Account}:thing/${ThingName}";
const cert = "arn:${Partition}:iot:${Region}:${Account}:cert/${CertificateId}";
const viaDynamo = { "kms:ViaService": "dynamodb.${Region}.amazonaws.com", "kms:CallerAccount": "${Account}" };
const kmsSource = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html";

/** Rotation confirmation (the confirm rule's Lambda), as its handler calls AWS today. */
export const rotationConfirm: ActorLedger = {
    actor: "rotation confirm",
    principal: { role: "-rotation-confirm-role" },
    lambdas: ["-rotation-confirm"],
    calls: [
        ...lambdaLogCalls("${NamePrefix}-rotation-confirm"),
        { action: "iot:ListThingPrincipals", resource: thing, source: `${ROT}:73 (confirmAttached) through components/runtime/iotIdentity.ts:21` },
        { action: "iot:DescribeCertificate", resource: cert, source: `${ROT}:76` },
        { action: "dynamodb:UpdateItem", resource: table, source: `${ROT}:82` },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: viaDynamo, source: kmsSource },
    ],
    mustDeny: [
        otherFunctionLogs(),
        { action: "iot:ListThingPrincipals", resource: "arn:${Partition}:iot:${Region}:${Account}:thing/fms-other-vehicle-1", why: "Things of other stacks", source: `${ROT}:73` },
        { action: "dynamodb:UpdateItem", resource: "arn:${Partition}:dynamodb:${Region}:${Account}:table/${registryTableName}", when: { registryTableName: true }, why: "the provisioning registry", source: `${ROT}:82` },
        { action: "iot:UpdateCertificate", resource: cert, why: "confirmation schedules; only the sweep deactivates", source: ROT },
    ],
};

/** Rotation sweep (scheduled Lambda), as its handler calls AWS today. */
export const rotationSweep: ActorLedger = {
    actor: "rotation sweep",
    principal: { role: "-rotation-sweep-role" },
    lambdas: ["-rotation-sweep"],
    calls: [
        ...lambdaLogCalls("${NamePrefix}-rotation-sweep"),
        { action: "dynamodb:Scan", resource: table, source: `${ROT}:106` },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: viaDynamo, source: kmsSource },
        { action: "iot:UpdateCertificate", resource: cert, source: `${ROT}:130` },
        {
            // SAR (iam-data iot.json): DetachThingPrincipal is authorized on `cert`, condition key iot:thingArn.
            action: "iot:DetachThingPrincipal", resource: cert, context: { "iot:thingArn": thing }, source: `${ROT}:131`,
        },
        { action: "dynamodb:DeleteItem", resource: table, source: `${ROT}:141` },
        // ListAuditTasks and DescribeAuditTask have no resource types in the SAR: the request's resource is *.
        { action: "iot:ListAuditTasks", resource: "*", source: `${ROT}:171` },
        { action: "iot:DescribeAuditTask", resource: "*", source: `${ROT}:177` },
        { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "FMS/IoT/${NamePrefix}" }, source: `${ROT}:182` },
    ],
    mustDeny: [
        otherFunctionLogs(),
        {
            action: "iot:DetachThingPrincipal", resource: cert, context: { "iot:thingArn": "arn:${Partition}:iot:${Region}:${Account}:thing/fms-other-vehicle-1" },
            why: "detaching certificates from other stacks' Things", source: `${ROT}:131`,
        },
        { action: "dynamodb:DeleteItem", resource: "arn:${Partition}:dynamodb:${Region}:${Account}:table/${registryTableName}", when: { registryTableName: true }, why: "the provisioning registry", source: `${ROT}:141` },
        { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "AWS/IoT" }, why: "another metric namespace", source: `${ROT}:182` },
        { action: "iot:DeleteCertificate", resource: cert, why: "the sweep deactivates and detaches, never deletes", source: ROT },
    ],
};
