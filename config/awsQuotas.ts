/**
 * AWS's quotas the stacks rely on, as data: one row per quota, with its default value, whether AWS raises it
 * on request (Service Quotas / a support case), the page that says so, and what in this project uses it. The
 * program's checks (config errors, plan warnings) and the burst benchmark's emulation of AWS read these rows;
 * a message that cites a quota names the row's `name` and `source`.
 *
 * Values are AWS's defaults for a new account. Where the page gives a different default for some regions, `note`
 * says so; the table keeps the value that applies to the regions our stacks use (ap-northeast-1, ap-northeast-2).
 */

export interface AwsQuota {
    /** AWS's name for it (as the quotas page or the Service Quotas console shows it). */
    name: string;
    value: number;
    unit: string;
    /** AWS raises it on request. */
    adjustable: boolean;
    /** The AWS page that states it. */
    source: string;
    /** What in this project depends on it. */
    usedBy: string;
    note?: string;
    /**
     * What a stored copy of an AWS page showed when the row was checked (issue 29: search tool, corpora docs/pages):
     * "<url>: <what it says>", or "unverified" when no copy of the page showing the value could be found. An
     * unverified row keeps the value the project has used; check it on the live page before relying on it.
     */
    verified: string;
}

const IOT_QUOTAS = "https://docs.aws.amazon.com/general/latest/gr/iot-core.html";
const FLEET_API = "https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html";
const HOOK_PAGE = "https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html";
const GREENGRASS_QUOTAS = "https://docs.aws.amazon.com/general/latest/gr/greengrassv2.html";
const LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html";

