import { ArnContext, assertIotPolicySize, IOT_POLICY_MAX_CHARS, iotArn, iotPolicySize, PolicyDocument, policyDocument, Statement } from "./document";
import { DeviceKeys, provisioningTopicPaths } from "./iotClaimPolicy";

/** The IoT policy variable that names the connected Thing. */
export const THING_NAME = "${iot:Connection.Thing.ThingName}";

export interface DevicePolicyArgs extends ArnContext {
    /** A Thing's own topics live under `<deviceRoot>/<thingName>/`. */
    deviceRoot: string;
    /** Topic rules this stack's devices reach through Basic Ingest (`$aws/rules/<ruleName>/...`). */
    basicIngestRuleNames: readonly string[];
    /**
     * Prefix every one of those rule names shares. When listing each rule would make the policy
     * larger than AWS IoT accepts, the policy allows `$aws/rules/<prefix>*` instead.
     */
    basicIngestRulePrefix?: string;
    /** Certificate rotation: the template a vehicle calls with its own certificate, and the key mode. */
    rotation?: { templateName: string; deviceKeys: DeviceKeys };
}

/**
 * The fleet-provisioning MQTT API a provisioned vehicle uses to rotate its certificate. Those topics
 * carry no Thing name (AWS fixes them), so what keeps a vehicle to its own Thing is the rotation
 * hook: it allows a new certificate only for the Thing the asking certificate is attached to.
 */
export function rotationStatements(args: ArnContext & { templateName: string; deviceKeys: DeviceKeys }): Statement[] {
    const paths = provisioningTopicPaths([args.templateName], args.deviceKeys);
    return [
        { Sid: "RotateOwnCertificate", Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: paths.map((p) => iotArn(args, `topic/${p}`)) },
        { Sid: "RotateOwnCertificateFilters", Effect: "Allow", Action: ["iot:Subscribe"], Resource: paths.map((p) => iotArn(args, `topicfilter/${p}`)) },
    ];
}

/** Topic paths (without `topic/` or `topicfilter/`) a provisioned vehicle may use. */
export function deviceTopicPaths(deviceRoot: string): string[] {
    return [
        `${deviceRoot}/${THING_NAME}/*`,
        `$aws/things/${THING_NAME}/shadow/*`,
        `$aws/things/${THING_NAME}/jobs/*`,
    ];
}

/** Topic paths a vehicle publishes to for Basic Ingest (nobody can subscribe to them). */
export function basicIngestTopicPaths(ruleNames: readonly string[]): string[] {
    return ruleNames.map((rule) => `$aws/rules/${rule}/*`);
}

export interface ThingPolicyArgs extends ArnContext {
    /** Used in error messages. */
    policyName: string;
    /** The Thing's own topic paths (each containing the Thing-name variable). */
    ownTopicPaths: string[];
    basicIngestRuleNames: readonly string[];
    basicIngestRulePrefix?: string;
    /** Statements the kind of Thing needs besides MQTT (e.g. a Greengrass core's role alias). */
    extraStatements?: Statement[];
}

/**
 * Policy of a Thing that connects as itself: connect only as its own Thing (and only while the
 * certificate is attached to that Thing), its own topics, and the Basic Ingest topics of this
 * stack's rules, kept within AWS IoT's policy size limit.
 */
export function thingPolicy(args: ThingPolicyArgs): PolicyDocument {
    const doc = policyDocument(
        {
            Sid: "ConnectAsOwnThing",
            Effect: "Allow",
            Action: ["iot:Connect"],
            Resource: [iotArn(args, `client/${THING_NAME}`)],
            Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } },
        },
        {
            // No iot:RetainPublish: nothing here publishes retained messages, and a retained message outlives the
            // certificate that wrote it (AWS IoT keeps it until replaced or deleted, "Retained messages").
            Sid: "OwnTopics",
            Effect: "Allow",
            Action: ["iot:Publish", "iot:Receive"],
            Resource: args.ownTopicPaths.map((t) => iotArn(args, `topic/${t}`)),
        },
        {
            Sid: "OwnTopicFilters",
            Effect: "Allow",
            Action: ["iot:Subscribe"],
            Resource: args.ownTopicPaths.map((t) => iotArn(args, `topicfilter/${t}`)),
        },
        ...(args.extraStatements ?? []),
    );
    return withBasicIngest(doc, args);
}

export interface BasicIngestArgs extends ArnContext {
    /** Used in error messages. */
    policyName: string;
    basicIngestRuleNames: readonly string[];
    basicIngestRulePrefix?: string;
}

/**
 * Adds the Basic Ingest topics of this stack's rules to a policy (`$aws/rules/<rule>/*`, or
 * `$aws/rules/<prefix>*` when listing them would pass AWS IoT's size limit), and checks the limit.
 */
export function withBasicIngest(doc: PolicyDocument, args: BasicIngestArgs): PolicyDocument {
    if (args.basicIngestRuleNames.length > 0) {
        const ingest: Statement = {
            Sid: "BasicIngest",
            Effect: "Allow",
            Action: ["iot:Publish"],
            Resource: basicIngestTopicPaths(args.basicIngestRuleNames).map((t) => iotArn(args, `topic/${t}`)),
        };
        doc.Statement.push(ingest);
        if (iotPolicySize(doc) > IOT_POLICY_MAX_CHARS && args.basicIngestRulePrefix) {
            if (!args.basicIngestRuleNames.every((r) => r.startsWith(args.basicIngestRulePrefix!))) {
                throw new Error(`${args.policyName}: not every rule name starts with ${args.basicIngestRulePrefix}`);
            }
            ingest.Resource = [iotArn(args, `topic/$aws/rules/${args.basicIngestRulePrefix}*`)];
        }
    }
    return assertIotPolicySize(args.policyName, doc);
}

/** Least-privilege policy of a provisioned vehicle: its own topics, shadow and jobs, and Basic Ingest. */
export function devicePolicy(args: DevicePolicyArgs): PolicyDocument {
    return thingPolicy({
        ...args,
        policyName: "devicePolicy",
        ownTopicPaths: deviceTopicPaths(args.deviceRoot),
        extraStatements: args.rotation ? rotationStatements({ ...args, ...args.rotation }) : [],
    });
}
