/**
 * AWS IoT SDK v3 helpers for this project's dynamic providers. The providers are serialized with
 * their closures, so the SDK is `require`d inside each function (never captured from module scope),
 * and region, profile and role come as inputs (a dynamic provider does not see the `aws:` provider's).
 */
import type { IoTClient } from "@aws-sdk/client-iot";

/** Where a dynamic provider calls AWS: region, and optionally a profile and a role to assume. */
export interface AwsTarget {
    region: string;
    profile?: string;
    assumeRoleArn?: string;
    /** The accounts this stack may change (`aws:allowedAccountIds`); any other stops the provider before a call. */
    allowedAccountIds?: string[];
}

/**
 * Stops a dynamic provider before it changes anything when its credentials are for an account the
 * stack does not allow (the explicit `aws` providers make the same check through `allowedAccountIds`).
 */
export async function assertAllowedAccount(target: AwsTarget, resource: string): Promise<void> {
    if (!target.allowedAccountIds || target.allowedAccountIds.length === 0) return;
    const sts: typeof import("@aws-sdk/client-sts") = require("@aws-sdk/client-sts");
    const config: import("@aws-sdk/client-sts").STSClientConfig = { region: target.region };
    if (target.profile) config.profile = target.profile;
    if (target.assumeRoleArn) {
        const creds: typeof import("@aws-sdk/credential-providers") = require("@aws-sdk/credential-providers");
        config.credentials = creds.fromTemporaryCredentials({
            params: { RoleArn: target.assumeRoleArn, RoleSessionName: "fms-account-check" },
            clientConfig: { region: target.region, ...(target.profile ? { profile: target.profile } : {}) },
        });
    }
    const account = (await new sts.STSClient(config).send(new sts.GetCallerIdentityCommand({}))).Account;
    if (!account || !target.allowedAccountIds.includes(account)) {
        throw new Error(`${resource}: the credentials are for account ${account ?? "(unknown)"}, not one this stack allows (aws:allowedAccountIds: ${target.allowedAccountIds.join(", ")}); nothing was changed`);
    }
}

/**
 * Network limits of every call: a connection that cannot be made in 5 s, or an answer that does not
 * come in 30 s, is an error (the SDK's defaults wait forever, and Ctrl-C then strands whatever the
 * call created).
 */
export const IOT_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 30_000 };

export interface ClientOptions {
    /** 1 for calls that are not idempotent (the SDK would retry a lost answer). Default 6. */
    maxAttempts?: number;
    timeouts?: { connectionTimeout: number; requestTimeout: number };
}

export function iotClient(target: AwsTarget, sessionName: string, options: ClientOptions = {}): IoTClient {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const timeouts = options.timeouts ?? IOT_TIMEOUTS;
    const config: import("@aws-sdk/client-iot").IoTClientConfig = {
        region: target.region,
        maxAttempts: options.maxAttempts ?? 6,
        requestHandler: { ...timeouts, socketTimeout: timeouts.requestTimeout, throwOnRequestTimeout: true },
    };
    if (target.profile) config.profile = target.profile;
    if (target.assumeRoleArn) {
        const creds: typeof import("@aws-sdk/credential-providers") = require("@aws-sdk/credential-providers");
        config.credentials = creds.fromTemporaryCredentials({
            params: { RoleArn: target.assumeRoleArn, RoleSessionName: sessionName },
            clientConfig: { region: target.region, ...(target.profile ? { profile: target.profile } : {}) },
        });
    }
    return new sdk.IoTClient(config);
}

export function errorName(err: unknown): string {
    return (err as { name?: string })?.name ?? "Error";
}

/** A one-line, actionable error for a failed AWS IoT call. */
export function explain(resource: string, operation: string, region: string, err: unknown, attempts?: number): Error {
    const name = errorName(err);
    const message = (err as { message?: string })?.message ?? String(err);
    let hint = "";
    if (name === "AccessDeniedException" || name === "UnauthorizedException" || name === "AccessDenied") {
        hint = ` The identity running Pulumi needs iot:${operation} in ${region}.`;
    } else if (name === "ThrottlingException" || name === "LimitExceededException" || name === "TooManyRequestsException") {
        hint = attempts === undefined ? " AWS IoT kept throttling after the SDK's retries; run the update again in a minute."
            : ` AWS IoT throttled all ${attempts} attempts (a throttled request is refused: nothing was created); run the update again in a minute.`;
    }
    return new Error(`${resource}: ${operation} failed in ${region}: ${name}: ${message}.${hint}`);
}
