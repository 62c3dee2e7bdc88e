/**
 * FMS IoT: the AWS IoT side of a connected-vehicle fleet, one stack per country/region.
 *
 *   stack config ─► StackKey (KMS CMK: registry, logs, claim bucket, MSK at rest)
 *   vehicle ──claim cert──► FleetProvisioning: template ─► pre-provisioning hook ─► registry
 *                              └─► Thing (type, group, device policy) + its own certificate
 *   vehicle ──own cert──► rotation template ─► hook (own Thing only) ─► new certificate
 *      └─confirm with the new cert─► CertificateRotation: rule ─► schedule ─► sweep retires the old one
 *   ClaimCertificate (dynamic provider) ─► claim policy, PEMs in a private S3 bucket
 *   privateCa: CreateCertificateFromCsr ─► certificate provider ─► Lambda ─► maker's AWS Private CA (CA registered)
 *   oemCa: vehicle ──maker-CA cert──► OemCaRegistration: CA (SNI_ONLY) ─► JITR rule ─► function ─► registry
 *              └─► Thing (type, group, device policy); no claim certificate, templates or hook
 *   vehicle ──$aws/rules/<rule>/...──► RuleRouting: topic rules ─► VPC destination ─► Kafka on MSK
 *   EdgeRuntime: Greengrass v2 cores (own template, role alias, telemetry component, deployment)
 *   Operations: IoT logging, Device Defender audit + detect, alarms, fleet index and metrics
 *   GreengrassHealth: cores' deployment/health events ─► EventBridge ─► log group ─► metrics, alarms
 *   OperationsDashboard: one CloudWatch dashboard of the above (its URL is the dashboardUrl output)
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { arnContext } from "./components/arnContext";
import { CertificateRotation } from "./components/provisioning/certificateRotation";
import { DestinationWatch } from "./components/routing/destinationWatch";
import { ClaimCertificate } from "./components/provisioning/claimCertificate";
import { coreRoleAliasName, EdgeRuntime, telemetryComponentName } from "./components/edge/edgeRuntime";
import { checkCorePolicySize } from "./components/edge/corePolicy";
import { FleetProvisioning } from "./components/provisioning/fleetProvisioning";
import { PrivateCaIssuer } from "./components/provisioning/privateCaIssuer";
import { OemCaRegistration } from "./components/provisioning/oemCaRegistration";
import { Operations } from "./components/operations/operations";
import { RuleRouting } from "./components/routing/ruleRouting";
import { StackKey } from "./components/stackKey";
import { stackProviders } from "./components/providers";
import { CONFIRM_RULE_KEY, ruleNameFor } from "./config/routingConfig";
import { connectedVehiclesMetricName, metricNamespace } from "./components/operations/operations";
import { OperationsDashboard } from "./components/operations/dashboard";
import { GreengrassHealth, greengrassEventsLogGroup } from "./components/operations/greengrassHealth";
import { configIsSecret } from "./config/stackConfig";
import { loadCheckedStackConfig } from "./config/crossStack";
import { IOT_LOG_GROUP } from "./components/operations/iotLogging";
import { greengrassComponentLogGroup, greengrassSystemLogGroup } from "./policies/greengrass";

const cfg = loadCheckedStackConfig();
const routing = cfg.routing;

// Vehicles reach this stack's topic rules through Basic Ingest: the device policies allow exactly those.
const basicIngest = {
    basicIngestRuleNames: routing?.routes.map((r) => r.ruleName) ?? [],
    basicIngestRulePrefix: ruleNameFor(cfg.namePrefix, ""),
};
// A core prefix whose per-core policy AWS would refuse (2048 characters) is a config error before any resource.
if (cfg.greengrass) {
    checkCorePolicySize({ region: cfg.region, roleAlias: coreRoleAliasName(cfg.namePrefix), key: `${pulumi.getProject()}:greengrass.coreThingNamePrefix`, file: `Pulumi.${pulumi.getStack()}.yaml` },
        { coreThingNamePrefix: cfg.greengrass.coreThingNamePrefix, ...basicIngest });
}

const providers = stackProviders(cfg);
const provider = providers.aws;
const native = providers.native;
const mskProvider = providers.msk;
const opts = { providers: [provider] };
const ctx = arnContext(cfg.region, { provider });
// Dynamic providers call AWS themselves: they get the stack's region, profile and allowed accounts explicitly.
const awsTarget = providers.target;

const key = new StackKey(`${cfg.namePrefix}-key`, {
    ctx,
    aliasName: `${cfg.namePrefix}-fms`,
    logGroupPatterns: [
        `/aws/lambda/${cfg.namePrefix}-*`, `/aws/iot/rules/${cfg.namePrefix}-*`, `/aws/msk/${cfg.namePrefix}`, IOT_LOG_GROUP,
        // Greengrass log manager groups this stack creates: its component's, and the region's system group if it owns it.
        ...(cfg.greengrass ? [greengrassComponentLogGroup(cfg.region, telemetryComponentName(cfg.namePrefix))] : []),
        ...(cfg.greengrass?.logs.systemLogGroup === "create" ? [greengrassSystemLogGroup(cfg.region)] : []),
        // The cores' deployment and health events (EventBridge to CloudWatch Logs).
        ...(cfg.greengrass ? [greengrassEventsLogGroup(cfg.namePrefix)] : []),
    ],
    alarmsPublishToEncryptedTopics: true,
}, { ...opts, protect: cfg.protect });


// Vehicles confirm a rotated certificate through a rule of their own (Basic Ingest, like telemetry).
const confirmRuleName = ruleNameFor(cfg.namePrefix, CONFIRM_RULE_KEY);

const provisioning = new FleetProvisioning(`${cfg.namePrefix}-provisioning`, {
    ctx,
    awsTarget,
    namePrefix: cfg.namePrefix,
    country: cfg.country,
    ...cfg.provisioning,
    coreTemplate: cfg.greengrass && {
        templateName: cfg.greengrass.templateName, rotationTemplateName: cfg.greengrass.rotationTemplateName,
        thingNamePrefix: cfg.greengrass.coreThingNamePrefix, serialPrefixes: cfg.greengrass.serialPrefixes,
    },
    deviceRoot: cfg.topics.deviceRoot,
    ...basicIngest,
    basicIngestRuleNames: [...basicIngest.basicIngestRuleNames, confirmRuleName],
    kmsKeyArn: key.arn,
    logRetentionDays: cfg.logRetentionDays,
    protect: cfg.protect,
    identityMode: cfg.provisioning.identity.mode,
}, opts);
// Templates, hook and provisioning role: every mode but oemCa.
const claimSide = provisioning.claim;

// oemCa: the maker's CA registered, and just-in-time registration against this fleet's registry.
const oemCa = cfg.provisioning.identity.oemCa && new OemCaRegistration(`${cfg.namePrefix}-oem-ca`, {
    ctx,
    namePrefix: cfg.namePrefix,
    country: cfg.country,
    oemCa: cfg.provisioning.identity.oemCa,
    fleetName: cfg.provisioning.templateName,
    thingNamePrefix: cfg.provisioning.thingNamePrefix,
    serialPrefixes: cfg.provisioning.serialPrefixes,
    devicePolicyName: provisioning.devicePolicyName,
    thingTypeName: provisioning.thingTypeName,
    thingGroupName: provisioning.thingGroupName,
    registryTable: { name: provisioning.registryTableName, arn: provisioning.registryTableArn },
    rotationTable: { name: provisioning.rotationTableName, arn: provisioning.rotationTableArn },
    gracePeriodHours: cfg.provisioning.rotation.gracePeriodHours,
    kmsKeyArn: key.arn,
    logRetentionDays: cfg.logRetentionDays,
    protect: cfg.protect,
}, opts);


/** The function that decides whether a unit becomes a Thing, and its decision log: the hook, or oemCa's JITR function. */
function decider(): { functionName: pulumi.Output<string>; logGroupName: pulumi.Output<string> } {
    if (oemCa) return { functionName: oemCa.functionName, logGroupName: oemCa.logGroupName };
    if (claimSide) return { functionName: claimSide.hookFunctionName, logGroupName: claimSide.hookLogGroupName };
    throw new Error("FleetProvisioning makes its claim side in every mode but oemCa");
}

