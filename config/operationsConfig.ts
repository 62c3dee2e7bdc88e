import { z } from "zod";
import { ConfigError } from "./errors";
import { flag, list, oneOf, section, text, wholeNumber } from "./schema";

/** The `operations` section of stack config: logging, Device Defender, alarms and fleet indexing. */

export const IOT_LOG_LEVELS = ["ERROR", "WARN", "INFO", "DEBUG"] as const;
export type IotLogLevel = (typeof IOT_LOG_LEVELS)[number];
export const AUDIT_FREQUENCIES = ["DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY"] as const;

/** Upper bound for counts in thresholds (a sanity limit, not an AWS one). */
const MAX_COUNT = 1_000_000;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[A-Za-z]{2,}$/;
const count = () => wholeNumber(1, MAX_COUNT).optional();

export const operationsSchema = section({
    regionSettingsOwner: text("the name of the stack (in this account and region) that owns AWS IoT logging, audit and indexing", /^[A-Za-z0-9_.-]{1,100}$/).optional(),
    logLevel: oneOf(IOT_LOG_LEVELS).optional(),
    manageIotLogGroup: flag.optional(),
    notifyEmails: list(text("an e-mail address", EMAIL), 0, "an e-mail address").optional(),
    auditFrequency: oneOf(AUDIT_FREQUENCIES).optional(),
    // AWS IoT Device Defender Developer Guide, "Device certificate age check": "can be configured between
    // 30 days (minimum) and 3652 days (10 years, maximum)".
    certificateAgeDays: wholeNumber(30, 3652).optional(),
    // Ibid., "Device certificate expiring": "can be configured between 30 days (minimum) and 3652 days".
    certificateExpiringDays: wholeNumber(30, 3652).optional(),
    alarms: section({
        hookErrors: count(), hookThrottles: count(), hookDenies: count(), connectAuthErrors: count(), ruleActionFailures: count(), errorActionFailures: count(),
        provisioningsPerHour: count().meta({ description: "provisionings the hook may allow in an hour (and Things one claim certificate may register) before an alarm: the factory's hourly output with headroom" }),
        provisioningFailures: count().meta({ description: "fleet-provisioning failures (CreateKeysAndCertificate, RegisterThing) per 5 minutes before an alarm" }),
    }, "alarm thresholds, per 5 minutes unless named otherwise").optional(),
    securityProfile: section({ authorizationFailures: count(), messagesSent: count() }, "Device Defender behaviours per vehicle, per 5 minutes").optional(),
}, "AWS IoT logging, Device Defender audit and detect, alarms, fleet indexing").optional();

/** Defaults that depend on the environment and the stack's name. */
export function resolveOperations(key: string, o: z.output<typeof operationsSchema>, production: boolean, stack: string, stacks?: string[]) {
    const owner = o?.regionSettingsOwner ?? stack;
    // An owner with no stack creates nothing: the region would run without logging, audit and index, silently.
    if (stacks && owner !== stack && !stacks.includes(owner)) {
        throw new ConfigError(`${key}.regionSettingsOwner`, owner, `a stack of this project (stack files here: ${stacks.join(", ")}): the owner is the one stack that creates the region's AWS IoT logging, audit and fleet index`);
    }
    const a = o?.alarms ?? {};
    const sp = o?.securityProfile ?? {};
    return {
        /**
         * The stack that owns this account's and region's AWS IoT settings: logging (and `AWSIotLogsV2`),
         * the Device Defender audit configuration and schedule, fleet indexing and fleet metrics. Every
         * stack in one account and region names the same owner; the others create none of it.
         */
        regionSettingsOwner: owner,
        /** `regionSettingsOwner` is this stack. */
        ownsRegionSettings: owner === stack,
        /** AWS IoT log level: ERROR in production, INFO otherwise by default. */
        logLevel: o?.logLevel ?? (production ? "ERROR" : "INFO") as IotLogLevel,
        /** Create the `AWSIotLogsV2` log group (encrypted, with retention); false if it exists outside this stack. */
        manageIotLogGroup: o?.manageIotLogGroup ?? true,
        /** Subscribed to the findings-and-alarms topic (they confirm by e-mail). */
        notifyEmails: o?.notifyEmails ?? [],
        auditFrequency: o?.auditFrequency ?? (production ? "DAILY" : "WEEKLY") as (typeof AUDIT_FREQUENCIES)[number],
        certificateAgeDays: o?.certificateAgeDays ?? 365,
        certificateExpiringDays: o?.certificateExpiringDays ?? 30,
        alarms: {
            /** Hook invocations that failed, per 5 minutes. */
            hookErrors: a.hookErrors ?? 1,
            hookThrottles: a.hookThrottles ?? 1,
            /** Provisioning requests the hook denied, per 5 minutes. */
            hookDenies: a.hookDenies ?? (production ? 20 : 100),
            /** MQTT connections AWS IoT refused to authorize, per 5 minutes. */
            connectAuthErrors: a.connectAuthErrors ?? (production ? 50 : 500),
            /** Failed actions of one of this stack's rules (the message went to its error action), per 5 minutes. */
            ruleActionFailures: a.ruleActionFailures ?? 1,
            /** Failed error actions of one of this stack's rules (the message is lost), per 5 minutes. */
            errorActionFailures: a.errorActionFailures ?? 1,
            /** Provisionings the hook allowed (and Things the claim certificate registered) in one hour. */
            provisioningsPerHour: a.provisioningsPerHour ?? (production ? 1000 : 100),
            /** CreateKeysAndCertificate / RegisterThing failures AWS IoT counted, per 5 minutes. */
            provisioningFailures: a.provisioningFailures ?? (production ? 20 : 100),
        },
        /** Device Defender behaviours per vehicle, per 5 minutes. */
        securityProfile: { authorizationFailures: sp.authorizationFailures ?? 10, messagesSent: sp.messagesSent ?? 600 },
    };
}

export type OperationsConfig = ReturnType<typeof resolveOperations>;
export type AlarmThresholds = OperationsConfig["alarms"];
