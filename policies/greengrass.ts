import { ArnContext, iotArn, PolicyDocument, policyDocument } from "./document";
import { THING_NAME, thingPolicy } from "./iotDevicePolicy";

/** Topic paths of a Greengrass v2 core device: its health reports, shadows and jobs (deployments). */
export function coreDeviceTopicPaths(): string[] {
    return [
        `$aws/things/${THING_NAME}/greengrassv2/health/json`,
        `$aws/things/${THING_NAME}/shadow/*`,
        `$aws/things/${THING_NAME}/jobs/*`,
    ];
}

export interface CoreDevicePolicyArgs extends ArnContext {
    roleAliasArn: string;
    basicIngestRuleNames: readonly string[];
    basicIngestRulePrefix?: string;
}

/**
 * IoT policy of a Greengrass v2 core device (a vehicle running edge software): connect as its own
 * Thing, its Greengrass health, shadow and jobs topics, the Basic Ingest topics its components
 * publish to, `iot:AssumeRoleWithCertificate` on this stack's role alias only, and the Greengrass
 * data-plane calls a core makes (component artifacts from any account, as AWS-provided components
 * live in AWS's; the others do not support resource-level scoping).
 *
 * The nucleus opens extra MQTT connections (`<thing>#2`, ...) only past 50 subscriptions; this
 * policy, like AWS IoT's thing policy variables, assumes one.
 */
export function coreDevicePolicy(args: CoreDevicePolicyArgs): PolicyDocument {
    return thingPolicy({
        ...args,
        policyName: "coreDevicePolicy",
        ownTopicPaths: coreDeviceTopicPaths(),
        extraStatements: [
            {
                Sid: "TokenExchangeThroughRoleAlias",
                Effect: "Allow",
                Action: ["iot:AssumeRoleWithCertificate"],
                Resource: [args.roleAliasArn],
            },
            {
                Sid: "GreengrassComponentArtifacts",
                Effect: "Allow",
                Action: ["greengrass:GetComponentVersionArtifact"],
                Resource: [`arn:${args.partition}:greengrass:${args.region}:*:components:*`],
            },
            {
                Sid: "GreengrassDataPlane",
                Effect: "Allow",
                Action: ["greengrass:ResolveComponentCandidates", "greengrass:GetDeploymentConfiguration", "greengrass:ListThingGroupsForCoreDevice"],
                Resource: ["*"],
            },
        ],
    });
}

export interface TokenExchangePolicyArgs extends ArnContext {
    artifactBucketArn: string;
    /** Key the artifact bucket is encrypted with. */
    kmsKeyArn: string;
}

/**
 * What Greengrass components may do with the core's AWS credentials (token exchange role): write
 * their own CloudWatch logs under `/aws/greengrass/`, read this stack's component artifacts.
 */
export function tokenExchangePolicy(args: TokenExchangePolicyArgs): PolicyDocument {
    const logGroups = `arn:${args.partition}:logs:${args.region}:${args.accountId}:log-group:/aws/greengrass/*`;
    return policyDocument(
        {
            Sid: "GreengrassLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resource: [logGroups, `${logGroups}:*`],
        },
        {
            Sid: "ReadComponentArtifacts",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: [`${args.artifactBucketArn}/*`],
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
