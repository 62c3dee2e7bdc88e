import { readBoolean, readEnum, readIntInRange, readObject, readString, readStringList } from "./validate";

/** The `operations` section of stack config: logging, Device Defender, alarms and fleet indexing. */

export const IOT_LOG_LEVELS = ["ERROR", "WARN", "INFO", "DEBUG"] as const;
export type IotLogLevel = (typeof IOT_LOG_LEVELS)[number];
export const AUDIT_FREQUENCIES = ["DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY"] as const;

export interface AlarmThresholds {
    /** Hook invocations that failed, per 5 minutes. */
    hookErrors: number;
    hookThrottles: number;
    /** Provisioning requests the hook denied, per 5 minutes. */
    hookDenies: number;
    /** MQTT connections AWS IoT refused to authorize, per 5 minutes. */
    connectAuthErrors: number;
    /** Failed actions of one of this stack's rules (the message went to its error action), per 5 minutes. */
    ruleActionFailures: number;
    /** Failed error actions of one of this stack's rules (the message is lost), per 5 minutes. */
    errorActionFailures: number;
}

export interface OperationsConfig {
    /**
     * The stack that owns this account's and region's AWS IoT settings: logging (and `AWSIotLogsV2`),
     * the Device Defender audit configuration and schedule, fleet indexing and fleet metrics. Every
     * stack in one account and region names the same owner; the others create none of it.
     */
    regionSettingsOwner: string;
    /** `regionSettingsOwner` is this stack. */
    ownsRegionSettings: boolean;
    /** AWS IoT log level: ERROR in production, INFO otherwise by default. */
    logLevel: IotLogLevel;
    /** Create the `AWSIotLogsV2` log group (encrypted, with retention); false if it exists outside this stack. */
    manageIotLogGroup: boolean;
    /** Subscribed to the findings-and-alarms topic (they confirm by e-mail). */
    notifyEmails: string[];
    auditFrequency: (typeof AUDIT_FREQUENCIES)[number];
    certificateAgeDays: number;
    certificateExpiringDays: number;
    alarms: AlarmThresholds;
    /** Device Defender behaviours per vehicle, per 5 minutes. */
    securityProfile: { authorizationFailures: number; messagesSent: number };
}

/** Upper bound for counts in thresholds (a sanity limit, not an AWS one). */
const MAX_COUNT = 1_000_000;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}\.[A-Za-z]{2,}$/;

export function parseOperations(key: string, value: unknown, production: boolean, stack: string): OperationsConfig {
    const o = readObject(key, value, ["regionSettingsOwner", "logLevel", "manageIotLogGroup", "notifyEmails", "auditFrequency", "certificateAgeDays", "certificateExpiringDays", "alarms", "securityProfile"], true);
    const a = readObject(`${key}.alarms`, o.alarms, ["hookErrors", "hookThrottles", "hookDenies", "connectAuthErrors", "ruleActionFailures", "errorActionFailures"], true);
    const sp = readObject(`${key}.securityProfile`, o.securityProfile, ["authorizationFailures", "messagesSent"], true);
    const owner = readString(`${key}.regionSettingsOwner`, o.regionSettingsOwner, {
        pattern: /^[A-Za-z0-9_.-]{1,100}$/, allowed: "the name of the stack (in this account and region) that owns AWS IoT logging, audit and indexing",
    }, stack);
    return {
        regionSettingsOwner: owner,
        ownsRegionSettings: owner === stack,
        logLevel: readEnum(`${key}.logLevel`, o.logLevel, IOT_LOG_LEVELS, production ? "ERROR" : "INFO"),
        manageIotLogGroup: readBoolean(`${key}.manageIotLogGroup`, o.manageIotLogGroup, true),
        notifyEmails: o.notifyEmails === undefined ? [] : readStringList(`${key}.notifyEmails`, o.notifyEmails, { minItems: 0, pattern: EMAIL, allowed: "an e-mail address" }),
        auditFrequency: readEnum(`${key}.auditFrequency`, o.auditFrequency, AUDIT_FREQUENCIES, production ? "DAILY" : "WEEKLY"),
        certificateAgeDays: readIntInRange(`${key}.certificateAgeDays`, o.certificateAgeDays, 1, 3652, 365),
        certificateExpiringDays: readIntInRange(`${key}.certificateExpiringDays`, o.certificateExpiringDays, 1, 3652, 30),
        alarms: {
            hookErrors: readIntInRange(`${key}.alarms.hookErrors`, a.hookErrors, 1, MAX_COUNT, 1),
            hookThrottles: readIntInRange(`${key}.alarms.hookThrottles`, a.hookThrottles, 1, MAX_COUNT, 1),
            hookDenies: readIntInRange(`${key}.alarms.hookDenies`, a.hookDenies, 1, MAX_COUNT, production ? 20 : 100),
            connectAuthErrors: readIntInRange(`${key}.alarms.connectAuthErrors`, a.connectAuthErrors, 1, MAX_COUNT, production ? 50 : 500),
            ruleActionFailures: readIntInRange(`${key}.alarms.ruleActionFailures`, a.ruleActionFailures, 1, MAX_COUNT, 1),
            errorActionFailures: readIntInRange(`${key}.alarms.errorActionFailures`, a.errorActionFailures, 1, MAX_COUNT, 1),
        },
        securityProfile: {
            authorizationFailures: readIntInRange(`${key}.securityProfile.authorizationFailures`, sp.authorizationFailures, 1, MAX_COUNT, 10),
            messagesSent: readIntInRange(`${key}.securityProfile.messagesSent`, sp.messagesSent, 1, MAX_COUNT, 600),
        },
    };
}
