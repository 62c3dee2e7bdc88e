/**
 * Pre-provisioning hook for AWS IoT fleet provisioning by claim, and for certificate rotation.
 *
 * AWS invokes it with `{claimCertificateId, certificateId, certificatePem, templateArn, clientId,
 * parameters}` and waits at most 5 seconds for `{allowProvisioning, parameterOverrides?}`.
 * `claimCertificateId` is the certificate of the connection that asked (AWS IoT developer guide,
 * "Pre-provisioning hooks": "the ID of the claim certificate used to connect"): the shared claim
 * certificate for a first provisioning, the vehicle's own certificate for a rotation.
 *
 * Each template the hook serves has a rule (from `HOOK_TEMPLATES`): its purpose, its Thing-name
 * prefix and the serial prefixes it accepts. A serial is allowed only through the template it is
 * bound to, and:
 * - `provision`, registry mode: the serial is registered for this template with status `active`,
 *   and the hook claims it with a conditional write (`active` → `provisioned`, with the new
 *   certificate id): a second provisioning of the serial, or the loser of a race, is denied;
 * - `provision`, prefix mode (development only): the serial's Thing must not exist yet, unless the
 *   stack allows re-provisioning;
 * - `rotate`: the asking certificate must be attached to the serial's Thing (so one vehicle cannot
 *   rotate another's), the Thing may not hold too many certificates already, and in registry mode
 *   the serial must be `provisioned` (not revoked).
 * It never throws: any malformed event, bad configuration or AWS error is a denial. Every decision
 * is logged as one JSON line; the certificate PEM is never logged.
 *
 * Runs on the Node.js 22 Lambda runtime, whose bundled AWS SDK v3 it uses (not bundled here).
 */
import { X509Certificate } from "crypto";
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { DescribeThingCommand, IoTClient } from "@aws-sdk/client-iot";
import { CERTIFICATE_ID, certificateIdOf, errorName, thingCertificateArns } from "../../runtime/iotIdentity";

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
    parameterOverrides?: { CertDate: string; CertExpiry: string };
}

export const HOOK_PURPOSES = ["provision", "rotate"] as const;
export type HookPurpose = (typeof HOOK_PURPOSES)[number];

/** What the hook accepts through one template. */
export interface TemplateRule {
    purpose: HookPurpose;
    /** The template's Thing names are `<thingNamePrefix><SerialNumber>`. */
    thingNamePrefix: string;
    /** Serials this template accepts start with one of these. */
    serialPrefixes: string[];
}

export interface HookConfig {
    mode: "prefix" | "registry";
    tableName?: string;
    /** Rules by template name. */
    templates: Record<string, TemplateRule>;
    /** Prefix mode only: provision a serial whose Thing already exists (a development convenience). */
    allowReprovisioning: boolean;
}

/** Registry item attributes (table keyed by `serialNumber`). */
export const REGISTRY = {
    key: "serialNumber",
    status: "status",
    /** String set: the templates this serial may use. */
    templates: "templates",
    certificateId: "certificateId",
    templateName: "templateName",
    provisionedAt: "provisionedAt",
    claimCertificateId: "claimCertificateId",
} as const;
/** Attributes the hook writes when it claims a serial (the hook role may write these only). */
export const REGISTRY_CLAIM_ATTRIBUTES = [REGISTRY.key, REGISTRY.status, REGISTRY.certificateId, REGISTRY.templateName, REGISTRY.provisionedAt, REGISTRY.claimCertificateId] as const;

export const SERIAL_STATUS = { active: "active", provisioned: "provisioned", revoked: "revoked" } as const;

/**
 * The operator's re-arm of a provisioned serial (README runbook), as `aws dynamodb update-item`
 * takes it: back to `active`, the certificate it was claimed with kept as `previousCertificateId`.
 */
export const REARM = {
    updateExpression: "SET #s = :active, previousCertificateId = certificateId REMOVE certificateId, provisionedAt, templateName, claimCertificateId",
    conditionExpression: "#s = :provisioned",
    names: { "#s": "status" },
    values: { ":active": { S: "active" }, ":provisioned": { S: "provisioned" } },
} as const;

