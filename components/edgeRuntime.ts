import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as awsnative from "@pulumi/aws-native";
import * as pulumi from "@pulumi/pulumi";
import { GreengrassConfig } from "../config/greengrassConfig";
import { ArnContext } from "../policies/document";
import { coreDevicePolicy, roleAliasArn, tokenExchangePolicy } from "../policies/greengrass";
import { serviceTrustPolicy } from "../policies/iam";
import { policyJson } from "./arnContext";
import { SecureBucket } from "./secureBucket";
import { hookedTemplate } from "./hookedTemplate";
import { AwsTarget } from "./iotSdk";

export const TELEMETRY_COMPONENT = "com.fms.VehicleTelemetry";
export const TELEMETRY_SOURCE = path.join(__dirname, "..", "edge", "telemetry", "telemetry.py");

/** The telemetry artifact's S3 key: versioned, and keyed by content so a changed program is a new object. */
export function telemetryArtifactKey(version: string, source = TELEMETRY_SOURCE): string {
    const digest = crypto.createHash("sha256").update(fs.readFileSync(source)).digest("hex").slice(0, 16);
    return `artifacts/${TELEMETRY_COMPONENT}/${version}/${digest}/telemetry.py`;
}

export interface TelemetryRecipeArgs {
    version: string;
    artifactUri: string;
    topicTemplate: string;
    ruleName: string;
    intervalSeconds: number;
}

/** The telemetry component's recipe (Greengrass recipe format 2020-01-25), as an object. */
export function telemetryRecipe(a: TelemetryRecipeArgs): Record<string, unknown> {
    return {
        RecipeFormatVersion: "2020-01-25",
        ComponentName: TELEMETRY_COMPONENT,
        ComponentVersion: a.version,
        ComponentDescription: "Publishes vehicle status to the stack's Basic Ingest topic through Greengrass IPC.",
        ComponentPublisher: "FMS IoT",
        ComponentConfiguration: {
            DefaultConfiguration: {
                topic: a.topicTemplate,
                intervalSeconds: a.intervalSeconds,
                statusFile: "/var/run/fms/vehicle-status.json",
                accessControl: {
                    "aws.greengrass.ipc.mqttproxy": {
                        [`${TELEMETRY_COMPONENT}:mqttproxy:1`]: {
                            policyDescription: "Publish vehicle status to this stack's Basic Ingest topic only",
                            operations: ["aws.greengrass#PublishToIoTCore"],
                            resources: [`$aws/rules/${a.ruleName}/*`],
                        },
                    },
                },
            },
        },
        Manifests: [{
            Platform: { os: "linux" },
            Lifecycle: {
                Install: { Script: "python3 -m pip install --user 'awsiotsdk>=1.21,<2'", Timeout: 600 },
                Run: "python3 -u {artifacts:path}/telemetry.py --topic '{configuration:/topic}' --interval {configuration:/intervalSeconds} --source '{configuration:/statusFile}'",
            },
            Artifacts: [{ URI: a.artifactUri, Unarchive: "NONE", Permission: { Read: "OWNER", Execute: "NONE" } }],
        }],
    };
}

/** Nucleus configuration: file-system logs capped in size (seed 003's logger settings). */
export function nucleusConfiguration(gg: GreengrassConfig): Record<string, unknown> {
    return { logging: { level: "INFO", format: "TEXT", fileSizeKB: gg.logs.fileSizeKB, totalLogsSizeKB: gg.logs.totalLogsSizeKB } };
}

