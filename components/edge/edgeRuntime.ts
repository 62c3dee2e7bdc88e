import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as awsnative from "@pulumi/aws-native";
import * as pulumi from "@pulumi/pulumi";
import { GreengrassConfig } from "../../config/greengrassConfig";
import { ArnContext } from "../../policies/document";
import { coreRotationPolicy, greengrassComponentLogGroup, greengrassSystemLogGroup, roleAliasArn, tokenExchangePolicy } from "../../policies/greengrass";
import { DeviceKeys } from "../../policies/iotClaimPolicy";
import { serviceTrustPolicy } from "../../policies/iam";
import { policyJson } from "../arnContext";
import { SecureBucket } from "../secureBucket";
import { corePolicyTemplateDocument } from "./corePolicy";
import { hookedTemplate } from "../provisioning/hookedTemplate";
import { AwsTarget } from "../iotSdk";

export const TELEMETRY_SOURCE = path.join(__dirname, "telemetry", "telemetry.py");

/**
 * The telemetry component's name: per stack, because component ARNs are account- and region-wide
 * (`arn:aws:greengrass:<region>:<account>:components:<name>`), so two stacks in one account and
 * region would otherwise publish versions of the same component.
 */
export function telemetryComponentName(namePrefix: string): string {
    return `com.fms.${namePrefix}.VehicleTelemetry`;
}

/** The telemetry artifact's S3 key: keyed by content, so a changed program is a new object. */
export function telemetryArtifactKey(componentName: string, source = TELEMETRY_SOURCE): string {
    const digest = crypto.createHash("sha256").update(fs.readFileSync(source)).digest("hex").slice(0, 16);
    return `${ARTIFACT_PREFIX}${componentName}/${digest}/telemetry.py`;
}

export const ARTIFACT_PREFIX = "artifacts/";

/** Greengrass recipe reference: "The maximum value for major, minor, and patch values is 999999." */
const MAX_VERSION_PART = 999_999;

/**
 * The component version of a recipe: `<major.minor>.<patch>` with the patch taken from a SHA-256 of
 * the whole recipe (the artifact URI carries the artifact's own digest). AWS refuses a second
 * CreateComponentVersion of a name and version with different content, so a version that follows
 * the content is never reused for different content, and an unchanged recipe keeps its version
 * (no new component version, no deployment change).
 */
export function contentVersion(majorMinor: string, recipeWithoutVersion: Record<string, unknown>): string {
    const digest = crypto.createHash("sha256").update(JSON.stringify(recipeWithoutVersion)).digest();
    return `${majorMinor}.${digest.readUInt32BE(0) % (MAX_VERSION_PART + 1)}`;
}

/** The telemetry component's Python: the virtual environment in its work directory. */
export const VENV_PYTHON = "{work:path}/venv/bin/python3";

/** Install step: a venv in the work directory (PEP 668 systems refuse pip --user), then the AWS IoT Device SDK into it. */
export const TELEMETRY_INSTALL = `python3 -m venv {work:path}/venv && ${VENV_PYTHON} -m pip install --disable-pip-version-check --no-cache-dir 'awsiotsdk>=1.21,<2'`;

export interface TelemetryRecipeArgs {
    componentName: string;
    /** `major.minor`: the patch follows the content (contentVersion). */
    majorMinor: string;
    artifactUri: string;
    topicTemplate: string;
    ruleName: string;
    intervalSeconds: number;
}

/** The telemetry component's recipe (Greengrass recipe format 2020-01-25), as an object, its version from its content. */
export function telemetryRecipe(a: TelemetryRecipeArgs): Record<string, unknown> {
    const { ComponentVersion: _, ...content } = telemetryRecipeBody(a, "");
    return { ...content, ComponentVersion: contentVersion(a.majorMinor, content) };
}