/** A Thing holding this many certificates already (pending rotations) may not get another. */
export const MAX_THING_CERTIFICATES = 3;

export interface HookDeps {
    /** undefined when the environment is misconfigured: every request is then denied. */
    config: HookConfig | undefined;
    dynamo: Pick<DynamoDBClient, "send">;
    iot: Pick<IoTClient, "send">;
    now: () => Date;
    log: (line: string) => void;
    /** Budget for the AWS calls of one decision, far inside AWS's 5 s. */
    registryTimeoutMs: number;
}

export type Decision = { allow: true; serial: string } | { allow: false; serial?: string; reason: string };

const SERIAL = /^[A-Za-z0-9_-]{1,64}$/;
const TEMPLATE_ARN = /^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:provisioningtemplate\/([0-9A-Za-z_-]{1,36})$/;
const MAX_THING_NAME = 128;

/** `YYYYMMDD` in UTC: the CertDate and CertExpiry attributes the templates write on the Thing. */
export function certDate(now: Date): string {
    return now.toISOString().slice(0, 10).replace(/-/g, "");
}

/** CertExpiry when the certificate PEM cannot be read (AWS always sends one; never deny for it). */
export const UNKNOWN_EXPIRY = "unknown";

/** The new certificate's expiry (`YYYYMMDD`), or undefined when the PEM does not parse. */
export function certExpiry(pem: unknown): string | undefined {
    if (typeof pem !== "string") return undefined;
    try {
        return certDate(new Date(new X509Certificate(pem).validTo));
    } catch {
        return undefined;
    }
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseRule(value: unknown): TemplateRule | undefined {
    if (!isRecord(value)) return undefined;
    const { purpose, thingNamePrefix, serialPrefixes } = value;
    if (!HOOK_PURPOSES.includes(purpose as HookPurpose) || typeof thingNamePrefix !== "string") return undefined;
    if (!Array.isArray(serialPrefixes) || serialPrefixes.length === 0 || !serialPrefixes.every((p) => typeof p === "string" && p.length > 0)) return undefined;
    return { purpose: purpose as HookPurpose, thingNamePrefix, serialPrefixes: serialPrefixes as string[] };
}

/** The environment the component sets: `HOOK_MODE`, `REGISTRY_TABLE`, `HOOK_TEMPLATES` (JSON), `ALLOW_REPROVISIONING`. */
export function configFromEnv(env: NodeJS.ProcessEnv): HookConfig | undefined {
    const mode = env.HOOK_MODE;
    if (mode !== "prefix" && mode !== "registry") return undefined;
    if (mode === "registry" && !env.REGISTRY_TABLE) return undefined;
    let raw: unknown;
    try {
        raw = JSON.parse(env.HOOK_TEMPLATES ?? "");
    } catch {
        return undefined;
    }
    if (!isRecord(raw) || Object.keys(raw).length === 0) return undefined;
    const templates: Record<string, TemplateRule> = {};
    for (const [name, value] of Object.entries(raw)) {
        const rule = parseRule(value);
        if (!rule) return undefined;
        templates[name] = rule;
    }
    return { mode, tableName: env.REGISTRY_TABLE, templates, allowReprovisioning: env.ALLOW_REPROVISIONING === "true" };
}

/** Short, printable rendering of an untrusted value for a log line. */
function safe(v: unknown): string | undefined {
    if (typeof v !== "string") return undefined;
    return v.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}

/** Rejects with `RegistryTimeout` at the deadline, so the hook always answers inside AWS's 5 s limit. */
async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, deadline: number): Promise<T> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const ms = Math.max(0, deadline - Date.now());
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
            abort.abort();
            reject(Object.assign(new Error(`AWS did not answer within the hook's budget`), { name: "RegistryTimeout" }));
        }, ms);
    });
    try {
        return await Promise.race([work(abort.signal), timeout]);
    } finally {
        clearTimeout(timer);
    }
}

interface Request {
    event: HookEvent;
    serial: string;
    templateName: string;
    rule: TemplateRule;
    thingName: string;
    deadline: number;
}

