import * as pulumi from "@pulumi/pulumi";
import { COUNTRY_CODES } from "./countries";
import { GreengrassConfig, parseGreengrass } from "./greengrassConfig";
import { OperationsConfig, parseOperations } from "./operationsConfig";
import { parseRouting, RoutingConfig } from "./routingConfig";
import { ConfigError } from "./errors";
import {
    Raw, readBoolean, readEnum, readInteger, readIntInRange, readObject, readSerialPrefixes, readString, readStringList,
} from "./validate";

/**
 * The one typed schema of a stack's configuration (`Pulumi.<stack>.yaml`, namespace `fms-iot:`).
 * `parseStackConfig` validates everything before any resource is registered.
 */

export const ENVIRONMENTS = ["dev", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const HOOK_MODES = ["prefix", "registry"] as const;
export type HookMode = (typeof HOOK_MODES)[number];

/** Who makes a vehicle's key pair: the vehicle (CSR, the key never leaves it) or AWS IoT (sent over MQTT). */
export const DEVICE_KEYS = ["device", "aws"] as const;
export type DeviceKeys = (typeof DEVICE_KEYS)[number];

export const CERTIFICATE_STATUSES = ["ACTIVE", "INACTIVE"] as const;
export type ClaimCertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

/** Retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export interface ProvisioningConfig {
    /** Fleet provisioning template name: `^[0-9A-Za-z_-]+$`, at most 36 characters. */
    templateName: string;
    /** Thing names are `<thingNamePrefix><SerialNumber>`. */
    thingNamePrefix: string;
    /** A serial is allowed only if it starts with one of these. */
    serialPrefixes: string[];
    /** `prefix`: the prefix check alone; `registry`: the serial must also be registered and not revoked. */
    hookMode: HookMode;
    /** MQTT client ids a claim-certificate holder may connect with: `<claimClientIdPrefix>*`. */
    claimClientIdPrefix: string;
    /** `device` (default): CreateCertificateFromCsr only; `aws`: CreateKeysAndCertificate only. */
    deviceKeys: DeviceKeys;
    /** Prefix mode only: let the hook provision a serial whose Thing already exists. */
    allowReprovisioning: boolean;
    rotation: RotationConfig;
}

/** Vehicle certificate rotation: a second template the vehicle calls with its own certificate. */
export interface RotationConfig {
    /** Template a provisioned vehicle calls to get its next certificate (36 characters at most). */
    templateName: string;
    /** Hours the old certificate stays active after the vehicle has confirmed the new one (0-720). */
    gracePeriodHours: number;
}

export interface TopicsConfig {
    /** A Thing's own topics are `<deviceRoot>/<thingName>/...`. */
    deviceRoot: string;
}

export interface ClaimCertificateConfig {
    /** Change to issue a new claim certificate (create-before-delete). */
    rotation: string;
    /** ACTIVE, or INACTIVE to switch a leaked claim certificate off without touching provisioned devices. */
    status: ClaimCertificateStatus;
    /** PEM CSR from a factory HSM: AWS signs it and no private key exists on our side. */
    csrPem?: string;
    /** Role the claim-certificate provider assumes (otherwise the deploying identity). */
    assumeRoleArn?: string;
}

export interface StackConfig {
    project: string;
    stack: string;
    region: string;
    /** Optional `aws:profile`: every provider of the stack (explicit `aws`, `aws-native`, dynamic) uses it. */
    awsProfile?: string;
    /** Optional `aws:allowedAccountIds`: a run with credentials for another account stops before any change. */
    allowedAccountIds?: string[];
    country: string;
    environment: Environment;
    namePrefix: string;
    /** `protect` stateful resources (registry table, key, claim bucket). */
    protect: boolean;
    logRetentionDays: number;
    /** Country, Environment and Project first, then the extra tags. */
    tags: Record<string, string>;
    provisioning: ProvisioningConfig;
    topics: TopicsConfig;
    claimCertificate: ClaimCertificateConfig;
    operations: OperationsConfig;
    /** Topic rules to Kafka on MSK; absent: no rules (and no Basic Ingest topics in the device policy). */
    routing?: RoutingConfig;
    /** Greengrass v2 for vehicles that run edge software; absent: none of it. */
    greengrass?: GreengrassConfig;
}