const edge = cfg.greengrass && claimSide && new EdgeRuntime(`${cfg.namePrefix}-edge`, {
    ctx,
    awsTarget,
    namePrefix: cfg.namePrefix,
    region: cfg.region,
    country: cfg.country,
    greengrass: cfg.greengrass,
    thingTypeName: provisioning.thingTypeName,
    hookFunctionName: claimSide.hookFunctionName,
    hookFunctionArn: claimSide.hookFunctionArn,
    provisioningRoleArn: claimSide.provisioningRoleArn,
    kmsKeyArn: key.arn,
    ...basicIngest,
    confirmRuleName,
    deviceKeys: cfg.provisioning.deviceKeys,
    logRetentionDays: cfg.logRetentionDays,
    protect: cfg.protect,
}, { providers: [provider, native] });

// No claim certificate (nor its bucket and policy) in oemCa mode: units hold the maker's certificates.
const claim = claimSide && new ClaimCertificate(`${cfg.namePrefix}-claim`, {
    ctx,
    namePrefix: cfg.namePrefix,
    region: cfg.region,
    profile: cfg.awsProfile,
    allowedAccountIds: cfg.allowedAccountIds,
    ...cfg.claimCertificate,
    templateNames: edge ? [claimSide.templateName, edge.coreTemplateName] : [claimSide.templateName],
    clientIdPrefix: cfg.provisioning.claimClientIdPrefix,
    deviceKeys: cfg.provisioning.deviceKeys,
    kmsKeyArn: key.arn,
    protect: cfg.protect,
}, opts);

