import { DeviceKeys } from "./iotClaimPolicy";
import { CONFIRM_TOPIC } from "./topics";
import { ArnContext, iotArn, PolicyDocument, policyDocument, Statement } from "./document";
import { rotationStatements, withBasicIngest } from "./iotDevicePolicy";

/**
 * The MQTT client ids a Greengrass nucleus connects with, from its source (aws-greengrass-nucleus
 * v2.16.1, src/main/java/com/aws/greengrass/mqttclient/MqttClient.java L983-987, getNewMqttClient):
 *
 *     // Name client by thingName#<number> except for the first connection which will just be thingName
 *     String clientId = Coerce.toString(deviceConfiguration.getThingName()) + (clientIdNum == 0 ? ""
 *             : "#" + (clientIdNum + 1));
 *
 * A new connection is opened once every connection holds MAX_SUBSCRIPTIONS_PER_CONNECTION (50)
 * subscriptions, and publishes go round-robin over all of them.
 */
export function nucleusClientIds(thingName: string, connections: number): string[] {
    return Array.from({ length: connections }, (_, i) => (i === 0 ? thingName : `${thingName}#${i + 1}`));
}

/** Tag value (`FmsPolicy`) that marked the shared Greengrass core-device policy of earlier versions (the guardrail still checks one). */
export const CORE_POLICY_KIND = "greengrass-core";

export interface CoreDevicePolicyArgs extends ArnContext {
    /** The one core Thing this policy is for (`<coreThingNamePrefix><serial>`). */
    thingName: string;
    roleAliasArn: string;
    basicIngestRuleNames: readonly string[];
    basicIngestRulePrefix?: string;
}

/**
 * The reserved topics of one core Thing: AWS's minimal core policy lists its health topics
 * (`greengrass/health/json`, `greengrassv2/health/json`), `jobs/*` and `shadow/*` under
 * `$aws/things/<thing>/`; a per-core document names the Thing in every resource, and four topic
 * and two filter resources at the longest Thing name the hook admits are over AWS IoT's 2048
 * characters, so the document names the core's own subtree once for topics and once for filters.
 * Nothing outside `$aws/things/<this core>/` (no other core, no vehicle).
 */
export function coreDeviceTopicPaths(thingName: string): string[] {
    return [`$aws/things/${thingName}/*`];
}

/** Topic filters of one core: its own `$aws/things/<thing>/` subtree (jobs and shadow, as the nucleus subscribes). */
export function coreDeviceTopicFilters(thingName: string): string[] {
    return [`$aws/things/${thingName}/*`];
}

/**
 * IoT policy of ONE Greengrass v2 core device, in the shape of AWS's "Minimal AWS IoT policy for AWS
 * IoT Greengrass V2 core devices" (Greengrass developer guide, device-auth) with the core's own Thing
 * name where AWS's shared example has `core-device-thing-name*`:
 *
 *   "Thing policy variables (iot:Connection.Thing.*) aren't supported for in AWS IoT policies for
 *    core devices or Greengrass data plane operations."
 *
 * so no `${iot:Connection.Thing.ThingName}`: the core's provisioning template creates this document
 * per core (an `AWS::IoT::Policy` resource with `PolicyDocument`, the Thing name joined in), and no
 * statement names another core. The client ids are the nucleus' (aws-greengrass-nucleus v2.16.1,
 * MqttClient.java L983-987 getNewMqttClient): `<thing>` for the first connection and `<thing>#N`
 * after it; `client/<thing>#*` matches those and no other Thing (`#` is literal in IoT policies and
 * Thing names cannot contain it).
 */