/** Log manager configuration: system and component logs of at least the configured level to CloudWatch. */
export function logManagerConfiguration(gg: GreengrassConfig): Record<string, unknown> {
    const limit = { diskSpaceLimit: String(Math.ceil(gg.logs.totalLogsSizeKB / 1024)), diskSpaceLimitUnit: "MB" };
    return {
        logsUploaderConfiguration: {
            systemLogsConfiguration: { uploadToCloudWatch: "true", minimumLogLevel: gg.logs.cloudWatchMinimumLevel, deleteLogFileAfterCloudUpload: "false", ...limit },
            componentLogsConfigurationMap: {
                [TELEMETRY_COMPONENT]: { minimumLogLevel: gg.logs.cloudWatchMinimumLevel, deleteLogFileAfterCloudUpload: "false", ...limit },
            },
        },
        periodicUploadIntervalSec: "300",
    };
}

export interface EdgeRuntimeArgs {
    ctx: pulumi.Input<ArnContext>;
    /** Region and profile for the template-version pruner (a dynamic provider). */
    awsTarget: AwsTarget;
    namePrefix: string;
    country: string;
    greengrass: GreengrassConfig;
    /** The vehicle Thing type (core devices are vehicles too). */
    thingTypeName: pulumi.Input<string>;
    /** The pre-provisioning hook (and its registry) the core template shares with the vehicle template. */
    hookFunctionName: pulumi.Input<string>;
    hookFunctionArn: pulumi.Input<string>;
    provisioningRoleArn: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
    basicIngestRuleNames: string[];
    basicIngestRulePrefix?: string;
    protect: boolean;
}

/**
 * AWS IoT Greengrass v2 for vehicles that run edge software: token-exchange role and role alias, the
 * core-device policy, a provisioning template for core devices (same hook and registry), the
 * component-artifact bucket, the telemetry component and a deployment to the core-device group.
 */
export class EdgeRuntime extends pulumi.ComponentResource {
    public readonly roleAliasName: pulumi.Output<string>;
    public readonly thingGroupArn: pulumi.Output<string>;
    public readonly thingGroupName: pulumi.Output<string>;
    public readonly coreTemplateName: pulumi.Output<string>;
    public readonly componentArn: pulumi.Output<string>;
    public readonly deploymentId: pulumi.Output<string>;

