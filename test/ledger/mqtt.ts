import type { ActorLedger, LedgerCall } from "./types";

const arn = (r: string) => `arn:\${Partition}:iot:\${Region}:\${Account}:${r}`;
// AWS IoT developer guide, "Device provisioning MQTT API" (topics and their /accepted, /rejected answers).
const FP_API = "https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html";
// "Device Shadow MQTT topics", "Jobs device MQTT API", "Basic Ingest".
const SHADOW = "https://docs.aws.amazon.com/iot/latest/developerguide/reserved-topics.html#reserved-topics-shadow";
const JOBS = "https://docs.aws.amazon.com/iot/latest/developerguide/jobs-mqtt-api.html";
const INGEST = "https://docs.aws.amazon.com/iot/latest/developerguide/iot-basic-ingest.html";

/** One MQTT request/response exchange: publish the request, subscribe to and receive its answers. */
function exchange(topic: string, connection: LedgerCall["connection"], source: string, when?: LedgerCall["when"]): LedgerCall[] {
    return [
        { action: "iot:Publish", resource: arn(`topic/${topic}`), connection, source, when },
        { action: "iot:Subscribe", resource: arn(`topicfilter/${topic}/accepted`), connection, source, when },
        { action: "iot:Receive", resource: arn(`topic/${topic}/accepted`), connection, source, when },
        { action: "iot:Subscribe", resource: arn(`topicfilter/${topic}/rejected`), connection, source, when },
        { action: "iot:Receive", resource: arn(`topic/${topic}/rejected`), connection, source, when },
    ];
}

const claim = { clientId: "${claimClientIdPrefix}297468000001" };

/** The shared claim certificate (no Thing): connect with a claim client id, then the provisioning API only. */
export const mqttClaim: ActorLedger = {
    actor: "claim certificate (MQTT)",
    principal: { iotPolicy: "-claim-policy" },
    calls: [
        { action: "iot:Connect", resource: arn("client/${claimClientIdPrefix}297468000001"), connection: claim, source: "device/provision.ts (client id <claimClientIdPrefix><serial>-<random>)" },
        ...exchange("$aws/certificates/${CertApi}/json", claim, FP_API),
        ...exchange("$aws/provisioning-templates/${provisioningTemplateName}/provision/json", claim, FP_API),
        ...exchange("$aws/provisioning-templates/${edgeCoreTemplateName}/provision/json", claim, FP_API, { edgeCoreTemplateName: true }),
    ],
    mustDeny: [
        { action: "iot:Connect", resource: arn("client/${ThingName}"), connection: { clientId: "${ThingName}" }, why: "connecting as a vehicle", source: FP_API },
        { action: "iot:Publish", resource: arn("topic/$aws/provisioning-templates/${rotationTemplateName}/provision/json"), connection: claim, when: { rotationTemplateName: true }, why: "the rotation template (vehicles only)", source: FP_API },
        { action: "iot:Publish", resource: arn("topic/${DeviceRoot}/${ThingName}/status"), connection: claim, why: "a vehicle's topics", source: FP_API },
        { action: "iot:Subscribe", resource: arn("topicfilter/$aws/things/${ThingName}/shadow/get/accepted"), connection: claim, why: "a vehicle's shadow", source: SHADOW },
        { action: "iot:Publish", resource: arn("topic/${BasicIngestTopic}"), connection: claim, when: { BasicIngestTopic: true }, why: "Basic Ingest", source: INGEST },
    ],
};

const vehicle = { clientId: "${ThingName}", attachedThing: "${ThingName}" };

