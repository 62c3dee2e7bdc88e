import { z } from "zod";
import { LOG_MANAGER, NUCLEUS, versionProblem } from "./awsComponents";
import { ConfigError } from "./errors";
import { basicIngestTopicFor, RoutingConfig } from "./routingConfig";
import { oneOf, prefixesOverlap, section, serialPrefixes, text, wholeNumber } from "./schema";

/** The `greengrass` section of stack config: AWS IoT Greengrass v2 for vehicles that run edge software. */

const SEMVER = /^\d+\.\d+\.\d+$/;
const MAJOR_MINOR = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/;
/** Thing-name characters without `:` (the log manager writes it as `+` in log stream names). */
const CORE_PREFIX = /^[a-zA-Z0-9_-]{1,64}$/;
const LEVELS = ["ERROR", "WARN", "INFO", "DEBUG"] as const;

const awsVersion = (component: typeof NUCLEUS) => text(`a ${component.name} version such as ${component.defaultVersion}`, SEMVER)
    .superRefine((v, ctx) => {
        const problem = versionProblem(component, v);
        if (problem) ctx.addIssue({ code: "custom", input: v, message: problem });
    });

export const greengrassSchema = section({
    templateName: text("1-36 characters from 0-9 A-Z a-z _ - (AWS IoT provisioning template names)", /^[0-9A-Za-z_-]{1,36}$/),
    rotationTemplateName: text("1-36 characters from 0-9 A-Z a-z _ - (AWS IoT provisioning template names)", /^[0-9A-Za-z_-]{1,36}$/).optional()
        .meta({ description: "the template a provisioned core calls with its own certificate for its next one (default <namePrefix>-core-rotate)" }),
    coreThingNamePrefix: text("1-64 characters from a-z A-Z 0-9 _ - (no `:`: the log manager writes it as `+` in log stream names)", CORE_PREFIX).optional(),
    serialPrefixes,
    credentialDurationSeconds: wholeNumber(900, 43200).optional(),
    nucleusVersion: awsVersion(NUCLEUS).optional(),
    logManagerVersion: awsVersion(LOG_MANAGER).optional(),
    telemetry: section({
        componentVersion: text("major.minor such as 1.0 (the patch version follows the recipe and artifact content)", MAJOR_MINOR),
        route: text("the key of a routing route", /^[A-Za-z0-9_]{1,64}$/),
        intervalSeconds: wholeNumber(1, 86400).optional(),
    }, "the vehicle-telemetry component"),
    logs: section({
        fileSizeKB: wholeNumber(128, 102400).optional(),
        totalLogsSizeKB: wholeNumber(128, 10485760).optional(),
        cloudWatchMinimumLevel: oneOf(LEVELS).optional(),
        systemLogGroup: oneOf(["create", "shared"]).optional(),
    }, "nucleus file logs and what the log manager uploads").optional(),
    rollout: section({
        maximumPerMinute: wholeNumber(1, 1000).optional(),
        abortThresholdPercentage: wholeNumber(1, 100).optional(),
        abortAfterCores: wholeNumber(1, 1_000_000).optional(),
    }, "how the deployment rolls out").optional(),
}, "AWS IoT Greengrass v2 for vehicles that run edge software").optional();

interface Provisioning { thingNamePrefix: string; claimClientIdPrefix: string; serialPrefixes: string[]; hookMode: string; templateName: string; rotation: { templateName: string } }

