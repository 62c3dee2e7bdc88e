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
 *   fleet metrics depend on it;
 * - it never weakens what another application set: the thing index keeps the stronger of the region's
 *   mode and ours (REGISTRY < REGISTRY_AND_SHADOW; connectivity OFF < STATUS), and named-shadow, Device
 *   Defender, filter and custom-field settings it does not manage are passed through (and saved, so a
 *   destroy puts them back);
 * - a create or update that fails after reading the region (the index wait timing out on a large fleet,
 *   a role not yet assumable) still records what the region had, and is retried: the error carries `id`,
 *   `properties` and `reasons` (components/dynamicResource.ts initFailed), which the host turns into a
 *   partial-state (ErrorResourceInitFailed) response and the engine into init errors, so the next `up`
 *   updates with the first record (instead of creating again and calling this stack's own settings
 *   "previous") even though the program's inputs equal the recorded ones; the diff also reports a change
 *   while the record says INCOMPLETE (states recorded before `reasons` were sent);
 * - `read` (pulumi refresh) reports what the region has now, so drift shows in the next preview;
 * - a change of the provider code (`__provider`) is reported by the diff, so the fix reaches the state's
 *   delete and read, and such an update is cheap: with nothing else changed and the last apply complete
 *   it makes no AWS call (no settings re-applied, no index wait).
 * - every AWS call is bounded (components/iotSdk.ts OPERATION_BUDGET): a call that never answers fails
 *   within the budget, as partial state the next `up` retries.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { IoTClient } from "@aws-sdk/client-iot";
import { initFailed, providerCodeChanged, refuseImport, withoutProviderCode } from "../dynamicResource";
import { assertAllowedAccount, AwsTarget, errorName, explain, iotClient, OPERATION_BUDGET } from "../iotSdk";

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
    /** Passed through and restored as the region had them (this stack does not manage them). */
    namedShadowIndexingMode?: string;
    deviceDefenderIndexingMode?: string;
    filter?: { namedShadowNames?: string[]; geoLocations?: { name?: string; order?: string }[] };
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
    /** The thing index mode in force after the last apply or refresh (ours or a stronger one already there). */
    thingIndexingMode?: string;
}

const RESOURCE = "RegionSettings";
const IMPORT_REFUSED = "import is not supported; pulumi up adopts the region's settings and records them";
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
    return { logging, audit, indexing: await readIndexing(iot, region) };
}

/** The region's thing indexing configuration, every field of it (null: OFF). */
async function readIndexing(iot: IoTClient, region: string): Promise<IndexingSettings | null> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    try {
        const t = (await iot.send(new sdk.GetIndexingConfigurationCommand({}))).thingIndexingConfiguration;
        if (!t?.thingIndexingMode || t.thingIndexingMode === "OFF") return null;
        return {
            thingIndexingMode: t.thingIndexingMode,
            ...(t.thingConnectivityIndexingMode ? { thingConnectivityIndexingMode: t.thingConnectivityIndexingMode } : {}),
            customFields: (t.customFields ?? []).map((f) => ({ name: f.name ?? "", type: f.type ?? "String" })),
            ...(t.namedShadowIndexingMode ? { namedShadowIndexingMode: t.namedShadowIndexingMode } : {}),
            ...(t.deviceDefenderIndexingMode ? { deviceDefenderIndexingMode: t.deviceDefenderIndexingMode } : {}),
            ...(t.filter ? { filter: JSON.parse(JSON.stringify(t.filter)) as IndexingSettings["filter"] } : {}),
        };
    } catch (err) {
        throw explain(RESOURCE, "GetIndexingConfiguration", region, err);
    }
}

/** Index modes, weakest first (UpdateIndexingConfiguration's ThingIndexingMode and ThingConnectivityIndexingMode). */
const THING_MODES = ["OFF", "REGISTRY", "REGISTRY_AND_SHADOW"];
const CONNECTIVITY_MODES = ["OFF", "STATUS"];
const stronger = (modes: string[], a: string | undefined, b: string) => (modes.indexOf(a ?? "OFF") > modes.indexOf(b) ? a! : b);

/**
 * What this stack needs (REGISTRY, STATUS, its custom fields) merged into what the region has now: the
 * stronger mode of each, the region's other custom fields, and the settings this stack does not manage
 * passed through as they are.
 */