async function decide(event: unknown, deps: HookDeps): Promise<Decision> {
    const config = deps.config;
    if (!config) return { allow: false, reason: "hook-misconfigured" };
    if (!isRecord(event)) return { allow: false, reason: "event-not-an-object" };
    if (typeof event.certificateId !== "string" || !CERTIFICATE_ID.test(event.certificateId)) {
        return { allow: false, reason: "invalid-certificate-id" };
    }
    if (!isRecord(event.parameters)) return { allow: false, reason: "missing-parameters" };
    const serial = event.parameters.SerialNumber;
    if (typeof serial !== "string" || !SERIAL.test(serial)) return { allow: false, reason: "invalid-serial" };
    const templateName = typeof event.templateArn === "string" ? TEMPLATE_ARN.exec(event.templateArn)?.[1] : undefined;
    const rule = templateName !== undefined && Object.hasOwn(config.templates, templateName) ? config.templates[templateName] : undefined;
    if (!templateName || !rule) return { allow: false, serial, reason: "template-not-served" };
    if (typeof event.claimCertificateId !== "string" || !CERTIFICATE_ID.test(event.claimCertificateId)) {
        return { allow: false, serial, reason: "invalid-claim-certificate-id" };
    }
    if (rule.thingNamePrefix.length + serial.length > MAX_THING_NAME) return { allow: false, serial, reason: "thing-name-too-long" };
    if (!rule.serialPrefixes.some((p) => serial.startsWith(p))) return { allow: false, serial, reason: "serial-prefix-not-allowed" };

    const request: Request = {
        event: event as unknown as HookEvent, serial, templateName, rule, thingName: `${rule.thingNamePrefix}${serial}`,
        deadline: Date.now() + deps.registryTimeoutMs,
    };
    if (rule.purpose === "rotate") return rotate(request, config, deps);
    return config.mode === "registry" ? claimSerial(request, config, deps) : firstThingOnly(request, config, deps);
}

/** Registry mode: the serial must be registered for this template and still `active`; claim it atomically. */
async function claimSerial(r: Request, config: HookConfig, deps: HookDeps): Promise<Decision> {
    const key = { [REGISTRY.key]: { S: r.serial } };
    const read = await withDeadline((abortSignal) => deps.dynamo.send(new GetItemCommand({
        TableName: config.tableName,
        Key: key,
        ProjectionExpression: "#s, #t, #c",
        ExpressionAttributeNames: { "#s": REGISTRY.status, "#t": REGISTRY.templates, "#c": REGISTRY.certificateId },
        ConsistentRead: true,
    }), { abortSignal }), r.deadline);
    const item = read.Item;
    if (!item) return { allow: false, serial: r.serial, reason: "serial-not-registered" };
    const status = item[REGISTRY.status]?.S;
    if (status === SERIAL_STATUS.revoked) return { allow: false, serial: r.serial, reason: "serial-revoked" };
    if (!(item[REGISTRY.templates]?.SS ?? []).includes(r.templateName)) return { allow: false, serial: r.serial, reason: "serial-template-not-allowed" };
    if (status === SERIAL_STATUS.provisioned) {
        // AWS retries a registration whose later steps failed with the same certificate (its ownership
        // token lives an hour): that is the same device, not a second one.
        if (item[REGISTRY.certificateId]?.S === r.event.certificateId) return { allow: true, serial: r.serial };
        return { allow: false, serial: r.serial, reason: "serial-already-provisioned" };
    }
    if (status !== SERIAL_STATUS.active) return { allow: false, serial: r.serial, reason: "serial-status-not-active" };
    try {
        await withDeadline((abortSignal) => deps.dynamo.send(new UpdateItemCommand({
            TableName: config.tableName,
            Key: key,
            // The template was checked on the read; the condition names only claim attributes (IAM allows no others).
            ConditionExpression: "#s = :active",
            UpdateExpression: "SET #s = :provisioned, #c = :cert, #tn = :template, #at = :at, #claim = :claim",
            ExpressionAttributeNames: {
                "#s": REGISTRY.status, "#c": REGISTRY.certificateId, "#tn": REGISTRY.templateName,
                "#at": REGISTRY.provisionedAt, "#claim": REGISTRY.claimCertificateId,
            },
            ExpressionAttributeValues: {
                ":active": { S: SERIAL_STATUS.active },
                ":provisioned": { S: SERIAL_STATUS.provisioned },
                ":template": { S: r.templateName },
                ":cert": { S: r.event.certificateId },
                ":at": { S: deps.now().toISOString() },
                ":claim": { S: r.event.claimCertificateId },
            },
        }), { abortSignal }), r.deadline);
    } catch (err) {
        // Another request claimed the serial between our read and our write: exactly one wins.
        if (err instanceof ConditionalCheckFailedException || errorName(err) === "ConditionalCheckFailedException") {
            return { allow: false, serial: r.serial, reason: "serial-already-provisioned" };
        }
        throw err;
    }
    return { allow: true, serial: r.serial };
}