/** Defaults and the checks against the rest of the stack (name spaces, routes, templates). */
export function resolveGreengrass(key: string, g: z.output<typeof greengrassSchema>, provisioning: Provisioning, routing: RoutingConfig | undefined, namePrefix: string, ownsRegionSettings = true) {
    if (!g) return undefined;
    const route = routing?.routes.find((r) => r.key === g.telemetry.route);
    if (!route) {
        throw new ConfigError(`${key}.telemetry.route`, g.telemetry.route, routing
            ? `must be one of the routing route keys: ${routing.routes.slice(0, 10).map((r) => r.key).join(", ")}`
            : "needs a routing section: telemetry goes to a topic rule through Basic Ingest");
    }
    const thingNamePrefix = provisioning.thingNamePrefix;
    const coreThingNamePrefix = g.coreThingNamePrefix ?? `${namePrefix}-core-`;
    // A core's Thing name scopes its own policy (client id, topics, shadow) and its log streams: no vehicle Thing
    // name or claim client id may be one.
    if (thingNamePrefix.startsWith(coreThingNamePrefix) || coreThingNamePrefix.startsWith(thingNamePrefix)) {
        throw new ConfigError(`${key}.coreThingNamePrefix`, coreThingNamePrefix, `a prefix that does not overlap provisioning.thingNamePrefix "${thingNamePrefix}" (a core's Thing name, which its policy and log streams are scoped to, could then be a vehicle's)`);
    }
    const claimPrefix = provisioning.claimClientIdPrefix;
    if (claimPrefix.startsWith(coreThingNamePrefix) || coreThingNamePrefix.startsWith(claimPrefix)) {
        throw new ConfigError(`${key}.coreThingNamePrefix`, coreThingNamePrefix, `a prefix that does not overlap provisioning.claimClientIdPrefix "${claimPrefix}" (a claim-certificate or core client id could otherwise take over the other's connection)`);
    }
    const overlap = provisioning.hookMode === "prefix" ? prefixesOverlap(g.serialPrefixes, provisioning.serialPrefixes) : undefined;
    if (overlap) {
        throw new ConfigError(`${key}.serialPrefixes`, g.serialPrefixes, `prefixes that do not overlap provisioning.serialPrefixes (${overlap}): in prefix mode the prefix alone binds a serial to the vehicle or the core template`);
    }
    if (g.templateName === provisioning.templateName || g.templateName === provisioning.rotation.templateName) {
        throw new ConfigError(`${key}.templateName`, g.templateName, "a template name of its own (not the vehicle or rotation template's)");
    }
    const rotationTemplateName = g.rotationTemplateName ?? `${namePrefix}-core-rotate`;
    if ([provisioning.templateName, provisioning.rotation.templateName, g.templateName].includes(rotationTemplateName)) {
        throw new ConfigError(`${key}.rotationTemplateName`, rotationTemplateName, "a template name of its own (not the core, vehicle or vehicle-rotation template's)");
    }
    const fileSizeKB = g.logs?.fileSizeKB ?? 1024;
    const totalLogsSizeKB = g.logs?.totalLogsSizeKB ?? Math.max(fileSizeKB, 10240);
    if (totalLogsSizeKB < fileSizeKB) throw new ConfigError(`${key}.logs.totalLogsSizeKB`, totalLogsSizeKB, `a whole number from ${fileSizeKB} (logs.fileSizeKB) to 10485760`);
    return {
        /** Fleet-provisioning template for core devices (`^[0-9A-Za-z_-]+$`, at most 36). */
        templateName: g.templateName,
        /** The template a provisioned core calls with its own certificate for its next one. */
        rotationTemplateName,
        /**
         * Core devices are Things named `<coreThingNamePrefix><SerialNumber>`; each core's policy is made by
         * the core template from its own Thing name (policies/greengrass.ts coreDevicePolicy: no prefix
         * wildcard), and the prefix keeps core and vehicle name spaces apart, so it is the stack's own.
         */
        coreThingNamePrefix,
        /** Serials the core-device template accepts (bound to it: a vehicle serial cannot become a core). */
        serialPrefixes: g.serialPrefixes,
        /** Lifetime of the credentials the token exchange service hands out (900-43200 s). */
        credentialDurationSeconds: g.credentialDurationSeconds ?? 3600,
        nucleusVersion: g.nucleusVersion ?? NUCLEUS.defaultVersion,
        logManagerVersion: g.logManagerVersion ?? LOG_MANAGER.defaultVersion,
        telemetry: {
            /** `major.minor`; the patch follows the recipe and artifact content (see edgeRuntime.ts). */
            componentVersion: g.telemetry.componentVersion,
            /** Key of the routing route whose Basic Ingest topic the component publishes to. */
            route: route.key,
            ruleName: route.ruleName,
            /** `$aws/rules/<rule>/<topic matching the rule's FROM>`, `{thingName}` filled in on the device. */
            topicTemplate: basicIngestTopicFor(route.ruleName, route.sql),
            intervalSeconds: g.telemetry.intervalSeconds ?? 60,
        },
        logs: {
            fileSizeKB,
            totalLogsSizeKB,
            /**
             * What the log manager uploads: the nucleus' lines of this level and above, the component's from
             * WARN at most (its stderr, tracebacks included, is WARN: edgeRuntime.componentMinimumLevel).
             * Default WARN, which keeps every traceback and drops the INFO chatter.
             */
            cloudWatchMinimumLevel: g.logs?.cloudWatchMinimumLevel ?? "WARN",
            /**
             * The log manager's system log group (`/aws/greengrass/GreengrassSystemComponent/<region>/System`) is one
             * per account and region: `create` makes it here (retention, KMS, protected, retained on delete),
             * `shared` looks it up (the owner's `up` first). Default: `create` on the stack that owns the region's
             * IoT settings (operations.regionSettingsOwner), `shared` on the others.
             */
            systemLogGroup: g.logs?.systemLogGroup ?? (ownsRegionSettings ? "create" : "shared"),
        },
        /**
         * The deployment's IoT job is continuous (it targets a growing thing group): a cancelled job
         * reaches no core provisioned later. So the abort rule is a circuit breaker for a bad release,
         * not a canary: only FAILED executions count (a vehicle parked offline times out or is rejected,
         * which is not a broken release), and only once `abortAfterCores` cores have executed it.
         */
        rollout: {
            maximumPerMinute: g.rollout?.maximumPerMinute ?? 50,
            abortThresholdPercentage: g.rollout?.abortThresholdPercentage ?? 20,
            abortAfterCores: g.rollout?.abortAfterCores ?? 100,
        },
    };
}

export type GreengrassConfig = NonNullable<ReturnType<typeof resolveGreengrass>>;
