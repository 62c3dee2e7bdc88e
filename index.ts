/**
 * FMS IoT: the AWS IoT side of a connected-vehicle fleet, one stack per country/region.
 *
 *   stack config ──► StackKey (KMS CMK: registry, logs, claim bucket)
 *                      │
 *   vehicle ──claim cert──► FleetProvisioning: template ─► pre-provisioning hook ─► registry
 *                      │        └─► Thing (type, group, device policy) + its own certificate
 *                      └──► ClaimCertificate (dynamic provider) ─► claim policy, PEMs in S3
 */
import * as aws from "@pulumi/aws";
import { arnContext } from "./components/arnContext";
import { ClaimCertificate } from "./components/claimCertificate";
import { FleetProvisioning } from "./components/fleetProvisioning";
import { StackKey } from "./components/stackKey";
import { loadStackConfig } from "./config/stackConfig";

const cfg = loadStackConfig();

const provider = new aws.Provider(`${cfg.namePrefix}-aws`, { region: cfg.region as aws.Region, defaultTags: { tags: cfg.tags } });
const opts = { providers: [provider] };
const ctx = arnContext(cfg.region, { provider });

const key = new StackKey(`${cfg.namePrefix}-key`, {
    ctx,
    aliasName: `${cfg.namePrefix}-fms`,
    logGroupPatterns: [`/aws/lambda/${cfg.namePrefix}-*`],
}, { ...opts, protect: cfg.protect });

const provisioning = new FleetProvisioning(`${cfg.namePrefix}-provisioning`, {
    ctx,
    namePrefix: cfg.namePrefix,
    country: cfg.country,
    ...cfg.provisioning,
    deviceRoot: cfg.topics.deviceRoot,
    basicIngestRuleNames: [],
    kmsKeyArn: key.arn,
    logRetentionDays: cfg.logRetentionDays,
    protect: cfg.protect,
}, opts);

const claim = new ClaimCertificate(`${cfg.namePrefix}-claim`, {
    ctx,
    namePrefix: cfg.namePrefix,
    region: cfg.region,
    profile: cfg.awsProfile,
    ...cfg.claimCertificate,
    templateNames: [provisioning.templateName],
    clientIdPrefix: cfg.provisioning.claimClientIdPrefix,
    kmsKeyArn: key.arn,
    protect: cfg.protect,
}, opts);

export const iotEndpoint = claim.endpoint;
export const provisioningTemplateName = provisioning.templateName;
export const claimCertificateArn = claim.certificateArn;
export const claimCertificateId = claim.certificateId;
export const claimCertificateStatus = claim.status;
export const claimCertificateBucket = claim.bucketName;
export const claimCertificateObjects = claim.objectKeys;
export const registryTableName = provisioning.registryTableName;
export const devicePolicyName = provisioning.devicePolicyName;
export const thingGroupName = provisioning.thingGroupName;
export const claimClientIdPrefix = cfg.provisioning.claimClientIdPrefix;
