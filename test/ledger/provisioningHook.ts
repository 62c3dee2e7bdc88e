import type { ActorLedger } from "./types";
import { lambdaLogCalls, otherFunctionLogs } from "./lambdaLogs";
import { REGISTRY_CLAIM_ATTRIBUTES } from "../../components/provisioning/lambda/provisioningHook";
import { ROTATION_HOOK_ATTRIBUTES } from "../../components/runtime/rotationState";

const HOOK = "components/provisioning/lambda/provisioningHook.ts";
const table = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${registryTableName}";
const rotationTable = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${rotationScheduleTable}";
// DynamoDB developer guide, "Encryption at rest: how it works" (customer managed keys): DynamoDB calls KMS on the
// caller's behalf, so the caller needs kms:Decrypt, seen with kms:ViaService = dynamodb.<region>.amazonaws.com.
const viaDynamo = { "kms:ViaService": "dynamodb.${Region}.amazonaws.com", "kms:CallerAccount": "${Account}" };
const kmsSource = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html";

/** The pre-provisioning hook, as its handler calls AWS today (every `new XxxCommand`). */
export const provisioningHook: ActorLedger = {
    actor: "provisioning hook",
    principal: { role: "-provisioning-hook-role" },
    lambdas: ["-provisioning-hook"],
    calls: [
        ...lambdaLogCalls("${NamePrefix}-provisioning-hook"),
        { action: "dynamodb:GetItem", resource: table, when: { HookMode: "registry" }, source: `${HOOK}:358 (claimSerial) and :587 (rotate)` },
        {
            // The conditional claim and the same-key re-registration: dynamodb:Attributes are the attributes the
            // request names (its key included), dynamodb:ReturnValues is NONE when the request sets none (DynamoDB
            // developer guide, "Using IAM policy conditions for fine-grained access control").
            action: "dynamodb:UpdateItem", resource: table, when: { HookMode: "registry" },
            context: { "dynamodb:Attributes": [...REGISTRY_CLAIM_ATTRIBUTES], "dynamodb:ReturnValues": "NONE" },
            source: `${HOOK}:447 (claimSerial), :429 (re-registration), :490 (resumeRegistration) and :620 (rotate: rotationStartedAt and the new key into publicKeyHistory)`,
        },
        {
            // Prefix mode claims the serial with a conditional put into the same table.
            action: "dynamodb:PutItem", resource: table, when: { HookMode: "prefix" },
            context: { "dynamodb:Attributes": ["serialNumber", "status", "certificateId", "templateName", "provisionedAt", "claimCertificateId", "claimKeyFingerprint"], "dynamodb:ReturnValues": "NONE" },
            source: `${HOOK}:546 (firstThingOnly)`,
        },
        {
            // Unconfirmed rotations and re-registered certificates go into the rotation state table.
            action: "dynamodb:UpdateItem", resource: rotationTable,
            context: { "dynamodb:Attributes": [...ROTATION_HOOK_ATTRIBUTES], "dynamodb:ReturnValues": "NONE" },
            source: `${HOOK}:603 (rotate), :649 (withdrawPending) and :516 (scheduleRetirement)`,
        },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: viaDynamo, source: kmsSource },
        { action: "iot:DescribeThing", resource: "arn:${Partition}:iot:${Region}:${Account}:thing/${ThingName}", when: { HookMode: "prefix" }, source: `${HOOK}:536 (firstThingOnly)` },
        {
            action: "iot:ListThingPrincipals", resource: "arn:${Partition}:iot:${Region}:${Account}:thing/${ThingName}", when: { rotationTemplateName: true },
            source: `${HOOK}:306 (attachedCertificates: rotate, re-registration and resumption) through components/runtime/iotIdentity.ts:30`,
        },
        {
            // Whether an attached certificate still counts (INACTIVE leftovers do not). SAR (iam-data iot.json):
            // DescribeCertificate is authorized on resource type `cert`, no condition key.
            action: "iot:DescribeCertificate", resource: "arn:${Partition}:iot:${Region}:${Account}:cert/${CertificateId}", when: { rotationTemplateName: true },
            source: `${HOOK}:313 (attachedCertificates)`,
        },
    ],
    mustDeny: [
        otherFunctionLogs(),
        { action: "dynamodb:GetItem", resource: "arn:${Partition}:dynamodb:${Region}:${Account}:table/fms-other-provisioning-registry", why: "another stack's table", source: `${HOOK}:358` },
        // Prefix mode never reads the registry (it claims with a conditional put): no read is granted (issue 26).
        { action: "dynamodb:GetItem", resource: table, when: { HookMode: "prefix" }, why: "prefix mode reads no registry (firstThingOnly puts, never gets)", source: HOOK },
        {
            action: "dynamodb:UpdateItem", resource: table, when: { HookMode: "registry" },
            context: { "dynamodb:Attributes": [...REGISTRY_CLAIM_ATTRIBUTES, "templates"], "dynamodb:ReturnValues": "NONE" },
            why: "writing an attribute beyond the claim (the serial's allowed templates)", source: `${HOOK}:447`,
        },
        {
            action: "dynamodb:UpdateItem", resource: table, when: { HookMode: "registry" },
            context: { "dynamodb:Attributes": [...REGISTRY_CLAIM_ATTRIBUTES], "dynamodb:ReturnValues": "ALL_OLD" },
            why: "reading the item back through UpdateItem", source: `${HOOK}:447`,
        },
        { action: "dynamodb:DeleteItem", resource: table, when: { HookMode: "registry" }, why: "deleting a registration", source: HOOK },
        {
            action: "dynamodb:UpdateItem", resource: rotationTable,
            context: { "dynamodb:Attributes": [...ROTATION_HOOK_ATTRIBUTES, "status"], "dynamodb:ReturnValues": "NONE" },
            why: "writing rotation state beyond its own attributes", source: `${HOOK}:603`,
        },
        { action: "dynamodb:DeleteItem", resource: rotationTable, why: "clearing a pending retirement (only the sweep clears)", source: HOOK },
        { action: "dynamodb:Scan", resource: rotationTable, why: "reading every Thing's rotation state", source: HOOK },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: { "kms:ViaService": "s3.${Region}.amazonaws.com" }, why: "the stack key through another service", source: kmsSource },
        { action: "iot:DescribeThing", resource: "arn:${Partition}:iot:${Region}:${Account}:thing/fms-other-core-1", when: { HookMode: "prefix" }, why: "Things of other prefixes", source: `${HOOK}:536` },
    ],
};