export const AWS_QUOTAS = {
    policyDocumentSize: {
        name: "Maximum size of a policy document", value: 2048, unit: "characters (white space excluded)", adjustable: false, source: IOT_QUOTAS,
        usedBy: "every IoT policy the stacks make: device, claim, Greengrass core, and the per-core policy a core template creates",
        // The quotas page's stored copy holds only its endpoint tables; the API reference states the same limit.
        verified: "https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/IoT/TCreatePolicyVersionRequest.html: PolicyDocument minimum length 1, maximum length 2048, excluding whitespace (the same in the AWS CLI's create-policy reference)",
    },
    policiesPerCertificate: {
        name: "Maximum number of policies that can be attached to a certificate or Amazon Cognito identity", value: 10, unit: "policies", adjustable: false, source: IOT_QUOTAS,
        usedBy: "a vehicle certificate gets one policy, a core certificate two (its per-core policy and the stack's core rotation policy)",
        verified: "unverified (as policyDocumentSize: 10 seen in a third-party summary only)",
    },
    policyVersions: {
        name: "Maximum number of named policy versions", value: 5, unit: "versions per policy", adjustable: false, source: IOT_QUOTAS,
        usedBy: "the device, claim and core policies are updated in place (a new version per change)",
        verified: "https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/IoT/TCreatePolicyVersionRequest.html: a managed policy can have up to five versions; at five, DeletePolicyVersion before creating another",
    },
    rulesPerAccount: {
        name: "Maximum number of rules", value: 1000, unit: "topic rules per account and region", adjustable: true, source: IOT_QUOTAS,
        usedBy: "routes (one rule each), the certificate-confirmation rule, Greengrass telemetry: summed over the stacks sharing an account and region",
        verified: "unverified",
    },
    actionsPerRule: {
        name: "Maximum number of actions per rule", value: 10, unit: "actions", adjustable: false, source: IOT_QUOTAS,
        usedBy: "each route rule has one Kafka action and an error action",
        verified: "unverified",
    },
    topicSlashes: {
        name: "Maximum number of slashes in topic and topic filter", value: 7, unit: "forward slashes (8 levels)", adjustable: false, source: IOT_QUOTAS,
        usedBy: "the device topics <deviceRoot>/<thing>/..., Basic Ingest topics (their $aws/rules/<rule>/ prefix is not counted)",
        verified: "unverified (no stored copy of the quotas page's message-broker table found this time)",
    },
    provisioningTemplatesPerAccount: {
        name: "Maximum number of fleet provisioning templates per customer", value: 256, unit: "templates per account and region", adjustable: true, source: IOT_QUOTAS,
        usedBy: "each claim or privateCa stack makes two (provision, rotate), and two more with Greengrass (core, core rotation); an oemCa stack none",
        verified: "unverified",
    },
    provisioningTemplateVersions: {
        name: "Maximum number of versions per fleet provisioning template", value: 5, unit: "versions", adjustable: false, source: IOT_QUOTAS,
        usedBy: "components/provisioning/templateVersionPruner.ts keeps each template within it",
        verified: "unverified",
    },
    provisioningTemplateSize: {
        name: "Maximum size of provisioning template", value: 10240, unit: "characters", adjustable: false, source: IOT_QUOTAS,
        usedBy: "the template bodies (the core template carries the per-core policy document)",
        note: "also the API's templateBody length limit (CreateProvisioningTemplate, https://docs.aws.amazon.com/iot/latest/apireference/API_CreateProvisioningTemplate.html)",
        verified: "https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterThing.html: templateBody, maximum length 10240",
    },
    preProvisioningHookTimeout: {
        name: "Pre-provisioning hook response time", value: 5, unit: "seconds", adjustable: false, source: HOOK_PAGE,
        usedBy: "the hook's registry timeout; a hook that answers later denies the provisioning",
        verified: "unverified (the stored hook page says a hook that fails or returns no allowProvisioning fails the request; its 5 s was not in the stored copy)",
    },
    ownershipTokenLife: {
        name: "Certificate ownership token lifetime", value: 3600, unit: "seconds", adjustable: false, source: FLEET_API,
        usedBy: "the device retry policy (device/retry.ts): a RegisterThing retry keeps the token only while it lives",
        verified: "unverified",
    },
    createKeysAndCertificateRate: {
        name: "Fleet provisioning CreateKeysAndCertificate requests per second", value: 10, unit: "requests per second per account", adjustable: true, source: IOT_QUOTAS,
        usedBy: "units with deviceKeys: aws; emulated by the burst bench",
        verified: "unverified",
    },
    createCertificateFromCsrRate: {
        name: "Fleet provisioning CreateCertificateFromCsr requests per second", value: 50, unit: "requests per second per account", adjustable: true, source: IOT_QUOTAS,
        usedBy: "units with deviceKeys: device; emulated by the burst bench",
        verified: "unverified",
    },
    registerThingRate: {
        name: "Fleet provisioning RegisterThing requests per second", value: 10, unit: "requests per second per account", adjustable: true, source: IOT_QUOTAS,
        usedBy: "every provisioning and rotation; emulated by the burst bench (the rate that binds a burst)",
        verified: "unverified (the RegisterThing API reference says only that its control-plane calls may be throttled)",
    },
    connectRate: {
        name: "Connect requests per second per account", value: 100, unit: "CONNECTs per second per account", adjustable: true, source: IOT_QUOTAS,
        usedBy: "every unit connects once with the claim certificate to provision; emulated by the burst bench",
        note: "500 per second in us-east-1, us-west-2 and eu-west-1 (the page's per-region default); 100 elsewhere",
        verified: "partly: https://docs.aws.amazon.com/iot/latest/developerguide/limits-iot.html (AWS's older limits page) gives 500 per second per account, adjustable; the current per-region default was not in the stored copy",
    },
    connectRatePerClientId: {
        name: "Connect requests per second per client ID", value: 1, unit: "CONNECTs per second per client id", adjustable: false, source: IOT_QUOTAS,
        usedBy: "claim client ids carry a random suffix, so units never share one",
        verified: "https://docs.aws.amazon.com/iot/latest/developerguide/limits-iot.html: 1 CONNECT per second per account and client id, not adjustable",
    },
    greengrassComponentsPerDeployment: {
        name: "Number of components per deployment", value: 100, unit: "components", adjustable: false, source: GREENGRASS_QUOTAS,
        usedBy: "the core deployment (nucleus, log manager, the telemetry component)",
        verified: "unverified",
    },
    greengrassCoreDevicesPerThingGroupDeployment: {
        name: "Number of core devices in a thing group targeted by a deployment", value: 50000, unit: "core devices", adjustable: true, source: GREENGRASS_QUOTAS,
        usedBy: "one deployment targets the stack's core thing group: a fleet of more cores needs an increase (or more groups)",
        verified: "unverified",
    },
    lambdaConcurrency: {
        name: "Concurrent executions", value: 1000, unit: "concurrent Lambda executions per account and region", adjustable: true, source: LAMBDA_QUOTAS,
        usedBy: "the pre-provisioning hook (and provisioning.hookReservedConcurrency, reserved out of it)",
        verified: "unverified",
    },
} as const satisfies Record<string, AwsQuota>;

