/**
 * AWS IoT's account-and-region singletons, owned by one stack per account and region
 * (`operations.regionSettingsOwner`): logging options, the Device Defender audit configuration and
 * the fleet-indexing configuration. A dynamic provider instead of the typed resources because:
 * - those are upserts in the AWS API (SetV2LoggingOptions, UpdateAccountAuditConfiguration,
 *   UpdateIndexingConfiguration), but `aws-native:iot:AccountAuditConfiguration` refuses to create
 *   over an existing configuration ("a configuration with different properties already exists"):
 *   here a region that already has one is adopted, never failed on;
 * - the previous settings are recorded at create and put back on delete (never configured: logging
 *   off, audit configuration deleted, indexing off), so `pulumi destroy` leaves the region as it was;
 * - a role created moments before is not yet assumable by AWS IoT (IAM propagation): the calls that
 *   name a role are retried while AWS IoT says the request is invalid because of it;
 * - fleet metrics on a new index fail with `IndexNotReadyException` ("The index is not ready", per
 *   CreateFleetMetric's errors): this resource returns only once `AWS_Things` is ACTIVE, and the
 *   fleet metrics depend on it.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { IoTClient } from "@aws-sdk/client-iot";
import { assertAllowedAccount, AwsTarget, errorName, explain, iotClient } from "../iotSdk";

export interface AuditCheck {
    enabled: boolean;
    configuration?: Record<string, string>;
}

export interface LoggingSettings {
    roleArn?: string;
    defaultLogLevel?: string;
    disableAllLogs: boolean;
}

export interface AuditSettings {
    roleArn?: string;
    /** Keyed by check name (DEVICE_CERTIFICATE_AGE_CHECK, ...). */
    checks: Record<string, AuditCheck>;
    sns?: { targetArn: string; roleArn: string; enabled: boolean };
}

export interface IndexingSettings {
    thingIndexingMode: string;
    thingConnectivityIndexingMode?: string;
    customFields: { name: string; type: string }[];
}

export interface RegionSettingsTiming {
    /** How long a new role may take to become assumable by AWS IoT (IAM propagation). */
    rolePropagationSeconds: number;
    /** How long the fleet index may take to become ACTIVE. */
    indexReadySeconds: number;
    pollSeconds: number;
}

export interface RegionSettingsInputs extends AwsTarget {
    /** The owning stack, for the record. */
    owner: string;
    logging: { roleArn: string; defaultLogLevel: string };
    audit: { roleArn: string; checks: Record<string, AuditCheck>; sns: { targetArn: string; roleArn: string } };
    indexing: { customFields: { name: string; type: string }[] };
    timing?: RegionSettingsTiming;
}

/** What the region had before this stack took it over (null: never configured). */
export interface PreviousSettings {
    logging: LoggingSettings | null;
    audit: AuditSettings | null;
    indexing: IndexingSettings | null;
}

export interface RegionSettingsOutputs extends RegionSettingsInputs {
    previous: PreviousSettings;
    indexStatus: string;
}

const RESOURCE = "RegionSettings";
const INDEX = "AWS_Things";
export const DEFAULT_TIMING: RegionSettingsTiming = { rolePropagationSeconds: 120, indexReadySeconds: 900, pollSeconds: 10 };

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** AWS IoT refuses a role it cannot assume yet with InvalidRequestException naming the role. */
function isRoleNotReady(err: unknown): boolean {
    return errorName(err) === "InvalidRequestException" && /role/i.test((err as Error)?.message ?? "");
}

async function withRoleRetry<T>(timing: RegionSettingsTiming, call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + timing.rolePropagationSeconds * 1000;
    for (;;) {
        try {
            return await call();
        } catch (err) {
            if (!isRoleNotReady(err) || Date.now() >= deadline) throw err;
            await sleep(timing.pollSeconds);
        }
    }
}

