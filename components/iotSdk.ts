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
export async function assertAllowedAccount(target: AwsTarget, resource: string, deadline?: number): Promise<void> {
    if (!target.allowedAccountIds || target.allowedAccountIds.length === 0) return;
    const sts: typeof import("@aws-sdk/client-sts") = require("@aws-sdk/client-sts");
    const config: import("@aws-sdk/client-sts").STSClientConfig = {
        region: target.region, maxAttempts: 3,
        requestHandler: { ...IOT_TIMEOUTS, socketTimeout: IOT_TIMEOUTS.requestTimeout, throwOnRequestTimeout: true },
    };
    if (target.profile) config.profile = target.profile;
    if (target.assumeRoleArn) {
        const creds: typeof import("@aws-sdk/credential-providers") = require("@aws-sdk/credential-providers");
        config.credentials = creds.fromTemporaryCredentials({
            params: { RoleArn: target.assumeRoleArn, RoleSessionName: "fms-account-check" },
            clientConfig: { region: target.region, ...(target.profile ? { profile: target.profile } : {}) },
        });
    }
    const client = new sts.STSClient(config);
    if (deadline !== undefined) bounded(client, deadline, "STS GetCallerIdentity");
    const account = (await client.send(new sts.GetCallerIdentityCommand({}))).Account;
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
    /** Epoch ms by which every call of this client has answered or failed (bounded). */
    deadline?: number;
    /** Instead of one deadline: each call answers or fails within this many ms of its start (a provider that polls). */
    callBudgetMs?: number;
}

/**
 * The time one provider operation (create, update, read, delete) may take in all, its AWS calls and the
 * SDK's retries of them included: 6 attempts of 30 s would otherwise keep a black-holed call going for
 * 3 minutes, and several in a row longer. `cleanupMs` of it is kept back for undoing what the operation
 * made (deleting a certificate it created), so the error can say what is left. Tests shorten it.
 */
export const OPERATION_BUDGET = { totalMs: 60_000, cleanupMs: 15_000 };

/** The deadline of the main part of an operation that starts now, and of its clean-up. */
export function operationDeadlines(start = Date.now()): { main: number; cleanup: number } {
    return { main: start + OPERATION_BUDGET.totalMs - OPERATION_BUDGET.cleanupMs, cleanup: start + OPERATION_BUDGET.totalMs };
}

/**
 * Bounds every `send` of an AWS SDK client by `deadline`: a call still unanswered then is aborted (its
 * abort signal, which the SDK does not retry) and fails as a TimeoutError, the SDK's own name for an
 * answer that never came (so a create reports that its answer may be lost). A call made after the
 * deadline fails at once.
 */
export function bounded<C extends { send: (...args: any[]) => Promise<any> }>(client: C, deadline: number | (() => number), what = "AWS IoT"): C {
    const send = client.send.bind(client) as (command: unknown, options?: Record<string, unknown>) => Promise<unknown>;
    const timeout = (command: unknown) => Object.assign(
        new Error(`${what} did not answer ${commandName(command)} within the operation's ${Math.round(OPERATION_BUDGET.totalMs / 1000)} s budget`),
        { name: "TimeoutError" },
    );
    (client as { send: unknown }).send = (command: unknown, options?: Record<string, unknown>) => {
        const left = (typeof deadline === "function" ? deadline() : deadline) - Date.now();
        if (left <= 0) return Promise.reject(timeout(command));
        const abort = new AbortController();
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<never>((_, reject) => {
            timer = setTimeout(() => { abort.abort(); reject(timeout(command)); }, left);
        });
        return Promise.race([send(command, { ...(typeof options === "object" ? options : {}), abortSignal: abort.signal }), expired])
            .finally(() => clearTimeout(timer));
    };
    return client;
}

function commandName(command: unknown): string {
    return ((command as { constructor?: { name?: string } })?.constructor?.name ?? "a call").replace(/Command$/, "");
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
    const client = new sdk.IoTClient(config);
    if (options.callBudgetMs !== undefined) return bounded(client, () => Date.now() + options.callBudgetMs!);
    return options.deadline === undefined ? client : bounded(client, options.deadline);
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
