import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Region } from "@pulumi/aws/types/enums";
import { z } from "zod";
import { COUNTRY_CODES } from "./countries";
import { csrProblem } from "./csr";
import { deviceRootProblem } from "./mqttTopics";
import { ConfigError } from "./errors";
import { fleetSchema, resolveFleet } from "./fleetConfig";
import { identitySchema, resolveIdentity } from "./identityConfig";
import { greengrassSchema, resolveGreengrass } from "./greengrassConfig";
import { operationsSchema, resolveOperations } from "./operationsConfig";
import { resolveRouting, routingSchema } from "./routingConfig";
import { ACM_PCA_REGIONS, GREENGRASS_REGIONS, IOT_REGIONS, MSK_REGIONS, SERVICE_REGIONS_SOURCE } from "./serviceRegions";
import { readStackFile, stackNames } from "./stackFile";
import { AccountShare, accountShare, checkRulesPerAccount } from "./accountQuotas";
import { checkYamlNumbers } from "./yamlNumbers";
import { flag, keyOf, list, numberIn, oneOf, parseWith, says, section, serialPrefixes, text, wholeNumber } from "./schema";

const DEVICE_ROOT_ALLOWED = "topic levels of a-z A-Z 0-9 _ - separated by '/', no wildcards, no leading '$' or '/'";
const CSR_ALLOWED = "a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----)";

/**
 * The one declaration of a stack's configuration (`Pulumi.<stack>.yaml`): zod schemas give the
 * TypeScript types, the validation (one line naming the file, the key, the bad value and what is
 * allowed) and the JSON Schema editors use (`schema/stack-config.schema.json`, `npm run schema`).
 */