async function readPrevious(iot: IoTClient, region: string): Promise<PreviousSettings> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    let logging: LoggingSettings | null = null;
    try {
        const l = await iot.send(new sdk.GetV2LoggingOptionsCommand({}));
        logging = { roleArn: l.roleArn, defaultLogLevel: l.defaultLogLevel, disableAllLogs: l.disableAllLogs === true };
    } catch (err) {
        if (errorName(err) !== "NotConfiguredException") throw explain(RESOURCE, "GetV2LoggingOptions", region, err);
    }
    let audit: AuditSettings | null = null;
    try {
        const a = await iot.send(new sdk.DescribeAccountAuditConfigurationCommand({}));
        const checks: Record<string, AuditCheck> = {};
        for (const [name, c] of Object.entries(a.auditCheckConfigurations ?? {})) {
            checks[name] = { enabled: c?.enabled === true, ...(c?.configuration ? { configuration: c.configuration as Record<string, string> } : {}) };
        }
        const sns = a.auditNotificationTargetConfigurations?.SNS;
        if (a.roleArn || Object.values(checks).some((c) => c.enabled)) {
            audit = { roleArn: a.roleArn, checks, ...(sns?.targetArn && sns.roleArn ? { sns: { targetArn: sns.targetArn, roleArn: sns.roleArn, enabled: sns.enabled === true } } : {}) };
        }
    } catch (err) {
        throw explain(RESOURCE, "DescribeAccountAuditConfiguration", region, err);
    }
    let indexing: IndexingSettings | null = null;
    try {
        const i = await iot.send(new sdk.GetIndexingConfigurationCommand({}));
        const t = i.thingIndexingConfiguration;
        if (t?.thingIndexingMode && t.thingIndexingMode !== "OFF") {
            indexing = {
                thingIndexingMode: t.thingIndexingMode,
                ...(t.thingConnectivityIndexingMode ? { thingConnectivityIndexingMode: t.thingConnectivityIndexingMode } : {}),
                customFields: (t.customFields ?? []).map((f) => ({ name: f.name ?? "", type: f.type ?? "String" })),
            };
        }
    } catch (err) {
        throw explain(RESOURCE, "GetIndexingConfiguration", region, err);
    }
    return { logging, audit, indexing };
}

/** Our custom fields plus any the region already indexes (another application's are kept). */
export function mergedCustomFields(ours: { name: string; type: string }[], previous: IndexingSettings | null): { name: string; type: string }[] {
    const byName = new Map((previous?.customFields ?? []).map((f) => [f.name, f]));
    for (const f of ours) byName.set(f.name, f);
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

async function apply(inputs: RegionSettingsInputs, previous: PreviousSettings): Promise<string> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const iot = iotClient(inputs, "fms-region-settings");
    const timing = inputs.timing ?? DEFAULT_TIMING;
    const call = async <T>(operation: string, send: () => Promise<T>): Promise<T> => {
        try {
            return await withRoleRetry(timing, send);
        } catch (err) {
            throw explain(RESOURCE, operation, inputs.region, err);
        }
    };
    await call("SetV2LoggingOptions", () => iot.send(new sdk.SetV2LoggingOptionsCommand({
        roleArn: inputs.logging.roleArn, defaultLogLevel: inputs.logging.defaultLogLevel as never, disableAllLogs: false,
    })));
    // Checks not named here keep their state (an account's other checks are not switched off).
    await call("UpdateAccountAuditConfiguration", () => iot.send(new sdk.UpdateAccountAuditConfigurationCommand({
        roleArn: inputs.audit.roleArn,
        auditCheckConfigurations: inputs.audit.checks as never,
        auditNotificationTargetConfigurations: { SNS: { targetArn: inputs.audit.sns.targetArn, roleArn: inputs.audit.sns.roleArn, enabled: true } },
    })));
    await call("UpdateIndexingConfiguration", () => iot.send(new sdk.UpdateIndexingConfigurationCommand({
        thingIndexingConfiguration: {
            thingIndexingMode: "REGISTRY",
            thingConnectivityIndexingMode: "STATUS",
            customFields: mergedCustomFields(inputs.indexing.customFields, previous.indexing) as never,
        },
    })));
    const deadline = Date.now() + timing.indexReadySeconds * 1000;
    for (;;) {
        const status = (await call("DescribeIndex", () => iot.send(new sdk.DescribeIndexCommand({ indexName: INDEX })))).indexStatus ?? "UNKNOWN";
        if (status === "ACTIVE") return status;
        if (Date.now() >= deadline) {
            throw new Error(`${RESOURCE}: the fleet index ${INDEX} in ${inputs.region} is still ${status} after ${timing.indexReadySeconds} s; run \`pulumi up\` again once it is ACTIVE (aws iot describe-index --index-name ${INDEX})`);
        }
        await sleep(timing.pollSeconds);
    }
}