function telemetryRecipeBody(a: TelemetryRecipeArgs, version: string): Record<string, unknown> {
    return {
        RecipeFormatVersion: "2020-01-25",
        ComponentName: a.componentName,
        ComponentVersion: version,
        ComponentDescription: "Publishes vehicle status to the stack's Basic Ingest topic through Greengrass IPC.",
        ComponentPublisher: "FMS IoT",
        ComponentConfiguration: {
            DefaultConfiguration: {
                topic: a.topicTemplate,
                intervalSeconds: a.intervalSeconds,
                statusFile: "/var/run/fms/vehicle-status.json",
                accessControl: {
                    "aws.greengrass.ipc.mqttproxy": {
                        [`${a.componentName}:mqttproxy:1`]: {
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
                // PEP 668 ("Marking Python base environments as externally managed"): Debian 12, Ubuntu
                // 23.04+ and Raspberry Pi OS bookworm mark their python3 EXTERNALLY-MANAGED and pip refuses
                // `--user` installs there (error: externally-managed-environment); inside a virtual
                // environment the marker does not apply. So the SDK goes into a venv in the component's
                // work directory ({work:path}: aws-greengrass-nucleus v2.16.1, KernelConfigResolver.java
                // L126, <root>/work/<component>), which also needs no home directory for ggc_user.
                Install: { Script: TELEMETRY_INSTALL, Timeout: 600 },
                Run: `${VENV_PYTHON} -u {artifacts:path}/telemetry.py --topic '{configuration:/topic}' --interval {configuration:/intervalSeconds} --source '{configuration:/statusFile}'`,
            },
            Artifacts: [{ URI: a.artifactUri, Unarchive: "NONE", Permission: { Read: "OWNER", Execute: "NONE" } }],
        }],
    };
}

/**
 * Nucleus configuration: file-system logs capped in size (seed 003's logger settings), written as JSON.
 * The log manager applies `minimumLogLevel` only to lines it can read as a Greengrass JSON log message;
 * every other line is uploaded whatever its level (aws-greengrass-log-manager v2.3.11,
 * src/main/java/com/aws/greengrass/logmanager/CloudWatchAttemptLogsProcessor.java L253-262: a structured
 * message goes through checkAndAddNewLogEvent, which drops it below the level, L364-366; L263-286: any
 * other line goes to addNewLogEvent unfiltered). The nucleus writes its own and every component's log
 * file in the format set here (aws-greengrass-nucleus v2.16.1, DeviceConfiguration.java L775-776,
 * `format` -> LogFormat), so TEXT would upload every line at every level.
 */
export function nucleusConfiguration(gg: GreengrassConfig): Record<string, unknown> {
    return { logging: { level: "INFO", format: "JSON", fileSizeKB: gg.logs.fileSizeKB, totalLogsSizeKB: gg.logs.totalLogsSizeKB } };
}

/** Log manager configuration: system and component logs of at least the configured level to CloudWatch. */
export function logManagerConfiguration(gg: GreengrassConfig, componentName: string): Record<string, unknown> {
    const limit = { diskSpaceLimit: String(Math.ceil(gg.logs.totalLogsSizeKB / 1024)), diskSpaceLimitUnit: "MB" };
    return {
        logsUploaderConfiguration: {
            systemLogsConfiguration: { uploadToCloudWatch: "true", minimumLogLevel: gg.logs.cloudWatchMinimumLevel, deleteLogFileAfterCloudUpload: "false", ...limit },
            componentLogsConfigurationMap: {
                [componentName]: { minimumLogLevel: componentMinimumLevel(gg.logs.cloudWatchMinimumLevel), deleteLogFileAfterCloudUpload: "false", ...limit },
            },
        },
        periodicUploadIntervalSec: "300",
    };
}

/**
 * The level a generic component's lines are uploaded from. The nucleus logs a component's stdout at INFO
 * and its stderr at WARN (aws-greengrass-nucleus v2.16.1,
 * src/main/java/com/aws/greengrass/lifecyclemanager/ShellRunner.java L55 `atInfo().setEventType("stdout")`,
 * L59 `atWarn().setEventType("stderr")`), so nothing a component prints is ERROR: an ERROR filter would
 * drop every traceback (Python writes them to stderr). ERROR is kept for the nucleus' own lines and
 * becomes WARN for the component.
 */
export function componentMinimumLevel(level: string): string {
    return level === "ERROR" ? "WARN" : level;
}

/** The token-exchange role alias of a stack. */
export function coreRoleAliasName(namePrefix: string): string {
    return `${namePrefix}-gg-token-exchange`;
}

export interface EdgeRuntimeArgs {
    ctx: pulumi.Input<ArnContext>;
    /** Region and profile for the template-version pruner (a dynamic provider). */
    awsTarget: AwsTarget;
    namePrefix: string;
    region: string;
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
    /** Certificate rotation: the confirmation rule cores confirm through, and the key mode of their CSRs. */
    confirmRuleName: string;
    deviceKeys: DeviceKeys;
    logRetentionDays: number;
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
    public readonly coreRotationTemplateName: pulumi.Output<string>;
    public readonly componentArn: pulumi.Output<string>;
    public readonly deploymentId: pulumi.Output<string>;
    public readonly componentName: string;
    /** The AWS IoT credentials-provider endpoint a core's nucleus and plugin are configured with. */
    public readonly credentialEndpoint: pulumi.Output<string>;
    public readonly logGroupNames: string[];

    constructor(name: string, args: EdgeRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:EdgeRuntime", name, {}, opts);
        const parent = { parent: this };
        const retained = { parent: this, retainOnDelete: true };
        const ctx = pulumi.output(args.ctx);
        const gg = args.greengrass;

        const artifacts = new SecureBucket(`${name}-artifacts`, {
            bucketPrefix: `${args.namePrefix}-gg-artifacts-`, kmsKeyArn: args.kmsKeyArn,
        }, { parent: this, protect: args.protect });

        const componentName = telemetryComponentName(args.namePrefix);
        const systemGroupName = greengrassSystemLogGroup(args.region);
        const componentGroupName = greengrassComponentLogGroup(args.region, componentName);
        const logGroupNames = [systemGroupName, componentGroupName];
        // The log manager calls CreateLogGroup before every new stream and creates a missing group without
        // retention or KMS: both groups exist before any core uploads. The region's system group has one
        // owner (systemLogGroup: create, by default the stack that owns the region's IoT settings),
        // protected like the stack's other state and retained on delete (other stacks' cores write to it);
        // the others look it up, so their `up` fails until the owner's has created it.
        const componentGroup = new aws.cloudwatch.LogGroup(`${name}-telemetry-logs`, {
            name: componentGroupName, retentionInDays: args.logRetentionDays, kmsKeyId: args.kmsKeyArn,
        }, parent);
        const ownsSystemGroup = gg.logs.systemLogGroup === "create";
        const systemGroup = ownsSystemGroup
            ? new aws.cloudwatch.LogGroup(`${name}-system-logs`, {
                name: systemGroupName, retentionInDays: args.logRetentionDays, kmsKeyId: args.kmsKeyArn,
            }, { parent: this, protect: args.protect, retainOnDelete: true })
            : undefined;
        const systemGroupArn = systemGroup
            ? systemGroup.arn
            : aws.cloudwatch.getLogGroupOutput({ name: systemGroupName }, parent).arn;
        const logGroups = [componentGroup, ...(systemGroup ? [systemGroup] : [])];

        const tokenRole = new aws.iam.Role(`${name}-token-exchange-role`, {
            description: "Greengrass token exchange: each core's own log streams and this stack's artifacts only",
            // No aws:SourceAccount guard: the credentials provider is not documented to send it.
            assumeRolePolicy: JSON.stringify(serviceTrustPolicy("credentials.iot.amazonaws.com")),
            maxSessionDuration: Math.max(3600, gg.credentialDurationSeconds),
        }, parent);
        new aws.iam.RolePolicy(`${name}-token-exchange-policy`, {
            role: tokenRole.id,
            policy: policyJson(ctx, { bucketArn: artifacts.arn, keyArn: args.kmsKeyArn, groups: pulumi.all([systemGroupArn, componentGroup.arn]) }, (c, v) => tokenExchangePolicy({
                ...c, artifactBucketArn: v.bucketArn, artifactKeyPrefix: ARTIFACT_PREFIX, kmsKeyArn: v.keyArn, logGroupArns: v.groups,
            })),
        }, parent);
        const roleAlias = new aws.iot.RoleAlias(`${name}-role-alias`, {
            alias: coreRoleAliasName(args.namePrefix),
            roleArn: tokenRole.arn,
            credentialDuration: gg.credentialDurationSeconds,
        }, parent);

        // One policy per core, created by the core template from the core's own Thing name (AWS's
        // documented alternative to a prefix-wide core policy). Its name is AWS's hash of the evaluated
        // document: the same document for the same Thing names the same policy (corePolicyTemplateDocument).
        const corePolicyDocument = pulumi.all([ctx, roleAlias.alias]).apply(([c, alias]) => corePolicyTemplateDocument({
            ...c, coreThingNamePrefix: gg.coreThingNamePrefix, roleAliasArn: roleAliasArn(c, alias),
            basicIngestRuleNames: args.basicIngestRuleNames, basicIngestRulePrefix: args.basicIngestRulePrefix,
        }));
        const group = new aws.iot.ThingGroup(`${name}-core-group`, {
            name: `${args.namePrefix}-edge-cores`,
            properties: { description: `Vehicles running Greengrass, provisioned by ${gg.templateName}` },
        }, retained);

        // Rotation: a policy every core certificate also gets (the per-core one has no room left), and a
        // rotation template with the core template's body (the same per-core policy for the same Thing, its
        // group kept), which only a provisioned core reaches and the hook allows for its own Thing only.
        const rotationPolicy = new aws.iot.Policy(`${name}-core-rotation-policy`, {
            name: `${args.namePrefix}-core-rotation`,
            policy: policyJson(ctx, {}, (c) => coreRotationPolicy({ ...c, templateName: gg.rotationTemplateName, deviceKeys: args.deviceKeys, confirmRuleName: args.confirmRuleName })),
        }, retained);
        const coreTemplate = (suffix: string, templateName: string, description: string) => hookedTemplate(`${name}${suffix}`, this, {
            ctx,
            awsTarget: args.awsTarget,
            templateName,
            description,
            country: args.country,
            thingNamePrefix: gg.coreThingNamePrefix,
            thingTypeName: args.thingTypeName,
            thingGroupName: group.name,
            policyDocument: corePolicyDocument,
            extraPolicyName: rotationPolicy.name,
            provisioningRoleArn: args.provisioningRoleArn,
            hookFunctionName: args.hookFunctionName,
            hookFunctionArn: args.hookFunctionArn,
        });
        const template = coreTemplate("-core", gg.templateName, `Fleet provisioning by claim for ${args.country} vehicles that run Greengrass`);
        const rotationTemplate = coreTemplate("-core-rotation", gg.rotationTemplateName, `Certificate rotation for provisioned ${args.country} Greengrass cores`);

        // Replaced versions stay: a changed program is a new artifact key and a changed recipe a new
        // component version (both replacements), and retainOnDelete leaves the old object and version in
        // AWS, so a core can roll back to them (the deployment's ROLLBACK, or a deployment that pins the
        // older version). Pruning them is an operator's choice (docs/greengrass.md).
        const artifactKey = telemetryArtifactKey(componentName);
        const artifact = new aws.s3.BucketObjectv2(`${name}-telemetry-artifact`, {
            bucket: artifacts.name,
            key: artifactKey,
            source: new pulumi.asset.FileAsset(TELEMETRY_SOURCE),
            contentType: "text/x-python",
            serverSideEncryption: "aws:kms",
            kmsKeyId: args.kmsKeyArn,
        }, { parent: this, dependsOn: artifacts.ready, retainOnDelete: true });
        const component = new awsnative.greengrassv2.ComponentVersion(`${name}-telemetry`, {
            inlineRecipe: pulumi.interpolate`s3://${artifacts.name}/${artifact.key}`.apply((artifactUri) => JSON.stringify(telemetryRecipe({
                componentName, majorMinor: gg.telemetry.componentVersion, artifactUri, topicTemplate: gg.telemetry.topicTemplate,
                ruleName: gg.telemetry.ruleName, intervalSeconds: gg.telemetry.intervalSeconds,
            }))),
        }, { parent: this, dependsOn: [artifact], retainOnDelete: true });

        const deployment = new awsnative.greengrassv2.Deployment(`${name}-deployment`, {
            deploymentName: `${args.namePrefix}-vehicle-edge`,
            targetArn: group.arn,
            components: {
                "aws.greengrass.Nucleus": { componentVersion: gg.nucleusVersion, configurationUpdate: { merge: JSON.stringify(nucleusConfiguration(gg)) } },
                "aws.greengrass.LogManager": { componentVersion: gg.logManagerVersion, configurationUpdate: { merge: JSON.stringify(logManagerConfiguration(gg, componentName)) } },
                [componentName]: { componentVersion: component.componentVersion },
            },
            deploymentPolicies: {
                failureHandlingPolicy: "ROLLBACK",
                componentUpdatePolicy: { action: "NOTIFY_COMPONENTS", timeoutInSeconds: 60 },
                configurationValidationPolicy: { timeoutInSeconds: 60 },
            },
            iotJobConfiguration: {
                jobExecutionsRolloutConfig: { maximumPerMinute: gg.rollout.maximumPerMinute },
                // AWS IoT Jobs abort criteria: failureType FAILED | REJECTED | TIMED_OUT | ALL. A continuous job
                // cancelled by this rule stays cancelled for every core added to the group later: FAILED only
                // (an offline vehicle times out, which is no sign of a bad release), after abortAfterCores.
                abortConfig: { criteriaList: [{ action: "CANCEL", failureType: "FAILED", minNumberOfExecutedThings: gg.rollout.abortAfterCores, thresholdPercentage: gg.rollout.abortThresholdPercentage }] },
                // No timeoutConfig (deploymentJobConfiguration): an in-progress timeout makes an execution still
                // IN_PROGRESS when it ends "switch to the terminal TIMED_OUT status" (AWS IoT API reference,
                // TimeoutConfig: https://docs.aws.amazon.com/iot/latest/apireference/API_TimeoutConfig.html), and a
                // terminal execution is never offered again: the nucleus asks only for `$next` (the next QUEUED or
                // IN_PROGRESS execution; aws-greengrass-nucleus v2.16.1, IotJobsHelper.java L99, L468-473, L527).
                // A vehicle switched off mid-deployment keeps its IN_PROGRESS execution and resumes it when it is
                // next on line, however long it was parked.
            },
        }, { parent: this, dependsOn: [template, ...logGroups] });

        this.roleAliasName = roleAlias.alias;
        this.thingGroupArn = group.arn;
        this.thingGroupName = group.name;
        this.coreTemplateName = template.name;
        this.coreRotationTemplateName = rotationTemplate.name;
        this.componentArn = component.arn;
        this.deploymentId = deployment.deploymentId;
        this.componentName = componentName;
        this.logGroupNames = logGroupNames;
        this.credentialEndpoint = aws.iot.getEndpointOutput({ endpointType: "iot:CredentialProvider" }, parent).endpointAddress;
        this.registerOutputs({
            roleAliasName: this.roleAliasName, thingGroupArn: this.thingGroupArn, coreTemplateName: this.coreTemplateName,
            componentArn: this.componentArn, componentName, deploymentId: this.deploymentId, credentialEndpoint: this.credentialEndpoint,
        });
    }
}