export const ENVIRONMENTS = ["dev", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const HOOK_MODES = ["prefix", "registry"] as const;
/** Who makes a vehicle's key pair: the vehicle (CSR, the key never leaves it) or AWS IoT (sent over MQTT). */
export const DEVICE_KEYS = ["device", "aws"] as const;
export const CERTIFICATE_STATUSES = ["ACTIVE", "INACTIVE"] as const;
/** Retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
/** The regions the `aws` provider knows (its own Region enum). */
export const AWS_REGIONS: readonly string[] = Object.values(Region);

const TEMPLATE_NAME = "1-36 characters from 0-9 A-Z a-z _ - (AWS IoT provisioning template names)";
const TAG_KEY = /^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const RESERVED_TAGS = ["Country", "Environment", "Project"];

const provisioningSchema = section({
    templateName: text(TEMPLATE_NAME, /^[0-9A-Za-z_-]{1,36}$/),
    thingNamePrefix: text("1-64 characters from a-z A-Z 0-9 : _ - (the characters AWS IoT allows in Thing names)", /^[a-zA-Z0-9:_-]{1,64}$/),
    serialPrefixes,
    hookMode: oneOf(HOOK_MODES).optional(),
    claimClientIdPrefix: text("1-32 characters from a-z A-Z 0-9 : _ -", /^[a-zA-Z0-9:_-]{1,32}$/).optional(),
    devicePolicyName: text("1-128 characters from a-z A-Z 0-9 _ . , @ = + - (AWS IoT policy names)", /^[\w+=,.@-]{1,128}$/).optional()
        .meta({ description: "the vehicles' IoT policy name when it is not <namePrefix>-device: keep an adopted policy, attached to every certificate in the field" }),
    deviceKeys: oneOf(DEVICE_KEYS).optional(),
    allowReprovisioning: flag.optional(),
    hookReservedConcurrency: wholeNumber(1, 1000).optional()
        .meta({ description: "concurrency reserved for the pre-provisioning hook (none by default: a new account's concurrency quota has no room to reserve)" }),
    rotation: section({
        templateName: text(TEMPLATE_NAME, /^[0-9A-Za-z_-]{1,36}$/).optional(),
        gracePeriodHours: wholeNumber(0, 720).optional(),
        confirmTimeoutHours: wholeNumber(1, 720).optional()
            .meta({ description: "hours a rotated certificate may stay unconfirmed before the sweep retires it (default 24)" }),
        minIntervalHours: wholeNumber(0, 8760).optional()
            .meta({ description: "hours between two rotations of one serial (registry mode; default 24, 0: no limit): a holder of a stolen current key cannot keep restarting rotations; a rearm resets it" }),
    }, "vehicle certificate rotation").optional(),
    identity: identitySchema.optional(),
}, "fleet provisioning by claim: template, Thing names, serials, pre-provisioning hook");

const tagsSchema = z.record(z.string(), z.unknown(), { error: "expected an object" }).superRefine((tags, ctx) => {
    const seen = new Map<string, string>();
    for (const [k, v] of Object.entries(tags)) {
        // IAM compares tag keys without regard to case (a request with Project and project fails), as
        // do the aws provider's default tags merged with a resource's own: one key per spelling.
        const reserved = RESERVED_TAGS.find((r) => r.toLowerCase() === k.toLowerCase());
        const twin = seen.get(k.toLowerCase());
        seen.set(k.toLowerCase(), k);
        if (reserved) ctx.addIssue({ code: "custom", path: [k], input: v, message: `${reserved} is set by the program from the stack config (tag keys are case-insensitive in IAM); remove it` });
        else if (twin) ctx.addIssue({ code: "custom", path: [k], input: v, message: `differs from the tag ${twin} only by case, and tag keys are case-insensitive in IAM; keep one` });
        else if (!TAG_KEY.test(k)) ctx.addIssue({ code: "custom", path: [k], input: v, message: "tag keys are 1-128 characters, letters, digits, spaces and _.:/=+-@, not starting with aws:" });
        else if (typeof v !== "string" || !TAG_VALUE.test(v)) ctx.addIssue({ code: "custom", path: [k], input: v, message: "a string of at most 256 characters: letters, digits, spaces and _.:/=+-@" });
    }
}).meta({ description: "extra tags for every resource (Country, Environment and Project are set by the program)" });

/** The `aws:` keys the program reads (the aws provider's own). */
const awsShape = {
    "aws:region": z.enum(AWS_REGIONS as [string, ...string[]], says("an AWS region such as ap-northeast-2 (one the aws provider knows)"))
        .meta({ description: "the stack's AWS region (one the aws provider knows)" }),
    "aws:profile": text("a profile name", /^[\w.@+-]{1,64}$/).optional(),
    "aws:allowedAccountIds": list(text("a 12-digit AWS account id (quoted in YAML)", /^\d{12}$/), 1, "a 12-digit AWS account id (quoted in YAML)").optional(),
};

/** The project's keys, without the namespace. */
const projectShape = {
    country: text("an ISO 3166-1 alpha-2 country code in upper case, such as KR or JP", /^[A-Z]{2}$/).superRefine((v, ctx) => {
        if (!COUNTRY_CODES.has(v)) ctx.addIssue({ code: "custom", input: v, message: "unknown ISO 3166-1 alpha-2 country code (such as KR, JP, US)" });
    }),
    environment: oneOf(ENVIRONMENTS),
    namePrefix: text("3-20 characters: lower-case letters, digits and '-', starting with a letter", /^[a-z][a-z0-9-]{1,18}[a-z0-9]$/),
    protect: flag.optional(),
    logRetentionDays: numberIn(LOG_RETENTION_DAYS).optional(),
    tags: tagsSchema.optional(),
    provisioning: provisioningSchema,
    topics: section({
        deviceRoot: text(DEVICE_ROOT_ALLOWED, /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 64)
            .superRefine((root, ctx) => {
                const problem = deviceRootProblem(root);
                if (problem) ctx.addIssue({ code: "custom", input: root, message: `${DEVICE_ROOT_ALLOWED}, ${problem}` });
            }).optional(),
    }, "MQTT topics").optional(),
    claimCertificate: section({
        rotation: text("1-64 characters from A-Z a-z 0-9 . _ -", /^[A-Za-z0-9._-]{1,64}$/).optional(),
        status: oneOf(CERTIFICATE_STATUSES).optional(),
        csrPem: text(CSR_ALLOWED, /^-----BEGIN CERTIFICATE REQUEST-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE REQUEST-----\s*$/)
            .superRefine((pem, ctx) => {
                // Parsed, not pattern-matched: a truncated or damaged request fails here, not in CreateCertificateFromCsr.
                const problem = csrProblem(pem);
                if (problem) ctx.addIssue({ code: "custom", input: pem, message: `${CSR_ALLOWED}; this one: ${problem}` });
            }).optional(),
        assumeRoleArn: text("an IAM role ARN", /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/).optional(),
    }, "the fleet's shared claim certificate").optional(),
    routing: routingSchema,
    operations: operationsSchema,
    greengrass: greengrassSchema,
    fleet: fleetSchema,
    // Read by the program itself from the encrypted config (`pulumi config set --secret`).
    mskPassword: z.unknown().optional().meta({ description: "the MSK SASL/SCRAM password; set it with pulumi config set --secret mskPassword" }),
};

type ProjectValues = { [K in keyof typeof projectShape]: z.output<(typeof projectShape)[K]> };

/** Every key of a stack's config, by its full name, as `Pulumi.<stack>.yaml` holds it. */
export function configShape(project: string): Record<string, z.ZodType> {
    return { ...awsShape, ...Object.fromEntries(Object.entries(projectShape).map(([k, v]) => [`${project}:${k}`, v])) };
}

/** Keys the program reads from a namespace of its own (the project's), without the namespace. */
export function stackKeys(): string[] {
    return Object.keys(projectShape);
}

/** Config namespaces a stack may use: the project's, the aws provider's and Pulumi's own. */
function namespaceOf(key: string): string {
    return key.includes(":") ? key.slice(0, key.indexOf(":")) : "";
}

function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length][b.length];
}

