import { ConfigError } from "./errors";
import { basicIngestTopicFor, RoutingConfig } from "./routingConfig";
import type { ProvisioningConfig } from "./stackConfig";
import { prefixesOverlap, readEnum, readIntInRange, readObject, readSerialPrefixes, readString } from "./validate";

/** The `greengrass` section of stack config: AWS IoT Greengrass v2 for vehicles that run edge software. */
export interface GreengrassConfig {
    /** Fleet-provisioning template for core devices (`^[0-9A-Za-z_-]+$`, at most 36). */
    templateName: string;
    /** Core devices are Things named `<coreThingNamePrefix><SerialNumber>`. */
    coreThingNamePrefix: string;
    /** Serials the core-device template accepts (bound to it: a vehicle serial cannot become a core). */
    serialPrefixes: string[];
    /** Lifetime of the credentials the token exchange service hands out (900-43200 s). */
    credentialDurationSeconds: number;
    nucleusVersion: string;
    logManagerVersion: string;
    telemetry: {
        componentVersion: string;
        /** Key of the routing route whose Basic Ingest topic the component publishes to. */
        route: string;
        ruleName: string;
        /** `$aws/rules/<rule>/<topic matching the rule's FROM>`, `{thingName}` filled in on the device. */
        topicTemplate: string;
        intervalSeconds: number;
    };
    logs: { fileSizeKB: number; totalLogsSizeKB: number; cloudWatchMinimumLevel: "ERROR" | "WARN" | "INFO" | "DEBUG" };
    rollout: { maximumPerMinute: number; abortThresholdPercentage: number };
}

const SEMVER = /^\d+\.\d+\.\d+$/;

export function parseGreengrass(key: string, value: unknown, provisioning: ProvisioningConfig, routing: RoutingConfig | undefined): GreengrassConfig | undefined {
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
    const logs = readObject(`${key}.logs`, g.logs, ["fileSizeKB", "totalLogsSizeKB", "cloudWatchMinimumLevel"], true);
    const rollout = readObject(`${key}.rollout`, g.rollout, ["maximumPerMinute", "abortThresholdPercentage"], true);
    const coreThingNamePrefix = readString(`${key}.coreThingNamePrefix`, g.coreThingNamePrefix, {
        pattern: /^[a-zA-Z0-9:_-]{1,64}$/, allowed: "1-64 characters from a-z A-Z 0-9 : _ -",
    }, `${thingNamePrefix}core-`);
    if (coreThingNamePrefix === thingNamePrefix) {
        throw new ConfigError(`${key}.coreThingNamePrefix`, coreThingNamePrefix, "must differ from provisioning.thingNamePrefix (core devices get their own Thing names)");
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
        nucleusVersion: readString(`${key}.nucleusVersion`, g.nucleusVersion, { pattern: SEMVER, allowed: "a Greengrass nucleus version such as 2.12.6" }, "2.12.6"),
        logManagerVersion: readString(`${key}.logManagerVersion`, g.logManagerVersion, { pattern: SEMVER, allowed: "a log manager version such as 2.3.7" }, "2.3.7"),
        telemetry: {
            componentVersion: readString(`${key}.telemetry.componentVersion`, t.componentVersion, { pattern: SEMVER, allowed: "a semantic version such as 1.0.0 (bump it whenever edge/telemetry changes)" }),
            route: routeKey,
            ruleName: route.ruleName,
            topicTemplate: basicIngestTopicFor(route.ruleName, route.sql),
            intervalSeconds: readIntInRange(`${key}.telemetry.intervalSeconds`, t.intervalSeconds, 1, 86400, 60),
        },
        logs: {
            fileSizeKB,
            totalLogsSizeKB: readIntInRange(`${key}.logs.totalLogsSizeKB`, logs.totalLogsSizeKB, fileSizeKB, 10485760, Math.max(fileSizeKB, 10240)),
            cloudWatchMinimumLevel: readEnum(`${key}.logs.cloudWatchMinimumLevel`, logs.cloudWatchMinimumLevel, ["ERROR", "WARN", "INFO", "DEBUG"] as const, "ERROR"),
        },
        rollout: {
            maximumPerMinute: readIntInRange(`${key}.rollout.maximumPerMinute`, rollout.maximumPerMinute, 1, 1000, 50),
            abortThresholdPercentage: readIntInRange(`${key}.rollout.abortThresholdPercentage`, rollout.abortThresholdPercentage, 1, 100, 10),
        },
    };
}
