import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArnContext, iotArn } from "../../policies/document";
import { hookRolePolicy, thingsRegistrationPolicyArn } from "../../policies/iam";
import { DeviceKeys } from "../../policies/iotClaimPolicy";
import { devicePolicy } from "../../policies/iotDevicePolicy";
import { REGISTRY_CLAIM_ATTRIBUTES, TemplateRule } from "./lambda/provisioningHook";
import { ROTATION_HOOK_ATTRIBUTES } from "../runtime/rotationState";
import { policyJson, trustedBy } from "../arnContext";
import { handlerArchive } from "../lambdaBundle";
import { nodeLambda } from "../nodeLambda";
import { hookedTemplate } from "./hookedTemplate";
import { AwsTarget } from "../iotSdk";
import { SEARCHABLE_ATTRIBUTES, TEMPLATE_PARAMETERS } from "./templateBody";
import { IdentityMode } from "../../config/identityConfig";

export const HOOK_ENTRY = path.join(__dirname, "lambda", "provisioningHook.ts");

export interface FleetProvisioningArgs {
    ctx: pulumi.Input<ArnContext>;
    /** Region and profile for the template-version pruner (a dynamic provider). */
    awsTarget: AwsTarget;
    /** Physical names are derived from it: `<namePrefix>-device`, `<namePrefix>-provisioning-hook`, ... */
    namePrefix: string;
    country: string;
    templateName: string;
    /** Name of the vehicles' IoT policy (default `<namePrefix>-device`). */
    devicePolicyName: string;
    thingNamePrefix: string;
    serialPrefixes: string[];
    hookMode: "prefix" | "registry";
    deviceKeys: DeviceKeys;
    /** Prefix mode only: the hook provisions a serial whose Thing already exists. */
    allowReprovisioning: boolean;
    /**
     * The template a provisioned vehicle calls, with its own certificate, for its next certificate;
     * how long a replaced certificate stays active, and how long a rotated one may stay unconfirmed.
     */
    rotation: { templateName: string; gracePeriodHours: number; confirmTimeoutHours: number };
    /** Concurrency reserved for the hook (none by default). */
    hookReservedConcurrency?: number;
    /** Another template the shared hook serves (Greengrass core devices), with the serials bound to it. */
    coreTemplate?: { templateName: string; rotationTemplateName: string; thingNamePrefix: string; serialPrefixes: string[] };
    deviceRoot: string;
    /** Topic rules vehicles reach through Basic Ingest, and the prefix all their names share. */
    basicIngestRuleNames: string[];
    basicIngestRulePrefix?: string;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    /** `protect` the registry table. */
    protect: boolean;
    /**
     * Where vehicles' certificates come from (default claim). oemCa: no claim or rotation template, no hook and no
     * provisioning role (units arrive with the maker's certificates; OemCaRegistration makes their Things), and a
     * device policy without the rotation template (the maker renews certificates).
     */
    identityMode?: IdentityMode;
}

/** The claim side of provisioning: templates, hook and role (absent in oemCa mode). */
export interface ClaimProvisioning {
    templateName: pulumi.Output<string>;
    templateArn: pulumi.Output<string>;
    rotationTemplateName: pulumi.Output<string>;
    hookFunctionArn: pulumi.Output<string>;
    hookFunctionName: pulumi.Output<string>;
    hookLogGroupName: pulumi.Output<string>;
    provisioningRoleArn: pulumi.Output<string>;
}

/**
 * Everything a vehicle needs to provision itself by claim: the device policy, the serial registry,
 * the pre-provisioning hook, the provisioning role, a Thing type and group, and the template.
 *
 * The device policy, Thing type and Thing group outlive the stack (`retainOnDelete`): every
 * provisioned vehicle's certificate holds the policy and its Thing uses the type and group, so AWS
 * would refuse to delete them and `pulumi destroy` would fail halfway.
 */
export class FleetProvisioning extends pulumi.ComponentResource {
    public readonly devicePolicyName: pulumi.Output<string>;
    /** Templates, hook and provisioning role: absent in oemCa mode. */
    public readonly claim?: ClaimProvisioning;
    public readonly registryTableName: pulumi.Output<string>;
    public readonly registryTableArn: pulumi.Output<string>;
    public readonly thingGroupName: pulumi.Output<string>;
    public readonly thingGroupArn: pulumi.Output<string>;
    public readonly thingTypeName: pulumi.Output<string>;
    public readonly rotationTableName: pulumi.Output<string>;
    public readonly rotationTableArn: pulumi.Output<string>;