/** Prefix mode (development): refuse a serial whose Thing exists, unless the stack allows re-provisioning. */
async function firstThingOnly(r: Request, config: HookConfig, deps: HookDeps): Promise<Decision> {
    if (config.allowReprovisioning) return { allow: true, serial: r.serial };
    try {
        await withDeadline((abortSignal) => deps.iot.send(new DescribeThingCommand({ thingName: r.thingName }), { abortSignal }), r.deadline);
    } catch (err) {
        if (errorName(err) === "ResourceNotFoundException") return { allow: true, serial: r.serial };
        throw err;
    }
    return { allow: false, serial: r.serial, reason: "thing-already-exists" };
}

/** Rotation: only a certificate already attached to the serial's Thing may get it a new one. */
async function rotate(r: Request, config: HookConfig, deps: HookDeps): Promise<Decision> {
    let ids: string[];
    try {
        const arns = await thingCertificateArns((c) => withDeadline((abortSignal) => deps.iot.send(c, { abortSignal }), r.deadline), r.thingName);
        ids = arns.map((a) => certificateIdOf(a)!);
    } catch (err) {
        if (errorName(err) === "ResourceNotFoundException") return { allow: false, serial: r.serial, reason: "thing-not-found" };
        throw err;
    }
    if (!ids.includes(r.event.claimCertificateId)) return { allow: false, serial: r.serial, reason: "requester-not-attached-to-thing" };
    if (ids.length >= MAX_THING_CERTIFICATES) return { allow: false, serial: r.serial, reason: "too-many-certificates" };
    if (config.mode === "registry") {
        const read = await withDeadline((abortSignal) => deps.dynamo.send(new GetItemCommand({
            TableName: config.tableName,
            Key: { [REGISTRY.key]: { S: r.serial } },
            ProjectionExpression: "#s",
            ExpressionAttributeNames: { "#s": REGISTRY.status },
            ConsistentRead: true,
        }), { abortSignal }), r.deadline);
        if (read.Item?.[REGISTRY.status]?.S !== SERIAL_STATUS.provisioned) return { allow: false, serial: r.serial, reason: "serial-not-provisioned" };
    }
    return { allow: true, serial: r.serial };
}

export function createHandler(deps: HookDeps): (event: unknown) => Promise<HookResponse> {
    return async (event: unknown): Promise<HookResponse> => {
        const started = deps.now();
        let decision: Decision;
        try {
            decision = await decide(event, deps);
        } catch (err) {
            decision = { allow: false, reason: `registry-error:${safe(errorName(err))}` };
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
            ? { allowProvisioning: true, parameterOverrides: { CertDate: certDate(started), CertExpiry: certExpiry(e.certificatePem) ?? UNKNOWN_EXPIRY } }
            : { allowProvisioning: false };
    };
}

let cached: ((event: unknown) => Promise<HookResponse>) | undefined;

/** Lambda entry point. Configuration comes from the (non-secret) environment. */
export async function handler(event: unknown): Promise<HookResponse> {
    cached ??= createHandler({
        config: configFromEnv(process.env),
        dynamo: new DynamoDBClient({ maxAttempts: 2 }),
        iot: new IoTClient({ maxAttempts: 2 }),
        now: () => new Date(),
        // Raw JSON lines on stdout become log events as they are (console.log would prefix them),
        // so CloudWatch metric filters can match their fields.
        log: (line) => process.stdout.write(`${line}\n`),
        registryTimeoutMs: 3000,
    });
    return cached(event);
}