/**
 * The `aws:` keys the aws provider itself defines (its config schema, as @pulumi/aws ships it in
 * config/vars: allowedAccountIds, assumeRoles, profile, region, ...), and aws-native's likewise.
 */
const providerKeys = (pkg: string): string[] => Object.keys(require(`${pkg}/config/vars`) as object);

/** The nearest of `candidates` to `key`: the same letters in another case first, then by edit distance. */
function nearest(key: string, candidates: string[]): string {
    return candidates.find((c) => c.toLowerCase() === key.toLowerCase())
        ?? [...candidates].sort((a, b) => editDistance(key.toLowerCase(), a.toLowerCase()) - editDistance(key.toLowerCase(), b.toLowerCase()))[0];
}

const READ_AWS = "aws:region, aws:profile and aws:allowedAccountIds";

/**
 * A key outside the schema: a misspelt project key, a key without its namespace, an `aws:` setting this
 * program does not pass to its providers (all explicit, so the stack's other `aws:` keys would be ignored
 * and the run would use ambient credentials), a misspelt `aws:` key, or a namespace that is not ours.
 */
function checkKeys(project: string, config: Record<string, unknown>): void {
    const known = Object.keys(configShape(project));
    const ours = known.filter((k) => k.startsWith(`${project}:`));
    for (const key of Object.keys(config)) {
        if (known.includes(key)) continue;
        const ns = namespaceOf(key);
        const rest = key.slice(ns.length + 1);
        if (ns === "pulumi") continue;
        if (ns === "") {
            const guess = stackKeys().includes(key) ? `${project}:${key}` : nearest(`${project}:${key}`, known);
            throw new ConfigError(key, "(set)", `a key without a namespace; stack keys are <namespace>:<name> (${project}:, aws:, pulumi:): did you mean ${guess}?`);
        }
        if (ns === "aws") {
            const provider = providerKeys("@pulumi/aws");
            if (provider.includes(rest)) {
                throw new ConfigError(key, "(set)", `an aws provider setting this program does not pass on: its providers are explicit and take only ${READ_AWS} from the stack; remove it (credentials: aws:profile or the environment)`);
            }
            throw new ConfigError(key, "(set)", `not a setting of the aws provider (@pulumi/aws config); did you mean aws:${nearest(rest, provider)}?`);
        }
        if (ns === "aws-native") {
            throw new ConfigError(key, "(set)", `aws-native: keys are not read: this program configures its aws-native provider from ${READ_AWS}`);
        }
        if (ns === project) {
            // A misspelt section would otherwise be ignored silently (and, say, a stack deployed without its routing).
            throw new ConfigError(key, "(set)", `unknown key; did you mean ${nearest(key, ours)}? (the keys are ${ours.join(", ")})`);
        }
        const guess = known.find((k) => k === `${project}:${rest}`) ?? nearest(key, known);
        throw new ConfigError(key, "(set)", `unknown namespace "${ns}" (this project reads ${project}:, aws: and pulumi:); did you mean ${guess}?`);
    }
}