/** Raw values as read from Pulumi config, keyed without the project namespace. */
export interface RawStackConfig {
    project: string;
    stack: string;
    aws: { region?: unknown; profile?: unknown; allowedAccountIds?: unknown };
    values: Raw;
}

export const STACK_KEYS = [
    "country", "environment", "namePrefix", "protect", "logRetentionDays", "tags",
    "provisioning", "topics", "claimCertificate", "routing", "operations", "greengrass",
] as const;

/** Secret keys the program reads itself (`pulumi config set --secret`). */
export const SECRET_KEYS = ["mskPassword"] as const;

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d$/;
const NAME_PREFIX = /^[a-z][a-z0-9-]{1,18}[a-z0-9]$/;
const THING_NAME_CHARS = /^[a-zA-Z0-9:_-]{1,64}$/;
const TEMPLATE_NAME = /^[0-9A-Za-z_-]{1,36}$/;
const CLIENT_ID_PREFIX = /^[a-zA-Z0-9:_-]{1,32}$/;
const TOPIC_ROOT = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;
const TAG_KEY = /^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ROTATION = /^[A-Za-z0-9._-]{1,64}$/;
const RESERVED_TAGS = ["Country", "Environment", "Project"];

export function parseStackConfig(raw: RawStackConfig): StackConfig {
    const ns = raw.project;
    const key = (k: string) => `${ns}:${k}`;
    const v = raw.values;

    const region = readString("aws:region", raw.aws.region, {
        pattern: REGION, allowed: "an AWS region such as ap-northeast-2",
    });
    const awsProfile = readString("aws:profile", raw.aws.profile, { pattern: /^[\w.@+-]{1,64}$/, allowed: "a profile name" }, undefined);
    const allowedAccountIds = raw.aws.allowedAccountIds === undefined ? undefined
        : readStringList("aws:allowedAccountIds", raw.aws.allowedAccountIds, { minItems: 1, pattern: /^\d{12}$/, allowed: "a 12-digit AWS account id (quoted in YAML)" });
    const country = readString(key("country"), v.country, {
        pattern: /^[A-Z]{2}$/, allowed: "an ISO 3166-1 alpha-2 country code in upper case, such as KR or JP",
    });
    if (!COUNTRY_CODES.has(country)) {
        throw new ConfigError(key("country"), country, "unknown ISO 3166-1 alpha-2 country code (such as KR, JP, US)");
    }
    const environment = readEnum(key("environment"), v.environment, ENVIRONMENTS);
    const production = environment === "production";
    const namePrefix = readString(key("namePrefix"), v.namePrefix, {
        pattern: NAME_PREFIX, allowed: "3-20 characters: lower-case letters, digits and '-', starting with a letter",
    });

    const provisioning = parseProvisioning(key("provisioning"), v.provisioning, environment, namePrefix);
    const routing = parseRouting(key("routing"), v.routing, namePrefix, region);
    return {
        project: raw.project,
        stack: raw.stack,
        region,
        awsProfile,
        ...(allowedAccountIds ? { allowedAccountIds } : {}),
        country,
        environment,
        namePrefix,
        protect: readBoolean(key("protect"), v.protect, production),
        logRetentionDays: readInteger(key("logRetentionDays"), v.logRetentionDays, LOG_RETENTION_DAYS, production ? 365 : 14),
        tags: parseTags(key("tags"), v.tags, { Country: country, Environment: environment, Project: raw.project }),
        provisioning,
        topics: parseTopics(key("topics"), v.topics),
        claimCertificate: parseClaimCertificate(key("claimCertificate"), v.claimCertificate),
        routing,
        operations: parseOperations(key("operations"), v.operations, production, raw.stack),
        greengrass: parseGreengrass(key("greengrass"), v.greengrass, provisioning, routing, namePrefix),
    };
}