    constructor(name: string, args: EdgeRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:EdgeRuntime", name, {}, opts);
        const parent = { parent: this };
        const retained = { parent: this, retainOnDelete: true };
        const ctx = pulumi.output(args.ctx);
        const gg = args.greengrass;

        const artifacts = new SecureBucket(`${name}-artifacts`, {
            bucketPrefix: `${args.namePrefix}-gg-artifacts-`, kmsKeyArn: args.kmsKeyArn,
        }, { parent: this, protect: args.protect });

        const tokenRole = new aws.iam.Role(`${name}-token-exchange-role`, {
            description: "Greengrass token exchange: component logs and this stack's artifacts only",
            // No aws:SourceAccount guard: the credentials provider is not documented to send it.
            assumeRolePolicy: JSON.stringify(serviceTrustPolicy("credentials.iot.amazonaws.com")),
            maxSessionDuration: Math.max(3600, gg.credentialDurationSeconds),
        }, parent);
        new aws.iam.RolePolicy(`${name}-token-exchange-policy`, {
            role: tokenRole.id,
            policy: policyJson(ctx, { bucketArn: artifacts.arn, keyArn: args.kmsKeyArn }, (c, v) =>
                tokenExchangePolicy({ ...c, artifactBucketArn: v.bucketArn, kmsKeyArn: v.keyArn })),
        }, parent);
        const roleAlias = new aws.iot.RoleAlias(`${name}-role-alias`, {
            alias: `${args.namePrefix}-gg-token-exchange`,
            roleArn: tokenRole.arn,
            credentialDuration: gg.credentialDurationSeconds,
        }, parent);

        const corePolicy = new aws.iot.Policy(`${name}-core-policy`, {
            name: `${args.namePrefix}-edge-core`,
            policy: policyJson(ctx, { alias: roleAlias.alias }, (c, v) => coreDevicePolicy({
                ...c, roleAliasArn: roleAliasArn(c, v.alias),
                basicIngestRuleNames: args.basicIngestRuleNames, basicIngestRulePrefix: args.basicIngestRulePrefix,
            })),
        }, retained);
        const group = new aws.iot.ThingGroup(`${name}-core-group`, {
            name: `${args.namePrefix}-edge-cores`,
            properties: { description: `Vehicles running Greengrass, provisioned by ${gg.templateName}` },
        }, retained);

        const template = hookedTemplate(`${name}-core`, this, {
            ctx,
            awsTarget: args.awsTarget,
            templateName: gg.templateName,
            description: `Fleet provisioning by claim for ${args.country} vehicles that run Greengrass`,
            country: args.country,
            thingNamePrefix: gg.coreThingNamePrefix,
            thingTypeName: args.thingTypeName,
            thingGroupName: group.name,
            policyName: corePolicy.name,
            provisioningRoleArn: args.provisioningRoleArn,
            hookFunctionName: args.hookFunctionName,
            hookFunctionArn: args.hookFunctionArn,
        });

        const artifactKey = telemetryArtifactKey(gg.telemetry.componentVersion);
        const artifact = new aws.s3.BucketObjectv2(`${name}-telemetry-artifact`, {
            bucket: artifacts.name,
            key: artifactKey,
            source: new pulumi.asset.FileAsset(TELEMETRY_SOURCE),
            contentType: "text/x-python",
            serverSideEncryption: "aws:kms",
            kmsKeyId: args.kmsKeyArn,
        }, { parent: this, dependsOn: artifacts.ready });
        const component = new awsnative.greengrassv2.ComponentVersion(`${name}-telemetry`, {
            inlineRecipe: pulumi.interpolate`s3://${artifacts.name}/${artifact.key}`.apply((artifactUri) => JSON.stringify(telemetryRecipe({
                version: gg.telemetry.componentVersion, artifactUri, topicTemplate: gg.telemetry.topicTemplate,
                ruleName: gg.telemetry.ruleName, intervalSeconds: gg.telemetry.intervalSeconds,
            }))),
        }, { parent: this, dependsOn: [artifact] });

        const deployment = new awsnative.greengrassv2.Deployment(`${name}-deployment`, {
            deploymentName: `${args.namePrefix}-vehicle-edge`,
            targetArn: group.arn,
            components: {
                "aws.greengrass.Nucleus": { componentVersion: gg.nucleusVersion, configurationUpdate: { merge: JSON.stringify(nucleusConfiguration(gg)) } },
                "aws.greengrass.LogManager": { componentVersion: gg.logManagerVersion, configurationUpdate: { merge: JSON.stringify(logManagerConfiguration(gg)) } },
                [TELEMETRY_COMPONENT]: { componentVersion: component.componentVersion },
            },
            deploymentPolicies: {
                failureHandlingPolicy: "ROLLBACK",
                componentUpdatePolicy: { action: "NOTIFY_COMPONENTS", timeoutInSeconds: 60 },
                configurationValidationPolicy: { timeoutInSeconds: 60 },
            },
            iotJobConfiguration: {
                jobExecutionsRolloutConfig: { maximumPerMinute: gg.rollout.maximumPerMinute },
                abortConfig: { criteriaList: [{ action: "CANCEL", failureType: "ALL", minNumberOfExecutedThings: 10, thresholdPercentage: gg.rollout.abortThresholdPercentage }] },
                timeoutConfig: { inProgressTimeoutInMinutes: 60 },
            },
        }, { parent: this, dependsOn: [template, corePolicy] });

        this.roleAliasName = roleAlias.alias;
        this.thingGroupArn = group.arn;
        this.thingGroupName = group.name;
        this.coreTemplateName = template.name;
        this.componentArn = component.arn;
        this.deploymentId = deployment.deploymentId;
        this.registerOutputs({
            roleAliasName: this.roleAliasName, thingGroupArn: this.thingGroupArn, coreTemplateName: this.coreTemplateName,
            componentArn: this.componentArn, deploymentId: this.deploymentId,
        });
    }
}
