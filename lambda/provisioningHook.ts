/**
 * Pre-provisioning hook for AWS IoT fleet provisioning by claim.
 *
 * AWS invokes it with `{claimCertificateId, certificateId, certificatePem, templateArn, clientId,
 * parameters}` and waits at most 5 seconds for `{allowProvisioning, parameterOverrides?}`.
 * It allows a serial only if it starts with an allowed prefix and, in `registry` mode, the
 * serial is registered with status `active`. It never throws: any malformed event, bad
 * configuration or registry error is a denial. Every decision is logged as one JSON line
 * (time, certificate ids, serial, result, reason); the certificate PEM is never logged.
 *
 * Runs on the Node.js 22 Lambda runtime, whose bundled AWS SDK v3 it uses (not bundled here).
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";

export interface HookEvent {
    claimCertificateId: string;
    certificateId: string;
    certificatePem: string;
    templateArn: string;
    clientId: string;
    parameters: Record<string, string>;
}

export interface HookResponse {
    allowProvisioning: boolean;
    parameterOverrides?: { CertDate: string };
}

export interface HookConfig {
    serialPrefixes: string[];
    mode: "prefix" | "registry";
    tableName?: string;
    thingNamePrefix: string;
}

export interface HookDeps {
    /** undefined when the environment is misconfigured: every request is then denied. */
    config: HookConfig | undefined;
    dynamo: Pick<DynamoDBClient, "send">;
    now: () => Date;
    log: (line: string) => void;
    registryTimeoutMs: number;
}

export type Decision = { allow: true; serial: string } | { allow: false; serial?: string; reason: string };

const SERIAL = /^[A-Za-z0-9_-]{1,64}$/;
const ID = /^[0-9a-f]{64}$/;
const MAX_THING_NAME = 128;

/** `YYYYMMDD` in UTC: the CertDate attribute the template writes on the Thing. */
export function certDate(now: Date): string {
    return now.toISOString().slice(0, 10).replace(/-/g, "");
}

export function configFromEnv(env: NodeJS.ProcessEnv): HookConfig | undefined {
    const serialPrefixes = (env.SERIAL_PREFIXES ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    const mode = env.HOOK_MODE;
    const thingNamePrefix = env.THING_NAME_PREFIX ?? "";
    if (serialPrefixes.length === 0 || (mode !== "prefix" && mode !== "registry")) return undefined;
    if (mode === "registry" && !env.REGISTRY_TABLE) return undefined;
    return { serialPrefixes, mode, tableName: env.REGISTRY_TABLE, thingNamePrefix };
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Short, printable rendering of an untrusted value for a log line. */
function safe(v: unknown): string | undefined {
    if (typeof v !== "string") return undefined;
    return v.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}

/** Rejects with `RegistryTimeout` after `ms`, so the hook always answers inside AWS's 5 s limit. */
async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
            onTimeout();
            reject(Object.assign(new Error(`registry did not answer within ${ms} ms`), { name: "RegistryTimeout" }));
        }, ms);
    });
    try {
        return await Promise.race([work, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

async function decide(event: unknown, deps: HookDeps): Promise<Decision> {
    const config = deps.config;
    if (!config) return { allow: false, reason: "hook-misconfigured" };
    if (!isRecord(event)) return { allow: false, reason: "event-not-an-object" };
    if (typeof event.certificateId !== "string" || !ID.test(event.certificateId)) {
        return { allow: false, reason: "invalid-certificate-id" };
    }
    if (!isRecord(event.parameters)) return { allow: false, reason: "missing-parameters" };
    const serial = event.parameters.SerialNumber;
    if (typeof serial !== "string" || !SERIAL.test(serial)) return { allow: false, reason: "invalid-serial" };
    if (config.thingNamePrefix.length + serial.length > MAX_THING_NAME) return { allow: false, serial, reason: "thing-name-too-long" };
    if (!config.serialPrefixes.some((p) => serial.startsWith(p))) return { allow: false, serial, reason: "serial-prefix-not-allowed" };
    if (config.mode === "prefix") return { allow: true, serial };

    const abort = new AbortController();
    const out = await withTimeout(deps.dynamo.send(
        new GetItemCommand({
            TableName: config.tableName,
            Key: { serialNumber: { S: serial } },
            ProjectionExpression: "#s",
            ExpressionAttributeNames: { "#s": "status" },
            ConsistentRead: true,
        }),
        { abortSignal: abort.signal },
    ), deps.registryTimeoutMs, () => abort.abort());
    if (!out.Item) return { allow: false, serial, reason: "serial-not-registered" };
    const status = out.Item.status?.S;
    if (status === "revoked") return { allow: false, serial, reason: "serial-revoked" };
    if (status !== "active") return { allow: false, serial, reason: "serial-status-not-active" };
    return { allow: true, serial };
}

export function createHandler(deps: HookDeps): (event: unknown) => Promise<HookResponse> {
    return async (event: unknown): Promise<HookResponse> => {
        const started = deps.now();
        let decision: Decision;
        try {
            decision = await decide(event, deps);
        } catch (err) {
            const name = err instanceof Error ? err.name : "UnknownError";
            decision = { allow: false, reason: `registry-error:${safe(name)}` };
        }
        const e = isRecord(event) ? event : {};
        deps.log(JSON.stringify({
            event: "provisioning-decision",
            time: started.toISOString(),
            certificateId: safe(e.certificateId),
            claimCertificateId: safe(e.claimCertificateId),
            templateArn: safe(e.templateArn),
            clientId: safe(e.clientId),
            serial: decision.serial ?? (isRecord(e.parameters) ? safe(e.parameters.SerialNumber) : undefined),
            allowProvisioning: decision.allow,
            reason: decision.allow ? "allowed" : decision.reason,
        }));
        return decision.allow
            ? { allowProvisioning: true, parameterOverrides: { CertDate: certDate(started) } }
            : { allowProvisioning: false };
    };
}

let cached: ((event: unknown) => Promise<HookResponse>) | undefined;

/** Lambda entry point. Configuration comes from the (non-secret) environment. */
export async function handler(event: unknown): Promise<HookResponse> {
    cached ??= createHandler({
        config: configFromEnv(process.env),
        dynamo: new DynamoDBClient({ maxAttempts: 2 }),
        now: () => new Date(),
        // Raw JSON lines on stdout become log events as they are (console.log would prefix them),
        // so CloudWatch metric filters can match their fields.
        log: (line) => process.stdout.write(`${line}\n`),
        registryTimeoutMs: 1500,
    });
    return cached(event);
}
