import type { ActorLedger } from "./types";
import { lambdaLogCalls, otherFunctionLogs } from "./lambdaLogs";
import { JITR_REGISTRY_ATTRIBUTES, JITR_ROTATION_ATTRIBUTES } from "../../components/provisioning/lambda/justInTimeRegistration";

const JITR = "components/provisioning/lambda/justInTimeRegistration.ts";
const table = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${registryTableName}";
const rotationTable = "arn:${Partition}:dynamodb:${Region}:${Account}:table/${rotationScheduleTable}";
const iot = (r: string) => `arn:\${Partition}:iot:\${Region}:\${Account}:${r}`;
const cert = iot("cert/${CertificateId}");
const thing = iot("thing/${ThingName}");
// DynamoDB developer guide, "Encryption at rest: how it works": DynamoDB calls KMS on the caller's behalf.
const viaDynamo = { "kms:ViaService": "dynamodb.${Region}.amazonaws.com", "kms:CallerAccount": "${Account}" };
const kmsSource = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html";
// The Service Authorization Reference: AttachThingPrincipal is authorized on `cert`, with iot:thingArn naming the Thing.
const SAR_IOT = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html";
const claim = { "dynamodb:ReturnValues": "NONE" };

/** The oemCa just-in-time registration function, as its handler calls AWS (every `new XxxCommand`). */
export const justInTimeRegistration: ActorLedger = {
    actor: "just-in-time registration (oemCa)",
    principal: { role: "-jitr-role" },
    lambdas: ["-jitr"],
    calls: [
        ...lambdaLogCalls("${NamePrefix}-jitr"),
        { action: "iot:DescribeCertificate", resource: cert, source: `${JITR}:125 (readCertificate) and :242 (attachedIds: only live certificates count)` },
        { action: "dynamodb:GetItem", resource: table, source: `${JITR}:157 (decide) and :220 (the re-read before activation)` },
        {
            // First registration: status, certificate, fleet and time, with the key fingerprint in the condition.
            action: "dynamodb:UpdateItem", resource: table,
            context: { "dynamodb:Attributes": ["serialNumber", "status", "publicKeyFingerprint", "certificateId", "templateName", "provisionedAt"], ...claim },
            source: `${JITR}:200 (first registration)`,
        },
        {
            action: "dynamodb:UpdateItem", resource: table,
            context: { "dynamodb:Attributes": ["serialNumber", "status", "publicKeyFingerprint", "certificateId", "previousCertificateId", "provisionedAt"], ...claim },
            source: `${JITR}:184 (renewal)`,
        },
        { action: "dynamodb:UpdateItem", resource: rotationTable, context: { "dynamodb:Attributes": [...JITR_ROTATION_ATTRIBUTES], ...claim }, source: `${JITR}:176 (renewal: the old certificate retires)` },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: viaDynamo, source: kmsSource },
        { action: "iot:ListThingPrincipals", resource: thing, source: `${JITR} (attachedIds) through components/runtime/iotIdentity.ts:30` },
        { action: "iot:DescribeThing", resource: thing, source: `${JITR}:256 (ensureThing)` },
        { action: "iot:CreateThing", resource: thing, source: `${JITR}:262 (ensureThing)` },
        { action: "iot:UpdateThing", resource: thing, source: `${JITR}:261 (ensureThing)` },
        { action: "iot:AddThingToThingGroup", resource: thing, source: `${JITR}:263 (ensureThing)` },
        { action: "iot:AddThingToThingGroup", resource: iot("thinggroup/${thingGroupName}"), source: `${JITR}:263 (ensureThing)` },
        { action: "iot:AttachPolicy", resource: cert, source: `${JITR}:217` },
        { action: "iot:AttachThingPrincipal", resource: cert, context: { "iot:thingArn": thing }, source: `${JITR}:218; ${SAR_IOT}` },
        { action: "iot:UpdateCertificate", resource: cert, source: `${JITR}:224 (activation, last)` },
    ],
    mustDeny: [
        otherFunctionLogs(),
        { action: "dynamodb:GetItem", resource: "arn:${Partition}:dynamodb:${Region}:${Account}:table/fms-other-provisioning-registry", why: "another stack's registry", source: `${JITR}:157` },
        {
            action: "dynamodb:UpdateItem", resource: table,
            context: { "dynamodb:Attributes": [...JITR_REGISTRY_ATTRIBUTES, "templates"], ...claim },
            why: "rewriting which fleets a serial belongs to", source: `${JITR}:200`,
        },
        { action: "dynamodb:UpdateItem", resource: table, context: { "dynamodb:Attributes": [...JITR_REGISTRY_ATTRIBUTES], "dynamodb:ReturnValues": "ALL_OLD" }, why: "reading the item back through UpdateItem", source: `${JITR}:200` },
        { action: "dynamodb:PutItem", resource: table, why: "registering serials (the factory's register does)", source: JITR },
        { action: "dynamodb:DeleteItem", resource: rotationTable, why: "clearing a pending retirement (only the sweep clears)", source: JITR },
        { action: "iot:CreateThing", resource: iot("thing/fms-other-vehicle-1"), why: "Things outside this stack's prefix", source: `${JITR}:262` },
        { action: "iot:AttachThingPrincipal", resource: cert, context: { "iot:thingArn": iot("thing/fms-other-vehicle-1") }, why: "attaching to another stack's Thing", source: `${JITR}:218; ${SAR_IOT}` },
        { action: "iot:AddThingToThingGroup", resource: iot("thinggroup/fms-other-vehicles"), why: "another stack's group", source: `${JITR}:263` },
        { action: "iot:UpdateCACertificate", resource: iot("cacert/${CertificateId}"), why: "switching the CA registration or its auto-registration (the stack does, at deploy time)", source: JITR },
        { action: "iot:DeleteCertificate", resource: cert, why: "deleting certificates", source: JITR },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: { "kms:ViaService": "s3.${Region}.amazonaws.com" }, why: "the stack key through another service", source: kmsSource },
    ],
};

/** The JITR rules' error action: its own log group only. */
export const jitrErrors: ActorLedger = {
    actor: "just-in-time registration rules, error action",
    principal: { role: "-jitr-errors-role" },
    rules: ["-jitr-rule-"],
    calls: [
        { action: "logs:CreateLogStream", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/iot/rules/${NamePrefix}-jitr:log-stream:x", source: "https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html" },
        { action: "logs:PutLogEvents", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/iot/rules/${NamePrefix}-jitr:log-stream:x", source: "https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html" },
    ],
    mustDeny: [
        { action: "logs:PutLogEvents", resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/iot/rules/${NamePrefix}-certificate-rotation:log-stream:x", why: "the confirmation rule's error log", source: "https://docs.aws.amazon.com/iot/latest/developerguide/cloudwatch-logs-rule-action.html" },
    ],
};