/** Options the offline readers and the program know and the values alone do not say. */
export interface ConfigContext {
    /** The stacks that have a `Pulumi.<stack>.yaml` in the project (checked: `operations.regionSettingsOwner`). */
    stacks?: string[];
    /**
     * Whether the engine holds a key's value as a secret (`secure:` in the stack file, `pulumi config set
     * --secret`). The program passes configIsSecret; readers of the file itself pass the keys it lists as
     * `secure:` (StackFile.secureKeys). Without it, a value handed over as text is plain text and a value the
     * engine withheld ("(set)") is taken as secret.
     */
    isSecret?: (key: string) => boolean;
}

/** The MSK password in plain text in the stack file: a production or staging stack refuses it (dev allows it). */
function checkPasswordIsSecret(project: string, environment: string, value: unknown, context: ConfigContext): void {
    const key = `${project}:mskPassword`;
    if (value === undefined || environment === "dev") return;
    const secret = value === "(set)" ? (context.isSecret?.(key) ?? true) : (context.isSecret?.(key) ?? false);
    if (secret) return;
    throw new ConfigError(key, value, `a secret outside dev (it is in the stack file in plain text, readable by anyone with the repository): remove it, then pulumi config set --secret mskPassword --stack <stack>`);
}

/** The config schema of one stack, resolved into the program's typed configuration. */
function stackSchema(project: string, stack: string, context: ConfigContext = {}) {
    return z.object(configShape(project)).transform((c) => {
        const aws = c as z.output<z.ZodObject<typeof awsShape>>;
        checkServices(project, aws["aws:region"], c);
        const v = Object.fromEntries(Object.keys(projectShape).map((k) => [k, c[`${project}:${k}`]])) as ProjectValues;
        if (v.environment !== "dev" && aws["aws:allowedAccountIds"] === undefined) {
            throw new ConfigError("aws:allowedAccountIds", undefined, `required on a ${v.environment} stack: the 12-digit account id(s) it deploys to, quoted (aws:allowedAccountIds: ["123456789012"]), so credentials for another account stop the run before any change (dev stacks may leave it open, with a warning)`);
        }
        const production = v.environment === "production";
        checkPasswordIsSecret(project, v.environment, c[`${project}:mskPassword`], context);
        const provisioning = resolveProvisioning(`${project}:provisioning`, v.provisioning, v.environment, v.namePrefix, { stack, region: aws["aws:region"], stacks: context.stacks });
        if (provisioning.identity.mode === "oemCa" && v.greengrass !== undefined) {
            throw new ConfigError(`${project}:greengrass`, "(set)", "not with provisioning.identity.mode: oemCa (Greengrass cores provision by claim, and an oemCa stack has no claim certificate): remove the section or use mode claim or privateCa");
        }
        if (provisioning.identity.mode === "oemCa" && v.claimCertificate !== undefined) {
            throw new ConfigError(`${project}:claimCertificate`, "(set)", "not with provisioning.identity.mode: oemCa (an oemCa stack creates no claim certificate): remove the section");
        }
        const routing = resolveRouting(`${project}:routing`, v.routing, v.namePrefix, aws["aws:region"]);
        const claim = v.claimCertificate ?? {};
        return {
            project,
            stack,
            region: aws["aws:region"],
            /** Optional `aws:profile`: every provider of the stack (explicit `aws`, `aws-native`, dynamic) uses it. */
            awsProfile: aws["aws:profile"],
            /** Optional `aws:allowedAccountIds`: a run with credentials for another account stops before any change. */
            allowedAccountIds: aws["aws:allowedAccountIds"],
            country: v.country,
            environment: v.environment,
            namePrefix: v.namePrefix,
            /** `protect` stateful resources (registry table, key, claim bucket). */
            protect: v.protect ?? production,
            logRetentionDays: v.logRetentionDays ?? (production ? 365 : 14),
            /** Country, Environment and Project first, then the extra tags. */
            tags: { Country: v.country, Environment: v.environment as string, Project: project, ...((v.tags ?? {}) as Record<string, string>) },
            provisioning,
            /** A Thing's own topics are `<deviceRoot>/<thingName>/...`. */
            topics: { deviceRoot: v.topics?.deviceRoot ?? "vehicles" },
            claimCertificate: {
                /** Change to issue a new claim certificate (create-before-delete). */
                rotation: claim.rotation ?? "1",
                /** ACTIVE, or INACTIVE to switch a leaked claim certificate off without touching provisioned devices. */
                status: claim.status ?? "ACTIVE",
                /** PEM CSR from a factory HSM: AWS signs it and no private key exists on our side. */
                csrPem: claim.csrPem,
                /** Role the claim-certificate provider assumes (otherwise the deploying identity). */
                assumeRoleArn: claim.assumeRoleArn,
            },
            /** Topic rules to Kafka on MSK; absent: no rules (and no Basic Ingest topics in the device policy). */
            routing,
            operations: resolveOperations(`${project}:operations`, v.operations, production, stack, context.stacks),
            /** Greengrass v2 for vehicles that run edge software; absent: none of it. */
            greengrass: resolveGreengrass(`${project}:greengrass`, v.greengrass, provisioning, routing, v.namePrefix, (v.operations?.regionSettingsOwner ?? stack) === stack),
            /** The fleet the stack declares (sizes, onboarding window), checked against AWS's quotas; absent: unchecked. */
            fleet: resolveFleet(`${project}:fleet`, v.fleet, v.greengrass !== undefined),
        };
    });
}