export type QuotaId = keyof typeof AWS_QUOTAS;

/** "<name> (<value> <unit>, AWS: <source>)": how a check cites a quota. */
export function cite(id: QuotaId): string {
    const q: AwsQuota = AWS_QUOTAS[id];
    return `AWS quota "${q.name}" (${q.value} ${q.unit}${q.adjustable ? ", adjustable" : ""}; ${q.source})`;
}

/** The fleet-provisioning MQTT API's per-account rates, by operation (what the burst bench's double enforces). */
export const FLEET_PROVISIONING_RATES = {
    CreateKeysAndCertificate: AWS_QUOTAS.createKeysAndCertificateRate.value,
    CreateCertificateFromCsr: AWS_QUOTAS.createCertificateFromCsrRate.value,
    RegisterThing: AWS_QUOTAS.registerThingRate.value,
    Connect: AWS_QUOTAS.connectRate.value,
} as const;

export type RateLimitedOperation = keyof typeof FLEET_PROVISIONING_RATES;

/** Requests of each rate-limited operation one unit's provisioning costs (measured by the burst bench). */
export type PerUnitRequests = Partial<Record<RateLimitedOperation, number>>;

/** One unit's requests when nothing is retried: a CONNECT, a certificate (either kind), a RegisterThing. */
export const NOMINAL_REQUESTS = (deviceKeysShare: number): PerUnitRequests => ({
    Connect: 1, CreateCertificateFromCsr: deviceKeysShare, CreateKeysAndCertificate: 1 - deviceKeysShare, RegisterThing: 1,
});

export interface Projection { units: number; seconds: number; binding: RateLimitedOperation; byOperation: { operation: RateLimitedOperation; seconds: number }[] }

/**
 * How long onboarding `units` takes when every unit asks at once, at these rates (AWS's defaults unless given):
 * each operation alone needs units x requests-per-unit / rate seconds; the longest is the binding one.
 */
export function projectOnboarding(units: number, perUnit: PerUnitRequests, rates: Partial<Record<RateLimitedOperation, number>> = FLEET_PROVISIONING_RATES): Projection {
    const byOperation = (Object.keys(perUnit) as RateLimitedOperation[])
        .filter((op) => (perUnit[op] ?? 0) > 0 && rates[op])
        .map((operation) => ({ operation, seconds: (units * perUnit[operation]!) / rates[operation]! }))
        .sort((a, b) => b.seconds - a.seconds);
    return { units, seconds: byOperation[0]?.seconds ?? 0, binding: byOperation[0]?.operation ?? "RegisterThing", byOperation };
}

/** Each rate-limited operation's quota row. */
export const RATE_QUOTA: Record<RateLimitedOperation, QuotaId> = {
    CreateKeysAndCertificate: "createKeysAndCertificateRate", CreateCertificateFromCsr: "createCertificateFromCsrRate", RegisterThing: "registerThingRate", Connect: "connectRate",
};
