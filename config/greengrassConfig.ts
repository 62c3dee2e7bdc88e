import { LOG_MANAGER, NUCLEUS, versionProblem } from "../edge/awsComponents";
import { ConfigError } from "./errors";
import { basicIngestTopicFor, RoutingConfig } from "./routingConfig";
import type { ProvisioningConfig } from "./stackConfig";
import { prefixesOverlap, readEnum, readIntInRange, readObject, readSerialPrefixes, readString } from "./validate";

/** The `greengrass` section of stack config: AWS IoT Greengrass v2 for vehicles that run edge software. */
export interface GreengrassConfig {
    /** Fleet-provisioning template for core devices (`^[0-9A-Za-z_-]+$`, at most 36). */
    templateName: string;
    /**
     * Core devices are Things named `<coreThingNamePrefix><SerialNumber>`; the core policy is scoped to
     * `<coreThingNamePrefix>*` (AWS's documented core-policy shape), so the prefix is the stack's own.
     */
    coreThingNamePrefix: string;
    /** Serials the core-device template accepts (bound to it: a vehicle serial cannot become a core). */
    serialPrefixes: string[];
    /** Lifetime of the credentials the token exchange service hands out (900-43200 s). */
    credentialDurationSeconds: number;
    nucleusVersion: string;
    logManagerVersion: string;
    telemetry: {
        /** `major.minor`; the patch follows the recipe and artifact content (see edgeRuntime.ts). */
        componentVersion: string;
        /** Key of the routing route whose Basic Ingest topic the component publishes to. */
        route: string;
        ruleName: string;
        /** `$aws/rules/<rule>/<topic matching the rule's FROM>`, `{thingName}` filled in on the device. */
        topicTemplate: string;
        intervalSeconds: number;
    };
    logs: {
        fileSizeKB: number;
        totalLogsSizeKB: number;
        cloudWatchMinimumLevel: "ERROR" | "WARN" | "INFO" | "DEBUG";
        /**
         * The log manager's system log group (`/aws/greengrass/GreengrassSystemComponent/<region>/System`) is one
         * per account and region: `create` makes it here (retention, KMS), `shared` leaves it to the stack that does.
         */
        systemLogGroup: "create" | "shared";
    };
    rollout: { maximumPerMinute: number; abortThresholdPercentage: number };
}

const SEMVER = /^\d+\.\d+\.\d+$/;
const MAJOR_MINOR = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/;
/** Thing-name characters without `:` (the log manager writes it as `+` in log stream names). */
const CORE_PREFIX = /^[a-zA-Z0-9_-]{1,64}$/;

function readAwsVersion(key: string, value: unknown, component: typeof NUCLEUS): string {
    const version = readString(key, value, { pattern: SEMVER, allowed: `a ${component.name} version such as ${component.defaultVersion}` }, component.defaultVersion);
    const problem = versionProblem(component, version);
    if (problem) throw new ConfigError(key, version, problem);
    return version;
}