/**
 * The stack's region has an endpoint for every service the stack creates: AWS IoT Core always,
 * Greengrass V2 with a `greengrass` section, MSK with `routing.msk`, AWS Private CA in the privateCa identity mode
 * (the data: config/serviceRegions.ts).
 */
function checkServices(project: string, region: string, c: Record<string, unknown>): void {
    const from = `(AWS's endpoint list, ${SERVICE_REGIONS_SOURCE})`;
    if (!IOT_REGIONS.includes(region)) {
        throw new ConfigError("aws:region", region, `a region where AWS IoT Core has an endpoint ${from}, such as ap-northeast-2; ${region} has none`);
    }
    if (c[`${project}:greengrass`] !== undefined && !GREENGRASS_REGIONS.includes(region)) {
        throw new ConfigError(`${project}:greengrass`, "(set)", `AWS IoT Greengrass V2 has no endpoint in ${region} ${from}: remove the section or use a region that has one (${GREENGRASS_REGIONS.filter((r) => !r.startsWith("cn-") && !r.startsWith("us-gov")).join(", ")})`);
    }
    if (c[`${project}:routing`] !== undefined && !MSK_REGIONS.includes(region)) {
        throw new ConfigError(`${project}:routing`, "(set)", `Amazon MSK has no endpoint in ${region} ${from}: remove the section or use a region that has one`);
    }
    const identity = (c[`${project}:provisioning`] as { identity?: { mode?: string } } | undefined)?.identity;
    if (identity?.mode === "privateCa" && !ACM_PCA_REGIONS.includes(region)) {
        throw new ConfigError(`${project}:provisioning.identity.mode`, "privateCa", `AWS Private CA has no endpoint in ${region} ${from}: use mode claim or oemCa there`);
    }
}