    constructor(name: string, args: FleetProvisioningArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:FleetProvisioning", name, {}, opts);
        const retained = { parent: this, retainOnDelete: true };
        const ctx = pulumi.output(args.ctx);
        const oemCa = args.identityMode === "oemCa";

        const policy = new aws.iot.Policy(`${name}-device-policy`, {
            name: args.devicePolicyName,
            policy: policyJson(ctx, {}, (c) => devicePolicy({
                ...c, deviceRoot: args.deviceRoot, basicIngestRuleNames: args.basicIngestRuleNames, basicIngestRulePrefix: args.basicIngestRulePrefix,
                rotation: oemCa ? undefined : { templateName: args.rotation.templateName, deviceKeys: args.deviceKeys },
            })),
        }, retained);

        const thingType = new aws.iot.ThingType(`${name}-thing-type`, {
            name: `${args.namePrefix}-vehicle`,
            properties: { description: oemCa ? `Vehicles with the maker's certificates (${args.country})` : `Vehicles provisioned by ${args.templateName}`, searchableAttributes: SEARCHABLE_ATTRIBUTES },
        }, retained);

        const thingGroup = new aws.iot.ThingGroup(`${name}-thing-group`, {
            name: `${args.namePrefix}-vehicles`,
            properties: { description: oemCa ? `Vehicles with the maker's certificates (${args.country})` : `Vehicles provisioned by ${args.templateName} (${args.country})` },
        }, retained);

        const registry = new aws.dynamodb.Table(`${name}-registry`, {
            billingMode: "PAY_PER_REQUEST",
            hashKey: "serialNumber",
            attributes: [{ name: "serialNumber", type: "S" }],
            pointInTimeRecovery: { enabled: true },
            serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
            deletionProtectionEnabled: args.protect,
        }, { parent: this, protect: args.protect });

        // Rotation state per Thing (pending retirements, unconfirmed rotations): the hook writes it, the
        // rotation component's confirm and sweep steps read and clear it. It was the rotation component's
        // schedule table: the alias keeps that table (and what it has scheduled) in place.
        const rotationTable = new aws.dynamodb.Table(`${name}-rotation-state`, {
            billingMode: "PAY_PER_REQUEST",
            hashKey: "thingName",
            attributes: [{ name: "thingName", type: "S" }],
            pointInTimeRecovery: { enabled: true },
            serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
        }, { parent: this, aliases: [{ name: `${args.namePrefix}-rotation-schedule`, parent: pulumi.createUrn(`${args.namePrefix}-rotation`, "fms:iot:CertificateRotation") }] });

        this.claim = oemCa ? undefined : this.claimSide(name, args, ctx, { registry, rotationTable, policy, thingType, thingGroup });
        this.devicePolicyName = policy.name;
        this.registryTableName = registry.name;
        this.registryTableArn = registry.arn;
        this.thingGroupName = thingGroup.name;
        this.thingGroupArn = thingGroup.arn;
        this.thingTypeName = thingType.name;
        this.rotationTableName = rotationTable.name;
        this.rotationTableArn = rotationTable.arn;
        this.registerOutputs({
            devicePolicyName: this.devicePolicyName,
            templateName: this.claim?.templateName,
            templateArn: this.claim?.templateArn,
            rotationTemplateName: this.claim?.rotationTemplateName,
            registryTableName: this.registryTableName,
            hookFunctionArn: this.claim?.hookFunctionArn,
            thingGroupArn: this.thingGroupArn,
        });
    }