/** A provisioned vehicle, connected as its Thing with its own certificate. */
export const mqttVehicle: ActorLedger = {
    actor: "vehicle (MQTT)",
    principal: { iotPolicy: "-device-policy" },
    calls: [
        { action: "iot:Connect", resource: arn("client/${ThingName}"), connection: vehicle, source: "https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html" },
        { action: "iot:Publish", resource: arn("topic/${DeviceRoot}/${ThingName}/status"), connection: vehicle, source: "README, device topics <deviceRoot>/<thing>/..." },
        { action: "iot:Subscribe", resource: arn("topicfilter/${DeviceRoot}/${ThingName}/commands"), connection: vehicle, source: "README, device topics <deviceRoot>/<thing>/..." },
        { action: "iot:Receive", resource: arn("topic/${DeviceRoot}/${ThingName}/commands"), connection: vehicle, source: "README, device topics <deviceRoot>/<thing>/..." },
        ...exchange("$aws/things/${ThingName}/shadow/update", vehicle, SHADOW),
        { action: "iot:Subscribe", resource: arn("topicfilter/$aws/things/${ThingName}/jobs/notify-next"), connection: vehicle, source: JOBS },
        { action: "iot:Receive", resource: arn("topic/$aws/things/${ThingName}/jobs/notify-next"), connection: vehicle, source: JOBS },
        { action: "iot:Publish", resource: arn("topic/${BasicIngestTopic}"), connection: vehicle, when: { BasicIngestTopic: true }, source: INGEST },
        // Rotation: the provisioning API with its own certificate, then the confirmation through Basic Ingest (device/rotate.ts).
        ...exchange("$aws/certificates/${CertApi}/json", vehicle, FP_API, { rotationTemplateName: true }),
        ...exchange("$aws/provisioning-templates/${rotationTemplateName}/provision/json", vehicle, FP_API, { rotationTemplateName: true }),
        { action: "iot:Publish", resource: arn("topic/${ConfirmTopic}"), connection: vehicle, when: { ConfirmTopic: true }, source: "device/rotate.ts:64" },
    ],
    mustDeny: [
        { action: "iot:Connect", resource: arn("client/${OtherThingName}"), connection: { clientId: "${OtherThingName}", attachedThing: "${ThingName}" }, why: "connecting as another vehicle", source: "https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html" },
        { action: "iot:Publish", resource: arn("topic/${DeviceRoot}/${OtherThingName}/status"), connection: vehicle, why: "another vehicle's topics", source: "README" },
        { action: "iot:Subscribe", resource: arn("topicfilter/${DeviceRoot}/${OtherThingName}/commands"), connection: vehicle, why: "another vehicle's topics", source: "README" },
        { action: "iot:Publish", resource: arn("topic/$aws/things/${OtherThingName}/shadow/update"), connection: vehicle, why: "another vehicle's shadow", source: SHADOW },
        { action: "iot:Subscribe", resource: arn("topicfilter/$aws/things/${OtherThingName}/jobs/notify-next"), connection: vehicle, why: "another vehicle's jobs", source: JOBS },
        { action: "iot:RetainPublish", resource: arn("topic/${DeviceRoot}/${ThingName}/status"), connection: vehicle, why: "retained messages outlive the certificate (issue 19)", source: "https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-retain" },
        { action: "iot:Publish", resource: arn("topic/$aws/rules/fms_other_rule1/x"), connection: vehicle, why: "another stack's rules", source: INGEST },
        { action: "iot:Publish", resource: arn("topic/$aws/provisioning-templates/${provisioningTemplateName}/provision/json"), connection: vehicle, when: { provisioningTemplateName: true }, why: "the claim template (a provisioned vehicle rotates, it does not re-provision)", source: FP_API },
        // oemCa: no fleet-provisioning API at all (the maker renews certificates; docs/identity.md).
        { action: "iot:Publish", resource: arn("topic/$aws/certificates/create-from-csr/json"), connection: vehicle, when: { identityMode: "oemCa" }, why: "the claim path (absent in oemCa)", source: FP_API },
        { action: "iot:Publish", resource: arn("topic/$aws/certificates/create/json"), connection: vehicle, when: { identityMode: "oemCa" }, why: "the claim path (absent in oemCa)", source: FP_API },
        { action: "iot:Publish", resource: arn("topic/$aws/provisioning-templates/${oemCaFleetName}/provision/json"), connection: vehicle, when: { identityMode: "oemCa" }, why: "a template named like the fleet (absent in oemCa)", source: FP_API },
    ],
};

const core = { clientId: "${CoreThingName}", attachedThing: "${CoreThingName}" };
const core2 = { clientId: "${CoreThingName}#2", attachedThing: "${CoreThingName}" };
// aws-greengrass/aws-greengrass-nucleus v2.16.1, MqttClient.getNewMqttClient (line 987): client ids <thing>, <thing>#2, ...
const NUCLEUS_MQTT = "aws-greengrass/aws-greengrass-nucleus@v2.16.1:src/main/java/com/aws/greengrass/mqttclient/MqttClient.java:987";
const GG_POLICY = "https://docs.aws.amazon.com/greengrass/v2/developerguide/device-auth.html#greengrass-core-minimal-iot-policy";

/**
 * A Greengrass core (nucleus, and the telemetry component through IPC on the nucleus' connection), under the
 * policy its own provisioning template creates for it (components/edge/corePolicy.ts), evaluated for serial
 * 297469000001 (${CoreThingName}).
 */
