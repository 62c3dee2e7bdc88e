import { ArnContext, iotArn, PolicyDocument, policyDocument, Statement } from "./document";
import { withBasicIngest } from "./iotDevicePolicy";

/**
 * The MQTT client ids a Greengrass nucleus connects with, from its source
 * (aws-greengrass-nucleus, MqttClient.getNewMqttClient):
 *
 *     // Name client by thingName#<number> except for the first connection which will just be thingName
 *     String clientId = Coerce.toString(deviceConfiguration.getThingName()) + (connections.isEmpty() ? ""
 *             : "#" + (connections.size() + 1));
 *
 * A new connection is opened once every connection holds MAX_SUBSCRIPTIONS_PER_CONNECTION (50)
 * subscriptions, and publishes go round-robin over all of them.
 */
export function nucleusClientIds(thingName: string, connections: number): string[] {
    return Array.from({ length: connections }, (_, i) => (i === 0 ? thingName : `${thingName}#${i + 1}`));
}

/** Tag value (`FmsPolicy`) that marks a Greengrass core-device policy for the guardrails. */
export const CORE_POLICY_KIND = "greengrass-core";

export interface CoreDevicePolicyArgs extends ArnContext {
    /** Core devices are Things named `<coreThingNamePrefix><serial>`: the policy's scope. */
    coreThingNamePrefix: string;
    roleAliasArn: string;
    basicIngestRuleNames: readonly string[];
    basicIngestRulePrefix?: string;
}

/** Topic paths a core device publishes and receives on (AWS's minimal core-device policy). */
export function coreDeviceTopicPaths(coreThingNamePrefix: string): string[] {
    const things = `$aws/things/${coreThingNamePrefix}*`;
    return [`${things}/greengrass/health/json`, `${things}/greengrassv2/health/json`, `${things}/jobs/*`, `${things}/shadow/*`];
}

/** Topic filters a core device subscribes to (AWS's minimal core-device policy). */
export function coreDeviceTopicFilters(coreThingNamePrefix: string): string[] {
    const things = `$aws/things/${coreThingNamePrefix}*`;
    return [`${things}/jobs/*`, `${things}/shadow/*`];
}

/**
 * IoT policy of a Greengrass v2 core device, in the shape of AWS's "Minimal AWS IoT policy for AWS
 * IoT Greengrass V2 core devices" (Greengrass developer guide, device-auth):
 *
 *   "Thing policy variables (iot:Connection.Thing.*) aren't supported for in AWS IoT policies for
 *    core devices or Greengrass data plane operations. Instead, you can use a wildcard that matches
 *    multiple devices that have similar names."
 *   "The policy includes the * wildcard after the core device thing name (For example,
 *    core-device-thing-name*). The core device uses the same device certificate to make multiple
 *    connections to AWS IoT Core, but the client ID in a connection might not be an exact match of
 *    the core device thing name."
 *
 * So the scope is this stack's core Thing-name prefix (config keeps it apart from vehicle Thing
 * names, the claim client ids and other stacks' names), plus the Basic Ingest topics of this
 * stack's rules, this stack's role alias, and the Greengrass data-plane calls. What a shared policy
 * cannot do is tell one core from another: a core's certificate could connect with another core's
 * client id. AWS's alternative is a policy document per core in the template (one policy per
 * device, not updatable as a fleet); see the README, "Greengrass core policy".
 */
export function coreDevicePolicy(args: CoreDevicePolicyArgs): PolicyDocument {
    const prefix = args.coreThingNamePrefix;
    const statements: Statement[] = [
        { Sid: "ConnectAsCoreThing", Effect: "Allow", Action: ["iot:Connect"], Resource: [iotArn(args, `client/${prefix}*`)] },
        { Sid: "CoreTopics", Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: coreDeviceTopicPaths(prefix).map((t) => iotArn(args, `topic/${t}`)) },
        { Sid: "CoreTopicFilters", Effect: "Allow", Action: ["iot:Subscribe"], Resource: coreDeviceTopicFilters(prefix).map((t) => iotArn(args, `topicfilter/${t}`)) },
        { Sid: "CoreShadow", Effect: "Allow", Action: ["iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow"], Resource: [iotArn(args, `thing/${prefix}*`)] },
        { Sid: "TokenExchangeThroughRoleAlias", Effect: "Allow", Action: ["iot:AssumeRoleWithCertificate"], Resource: [args.roleAliasArn] },
        {
            // Artifacts of AWS-provided components live in AWS's account: any account, this region, components only.
            Sid: "GreengrassComponentArtifacts",
            Effect: "Allow",
            Action: ["greengrass:GetComponentVersionArtifact"],
            Resource: [`arn:${args.partition}:greengrass:${args.region}:*:components:*`],
        },
        {
            // Documented with "Resource": "*" (no resource-level scoping for these data-plane calls).
            Sid: "GreengrassDataPlane",
            Effect: "Allow",
            Action: ["greengrass:ResolveComponentCandidates", "greengrass:GetDeploymentConfiguration", "greengrass:ListThingGroupsForCoreDevice"],
            Resource: ["*"],
        },
    ];
    return withBasicIngest(policyDocument(...statements), { ...args, policyName: "coreDevicePolicy" });
}