    /** The fleet-provisioning side: what the hook accepts, the hook, the provisioning role and the two templates. */
    private claimSide(name: string, args: FleetProvisioningArgs, ctx: pulumi.Output<ArnContext>, r: {
        registry: aws.dynamodb.Table; rotationTable: aws.dynamodb.Table; policy: aws.iot.Policy; thingType: aws.iot.ThingType; thingGroup: aws.iot.ThingGroup;
    }): ClaimProvisioning {
        const parent = { parent: this };
        const { registry, rotationTable, policy, thingType, thingGroup } = r;
        // What the hook accepts through each template it serves: a serial is bound to one of them, and
        // a device sends no parameter but the serial.
        const deviceParameters = [TEMPLATE_PARAMETERS.serialNumber];
        const rules: Record<string, TemplateRule> = {
            [args.templateName]: { purpose: "provision", thingNamePrefix: args.thingNamePrefix, serialPrefixes: args.serialPrefixes, deviceParameters },
            [args.rotation.templateName]: { purpose: "rotate", thingNamePrefix: args.thingNamePrefix, serialPrefixes: args.serialPrefixes, deviceParameters },
            ...(args.coreTemplate ? {
                [args.coreTemplate.templateName]: { purpose: "provision" as const, thingNamePrefix: args.coreTemplate.thingNamePrefix, serialPrefixes: args.coreTemplate.serialPrefixes, deviceParameters },
                [args.coreTemplate.rotationTemplateName]: { purpose: "rotate" as const, thingNamePrefix: args.coreTemplate.thingNamePrefix, serialPrefixes: args.coreTemplate.serialPrefixes, deviceParameters },
            } : {}),
        };
        const provisionPrefixes = Object.values(rules).filter((r) => r.purpose === "provision").map((r) => r.thingNamePrefix);
        const { fn: hook, logGroup } = nodeLambda(`${name}-hook`, this, {
            ctx,
            functionName: `${args.namePrefix}-provisioning-hook`,
            description: `Pre-provisioning hook of fleet provisioning template ${args.templateName}`,
            roleDescription: `Pre-provisioning hook of ${args.templateName}: its logs and its registry only`,
            code: handlerArchive(HOOK_ENTRY),
            handler: "index.handler",
            timeout: 4,
            environment: {
                HOOK_MODE: args.hookMode,
                REGISTRY_TABLE: registry.name,
                HOOK_TEMPLATES: JSON.stringify(rules),
                ALLOW_REPROVISIONING: String(args.allowReprovisioning),
                // With AWS-made keys (deviceKeys: aws) there is no device key to bind a serial to.
                BIND_KEYS: String(args.hookMode === "registry" && args.deviceKeys === "device"),
                ROTATION_TABLE: rotationTable.name,
                GRACE_PERIOD_HOURS: String(args.rotation.gracePeriodHours),
                CONFIRM_TIMEOUT_HOURS: String(args.rotation.confirmTimeoutHours),
            },
            reservedConcurrentExecutions: args.hookReservedConcurrency,
            kmsKeyArn: args.kmsKeyArn,
            logRetentionDays: args.logRetentionDays,
            policyInputs: { tableArn: registry.arn, rotationTableArn: rotationTable.arn, keyArn: args.kmsKeyArn },
            policy: (c, logGroupArn, v) => hookRolePolicy({
                ...c,
                logGroupArn,
                registryTableArn: v.tableArn,
                prefixClaim: args.hookMode === "prefix",
                registryClaimAttributes: REGISTRY_CLAIM_ATTRIBUTES,
                rotationTableArn: v.rotationTableArn,
                rotationAttributes: ROTATION_HOOK_ATTRIBUTES,
                keyArn: v.keyArn,
                describeThingPrefixes: args.hookMode === "prefix" && !args.allowReprovisioning ? provisionPrefixes : [],
                listPrincipalsThingPrefixes: [args.thingNamePrefix, ...(args.coreTemplate ? [args.coreTemplate.thingNamePrefix] : [])],
            }),
        });

        // AWS IoT assumes it on behalf of this stack's templates only (aws:SourceArn as well as aws:SourceAccount).
        const templateArns = Object.keys(rules);
        const provisioningRole = new aws.iam.Role(`${name}-provisioning-role`, {
            description: `Fleet provisioning role of ${args.templateName}`,
            assumeRolePolicy: trustedBy("iot.amazonaws.com", ctx, (c) => templateArns.map((t) => iotArn(c, `provisioningtemplate/${t}`))),
        }, parent);
        const registration = new aws.iam.RolePolicyAttachment(`${name}-provisioning-registration`, {
            role: provisioningRole.name,
            policyArn: ctx.apply((c) => thingsRegistrationPolicyArn(c.partition)),
        }, parent);

        const vehicleTemplate = (suffix: string, templateName: string, description: string) => hookedTemplate(`${name}${suffix}`, this, {
            ctx,
            awsTarget: args.awsTarget,
            templateName,
            description,
            country: args.country,
            thingNamePrefix: args.thingNamePrefix,
            thingTypeName: thingType.name,
            thingGroupName: thingGroup.name,
            policyName: policy.name,
            provisioningRoleArn: provisioningRole.arn,
            hookFunctionName: hook.name,
            hookFunctionArn: hook.arn,
            dependsOn: [registration],
        });
        const template = vehicleTemplate("", args.templateName, `Fleet provisioning by claim for ${args.country} vehicles`);
        // The same body: a Thing that exists keeps its group and gets the new certificate, CertDate and
        // CertExpiry. Only provisioned vehicles (the device policy, not the claim policy) reach it, and
        // the hook allows it only for the Thing the asking certificate is attached to.
        const rotationTemplate = vehicleTemplate("-rotation", args.rotation.templateName, `Certificate rotation for provisioned ${args.country} vehicles`);

        return {
            templateName: template.name,
            templateArn: template.arn,
            rotationTemplateName: rotationTemplate.name,
            hookFunctionArn: hook.arn,
            hookFunctionName: hook.name,
            hookLogGroupName: logGroup.name,
            provisioningRoleArn: provisioningRole.arn,
        };
    }
}