function resolveProvisioning(key: string, p: z.output<typeof provisioningSchema>, environment: Environment, namePrefix: string, where: { stack: string; region: string; stacks?: string[] }) {
    const claimClientIdPrefix = p.claimClientIdPrefix ?? "claim-";
    if (p.thingNamePrefix.startsWith(claimClientIdPrefix) || claimClientIdPrefix.startsWith(p.thingNamePrefix)) {
        throw new ConfigError(`${key}.claimClientIdPrefix`, claimClientIdPrefix,
            `must not overlap thingNamePrefix "${p.thingNamePrefix}" (a claim-certificate holder could otherwise take over a vehicle's client id)`);
    }
    const hookMode = p.hookMode ?? "registry";
    if (hookMode === "prefix" && environment !== "dev") {
        throw new ConfigError(`${key}.hookMode`, hookMode, `registry on a ${environment} stack (prefix mode lets anyone who knows a serial prefix provision; it is for dev stacks only)`);
    }
    const allowReprovisioning = p.allowReprovisioning ?? false;
    if (allowReprovisioning && hookMode !== "prefix") {
        throw new ConfigError(`${key}.allowReprovisioning`, allowReprovisioning, "false in registry mode (re-arm the serial in the registry instead; see the README's runbook)");
    }
    const deviceKeys = p.deviceKeys ?? "device";
    if (deviceKeys === "aws" && environment === "production") {
        throw new ConfigError(`${key}.deviceKeys`, deviceKeys,
            "device on a production stack (with AWS-made keys the hook has no device key to bind a serial to, so a leaked claim certificate could claim any registered serial)");
    }
    const rotationTemplate = p.rotation?.templateName ?? `${namePrefix}-rotate`;
    if (rotationTemplate === p.templateName) throw new ConfigError(`${key}.rotation.templateName`, rotationTemplate, "a template name other than provisioning.templateName");
    return {
        /** Fleet provisioning template name: `^[0-9A-Za-z_-]+$`, at most 36 characters. */
        templateName: p.templateName,
        /** Thing names are `<thingNamePrefix><SerialNumber>`. */
        thingNamePrefix: p.thingNamePrefix,
        /** The IoT policy the template attaches to every vehicle certificate. */
        devicePolicyName: p.devicePolicyName ?? `${namePrefix}-device`,
        /** A serial is allowed only if it starts with one of these. */
        serialPrefixes: p.serialPrefixes,
        /** `prefix`: the prefix check alone; `registry`: the serial must also be registered and not revoked. */
        hookMode,
        /** MQTT client ids a claim-certificate holder may connect with: `<claimClientIdPrefix>*`. */
        claimClientIdPrefix,
        /** `device` (default): CreateCertificateFromCsr only; `aws`: CreateKeysAndCertificate only. */
        deviceKeys,
        /** Concurrency reserved for the hook; none by default. */
        hookReservedConcurrency: p.hookReservedConcurrency,
        /** Prefix mode only: let the hook provision a serial whose Thing already exists. */
        allowReprovisioning,
        rotation: {
            /** Template a provisioned vehicle calls to get its next certificate (36 characters at most). */
            templateName: rotationTemplate,
            /** Hours the old certificate stays active after the vehicle has confirmed the new one (0-720). */
            gracePeriodHours: p.rotation?.gracePeriodHours ?? 24,
            /** Hours a rotated certificate may stay unconfirmed before the sweep retires it. */
            confirmTimeoutHours: p.rotation?.confirmTimeoutHours ?? 24,
            /** Hours between two rotation starts of one serial (registry mode); 0: no limit. */
            minIntervalHours: p.rotation?.minIntervalHours ?? 24,
        },
        /** Where a vehicle's certificate comes from: claim (default), oemCa or privateCa (config/identityConfig.ts). */
        identity: resolveIdentity(`${key}.identity`, p.identity, { ...where, hookMode, deviceKeys }),
    };
}

export type StackConfig = z.output<ReturnType<typeof stackSchema>>;
export type ProvisioningConfig = StackConfig["provisioning"];
export type HookMode = ProvisioningConfig["hookMode"];

/**
 * Validates config as the Pulumi engine hands it to the program: `<namespace>:<key>` to a string
 * (structured values as JSON). Used by the program and by anything that reads a stack file offline.
 * `file` names where the values came from in errors (`Pulumi.<stack>.yaml`).
 */
export function stackConfigFromEngine(project: string, stack: string, config: Record<string, string | undefined>, file = `Pulumi.${stack}.yaml`, context: ConfigContext = {}): StackConfig {
    const typed: Record<string, unknown> = {};
    try {
        for (const [k, text] of Object.entries(config)) if (text !== undefined) typed[k] = parseValue(k, text);
        checkKeys(project, typed);
        return parseWith(stackSchema(project, stack, context), typed);
    } catch (err) {
        throw err instanceof ConfigError ? err.in(file) : err;
    }
}

/** A stack's config as values (YAML types), for tests and tools that hold it that way. */
export interface RawStackConfig {
    project: string;
    stack: string;
    aws: { region?: unknown; profile?: unknown; allowedAccountIds?: unknown };
    values: Record<string, unknown>;
}

