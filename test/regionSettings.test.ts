import * as assert from "assert";
import {
    DeleteAccountAuditConfigurationCommand, DescribeAccountAuditConfigurationCommand, DescribeIndexCommand, GetIndexingConfigurationCommand,
    GetV2LoggingOptionsCommand, SetV2LoggingOptionsCommand, UpdateAccountAuditConfigurationCommand, UpdateIndexingConfigurationCommand,
} from "@aws-sdk/client-iot";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { RegionSettings, RegionSettingsInputs, RegionSettingsOutputs, regionSettingsProvider as provider } from "../components/operations/regionSettings";
import { OPERATION_BUDGET } from "../components/iotSdk";
import { engineCreate, engineUpdate, nextStep, withCode } from "./support/dynamicEngine";
import { iot } from "./support/iotMock";
import { sts } from "./support/sts";

const awsError = (name: string, message = name) => Object.assign(new Error(message), { name, $metadata: {} });
const FAST = { rolePropagationSeconds: 0.2, indexReadySeconds: 0.2, pollSeconds: 0.01 };
const inputs: RegionSettingsInputs = {
    region: "ap-northeast-2",
    owner: "kr",
    logging: { roleArn: "arn:aws:iam::123456789012:role/logging", defaultLogLevel: "ERROR" },
    audit: {
        roleArn: "arn:aws:iam::123456789012:role/audit",
        checks: { DEVICE_CERTIFICATE_AGE_CHECK: { enabled: true, configuration: { CERT_AGE_THRESHOLD_IN_DAYS: "365" } }, LOGGING_DISABLED_CHECK: { enabled: true } },
        sns: { targetArn: "arn:aws:sns:ap-northeast-2:123456789012:ops", roleArn: "arn:aws:iam::123456789012:role/notifier" },
    },
    indexing: { customFields: [{ name: "attributes.serial", type: "String" }] },
    timing: FAST,
};

/** A region nobody configured: what AWS IoT answers before the first SetV2LoggingOptions etc. */
function pristineRegion(): void {
    iot.on(GetV2LoggingOptionsCommand).rejects(awsError("NotConfiguredException", "The resource is not configured."));
    iot.on(DescribeAccountAuditConfigurationCommand).resolves({ auditCheckConfigurations: { LOGGING_DISABLED_CHECK: { enabled: false } } });
    iot.on(GetIndexingConfigurationCommand).resolves({ thingIndexingConfiguration: { thingIndexingMode: "OFF" } });
    iot.on(SetV2LoggingOptionsCommand).resolves({});
    iot.on(UpdateAccountAuditConfigurationCommand).resolves({});
    iot.on(UpdateIndexingConfigurationCommand).resolves({});
    iot.on(DescribeIndexCommand).resolves({ indexName: "AWS_Things", indexStatus: "ACTIVE" });
}