/**
 * Log groups the Greengrass log manager writes to, from its source (aws-greengrass-log-manager,
 * CloudWatchAttemptLogsProcessor):
 *
 *     DEFAULT_LOG_GROUP_NAME = "/aws/greengrass/{componentType}/{region}/{componentName}";
 *     DEFAULT_LOG_STREAM_NAME = "/{date}/thing/{thingName}";
 *     // Thing name can be [a-zA-Z0-9:_-]+ while log stream name has to be [^:*]*
 *     return logStreamName.replace(":", "+");
 *
 * System logs (the nucleus and plugin components) go to component type `GreengrassSystemComponent`,
 * name `System`; a generic component's logs to `UserComponent`, its component name.
 */
export function greengrassSystemLogGroup(region: string): string {
    return `/aws/greengrass/GreengrassSystemComponent/${region}/System`;
}

export function greengrassComponentLogGroup(region: string, componentName: string): string {
    return `/aws/greengrass/UserComponent/${region}/${componentName}`;
}

/** The IAM policy variable the AWS IoT credentials provider sets from the `x-amzn-iot-thingname` header. */
export const CREDENTIALS_THING_NAME = "${credentials-iot:ThingName}";

export interface TokenExchangePolicyArgs extends ArnContext {
    artifactBucketArn: string;
    /** Key prefix of this stack's component artifacts in that bucket (`artifacts/`). */
    artifactKeyPrefix: string;
    /** Key the artifact bucket is encrypted with. */
    kmsKeyArn: string;
    /** Log groups the log manager writes to (they exist: this program creates them). */
    logGroupNames: readonly string[];
}

/**
 * What a core's AWS credentials (token-exchange role) allow. AWS's default policy for it
 * (GreengrassV2TokenExchangeRoleAccess, nucleus v2.5.0 and later) is
 *
 *     "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
 *                "logs:DescribeLogStreams", "s3:GetBucketLocation"], "Resource": "*"
 *
 * plus, for component artifacts in S3, `s3:GetObject` on the artifact bucket ("Allow access to S3
 * buckets for component artifacts"). The nucleus calls GetBucketLocation before every S3 artifact
 * download. Here each of those is scoped:
 * - no CreateLogGroup: the log groups are created by this program (retention, KMS);
 * - CreateLogStream and DescribeLogStreams on those log groups only (both are authorized on the log
 *   group, so they cannot be narrowed to one core's stream);
 * - PutLogEvents only on the core's own streams, `/<date>/thing/<its Thing name>`, through the
 *   `credentials-iot:ThingName` variable (the nucleus sends `x-amzn-iot-thingname` with every
 *   credentials request: IotCloudHelper.HTTP_HEADER_THING_NAME). Core Thing names may not contain
 *   `:` (the log manager writes it as `+`, which the variable would not match): config refuses it;
 * - S3 on this stack's artifact bucket and artifact prefix, KMS decrypt through S3 only.
 */
export function tokenExchangePolicy(args: TokenExchangePolicyArgs): PolicyDocument {
    const group = (name: string) => `arn:${args.partition}:logs:${args.region}:${args.accountId}:log-group:${name}`;
    return policyDocument(
        {
            Sid: "GreengrassLogStreams",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:DescribeLogStreams"],
            Resource: args.logGroupNames.flatMap((n) => [group(n), `${group(n)}:*`]),
        },
        {
            Sid: "GreengrassOwnLogEvents",
            Effect: "Allow",
            Action: ["logs:PutLogEvents"],
            Resource: args.logGroupNames.map((n) => `${group(n)}:log-stream:/*/thing/${CREDENTIALS_THING_NAME}`),
        },
        {
            Sid: "ArtifactBucketLocation",
            Effect: "Allow",
            Action: ["s3:GetBucketLocation"],
            Resource: [args.artifactBucketArn],
        },
        {
            Sid: "ReadComponentArtifacts",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: [`${args.artifactBucketArn}/${args.artifactKeyPrefix}*`],
        },
        {
            Sid: "DecryptComponentArtifacts",
            Effect: "Allow",
            Action: ["kms:Decrypt"],
            Resource: [args.kmsKeyArn],
            Condition: { StringEquals: { "kms:ViaService": `s3.${args.region}.amazonaws.com` } },
        },
    );
}

/** ARN of an IoT role alias. */
export function roleAliasArn(ctx: ArnContext, alias: string): string {
    return iotArn(ctx, `rolealias/${alias}`);
}