export function parseStackConfig(raw: RawStackConfig, context: ConfigContext = {}): StackConfig {
    const typed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw.aws)) if (v !== undefined) typed[`aws:${k}`] = v;
    for (const [k, v] of Object.entries(raw.values)) if (v !== undefined) typed[`${raw.project}:${k}`] = v;
    checkKeys(raw.project, typed);
    return parseWith(stackSchema(raw.project, raw.stack, context), typed);
}

/** Reads this stack's config through the Pulumi runtime and validates it. */
export function loadStackConfig(): StackConfig {
    const project = pulumi.getProject();
    const all = pulumi.runtime.allConfig();
    const engine: Record<string, string | undefined> = {};
    for (const k of Object.keys(configShape(project))) {
        const [ns, name] = [namespaceOf(k), k.slice(namespaceOf(k).length + 1)];
        // The secret is read where it is used (never through this path, which would log it in an error).
        if (k !== `${project}:mskPassword`) engine[k] = new pulumi.Config(ns).get(name);
    }
    // Every other key, by name only: values (some secret) are not read here.
    for (const k of Object.keys(all)) if (!(k in engine)) engine[k] = "(set)";
    const stack = pulumi.getStack();
    // The stack files beside this one (Pulumi runs the program in the project directory): the YAML number
    // pitfalls the engine's values no longer show, and the stacks a regionSettingsOwner may name.
    const here = process.cwd();
    const context: ConfigContext = {};
    if (fs.existsSync(path.join(here, `Pulumi.${stack}.yaml`))) {
        checkYamlNumbers(path.join(here, `Pulumi.${stack}.yaml`));
        context.stacks = stackNames(here);
    }
    context.isSecret = configIsSecret;
    const config = stackConfigFromEngine(project, stack, engine, `Pulumi.${stack}.yaml`, context);
    // Quotas shared with the other stacks of this account and region (their own errors are theirs to report).
    const others: AccountShare[] = [];
    for (const other of (context.stacks ?? []).filter((s) => s !== stack)) {
        try {
            others.push(accountShare(stackConfigFromEngine(project, other, readStackFile(other, here).config, `Pulumi.${other}.yaml`)));
        } catch {
            // A stack file this one cannot read or that is invalid: `pulumi preview` of that stack says why.
        }
    }
    checkRulesPerAccount(project, accountShare(config), others);
    return config;
}

/**
 * Whether the engine marked a config value secret (`pulumi config set --secret`, `secure:` in the stack
 * file). The SDK keeps this check internal (runtime/config isConfigSecret); without it, true (no warning).
 */
export function configIsSecret(key: string): boolean {
    const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
    return runtimeConfig.isConfigSecret ? runtimeConfig.isConfigSecret(key) : true;
}

/** Engine values: structured ones are JSON; scalars stay strings (the schema reads "true", "14"). */
function parseValue(key: string, text: string): unknown {
    const trimmed = text.trim();
    if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return text;
    try {
        return JSON.parse(trimmed);
    } catch {
        throw new ConfigError(key, text, "expected valid structured (object or list) config");
    }
}

/** The JSON Schema of `Pulumi.<stack>.yaml` (for yaml-language-server and other editors). */
export function stackFileJsonSchema(project: string): Record<string, unknown> {
    const config = z.object(configShape(project)).meta({ description: `the stack's configuration: ${project}:, aws: and pulumi: keys` });
    const file = z.object({
        config,
        environment: z.array(z.string()).optional().meta({ description: "Pulumi ESC environments this stack imports" }),
        secretsprovider: z.string().optional(),
        encryptionsalt: z.string().optional(),
        encryptedkey: z.string().optional(),
    }).meta({ title: `Pulumi.<stack>.yaml of ${project}` });
    const schema = z.toJSONSchema(file, { io: "input", unrepresentable: "any" }) as unknown as { properties: { config: Record<string, unknown> } };
    // As the program refuses them (checkKeys): any key but the project's, the three aws: keys it reads and pulumi:
    // keys is a mistake, so an editor flags a misspelt aws:profle or fms-iot:routng as the program would.
    schema.properties.config.additionalProperties = false;
    schema.properties.config.patternProperties = { "^pulumi:": {} };
    return schema as unknown as Record<string, unknown>;
}

export { keyOf };