describe("region settings dynamic provider (AWS IoT logging, audit configuration, fleet index of an account and region)", () => {
    beforeEach(() => iot.reset());

    it("a pristine region: sets logging, audit and indexing, records that nothing was there before", async () => {
        pristineRegion();
        const r = await provider.create(inputs);
        const outs = r.outs as RegionSettingsOutputs;
        assert.deepStrictEqual(outs.previous, { logging: null, audit: null, indexing: null });
        assert.strictEqual(outs.indexStatus, "ACTIVE");
        assert.deepStrictEqual(iot.commandCalls(SetV2LoggingOptionsCommand)[0].args[0].input, { roleArn: inputs.logging.roleArn, defaultLogLevel: "ERROR", disableAllLogs: false });
        assert.deepStrictEqual(iot.commandCalls(UpdateAccountAuditConfigurationCommand)[0].args[0].input, {
            roleArn: inputs.audit.roleArn,
            auditCheckConfigurations: inputs.audit.checks,
            auditNotificationTargetConfigurations: { SNS: { ...inputs.audit.sns, enabled: true } },
        });
        assert.deepStrictEqual(iot.commandCalls(UpdateIndexingConfigurationCommand)[0].args[0].input, {
            thingIndexingConfiguration: { thingIndexingMode: "REGISTRY", thingConnectivityIndexingMode: "STATUS", customFields: inputs.indexing.customFields },
        });
    });

    it("a region already configured (Device Defender on, another app's index field): adopted, never failed on, and its fields kept", async () => {
        iot.on(GetV2LoggingOptionsCommand).resolves({ roleArn: "arn:aws:iam::123456789012:role/old-logging", defaultLogLevel: "WARN", disableAllLogs: false });
        iot.on(DescribeAccountAuditConfigurationCommand).resolves({
            roleArn: "arn:aws:iam::123456789012:role/old-audit",
            auditCheckConfigurations: { CA_CERTIFICATE_EXPIRING_CHECK: { enabled: true }, LOGGING_DISABLED_CHECK: { enabled: false } },
            auditNotificationTargetConfigurations: { SNS: { targetArn: "arn:aws:sns:ap-northeast-2:123456789012:old", roleArn: "arn:aws:iam::123456789012:role/old-notifier", enabled: true } },
        });
        iot.on(GetIndexingConfigurationCommand).resolves({ thingIndexingConfiguration: { thingIndexingMode: "REGISTRY_AND_SHADOW", thingConnectivityIndexingMode: "STATUS", customFields: [{ name: "attributes.fleet", type: "String" }] } });
        iot.on(SetV2LoggingOptionsCommand).resolves({});
        iot.on(UpdateAccountAuditConfigurationCommand).resolves({});
        iot.on(UpdateIndexingConfigurationCommand).resolves({});
        iot.on(DescribeIndexCommand).resolves({ indexStatus: "ACTIVE" });
        const outs = (await provider.create(inputs)).outs as RegionSettingsOutputs;
        assert.deepStrictEqual(outs.previous.logging, { roleArn: "arn:aws:iam::123456789012:role/old-logging", defaultLogLevel: "WARN", disableAllLogs: false });
        assert.strictEqual(outs.previous.audit!.roleArn, "arn:aws:iam::123456789012:role/old-audit");
        assert.deepStrictEqual(outs.previous.audit!.checks.CA_CERTIFICATE_EXPIRING_CHECK, { enabled: true });
        const fields = iot.commandCalls(UpdateIndexingConfigurationCommand)[0].args[0].input.thingIndexingConfiguration!.customFields;
        assert.deepStrictEqual(fields, [{ name: "attributes.fleet", type: "String" }, { name: "attributes.serial", type: "String" }]);
        // Checks not named here are not sent, so the account's other checks keep their state.
        assert.ok(!("CA_CERTIFICATE_EXPIRING_CHECK" in iot.commandCalls(UpdateAccountAuditConfigurationCommand)[0].args[0].input.auditCheckConfigurations!));
    });

    it("a role AWS IoT cannot assume yet (IAM propagation) is retried; another invalid request is not", async () => {
        pristineRegion();
        iot.on(UpdateAccountAuditConfigurationCommand)
            .rejectsOnce(awsError("InvalidRequestException", "The role arn:aws:iam::123456789012:role/audit cannot be assumed by AWS IoT"))
            .resolves({});
        await provider.create(inputs);
        assert.strictEqual(iot.commandCalls(UpdateAccountAuditConfigurationCommand).length, 2);

        iot.reset();
        pristineRegion();
        iot.on(SetV2LoggingOptionsCommand).rejects(awsError("InvalidRequestException", "defaultLogLevel is not valid"));
        await assert.rejects(provider.create(inputs), /^Error: RegionSettings: SetV2LoggingOptions failed in ap-northeast-2: InvalidRequestException: defaultLogLevel is not valid\.$/);
        assert.strictEqual(iot.commandCalls(SetV2LoggingOptionsCommand).length, 1);
    });

    it("returns only once the fleet index is ACTIVE (fleet metrics depend on it), and says so when it is still building", async () => {
        pristineRegion();
        iot.on(DescribeIndexCommand).resolvesOnce({ indexStatus: "BUILDING" }).resolvesOnce({ indexStatus: "BUILDING" }).resolves({ indexStatus: "ACTIVE" });
        const outs = (await provider.create(inputs)).outs as RegionSettingsOutputs;
        assert.strictEqual(outs.indexStatus, "ACTIVE");
        assert.strictEqual(iot.commandCalls(DescribeIndexCommand).length, 3);

        iot.reset();
        pristineRegion();
        iot.on(DescribeIndexCommand).resolves({ indexStatus: "BUILDING" });
        await assert.rejects(provider.create(inputs), /the fleet index AWS_Things in ap-northeast-2 is still BUILDING after 0\.2 s; run `pulumi up` again once it is ACTIVE/);
    });

    it("delete puts a pristine region back: logging off, audit configuration deleted, index off", async () => {
        iot.on(SetV2LoggingOptionsCommand).resolves({});
        iot.on(DeleteAccountAuditConfigurationCommand).resolves({});
        iot.on(UpdateIndexingConfigurationCommand).resolves({});
        await provider.delete!("ap-northeast-2/iot-settings", { ...inputs, previous: { logging: null, audit: null, indexing: null }, indexStatus: "ACTIVE" });
        assert.deepStrictEqual(iot.commandCalls(SetV2LoggingOptionsCommand)[0].args[0].input, { disableAllLogs: true });
        assert.deepStrictEqual(iot.commandCalls(DeleteAccountAuditConfigurationCommand)[0].args[0].input, { deleteScheduledAudits: false });
        assert.deepStrictEqual(iot.commandCalls(UpdateIndexingConfigurationCommand)[0].args[0].input, { thingIndexingConfiguration: { thingIndexingMode: "OFF", thingConnectivityIndexingMode: "OFF" } });
    });

    it("delete puts an adopted region's own settings back, and switches off the checks this stack turned on", async () => {
        iot.on(SetV2LoggingOptionsCommand).resolves({});
        iot.on(UpdateAccountAuditConfigurationCommand).resolves({});
        iot.on(UpdateIndexingConfigurationCommand).resolves({});
        const previous = {
            logging: { roleArn: "arn:aws:iam::123456789012:role/old-logging", defaultLogLevel: "WARN", disableAllLogs: false },
            audit: { roleArn: "arn:aws:iam::123456789012:role/old-audit", checks: { CA_CERTIFICATE_EXPIRING_CHECK: { enabled: true } } },
            indexing: { thingIndexingMode: "REGISTRY_AND_SHADOW", thingConnectivityIndexingMode: "STATUS", customFields: [{ name: "attributes.fleet", type: "String" }] },
        };
        await provider.delete!("ap-northeast-2/iot-settings", { ...inputs, previous, indexStatus: "ACTIVE" });
        assert.deepStrictEqual(iot.commandCalls(SetV2LoggingOptionsCommand)[0].args[0].input, previous.logging);
        assert.deepStrictEqual(iot.commandCalls(UpdateAccountAuditConfigurationCommand)[0].args[0].input, {
            roleArn: previous.audit.roleArn,
            auditCheckConfigurations: { DEVICE_CERTIFICATE_AGE_CHECK: { enabled: false }, LOGGING_DISABLED_CHECK: { enabled: false }, CA_CERTIFICATE_EXPIRING_CHECK: { enabled: true } },
        });
        assert.deepStrictEqual(iot.commandCalls(UpdateIndexingConfigurationCommand)[0].args[0].input.thingIndexingConfiguration, previous.indexing);
        assert.strictEqual(iot.commandCalls(DeleteAccountAuditConfigurationCommand).length, 0);
    });

    it("update re-applies and keeps what was there before the first create", async () => {
        pristineRegion();
        const previous = { logging: null, audit: null, indexing: null };
        const r = await provider.update!("id", { ...inputs, previous, indexStatus: "ACTIVE" }, { ...inputs, logging: { ...inputs.logging, defaultLogLevel: "INFO" } });
        assert.deepStrictEqual((r.outs as RegionSettingsOutputs).previous, previous);
        assert.strictEqual(iot.commandCalls(SetV2LoggingOptionsCommand)[0].args[0].input.defaultLogLevel, "INFO");
        assert.strictEqual(iot.commandCalls(GetV2LoggingOptionsCommand).length, 0, "the first create's record is kept, not re-read");
    });

    // The dynamic-provider host (@pulumi/pulumi v3.248.0 sdk/nodejs/cmd/dynamic-provider/index.ts, create ->
    // grpcResponseFromError) records a failed create as partial state only when the thrown error carries `id`
    // and `properties` (ErrorResourceInitFailed); anything else records nothing, and the next up creates again.
    it("a create that fails after reading the region (the index wait times out) still records what the region had, as the host's partial state", async () => {
        iot.on(GetV2LoggingOptionsCommand).resolves({ roleArn: "arn:aws:iam::123456789012:role/old-logging", defaultLogLevel: "WARN", disableAllLogs: false });
        iot.on(DescribeAccountAuditConfigurationCommand).resolves({ auditCheckConfigurations: {} });
        iot.on(GetIndexingConfigurationCommand).resolves({ thingIndexingConfiguration: { thingIndexingMode: "OFF" } });
        iot.on(SetV2LoggingOptionsCommand).resolves({});
        iot.on(UpdateAccountAuditConfigurationCommand).resolves({});
        iot.on(UpdateIndexingConfigurationCommand).resolves({});
        iot.on(DescribeIndexCommand).resolves({ indexStatus: "BUILDING" });
        const err = await provider.create(inputs).then(() => undefined, (e: Error & { id?: string; properties?: RegionSettingsOutputs }) => e);
        assert.ok(err, "the create fails");
        assert.match(err.message, /still BUILDING/);
        assert.strictEqual(err.id, "ap-northeast-2/iot-settings");
        assert.deepStrictEqual(err.properties!.previous.logging, { roleArn: "arn:aws:iam::123456789012:role/old-logging", defaultLogLevel: "WARN", disableAllLogs: false });

        // The next up is an update from that record: the region's own settings stay "previous", never this stack's.
        iot.reset();
        pristineRegion();
        iot.on(GetV2LoggingOptionsCommand).resolves({ roleArn: inputs.logging.roleArn, defaultLogLevel: "ERROR", disableAllLogs: false });
        const r = await provider.update!(err.id!, err.properties!, inputs);
        assert.deepStrictEqual((r.outs as RegionSettingsOutputs).previous, err.properties!.previous);
        assert.strictEqual(iot.commandCalls(GetV2LoggingOptionsCommand).length, 0, "the record is kept, not re-read");
    });

    it("a richer index another application set is never downgraded: the stronger mode stays, named-shadow, Device Defender and filter settings pass through, and are saved", async () => {
        pristineRegion();
        const richer = {
            thingIndexingMode: "REGISTRY_AND_SHADOW", thingConnectivityIndexingMode: "STATUS",
            namedShadowIndexingMode: "ON", deviceDefenderIndexingMode: "VIOLATIONS",
            filter: { namedShadowNames: ["battery"], geoLocations: [{ name: "shadow.reported.location", order: "LatLon" }] },
            customFields: [{ name: "attributes.fleet", type: "String" }],
        };
        iot.on(GetIndexingConfigurationCommand).resolves({ thingIndexingConfiguration: richer as never });
        const outs = (await provider.create(inputs)).outs as RegionSettingsOutputs;
        const sent = iot.commandCalls(UpdateIndexingConfigurationCommand)[0].args[0].input.thingIndexingConfiguration;
        assert.deepStrictEqual(sent, { ...richer, customFields: [{ name: "attributes.fleet", type: "String" }, { name: "attributes.serial", type: "String" }] });
        assert.strictEqual(outs.thingIndexingMode, "REGISTRY_AND_SHADOW");
        assert.deepStrictEqual(outs.previous.indexing, richer, "saved whole, so destroy restores it");

        // ... and destroy puts every one of those fields back.
        iot.reset();
        iot.on(SetV2LoggingOptionsCommand).resolves({});
        iot.on(DeleteAccountAuditConfigurationCommand).resolves({});
        iot.on(UpdateIndexingConfigurationCommand).resolves({});
        await provider.delete!("ap-northeast-2/iot-settings", outs);
        assert.deepStrictEqual(iot.commandCalls(UpdateIndexingConfigurationCommand)[0].args[0].input.thingIndexingConfiguration, richer);
    });

    it("update merges into what the region has now (an index strengthened since the create stays strong)", async () => {
        pristineRegion();
        iot.on(GetIndexingConfigurationCommand).resolves({ thingIndexingConfiguration: { thingIndexingMode: "REGISTRY_AND_SHADOW", thingConnectivityIndexingMode: "OFF" } });
        await provider.update!("id", { ...inputs, logging: { ...inputs.logging, defaultLogLevel: "WARN" }, previous: { logging: null, audit: null, indexing: null }, indexStatus: "ACTIVE" }, inputs);
        const sent = iot.commandCalls(UpdateIndexingConfigurationCommand)[0].args[0].input.thingIndexingConfiguration!;
        assert.deepStrictEqual([sent.thingIndexingMode, sent.thingConnectivityIndexingMode], ["REGISTRY_AND_SHADOW", "STATUS"]);
    });

    it("refresh (read) reports drift: logging switched off, a check disabled, our index field dropped by hand; the record is kept", async () => {
        iot.on(GetV2LoggingOptionsCommand).resolves({ roleArn: inputs.logging.roleArn, defaultLogLevel: "ERROR", disableAllLogs: true });
        iot.on(DescribeAccountAuditConfigurationCommand).resolves({
            roleArn: inputs.audit.roleArn,
            auditCheckConfigurations: { DEVICE_CERTIFICATE_AGE_CHECK: { enabled: true, configuration: { CERT_AGE_THRESHOLD_IN_DAYS: "365" } }, LOGGING_DISABLED_CHECK: { enabled: false } },
            auditNotificationTargetConfigurations: { SNS: { ...inputs.audit.sns, enabled: true } },
        });
        iot.on(GetIndexingConfigurationCommand).resolves({ thingIndexingConfiguration: { thingIndexingMode: "REGISTRY", thingConnectivityIndexingMode: "STATUS", customFields: [] } });
        iot.on(DescribeIndexCommand).resolves({ indexStatus: "ACTIVE" });
        const previous = { logging: null, audit: null, indexing: null };
        const props = { ...inputs, previous, indexStatus: "ACTIVE" } as RegionSettingsOutputs;
        const r = await provider.read!("ap-northeast-2/iot-settings", props);
        const refreshed = r.inputs as unknown as RegionSettingsInputs;
        assert.strictEqual(refreshed.logging.defaultLogLevel, "DISABLED");
        assert.strictEqual(refreshed.audit.checks.LOGGING_DISABLED_CHECK.enabled, false);
        assert.deepStrictEqual(refreshed.indexing.customFields, []);
        assert.deepStrictEqual((r.props as RegionSettingsOutputs).previous, previous);
        // The next preview shows the change, and up puts the program's settings back.
        assert.strictEqual((await provider.diff!("id", refreshed as RegionSettingsOutputs, inputs)).changes, true);
        // No drift: no change.
        assert.strictEqual((await provider.diff!("id", props, inputs)).changes, false);
    });

    // Pulumi v3.248.0: the host runs the state's `__provider` for read and delete and the program's for
    // diff/create/update, and takes no action of its own when it changed (sdk/nodejs/cmd/dynamic-provider/index.ts
    // L195-208, L253, L273, L336): a provider fix reaches refresh and destroy only through an update.
    it("a change of the provider code is a diff (so refresh and destroy get the fix), and its update makes no AWS call", async () => {
        const olds = { ...inputs, previous: { logging: null, audit: null, indexing: null }, indexStatus: "ACTIVE", thingIndexingMode: "REGISTRY", __provider: "exports.handler = () => 1" } as RegionSettingsOutputs;
        const state = { id: "ap-northeast-2/iot-settings", outputs: olds as unknown as Record<string, unknown>, initErrors: [] };
        assert.strictEqual(await nextStep(provider, state, withCode(inputs, "exports.handler = () => 1") as never), "same", "same code, same settings: nothing");
        assert.strictEqual(await nextStep(provider, state, withCode(inputs, "exports.handler = () => 2") as never), "update");
        const r = await engineUpdate(provider, state, withCode(inputs, "exports.handler = () => 2") as never);
        assert.strictEqual(r.error, undefined);
        assert.deepStrictEqual(iot.calls().map((c) => c.args[0].constructor.name), [], "no AWS call: no setting re-applied, no index wait");
        assert.strictEqual(r.state.outputs.__provider, "exports.handler = () => 2", "the state now runs the new code");
        assert.deepStrictEqual([r.state.outputs.previous, r.state.outputs.indexStatus, r.state.outputs.thingIndexingMode], [olds.previous, "ACTIVE", "REGISTRY"]);
        assert.strictEqual(await nextStep(provider, r.state, withCode(inputs, "exports.handler = () => 2") as never), "same");
        const level = await provider.diff!("id", olds, { ...inputs, logging: { ...inputs.logging, defaultLogLevel: "WARN" } });
        assert.strictEqual(level.changes, true);
    });

    // The engine retries a failed apply only from init errors (reasons) or a diff: pulumi/pulumi v3.248.0
    // pkg/resource/deploy/step.go L362, L1002 (InitErrors = initErr.Reasons) and step_generator.go L1823, L2053-2065
    // (an unchanged resource with init errors gets an update step); host grpcResponseFromError L447-470 sends
    // `reasons: e.reasons || []`. Pulumi's partial_state test sets reasons (tests/integration/partial_state/step1/resource.ts L21-24).
    it("a failed create is retried by the next up although the program's inputs equal the recorded ones (through diff and the recorded state)", async () => {
        pristineRegion();
        iot.on(DescribeIndexCommand).resolves({ indexStatus: "BUILDING" });
        const program = withCode(inputs, "code-1") as unknown as Record<string, unknown>;
        const created = await engineCreate(provider, program);
        assert.match(String(created.error?.message), /still BUILDING/);
        assert.ok(created.state, "recorded as partial state");
        assert.ok(created.state!.initErrors.length > 0, "with reasons: the engine records init errors");
        assert.strictEqual(await nextStep(provider, created.state!, program), "update", "the next up applies the region's settings again");
        // A state recorded before reasons were sent (no init errors, INCOMPLETE): the diff alone says update.
        assert.strictEqual(await nextStep(provider, { ...created.state!, initErrors: [] }, program), "update");
        // The retry succeeds, and the up after it has nothing to do.
        iot.reset();
        pristineRegion();
        const retried = await engineUpdate(provider, created.state!, program);
        assert.strictEqual(retried.error, undefined);
        assert.strictEqual(retried.state.outputs.indexStatus, "ACTIVE");
        assert.ok(iot.commandCalls(SetV2LoggingOptionsCommand).length > 0, "logging applied");
        assert.strictEqual(await nextStep(provider, retried.state, program), "same");
    });

    it("a failed update is retried the same way", async () => {
        pristineRegion();
        iot.on(UpdateAccountAuditConfigurationCommand).rejects(awsError("InternalFailureException", "try again"));
        const program = withCode(inputs, "code-1") as unknown as Record<string, unknown>;
        const olds = { ...program, logging: { ...inputs.logging, defaultLogLevel: "WARN" }, previous: { logging: null, audit: null, indexing: null }, indexStatus: "ACTIVE" };
        const r = await engineUpdate(provider, { id: "ap-northeast-2/iot-settings", outputs: olds, initErrors: [] }, program);
        assert.match(String(r.error?.message), /UpdateAccountAuditConfiguration failed/);
        assert.ok(r.state.initErrors.length > 0);
        assert.strictEqual(await nextStep(provider, r.state, program), "update");
    });

    it("refresh with credentials for another account is refused (like the explicit providers), before anything is read", async () => {
        sts.reset();
        sts.on(GetCallerIdentityCommand).resolves({ Account: "999999999999" });
        const props = { ...inputs, allowedAccountIds: ["123456789012"], previous: { logging: null, audit: null, indexing: null }, indexStatus: "ACTIVE" } as RegionSettingsOutputs;
        await assert.rejects(provider.read!("ap-northeast-2/iot-settings", props), /account 999999999999, not one this stack allows/);
        assert.strictEqual(iot.calls().length, 0);
        sts.reset();
    });

    it("pulumi import (the import option) is refused with this resource's reason, not the host's \"code must be a string\"", () => {
        const args = { ...inputs } as never;
        assert.throws(() => new RegionSettings("settings", args, { import: "ap-northeast-2/iot-settings" }), /RegionSettings: import is not supported; pulumi up adopts the region's settings/);
    });

    it("an AWS IoT call that never answers ends the operation within the budget, as partial state the next up retries", async function () {
        this.timeout(10_000);
        const saved = { ...OPERATION_BUDGET };
        Object.assign(OPERATION_BUDGET, { totalMs: 300, cleanupMs: 100 });
        try {
            pristineRegion();
            iot.on(UpdateIndexingConfigurationCommand).callsFake(() => new Promise(() => undefined));
            const started = Date.now();
            const created = await engineCreate(provider, withCode(inputs, "code-1") as unknown as Record<string, unknown>);
            assert.ok(Date.now() - started < 2_000, `ended after ${Date.now() - started} ms`);
            assert.match(String(created.error?.message), /UpdateIndexingConfiguration failed in ap-northeast-2: TimeoutError: AWS IoT did not answer UpdateIndexingConfiguration/);
            assert.ok(created.state && created.state.initErrors.length > 0);
        } finally {
            Object.assign(OPERATION_BUDGET, saved);
        }
    });
});