export const mqttCore: ActorLedger = {
    actor: "Greengrass core (MQTT and data plane)",
    principal: { templatePolicy: { template: "-edge-core-template", resource: "policy", parameters: { SerialNumber: "297469000001" } } },
    calls: [
        { action: "iot:Connect", resource: arn("client/${CoreThingName}"), connection: core, source: NUCLEUS_MQTT },
        { action: "iot:Connect", resource: arn("client/${CoreThingName}#2"), connection: core2, source: NUCLEUS_MQTT },
        ...exchange("$aws/things/${CoreThingName}/shadow/get", core, SHADOW),
        { action: "iot:Subscribe", resource: arn("topicfilter/$aws/things/${CoreThingName}/jobs/notify-next"), connection: core, source: JOBS },
        { action: "iot:Receive", resource: arn("topic/$aws/things/${CoreThingName}/jobs/notify-next"), connection: core, source: JOBS },
        { action: "iot:Publish", resource: arn("topic/$aws/things/${CoreThingName}/greengrassv2/health/json"), connection: core, source: GG_POLICY },
        { action: "iot:Publish", resource: arn("topic/${BasicIngestTopic}"), connection: core, when: { BasicIngestTopic: true }, source: "components/edge/edgeRuntime.ts (telemetry recipe: PublishToIoTCore on the Basic Ingest topic)" },
        { action: "iot:AssumeRoleWithCertificate", resource: arn("rolealias/${edgeRoleAliasName}"), connection: core, source: "https://docs.aws.amazon.com/iot/latest/developerguide/authorizing-direct-aws.html" },
        { action: "greengrass:ResolveComponentCandidates", resource: "arn:${Partition}:greengrass:${Region}:${Account}:components:${edgeComponentName}:versions:1.0.0", connection: core, source: GG_POLICY },
        { action: "greengrass:GetComponentVersionArtifact", resource: "arn:${Partition}:greengrass:${Region}:${Account}:components:aws.greengrass.LogManager:versions:2.3.11", connection: core, source: GG_POLICY },
    ],
    mustDeny: [
        { action: "iot:Connect", resource: arn("client/${ThingName}"), connection: { clientId: "${ThingName}", attachedThing: "${CoreThingName}" }, why: "connecting as a vehicle", source: NUCLEUS_MQTT },
        { action: "iot:AssumeRoleWithCertificate", resource: arn("rolealias/fms-other-gg-token-exchange"), connection: core, why: "other role aliases", source: "https://docs.aws.amazon.com/iot/latest/developerguide/authorizing-direct-aws.html" },
        { action: "iot:Publish", resource: arn("topic/$aws/things/${ThingName}/shadow/update"), connection: core, why: "a vehicle's shadow", source: SHADOW },
        { action: "iot:Publish", resource: arn("topic/$aws/things/${OtherCoreThingName}/shadow/update"), connection: core, why: "another core's shadow", source: SHADOW },
        { action: "iot:Subscribe", resource: arn("topicfilter/$aws/things/${OtherCoreThingName}/jobs/notify-next"), connection: core, why: "another core's jobs", source: JOBS },
        {
            action: "iot:Connect", resource: arn("client/${OtherCoreThingName}"), connection: { clientId: "${OtherCoreThingName}", attachedThing: "${CoreThingName}" }, why: "connecting as another core", source: NUCLEUS_MQTT,
        },
    ],
};

const coreRotating = { clientId: "${CoreThingName}#rotate", attachedThing: "${CoreThingName}" };

/**
 * A core rotating its certificate (device/rotate.ts with --core-root): connected as <thing>#rotate (its
 * per-core policy allows <thing>#*), the provisioning API through the core rotation template, then the
 * confirmation, under the shared core-rotation policy the core templates attach beside the per-core one.
 */
export const mqttCoreRotation: ActorLedger = {
    actor: "Greengrass core rotating its certificate (MQTT)",
    principal: { iotPolicy: "-core-rotation-policy" },
    calls: [
        ...exchange("$aws/certificates/${CertApi}/json", coreRotating, FP_API),
        ...exchange("$aws/provisioning-templates/${edgeCoreRotationTemplateName}/provision/json", coreRotating, FP_API),
        { action: "iot:Publish", resource: arn("topic/${ConfirmTopic}"), connection: coreRotating, when: { ConfirmTopic: true }, source: "device/rotate.ts (confirmCertificate)" },
    ],
    mustDeny: [
        { action: "iot:Publish", resource: arn("topic/$aws/provisioning-templates/${edgeCoreTemplateName}/provision/json"), connection: coreRotating, why: "the core claim template (a provisioned core rotates, it does not re-provision)", source: FP_API },
        { action: "iot:Publish", resource: arn("topic/$aws/provisioning-templates/${rotationTemplateName}/provision/json"), connection: coreRotating, why: "the vehicles' rotation template", source: FP_API },
        { action: "iot:Connect", resource: arn("client/${OtherCoreThingName}#rotate"), connection: { clientId: "${OtherCoreThingName}#rotate", attachedThing: "${CoreThingName}" }, why: "connecting as another core (the rotation policy grants no Connect)", source: FP_API },
        { action: "iot:Publish", resource: arn("topic/$aws/things/${OtherCoreThingName}/shadow/update"), connection: coreRotating, why: "another core's shadow", source: SHADOW },
    ],
};

/** The same core, under the per-core policy its rotation template attaches (the same document as the core template's). */
export const mqttCoreAfterRotation: ActorLedger = {
    ...mqttCore,
    actor: "Greengrass core after a rotation (MQTT and data plane)",
    principal: { templatePolicy: { template: "-edge-core-rotation-template", resource: "policy", parameters: { SerialNumber: "297469000001" } } },
    calls: [
        ...mqttCore.calls,
        // The rotation itself connects as <thing>#rotate, a client id the per-core policy allows.
        { action: "iot:Connect", resource: arn("client/${CoreThingName}#rotate"), connection: coreRotating, source: "device/rotate.ts (coreRotationClientId)" },
    ],
};