export function mergedIndexing(ours: { name: string; type: string }[], current: IndexingSettings | null) {
    return {
        thingIndexingMode: stronger(THING_MODES, current?.thingIndexingMode, "REGISTRY"),
        thingConnectivityIndexingMode: stronger(CONNECTIVITY_MODES, current?.thingConnectivityIndexingMode, "STATUS"),
        customFields: mergedCustomFields(ours, current),
        ...(current?.namedShadowIndexingMode ? { namedShadowIndexingMode: current.namedShadowIndexingMode } : {}),
        ...(current?.deviceDefenderIndexingMode ? { deviceDefenderIndexingMode: current.deviceDefenderIndexingMode } : {}),
        ...(current?.filter ? { filter: current.filter } : {}),
    };
}

/** Our custom fields plus any the region already indexes (another application's are kept). */
export function mergedCustomFields(ours: { name: string; type: string }[], previous: IndexingSettings | null): { name: string; type: string }[] {
    const byName = new Map((previous?.customFields ?? []).map((f) => [f.name, f]));
    for (const f of ours) byName.set(f.name, f);
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

async function apply(inputs: RegionSettingsInputs, current: IndexingSettings | null): Promise<{ indexStatus: string; thingIndexingMode: string }> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const iot = settingsClient(inputs);
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
    const indexing = mergedIndexing(inputs.indexing.customFields, current);
    await call("UpdateIndexingConfiguration", () => iot.send(new sdk.UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: indexing as never })));
    const deadline = Date.now() + timing.indexReadySeconds * 1000;
    for (;;) {
        const status = (await call("DescribeIndex", () => iot.send(new sdk.DescribeIndexCommand({ indexName: INDEX })))).indexStatus ?? "UNKNOWN";
        if (status === "ACTIVE") return { indexStatus: status, thingIndexingMode: indexing.thingIndexingMode };
        if (Date.now() >= deadline) {
            throw new Error(`${RESOURCE}: the fleet index ${INDEX} in ${inputs.region} is still ${status} after ${timing.indexReadySeconds} s; run \`pulumi up\` again once it is ACTIVE (aws iot describe-index --index-name ${INDEX})`);
        }
        await sleep(timing.pollSeconds);
    }
}

/** Puts back what the region had before this stack (never configured: logging off, no audit configuration, no index). */
async function restore(inputs: RegionSettingsOutputs): Promise<void> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const iot = settingsClient(inputs);
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
        thingIndexingConfiguration: (prev.indexing ? { ...prev.indexing } : { thingIndexingMode: "OFF", thingConnectivityIndexingMode: "OFF" }) as never,
    })));
}

/** A failure after the region was read: the record travels with the error as partial state, retried at the next up. */
function partial(err: unknown, id: string, outs: RegionSettingsOutputs): Error {
    return initFailed(err, id, outs);
}

/**
 * The settings client: every call bounded on its own (a call that never answers fails within
 * OPERATION_BUDGET.totalMs, as partial state the next up retries); the index wait has its own limit
 * (timing.indexReadySeconds), made of calls that do answer.
 */
const settingsClient = (target: AwsTarget) => iotClient(target, "fms-region-settings", { callBudgetMs: OPERATION_BUDGET.totalMs });

/** What the region has now, in the shape of this resource's inputs (for refresh). */
async function observe(props: RegionSettingsOutputs): Promise<{ logging: RegionSettingsInputs["logging"]; audit: RegionSettingsInputs["audit"]; indexing: RegionSettingsInputs["indexing"]; thingIndexingMode: string; indexStatus: string }> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const iot = settingsClient(props);
    const now = await readPrevious(iot, props.region);
    // Our checks as the region has them now (a check switched off by hand reads enabled: false).
    const checks: Record<string, AuditCheck> = {};
    for (const [name, ours] of Object.entries(props.audit.checks)) {
        const there = now.audit?.checks[name];
        checks[name] = there ? { ...ours, enabled: there.enabled, ...(there.configuration ? { configuration: there.configuration } : {}) } : { ...ours, enabled: false };
    }
    const fields = new Set((now.indexing?.customFields ?? []).map((f) => `${f.name}/${f.type}`));
    let indexStatus = "OFF";
    if (now.indexing) {
        try {
            indexStatus = (await iot.send(new sdk.DescribeIndexCommand({ indexName: INDEX }))).indexStatus ?? "UNKNOWN";
        } catch (err) {
            if (errorName(err) !== "ResourceNotFoundException") throw explain(RESOURCE, "DescribeIndex", props.region, err);
        }
    }
    return {
        logging: now.logging && !now.logging.disableAllLogs
            ? { roleArn: now.logging.roleArn ?? "", defaultLogLevel: now.logging.defaultLogLevel ?? "" }
            : { roleArn: now.logging?.roleArn ?? "", defaultLogLevel: "DISABLED" },
        audit: {
            roleArn: now.audit?.roleArn ?? "",
            checks,
            sns: now.audit?.sns ? { targetArn: now.audit.sns.targetArn, roleArn: now.audit.sns.roleArn } : { targetArn: "", roleArn: "" },
        },
        // Our fields that the region still indexes: a field dropped by hand drops out, and the diff shows it.
        indexing: { customFields: props.indexing.customFields.filter((f) => fields.has(`${f.name}/${f.type}`)) },
        thingIndexingMode: now.indexing?.thingIndexingMode ?? "OFF",
        indexStatus,
    };
}

