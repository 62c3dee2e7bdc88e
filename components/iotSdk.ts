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
}

export function iotClient(target: AwsTarget, sessionName: string): IoTClient {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const config: import("@aws-sdk/client-iot").IoTClientConfig = { region: target.region, maxAttempts: 6 };
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
export function explain(resource: string, operation: string, region: string, err: unknown): Error {
    const name = errorName(err);
    const message = (err as { message?: string })?.message ?? String(err);
    let hint = "";
    if (name === "AccessDeniedException" || name === "UnauthorizedException" || name === "AccessDenied") {
        hint = ` The identity running Pulumi needs iot:${operation} in ${region}.`;
    } else if (name === "ThrottlingException" || name === "LimitExceededException" || name === "TooManyRequestsException") {
        hint = " AWS IoT kept throttling after the SDK's retries; run the update again in a minute.";
    }
    return new Error(`${resource}: ${operation} failed in ${region}: ${name}: ${message}.${hint}`);
}
