import { ArnContext, iotArn, PolicyDocument, policyDocument } from "./document";

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
}

/** AWS IoT rejects policy documents over 2048 characters (white space not counted). */
export const IOT_POLICY_MAX_CHARS = 2048;

export function iotPolicySize(doc: PolicyDocument): number {
    return JSON.stringify(doc).replace(/\s/g, "").length;
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

/**
 * Least-privilege policy of a provisioned vehicle: connect only as its own Thing (and only while
 * the certificate is attached to that Thing), its own topics, shadow and jobs, and the Basic
 * Ingest topics of this stack's rules.
 */
export function devicePolicy(args: DevicePolicyArgs): PolicyDocument {
    const own = deviceTopicPaths(args.deviceRoot);
    const statements = [
        {
            Sid: "ConnectAsOwnThing",
            Effect: "Allow" as const,
            Action: ["iot:Connect"],
            Resource: [iotArn(args, `client/${THING_NAME}`)],
            Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } },
        },
        {
            Sid: "OwnTopics",
            Effect: "Allow" as const,
            Action: ["iot:Publish", "iot:Receive", "iot:RetainPublish"],
            Resource: own.map((t) => iotArn(args, `topic/${t}`)),
        },
        {
            Sid: "OwnTopicFilters",
            Effect: "Allow" as const,
            Action: ["iot:Subscribe"],
            Resource: own.map((t) => iotArn(args, `topicfilter/${t}`)),
        },
    ];
    const doc = policyDocument(...statements);
    if (args.basicIngestRuleNames.length === 0) return doc;
    const ingest = {
        Sid: "BasicIngest",
        Effect: "Allow" as const,
        Action: ["iot:Publish"],
        Resource: basicIngestTopicPaths(args.basicIngestRuleNames).map((t) => iotArn(args, `topic/${t}`)),
    };
    doc.Statement.push(ingest);
    if (iotPolicySize(doc) > IOT_POLICY_MAX_CHARS && args.basicIngestRulePrefix) {
        if (!args.basicIngestRuleNames.every((r) => r.startsWith(args.basicIngestRulePrefix!))) {
            throw new Error(`devicePolicy: not every rule name starts with ${args.basicIngestRulePrefix}`);
        }
        ingest.Resource = [iotArn(args, `topic/$aws/rules/${args.basicIngestRulePrefix}*`)];
    }
    if (iotPolicySize(doc) > IOT_POLICY_MAX_CHARS) {
        throw new Error(`devicePolicy: ${iotPolicySize(doc)} characters, over the ${IOT_POLICY_MAX_CHARS} AWS IoT accepts`);
    }
    return doc;
}