function parseTags(key: string, value: unknown, base: Record<string, string>): Record<string, string> {
    const extra = readObject(key, value, Object.keys(value ?? {}), true);
    const tags = { ...base };
    for (const [k, val] of Object.entries(extra)) {
        if (RESERVED_TAGS.includes(k)) throw new ConfigError(`${key}.${k}`, val, `${k} is set by the program from the stack config; remove it`);
        if (!TAG_KEY.test(k)) throw new ConfigError(`${key}.${k}`, val, "tag keys are 1-128 characters, letters, digits, spaces and _.:/=+-@, not starting with aws:");
        tags[k] = readString(`${key}.${k}`, val, { pattern: TAG_VALUE, allowed: "a string of at most 256 characters: letters, digits, spaces and _.:/=+-@" });
    }
    return tags;
}

function parseProvisioning(key: string, value: unknown, environment: Environment, namePrefix: string): ProvisioningConfig {
    const p = readObject(key, value, ["templateName", "thingNamePrefix", "serialPrefixes", "hookMode", "claimClientIdPrefix", "deviceKeys", "allowReprovisioning", "rotation"]);
    const thingNamePrefix = readString(`${key}.thingNamePrefix`, p.thingNamePrefix, {
        pattern: THING_NAME_CHARS, allowed: "1-64 characters from a-z A-Z 0-9 : _ - (the characters AWS IoT allows in Thing names)",
    });
    const claimClientIdPrefix = readString(`${key}.claimClientIdPrefix`, p.claimClientIdPrefix, {
        pattern: CLIENT_ID_PREFIX, allowed: "1-32 characters from a-z A-Z 0-9 : _ -",
    }, "claim-");
    if (thingNamePrefix.startsWith(claimClientIdPrefix) || claimClientIdPrefix.startsWith(thingNamePrefix)) {
        throw new ConfigError(`${key}.claimClientIdPrefix`, claimClientIdPrefix,
            `must not overlap thingNamePrefix "${thingNamePrefix}" (a claim-certificate holder could otherwise take over a vehicle's client id)`);
    }
    const templateName = readString(`${key}.templateName`, p.templateName, {
        pattern: TEMPLATE_NAME, allowed: "1-36 characters from 0-9 A-Z a-z _ - (AWS IoT provisioning template names)",
    });
    const hookMode = readEnum(`${key}.hookMode`, p.hookMode, HOOK_MODES, "registry");
    if (hookMode === "prefix" && environment !== "dev") {
        throw new ConfigError(`${key}.hookMode`, hookMode, `registry on a ${environment} stack (prefix mode lets anyone who knows a serial prefix provision; it is for dev stacks only)`);
    }
    const allowReprovisioning = readBoolean(`${key}.allowReprovisioning`, p.allowReprovisioning, false);
    if (allowReprovisioning && hookMode !== "prefix") {
        throw new ConfigError(`${key}.allowReprovisioning`, allowReprovisioning, "false in registry mode (re-arm the serial in the registry instead; see the README's runbook)");
    }
    const r = readObject(`${key}.rotation`, p.rotation, ["templateName", "gracePeriodHours"], true);
    const rotationTemplate = readString(`${key}.rotation.templateName`, r.templateName, {
        pattern: TEMPLATE_NAME, allowed: "1-36 characters from 0-9 A-Z a-z _ - (AWS IoT provisioning template names)",
    }, `${namePrefix}-rotate`);
    if (rotationTemplate === templateName) throw new ConfigError(`${key}.rotation.templateName`, rotationTemplate, "a template name other than provisioning.templateName");
    return {
        templateName,
        thingNamePrefix,
        serialPrefixes: readSerialPrefixes(`${key}.serialPrefixes`, p.serialPrefixes),
        hookMode,
        claimClientIdPrefix,
        deviceKeys: readEnum(`${key}.deviceKeys`, p.deviceKeys, DEVICE_KEYS, "device"),
        allowReprovisioning,
        rotation: { templateName: rotationTemplate, gracePeriodHours: readIntInRange(`${key}.rotation.gracePeriodHours`, r.gracePeriodHours, 0, 720, 24) },
    };
}