const rules = routing && new RuleRouting(`${cfg.namePrefix}-routing`, {
    ctx,
    namePrefix: cfg.namePrefix,
    region: cfg.region,
    routing,
    password: new pulumi.Config().getSecret("mskPassword"),
    passwordIsConfigSecret: configIsSecret(`${cfg.project}:mskPassword`),
    stackKeyArn: key.arn,
    logRetentionDays: cfg.logRetentionDays,
    protect: cfg.protect,
    mskProvider,
}, opts);

// The provisioning templates (vehicles', cores', and their rotation templates): alarmed, and on the dashboard.
const templateNames = !claimSide ? [] : edge ? [claimSide.templateName, claimSide.rotationTemplateName, edge.coreTemplateName, edge.coreRotationTemplateName] : [claimSide.templateName, claimSide.rotationTemplateName];

const operations = new Operations(`${cfg.namePrefix}-operations`, {
    ctx,
    awsTarget,
    stack: cfg.stack,
    ruleNames: [...basicIngest.basicIngestRuleNames, confirmRuleName],
    namePrefix: cfg.namePrefix,
    operations: cfg.operations,
    kmsKeyArn: key.arn,
    logRetentionDays: cfg.logRetentionDays,
    hookFunctionName: decider().functionName,
    hookLogGroupName: decider().logGroupName,
    claimCertificateId: claim?.certificateId,
    templateNames,
    vehicleThingGroupArn: provisioning.thingGroupArn,
    thingTypeName: provisioning.thingTypeName,
}, { providers: [provider, native] });

// Greengrass reports deployments and core health as EventBridge events only: this stack's cores' become metrics and alarms.
const greengrassHealth = edge && cfg.greengrass ? new GreengrassHealth(`${cfg.namePrefix}-greengrass-health`, {
    ctx,
    namePrefix: cfg.namePrefix,
    coreThingNamePrefix: cfg.greengrass.coreThingNamePrefix,
    namespace: metricNamespace(cfg.namePrefix),
    kmsKeyArn: key.arn,
    logRetentionDays: cfg.logRetentionDays,
    alarmTopicArn: operations.topicArn,
}, opts) : undefined;