/** The settings a diff compares: not the record, the timing, nor the serialized provider code (compared on its own). */
const diffable = (o: RegionSettingsInputs) => {
    const { previous: _p, indexStatus: _s, thingIndexingMode: _m, timing: _t, ...rest } = withoutProviderCode(o as RegionSettingsInputs & Record<string, unknown>);
    return JSON.stringify(rest);
};

/** The last apply did not finish (recorded as partial state). */
const incomplete = (o: RegionSettingsInputs) => (o as Partial<RegionSettingsOutputs>).indexStatus === "INCOMPLETE";

export const regionSettingsProvider: dynamic.ResourceProvider<RegionSettingsInputs, RegionSettingsOutputs> = {
    async diff(_id, olds, news) {
        const replaces = olds.region !== news.region ? ["region"] : [];
        const changes = diffable(olds) !== diffable(news) || incomplete(olds) || providerCodeChanged(olds, news);
        return { changes, replaces, deleteBeforeReplace: true };
    },
    async create(inputs) {
        await assertAllowedAccount(inputs, RESOURCE, Date.now() + OPERATION_BUDGET.totalMs);
        const id = `${inputs.region}/iot-settings`;
        const previous = await readPrevious(settingsClient(inputs), inputs.region);
        try {
            const applied = await apply(inputs, previous.indexing);
            return { id, outs: { ...inputs, previous, ...applied } };
        } catch (err) {
            // Recorded as partial state: the next up updates (keeping this record) instead of creating again.
            throw partial(err, id, { ...inputs, previous, indexStatus: "INCOMPLETE" });
        }
    },
    async update(id, olds, news) {
        const previous = olds.previous ?? { logging: null, audit: null, indexing: null };
        if (diffable(olds) === diffable(news) && !incomplete(olds)) {
            // Only the provider code changed: record it (the host stores the new `__provider`), call nothing.
            return { outs: { ...news, previous, indexStatus: olds.indexStatus, ...(olds.thingIndexingMode ? { thingIndexingMode: olds.thingIndexingMode } : {}) } };
        }
        await assertAllowedAccount(news, RESOURCE, Date.now() + OPERATION_BUDGET.totalMs);
        try {
            const current = await readIndexing(settingsClient(news), news.region);
            const applied = await apply(news, current);
            return { outs: { ...news, previous, ...applied } };
        } catch (err) {
            throw partial(err, id, { ...news, previous, indexStatus: "INCOMPLETE" });
        }
    },
    async read(id, props) {
        if (!props) throw new Error(`${RESOURCE}: ${IMPORT_REFUSED}`);
        // Wrong credentials would read another account's settings as this stack's: refused like the explicit providers.
        await assertAllowedAccount(props, RESOURCE, Date.now() + OPERATION_BUDGET.totalMs);
        const seen = await observe(props);
        const { indexStatus, thingIndexingMode, ...inputs } = seen;
        const outs: RegionSettingsOutputs = { ...props, ...inputs, indexStatus, thingIndexingMode };
        // The SDK types `inputs` as Outputs; the engine takes the resource's inputs here: the next diff
        // compares the program's settings with what the region has, and `up` puts them back.
        return { id, props: outs, inputs: { ...stripOutputs(props), ...inputs } as unknown as RegionSettingsOutputs };
    },
    async delete(_id, props) {
        await assertAllowedAccount(props, RESOURCE, Date.now() + OPERATION_BUDGET.totalMs);
        await restore(props);
    },
};

function stripOutputs(props: RegionSettingsOutputs): RegionSettingsInputs {
    const { previous: _p, indexStatus: _s, thingIndexingMode: _m, ...inputs } = props;
    return inputs;
}

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
        refuseImport(RESOURCE, opts, "pulumi up adopts the region's settings and records them");
        super(regionSettingsProvider, name, { ...args, indexStatus: undefined, previous: undefined, thingIndexingMode: undefined }, opts, "iot", "RegionSettings");
    }
}