export function parseGreengrass(key: string, value: unknown, provisioning: ProvisioningConfig, routing: RoutingConfig | undefined, namePrefix: string): GreengrassConfig | undefined {
    if (value === undefined) return undefined;
    const thingNamePrefix = provisioning.thingNamePrefix;
    const g = readObject(key, value, ["templateName", "coreThingNamePrefix", "serialPrefixes", "credentialDurationSeconds", "nucleusVersion", "logManagerVersion", "telemetry", "logs", "rollout"]);
    const t = readObject(`${key}.telemetry`, g.telemetry, ["componentVersion", "route", "intervalSeconds"]);
    const routeKey = readString(`${key}.telemetry.route`, t.route, { pattern: /^[A-Za-z0-9_]{1,64}$/, allowed: "the key of a routing route" });
    const route = routing?.routes.find((r) => r.key === routeKey);
    if (!route) {
        throw new ConfigError(`${key}.telemetry.route`, routeKey, routing
            ? `must be one of the routing route keys: ${routing.routes.slice(0, 10).map((r) => r.key).join(", ")}`
            : "needs a routing section: telemetry goes to a topic rule through Basic Ingest");
    }
    const logs = readObject(`${key}.logs`, g.logs, ["fileSizeKB", "totalLogsSizeKB", "cloudWatchMinimumLevel", "systemLogGroup"], true);
    const rollout = readObject(`${key}.rollout`, g.rollout, ["maximumPerMinute", "abortThresholdPercentage"], true);
    const coreThingNamePrefix = readString(`${key}.coreThingNamePrefix`, g.coreThingNamePrefix, {
        pattern: CORE_PREFIX, allowed: "1-64 characters from a-z A-Z 0-9 _ - (no `:`: the log manager writes it as `+` in log stream names)",
    }, `${namePrefix}-core-`);
    // The core policy allows client/<coreThingNamePrefix>*: no vehicle Thing or claim client id may match it.
    if (thingNamePrefix.startsWith(coreThingNamePrefix) || coreThingNamePrefix.startsWith(thingNamePrefix)) {
        throw new ConfigError(`${key}.coreThingNamePrefix`, coreThingNamePrefix, `a prefix that does not overlap provisioning.thingNamePrefix "${thingNamePrefix}" (the core policy allows <coreThingNamePrefix>*, which would reach vehicle Things)`);
    }
    const claimPrefix = provisioning.claimClientIdPrefix;
    if (claimPrefix.startsWith(coreThingNamePrefix) || coreThingNamePrefix.startsWith(claimPrefix)) {
        throw new ConfigError(`${key}.coreThingNamePrefix`, coreThingNamePrefix, `a prefix that does not overlap provisioning.claimClientIdPrefix "${claimPrefix}" (a claim-certificate or core client id could otherwise take over the other's connection)`);
    }
    const serialPrefixes = readSerialPrefixes(`${key}.serialPrefixes`, g.serialPrefixes);
    const overlap = provisioning.hookMode === "prefix" ? prefixesOverlap(serialPrefixes, provisioning.serialPrefixes) : undefined;
    if (overlap) {
        throw new ConfigError(`${key}.serialPrefixes`, serialPrefixes, `prefixes that do not overlap provisioning.serialPrefixes (${overlap}): in prefix mode the prefix alone binds a serial to the vehicle or the core template`);
    }
    const templateName = readString(`${key}.templateName`, g.templateName, { pattern: /^[0-9A-Za-z_-]{1,36}$/, allowed: "1-36 characters from 0-9 A-Z a-z _ - (AWS IoT provisioning template names)" });
    if (templateName === provisioning.templateName || templateName === provisioning.rotation.templateName) {
        throw new ConfigError(`${key}.templateName`, templateName, "a template name of its own (not the vehicle or rotation template's)");
    }
    const fileSizeKB = readIntInRange(`${key}.logs.fileSizeKB`, logs.fileSizeKB, 128, 102400, 1024);
    return {
        templateName,
        coreThingNamePrefix,
        serialPrefixes,
        credentialDurationSeconds: readIntInRange(`${key}.credentialDurationSeconds`, g.credentialDurationSeconds, 900, 43200, 3600),
        nucleusVersion: readAwsVersion(`${key}.nucleusVersion`, g.nucleusVersion, NUCLEUS),
        logManagerVersion: readAwsVersion(`${key}.logManagerVersion`, g.logManagerVersion, LOG_MANAGER),
        telemetry: {
            componentVersion: readString(`${key}.telemetry.componentVersion`, t.componentVersion, {
                pattern: MAJOR_MINOR, allowed: "major.minor such as 1.0 (the patch version follows the recipe and artifact content)",
            }),
            route: routeKey,
            ruleName: route.ruleName,
            topicTemplate: basicIngestTopicFor(route.ruleName, route.sql),
            intervalSeconds: readIntInRange(`${key}.telemetry.intervalSeconds`, t.intervalSeconds, 1, 86400, 60),
        },
        logs: {
            fileSizeKB,
            totalLogsSizeKB: readIntInRange(`${key}.logs.totalLogsSizeKB`, logs.totalLogsSizeKB, fileSizeKB, 10485760, Math.max(fileSizeKB, 10240)),
            cloudWatchMinimumLevel: readEnum(`${key}.logs.cloudWatchMinimumLevel`, logs.cloudWatchMinimumLevel, ["ERROR", "WARN", "INFO", "DEBUG"] as const, "ERROR"),
            systemLogGroup: readEnum(`${key}.logs.systemLogGroup`, logs.systemLogGroup, ["create", "shared"] as const, "create"),
        },
        rollout: {
            maximumPerMinute: readIntInRange(`${key}.rollout.maximumPerMinute`, rollout.maximumPerMinute, 1, 1000, 50),
            abortThresholdPercentage: readIntInRange(`${key}.rollout.abortThresholdPercentage`, rollout.abortThresholdPercentage, 1, 100, 10),
        },
    };
}
