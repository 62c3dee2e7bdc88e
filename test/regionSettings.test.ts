import * as assert from "assert";
import {
    DeleteAccountAuditConfigurationCommand, DescribeAccountAuditConfigurationCommand, DescribeIndexCommand, GetIndexingConfigurationCommand,
    GetV2LoggingOptionsCommand, SetV2LoggingOptionsCommand, UpdateAccountAuditConfigurationCommand, UpdateIndexingConfigurationCommand,
} from "@aws-sdk/client-iot";
import { RegionSettingsInputs, RegionSettingsOutputs, regionSettingsProvider as provider } from "../components/operations/regionSettings";
import { iot } from "./support/iotMock";

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
        await provider.update!("id", { ...inputs, previous: { logging: null, audit: null, indexing: null }, indexStatus: "ACTIVE" }, inputs);
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

    it("the diff ignores __provider (the serialized code changes with any edit to what it captures)", async () => {
        const olds = { ...inputs, previous: { logging: null, audit: null, indexing: null }, indexStatus: "ACTIVE", __provider: "exports.handler = () => 1" } as RegionSettingsOutputs;
        const d = await provider.diff!("id", olds, { ...inputs, __provider: "exports.handler = () => 2" } as RegionSettingsInputs);
        assert.strictEqual(d.changes, false);
        const level = await provider.diff!("id", olds, { ...inputs, logging: { ...inputs.logging, defaultLogLevel: "WARN" } });
        assert.strictEqual(level.changes, true);
    });
});