// privateCa: AWS IoT's certificate provider (one per account and region, created by its owner stack) has the maker's
// AWS Private CA sign every fleet-provisioning CSR; the hook and rotation decide as before.
const privateCa = cfg.provisioning.identity.privateCa;
const issuer = privateCa?.ownsCertificateProvider ? new PrivateCaIssuer(`${cfg.namePrefix}-private-ca`, {
    ctx,
    namePrefix: cfg.namePrefix,
    certificateAuthorityArn: privateCa.certificateAuthorityArn,
    templateArn: privateCa.templateArn,
    signingAlgorithm: privateCa.signingAlgorithm,
    validityDays: privateCa.validityDays,
    organization: privateCa.organization,
    kmsKeyArn: key.arn,
    logRetentionDays: cfg.logRetentionDays,
    metricNamespace: metricNamespace(cfg.namePrefix),
    alarmTopicArn: operations.topicArn,
    issuedPerHour: cfg.operations.alarms.provisioningsPerHour,
}, { providers: [provider, native] }) : undefined;

// AWS IoT disables a VPC rule destination after 30 days without traffic: watched, re-enabled, alarmed.
const destinationWatch = rules && new DestinationWatch(`${cfg.namePrefix}-destination-watch`, {
    ctx,
    namePrefix: cfg.namePrefix,
    destinationArn: rules.destinationArn,
    metricNamespace: metricNamespace(cfg.namePrefix),
    reenable: rules.reenableDestination,
    alarmTopicArn: operations.topicArn,
    kmsKeyArn: key.arn,
    logRetentionDays: cfg.logRetentionDays,
}, opts);

const rotation = new CertificateRotation(`${cfg.namePrefix}-rotation`, {
    ctx,
    table: { name: provisioning.rotationTableName, arn: provisioning.rotationTableArn },
    registryTable: cfg.provisioning.hookMode === "registry" ? { name: provisioning.registryTableName, arn: provisioning.registryTableArn } : undefined,
    namePrefix: cfg.namePrefix,
    ruleName: confirmRuleName,
    // Vehicles and Greengrass cores rotate through the same confirmation and sweep.
    thingNamePrefixes: [cfg.provisioning.thingNamePrefix, ...(cfg.greengrass ? [cfg.greengrass.coreThingNamePrefix] : [])],
    gracePeriodHours: cfg.provisioning.rotation.gracePeriodHours,
    metricNamespace: metricNamespace(cfg.namePrefix),
    kmsKeyArn: key.arn,
    logRetentionDays: cfg.logRetentionDays,
    alarmTopicArn: operations.topicArn,
}, opts);

// What an operator checks first, for what this stack has (provisioning, hook, rotation, routing, connections, cores, alarms).
const dashboard = new OperationsDashboard(`${cfg.namePrefix}-dashboard`, {
    name: `${cfg.namePrefix}-fleet`,
    partition: ctx.apply((c) => c.partition),
    facts: pulumi.output({
        region: cfg.region,
        namespace: metricNamespace(cfg.namePrefix),
        hookFunctionName: decider().functionName,
        claimCertificateId: claim?.certificateId,
        templateNames,
        rotation: { confirmFunctionName: rotation.confirmFunctionName, sweepFunctionName: rotation.sweepFunctionName, failureQueueName: rotation.failureQueueName, ruleName: rotation.ruleName },
        routing: routing && { ruleNames: routing.routes.map((r) => r.ruleName) },
        connectedFleetMetric: cfg.operations.ownsRegionSettings ? connectedVehiclesMetricName(cfg.namePrefix) : undefined,
        greengrass: edge && { roleAliasName: edge.roleAliasName },
        alarmArns: [...operations.alarmArns, ...rotation.alarmArns, ...(destinationWatch ? [destinationWatch.alarmArn] : []), ...(issuer ? issuer.alarmArns : []), ...(greengrassHealth ? greengrassHealth.alarmArns : [])],
    }),
}, opts);