/** Puts back what the region had before this stack (never configured: logging off, no audit configuration, no index). */
async function restore(inputs: RegionSettingsOutputs): Promise<void> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const iot = iotClient(inputs, "fms-region-settings");
    const prev = inputs.previous ?? { logging: null, audit: null, indexing: null };
    const call = async (operation: string, send: () => Promise<unknown>) => {
        try {
            await send();
        } catch (err) {
            throw explain(RESOURCE, operation, inputs.region, err);
        }
    };
    await call("SetV2LoggingOptions", () => iot.send(new sdk.SetV2LoggingOptionsCommand(prev.logging
        ? { roleArn: prev.logging.roleArn, defaultLogLevel: prev.logging.defaultLogLevel as never, disableAllLogs: prev.logging.disableAllLogs }
        : { disableAllLogs: true })));
    if (prev.audit) {
        await call("UpdateAccountAuditConfiguration", () => iot.send(new sdk.UpdateAccountAuditConfigurationCommand({
            roleArn: prev.audit!.roleArn,
            // Checks this stack enabled that were off before go back off.
            auditCheckConfigurations: { ...Object.fromEntries(Object.keys(inputs.audit.checks).map((k) => [k, { enabled: false }])), ...prev.audit!.checks } as never,
            ...(prev.audit!.sns ? { auditNotificationTargetConfigurations: { SNS: prev.audit!.sns } } : {}),
        })));
    } else {
        await call("DeleteAccountAuditConfiguration", () => iot.send(new sdk.DeleteAccountAuditConfigurationCommand({ deleteScheduledAudits: false })));
    }
    await call("UpdateIndexingConfiguration", () => iot.send(new sdk.UpdateIndexingConfigurationCommand({
        thingIndexingConfiguration: prev.indexing
            ? { thingIndexingMode: prev.indexing.thingIndexingMode as never, thingConnectivityIndexingMode: prev.indexing.thingConnectivityIndexingMode as never, customFields: prev.indexing.customFields as never }
            : { thingIndexingMode: "OFF", thingConnectivityIndexingMode: "OFF" },
    })));
}

export const regionSettingsProvider: dynamic.ResourceProvider<RegionSettingsInputs, RegionSettingsOutputs> = {
    async diff(_id, olds, news) {
        const strip = (o: RegionSettingsInputs) => JSON.stringify({ ...o, previous: undefined, indexStatus: undefined, timing: undefined });
        const replaces = olds.region !== news.region ? ["region"] : [];
        return { changes: strip(olds) !== strip(news), replaces, deleteBeforeReplace: true };
    },
    async create(inputs) {
        await assertAllowedAccount(inputs, RESOURCE);
        const previous = await readPrevious(iotClient(inputs, "fms-region-settings"), inputs.region);
        const indexStatus = await apply(inputs, previous);
        return { id: `${inputs.region}/iot-settings`, outs: { ...inputs, previous, indexStatus } };
    },
    async update(_id, olds, news) {
        await assertAllowedAccount(news, RESOURCE);
        const indexStatus = await apply(news, olds.previous);
        return { outs: { ...news, previous: olds.previous, indexStatus } };
    },
    async delete(_id, props) {
        await assertAllowedAccount(props, RESOURCE);
        await restore(props);
    },
};

/** RegionSettingsInputs with the roles and topic still to be created. */
export interface RegionSettingsArgs extends AwsTarget {
    owner: string;
    logging: { roleArn: pulumi.Input<string>; defaultLogLevel: string };
    audit: { roleArn: pulumi.Input<string>; checks: Record<string, AuditCheck>; sns: { targetArn: pulumi.Input<string>; roleArn: pulumi.Input<string> } };
    indexing: { customFields: { name: string; type: string }[] };
    timing?: RegionSettingsTiming;
}

/** The region's AWS IoT settings, owned by this stack (see the module comment). */
export class RegionSettings extends pulumi.dynamic.Resource {
    declare public readonly indexStatus: pulumi.Output<string>;
    declare public readonly previous: pulumi.Output<PreviousSettings>;

    constructor(name: string, args: RegionSettingsArgs, opts?: pulumi.CustomResourceOptions) {
        super(regionSettingsProvider, name, { ...args, indexStatus: undefined, previous: undefined }, opts, "iot", "RegionSettings");
    }
}
