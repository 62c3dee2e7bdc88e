import type { ActorLedger } from "./types";
import { lambdaLogCalls, otherFunctionLogs } from "./lambdaLogs";

import { REGISTRY_CONFIRM_ATTRIBUTES, REGISTRY_CONFIRM_READ_ATTRIBUTES } from "../../policies/rotation";

const ROT = "components/provisioning/lambda/certificateRotation.ts";
const registry = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${registryTableName}";
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
        {
            // Registry mode: the serial's status first (a revoked or re-armed serial confirms nothing); a GetItem with a
            // projection is seen with dynamodb:Attributes = the projected attributes and the key, dynamodb:Select =
            // SPECIFIC_ATTRIBUTES (DynamoDB developer guide, "Using IAM policy conditions for fine-grained access control").
            action: "dynamodb:GetItem", resource: registry, when: { HookMode: "registry" },
            context: { "dynamodb:Attributes": [...REGISTRY_CONFIRM_READ_ATTRIBUTES], "dynamodb:Select": "SPECIFIC_ATTRIBUTES" }, source: `${ROT}:125 (confirmAttached)`,
        },
        { action: "iot:ListThingPrincipals", resource: thing, source: `${ROT}:132 (confirmAttached) through components/runtime/iotIdentity.ts:30` },
        { action: "iot:DescribeCertificate", resource: cert, source: `${ROT}:135` },
        { action: "dynamodb:UpdateItem", resource: table, source: `${ROT}:154` },
        {
            // Registry mode: the confirmed certificate and its key become the serial's current ones, and nothing else.
            action: "dynamodb:UpdateItem", resource: registry, when: { HookMode: "registry" },
            context: { "dynamodb:Attributes": [...REGISTRY_CONFIRM_ATTRIBUTES], "dynamodb:ReturnValues": "NONE" }, source: `${ROT}:207 (recordCurrent)`,
        },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: viaDynamo, source: kmsSource },
        {
            // Lambda's on-failure destination for the asynchronous invocation sends with the function's execution role
            // (Lambda developer guide, "Capturing records of Lambda asynchronous invocations": "Lambda ... needs
            // permission" on the destination in the execution role); the queue is encrypted with the stack key.
            action: "sqs:SendMessage", resource: "arn:${Partition}:sqs:${Region}:${Account}:${NamePrefix}-rotation-confirm-failures",
            source: "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html",
        },
        {
            action: "kms:GenerateDataKey", resource: "${StackKeyArn}", context: { "kms:ViaService": "sqs.${Region}.amazonaws.com", "kms:CallerAccount": "${Account}" },
            source: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html",
        },
    ],
    mustDeny: [
        otherFunctionLogs(),
        { action: "iot:ListThingPrincipals", resource: "arn:${Partition}:iot:${Region}:${Account}:thing/fms-other-vehicle-1", why: "Things of other stacks", source: `${ROT}:132 through components/runtime/iotIdentity.ts:30` },
        {
            action: "dynamodb:GetItem", resource: registry, when: { HookMode: "registry" },
            context: { "dynamodb:Attributes": [...REGISTRY_CONFIRM_READ_ATTRIBUTES, "publicKeyFingerprint"], "dynamodb:Select": "SPECIFIC_ATTRIBUTES" },
            why: "reading registry attributes beyond the status (the unit's key)", source: `${ROT}:125`,
        },
        {
            action: "dynamodb:GetItem", resource: registry, when: { HookMode: "registry" }, context: { "dynamodb:Select": "ALL_ATTRIBUTES" },
            why: "reading whole registry items", source: `${ROT}:125`,
        },
        {
            action: "dynamodb:UpdateItem", resource: registry, when: { HookMode: "registry" },
            context: { "dynamodb:Attributes": [...REGISTRY_CONFIRM_ATTRIBUTES, "templates"], "dynamodb:ReturnValues": "NONE" },
            why: "writing registry attributes beyond the current certificate (the serial's templates)", source: `${ROT}:207`,
        },
        { action: "sqs:SendMessage", resource: "arn:${Partition}:sqs:${Region}:${Account}:${NamePrefix}-iot-operations", why: "other queues", source: ROT },
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
        { action: "dynamodb:Scan", resource: table, source: `${ROT}:245` },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: viaDynamo, source: kmsSource },
        { action: "iot:UpdateCertificate", resource: cert, source: `${ROT}:334` },
        {
            // SAR (iam-data iot.json): DetachThingPrincipal is authorized on `cert`, condition key iot:thingArn.
            action: "iot:DetachThingPrincipal", resource: cert, context: { "iot:thingArn": thing }, source: `${ROT}:343`,
        },
        {
            // Whether AWS fills iot:thingArn on DetachThingPrincipal is documented nowhere: without it the detach must
            // still be allowed (a denied detach once wedged a vehicle's rotation: issue 26).
            action: "iot:DetachThingPrincipal", resource: cert, source: `${ROT}:343 (iot:thingArn absent)`,
        },
        { action: "dynamodb:UpdateItem", resource: table, source: `${ROT}:266 (claiming what it retires)` },
        { action: "dynamodb:DeleteItem", resource: table, source: `${ROT}:313` },
        // ListAuditTasks and DescribeAuditTask have no resource types in the SAR: the request's resource is *.
        { action: "iot:ListAuditTasks", resource: "*", source: `${ROT}:371` },
        { action: "iot:DescribeAuditTask", resource: "*", source: `${ROT}:377` },
        { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "FMS/IoT/${NamePrefix}" }, source: `${ROT}:382` },
    ],
    mustDeny: [
        otherFunctionLogs(),
        {
            action: "iot:DetachThingPrincipal", resource: cert, context: { "iot:thingArn": "arn:${Partition}:iot:${Region}:${Account}:thing/fms-other-vehicle-1" },
            why: "detaching certificates from other stacks' Things (when AWS names the Thing)", source: `${ROT}:343`,
        },
        { action: "dynamodb:DeleteItem", resource: "arn:${Partition}:dynamodb:${Region}:${Account}:table/${registryTableName}", when: { registryTableName: true }, why: "the provisioning registry", source: `${ROT}:313` },
        { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": "AWS/IoT" }, why: "another metric namespace", source: `${ROT}:382` },
        { action: "iot:DeleteCertificate", resource: cert, why: "the sweep deactivates and detaches, never deletes", source: ROT },
    ],
};