export const iotEndpoint = claim?.endpoint ?? aws.iot.getEndpointOutput({ endpointType: "iot:Data-ATS" }, { provider }).endpointAddress;
export const identityMode = cfg.provisioning.identity.mode;
export const provisioningTemplateName = claimSide?.templateName;
export const rotationTemplateName = claimSide?.rotationTemplateName;
export const oemCaCertificateIds = oemCa?.caCertificateIds;
export const jitrFunctionName = oemCa?.functionName;
export const jitrRuleNames = oemCa?.ruleNames;
/** For the factory (`npm run device -- factory-issue --stack`): where the serial goes, and the country the subject must carry. */
export const oemCaFleetName = cfg.provisioning.identity.oemCa && cfg.provisioning.templateName;
export const oemCaSerialField = cfg.provisioning.identity.oemCa?.serialField;
export const oemCaSubjectCountry = cfg.provisioning.identity.oemCa?.membership === "registryAndSubjectCountry" ? cfg.country : undefined;
export const certificateConfirmRuleName = rotation.ruleName;
/** How long a rotated certificate may stay unconfirmed (edge-config sizes the cores' confirmation timer from it). */
export const certificateConfirmTimeoutHours = cfg.provisioning.rotation.confirmTimeoutHours;
export const rotationScheduleTable = rotation.tableName;
export const rotationConfirmFailureQueue = rotation.failureQueueUrl;
export const deviceKeys = cfg.provisioning.deviceKeys;
export const claimCertificateArn = claim?.certificateArn;
export const claimCertificateId = claim?.certificateId;
export const claimCertificateStatus = claim?.status;
export const claimCertificateBucket = claim?.bucketName;
export const claimCertificateObjects = claim?.objectKeys;
export const registryTableName = provisioning.registryTableName;
export const devicePolicyName = provisioning.devicePolicyName;
export const thingGroupName = provisioning.thingGroupName;
export const claimClientIdPrefix = cfg.provisioning.claimClientIdPrefix;
export const thingNamePrefix = cfg.provisioning.thingNamePrefix;
export const ruleNames = rules?.ruleNames ?? [];
export const basicIngestTopics = rules?.basicIngestTopics ?? [];
export const mskSecretName = rules?.secretName;
export const mskBootstrapServers = rules?.bootstrapServers;
export const ruleErrorLogGroup = rules?.errorLogGroupName;
export const ruleDestinationWatch = destinationWatch?.functionName;
export const edgeRoleAliasName = edge?.roleAliasName;
export const edgeThingGroupArn = edge?.thingGroupArn;
export const edgeCoreTemplateName = edge?.coreTemplateName;
export const edgeCoreRotationTemplateName = edge?.coreRotationTemplateName;
export const edgeComponentArn = edge?.componentArn;
export const edgeDeploymentId = edge?.deploymentId;
export const edgeComponentName = edge?.componentName;
export const edgeCoreThingNamePrefix = cfg.greengrass?.coreThingNamePrefix;
export const edgeNucleusVersion = cfg.greengrass?.nucleusVersion;
export const edgeSerialPrefixes = cfg.greengrass?.serialPrefixes;
export const edgeLogGroups = edge?.logGroupNames;
export const edgeHealthEventsLogGroup = greengrassHealth?.logGroupName;
export const iotCredentialEndpoint = edge?.credentialEndpoint;
export const awsRegion = cfg.region;
export const certificateProviderFunction = issuer?.functionName;
export const certificateProviderArn = issuer?.certificateProviderArn;
export const privateCaCertificateId = issuer?.caCertificateId;
export const operationsTopicArn = operations.topicArn;
export const dashboardUrl = dashboard.url;
