import { ArnContext, assertIotPolicySize, iotArn, PolicyDocument, policyDocument } from "./document";

/** `device`: the vehicle sends a CSR and keeps its key; `aws`: AWS IoT makes the key and sends it over MQTT. */
export type DeviceKeys = "device" | "aws";

/** The certificate half of the fleet-provisioning MQTT API, for a key mode. */
export function certificateTopicPath(deviceKeys: DeviceKeys): string {
    return deviceKeys === "device" ? "$aws/certificates/create-from-csr/*" : "$aws/certificates/create/*";
}

export interface ClaimPolicyArgs extends ArnContext {
    /** Client ids a claim-certificate holder may use: `<clientIdPrefix>*`. */
    clientIdPrefix: string;
    /** The provisioning templates this claim certificate may call. */
    templateNames: readonly string[];
    /** Which certificate API it may call: CreateCertificateFromCsr (`device`) or CreateKeysAndCertificate (`aws`). */
    deviceKeys: DeviceKeys;
}

/** Topic paths of the fleet-provisioning MQTT API for these templates, in one key mode. */
export function provisioningTopicPaths(templateNames: readonly string[], deviceKeys: DeviceKeys): string[] {
    return [
        certificateTopicPath(deviceKeys),
        ...templateNames.map((name) => `$aws/provisioning-templates/${name}/provision/*`),
    ];
}

/**
 * Policy of the shared claim certificate. It has no Thing, so `IsAttached` cannot guard it:
 * Connect is narrowed to a client-id prefix that no vehicle uses, and everything else is the
 * provisioning topics (publish/receive on `topic/`, subscribe on `topicfilter/`).
 */
export function claimPolicy(args: ClaimPolicyArgs): PolicyDocument {
    if (args.templateNames.length === 0) throw new Error("claimPolicy: at least one provisioning template is required");
    const paths = provisioningTopicPaths(args.templateNames, args.deviceKeys);
    const doc = policyDocument(
        {
            Sid: "ConnectWithClaimClientId",
            Effect: "Allow",
            Action: ["iot:Connect"],
            Resource: [iotArn(args, `client/${args.clientIdPrefix}*`)],
        },
        {
            Sid: "ProvisioningTopics",
            Effect: "Allow",
            Action: ["iot:Publish", "iot:Receive"],
            Resource: paths.map((p) => iotArn(args, `topic/${p}`)),
        },
        {
            Sid: "ProvisioningTopicFilters",
            Effect: "Allow",
            Action: ["iot:Subscribe"],
            Resource: paths.map((p) => iotArn(args, `topicfilter/${p}`)),
        },
    );
    return assertIotPolicySize("claimPolicy", doc);
}