export function coreDevicePolicy(args: CoreDevicePolicyArgs): PolicyDocument {
    const thing = args.thingName;
    const statements: Statement[] = [
        { Sid: "ConnectAsThisCore", Effect: "Allow", Action: ["iot:Connect"], Resource: nucleusClientIdPatterns(thing).map((c) => iotArn(args, `client/${c}`)) },
        { Sid: "CoreTopics", Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: coreDeviceTopicPaths(thing).map((t) => iotArn(args, `topic/${t}`)) },
        { Sid: "CoreTopicFilters", Effect: "Allow", Action: ["iot:Subscribe"], Resource: coreDeviceTopicFilters(thing).map((t) => iotArn(args, `topicfilter/${t}`)) },
        { Sid: "CoreShadow", Effect: "Allow", Action: ["iot:GetThingShadow", "iot:UpdateThingShadow", "iot:DeleteThingShadow"], Resource: [iotArn(args, `thing/${thing}`)] },
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

/** The client-id resources of one core: `<thing>` and `<thing>#*` (the nucleus' `<thing>#2`, `<thing>#3`, ...). */
export function nucleusClientIdPatterns(thingName: string): string[] {
    return [thingName, `${thingName}#*`];
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
    /** ARNs (`arn:...:log-group:<name>`) of the log groups the log manager writes to: they exist before any core uploads. */
    logGroupArns: readonly string[];
}

/**
 * What a core's AWS credentials (token-exchange role) allow: what the nucleus and the log manager
 * call, each scoped. AWS's default policy for it (GreengrassV2TokenExchangeRoleAccess) is
 * `logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents, logs:DescribeLogStreams,
 * s3:GetBucketLocation` on `*`, plus `s3:GetObject` on the artifact bucket.
 *
 * The log manager's calls, in order (aws-greengrass-log-manager v2.3.11,
 * src/main/java/com/aws/greengrass/logmanager/CloudWatchLogsUploader.java; the ledger of them is
 * test/ledger/greengrassLogManager.ts): PutLogEvents (L128-143); on ResourceNotFoundException,
 * which every new daily stream starts with, CreateLogGroup (L169-173, L189-200: anything but
 * ResourceAlreadyExistsException is rethrown and the upload given up), then CreateLogStream
 * (L174, L208-222), then PutLogEvents again (L175). So:
 * - CreateLogGroup on the two named groups only: they exist (this program or the region's owner
 *   creates them, retention and KMS), so the call only ever answers ResourceAlreadyExists, but
 *   without the grant it is AccessDenied and no log line is ever uploaded. Granted in both forms
 *   AWS is seen to authorize it on (createLogGroupResources): the Service Authorization Reference
 *   lists CreateLogGroup on the `log-group` resource type, `...:log-group:<name>`
 *   (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html),
 *   while CloudWatch Logs' own AccessDenied messages for it name `...:log-group:<name>:log-stream:`;
 *   the cost of choosing wrong is "no log line ever", the extra form grants nothing but the same
 *   existence check on the same group;
 * - CreateLogStream and PutLogEvents (both authorized on the log-stream, per the Service
 *   Authorization Reference) only on the core's own streams, `/<yyyy/MM/dd>/thing/<its Thing name>`,
 *   through `credentials-iot:ThingName` (the nucleus sends `x-amzn-iot-thingname` with every
 *   credentials request: IotCloudHelper.java L35, v2.16.1). Core Thing names may not contain `:`
 *   (the log manager writes it as `+`, which the variable would not match): config refuses it;
 * - no DescribeLogStreams: log manager 2.3.x never calls it (no other call to CloudWatch Logs in its
 *   src/main);
 * - S3 on this stack's artifact bucket and artifact prefix, KMS decrypt through S3 only.
 */
export function tokenExchangePolicy(args: TokenExchangePolicyArgs): PolicyDocument {
    return policyDocument(
        {
            Sid: "GreengrassLogGroupsExist",
            Effect: "Allow",
            Action: ["logs:CreateLogGroup"],
            Resource: args.logGroupArns.flatMap(createLogGroupResources),
        },
        {
            Sid: "GreengrassOwnLogStreams",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: args.logGroupArns.map((g) => `${g}:log-stream:/*/thing/${CREDENTIALS_THING_NAME}`),
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

/**
 * The resources `logs:CreateLogGroup` is granted on for one log group: the bare group ARN (the Service
 * Authorization Reference's `log-group` resource type) and `<group>:*`, which matches the
 * `<group>:log-stream:` form CloudWatch Logs names in its AccessDenied messages for CreateLogGroup. No
 * other group matches either (the `:` after the name ends it: log-group names cannot hold `:`).
 */
export function createLogGroupResources(logGroupArn: string): string[] {
    return [logGroupArn, `${logGroupArn}:*`];
}

/** ARN of an IoT role alias. */
export function roleAliasArn(ctx: ArnContext, alias: string): string {
    return iotArn(ctx, `rolealias/${alias}`);
}

export interface CoreRotationPolicyArgs extends ArnContext {
    /** The core rotation template. */
    templateName: string;
    deviceKeys: DeviceKeys;
    /** The certificate-confirmation rule (Basic Ingest). */
    confirmRuleName: string;
}

/**
 * What a core needs to rotate its certificate, as its own policy beside the per-core one (which is
 * near AWS IoT's 2048-character limit already): the fleet-provisioning MQTT API through the core
 * rotation template, and the confirmation through Basic Ingest. None of it names a Thing (AWS fixes
 * those topics; the answers go to the asking connection only), so one policy serves every core of the
 * stack; what keeps a core to its own Thing is the rotation hook (the asking certificate must be the
 * Thing's only one) and the per-core policy's client ids. The core templates attach it by name.
 */
export function coreRotationPolicy(args: CoreRotationPolicyArgs): PolicyDocument {
    return policyDocument(
        ...rotationStatements({ ...args, templateName: args.templateName, deviceKeys: args.deviceKeys }),
        { Sid: "ConfirmOwnCertificate", Effect: "Allow", Action: ["iot:Publish"], Resource: [iotArn(args, `topic/$aws/rules/${args.confirmRuleName}/${CONFIRM_TOPIC}`)] },
    );
}