function parseTopics(key: string, value: unknown): TopicsConfig {
    const t = readObject(key, value, ["deviceRoot"], true);
    return {
        deviceRoot: readString(`${key}.deviceRoot`, t.deviceRoot, {
            pattern: TOPIC_ROOT, maxLength: 64, allowed: "topic levels of a-z A-Z 0-9 _ - separated by '/', no wildcards, no leading '$' or '/'",
        }, "vehicles"),
    };
}

function parseClaimCertificate(key: string, value: unknown): ClaimCertificateConfig {
    const c = readObject(key, value, ["rotation", "status", "csrPem", "assumeRoleArn"], true);
    const csrPem = readString(`${key}.csrPem`, c.csrPem, {
        pattern: /^-----BEGIN CERTIFICATE REQUEST-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE REQUEST-----\s*$/,
        allowed: "a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)",
    }, undefined);
    return {
        rotation: readString(`${key}.rotation`, c.rotation, { pattern: ROTATION, allowed: "1-64 characters from A-Z a-z 0-9 . _ -" }, "1"),
        status: readEnum(`${key}.status`, c.status, CERTIFICATE_STATUSES, "ACTIVE"),
        csrPem,
        assumeRoleArn: readString(`${key}.assumeRoleArn`, c.assumeRoleArn, { pattern: ROLE_ARN, allowed: "an IAM role ARN" }, undefined),
    };
}

/**
 * Validates config as the Pulumi engine hands it to the program: `<namespace>:<key>` to a string
 * (structured values as JSON). Used by the program and by anything that reads a stack file offline.
 */
export function stackConfigFromEngine(project: string, stack: string, config: Record<string, string | undefined>): StackConfig {
    const known = new Set<string>([...STACK_KEYS, ...SECRET_KEYS]);
    const unknown = Object.keys(config).filter((k) => k.startsWith(`${project}:`) && !known.has(k.slice(project.length + 1)));
    if (unknown.length > 0) {
        // A misspelt section would otherwise be ignored silently (and, say, a stack deployed without its routing).
        throw new ConfigError(unknown[0], "(set)", `unknown key; the keys are ${[...known].map((k) => `${project}:${k}`).join(", ")}`);
    }
    const values: Raw = {};
    for (const k of STACK_KEYS) {
        const text = config[`${project}:${k}`];
        if (text === undefined) continue;
        values[k] = parseValue(`${project}:${k}`, text);
    }
    const accounts = config["aws:allowedAccountIds"];
    return parseStackConfig({
        project, stack, values,
        aws: { region: config["aws:region"], profile: config["aws:profile"], allowedAccountIds: accounts === undefined ? undefined : parseValue("aws:allowedAccountIds", accounts) },
    });
}

/** Reads this stack's config through the Pulumi runtime and validates it. */
export function loadStackConfig(): StackConfig {
    const project = pulumi.getProject();
    const config = new pulumi.Config(project);
    const aws = new pulumi.Config("aws");
    const engine: Record<string, string | undefined> = { "aws:region": aws.get("region"), "aws:profile": aws.get("profile"), "aws:allowedAccountIds": aws.get("allowedAccountIds") };
    for (const k of STACK_KEYS) engine[`${project}:${k}`] = config.get(k);
    // Every other key of the project's namespace, by name only: values (some secret) are not read here.
    for (const k of Object.keys(pulumi.runtime.allConfig())) if (k.startsWith(`${project}:`) && !(k in engine)) engine[k] = "";
    return stackConfigFromEngine(project, pulumi.getStack(), engine);
}

function parseValue(key: string, text: string): unknown {
    const trimmed = text.trim();
    if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return text;
    try {
        return JSON.parse(trimmed);
    } catch {
        throw new ConfigError(key, text, "expected valid structured (object or list) config");
    }
}
