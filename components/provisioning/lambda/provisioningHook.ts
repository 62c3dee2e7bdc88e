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
 * - the device sends no parameter but the template's own (`SerialNumber`);
 * - `provision`, registry mode: the serial is registered for this template with the fingerprint of
 *   the unit's public key (SHA-256 of its SubjectPublicKeyInfo, written at end of line), and the new
 *   certificate (`certificatePem`, made from the unit's CSR) carries that key: holding the shared
 *   claim certificate proves nothing, holding the unit's private key does. An `active` serial is
 *   claimed with a conditional write (`active` → `provisioned`, with the new certificate id): the
 *   loser of a race is denied. A `provisioned` serial may register again only through the same
 *   template with the same key (a lost answer, a reboot, the Greengrass plugin re-sending its CSR):
 *   the registry then records the new certificate and the earlier one is scheduled for retirement;
 * - `provision`, registry mode, a claim that never became a Thing: the claim is a lease of
 *   REGISTRATION_LEASE_SECONDS from `provisionedAt`, held by the claiming certificate and its key
 *   (`claimKeyFingerprint`). AWS gives the hook 5 s and then runs the template; if it gives up (the hook
 *   late, a later template step failing) no Thing holds the certificate. During the lease only that
 *   certificate may register (another is `registration-in-progress`: a first registration may still be
 *   in flight); after it, the same key (the registered one when binding keys, the claiming one without)
 *   may resume with a new certificate, if the serial's Thing holds no live certificate: no eviction
 *   signal, nothing to retire (see resumeRegistration);
 * - `provision`, prefix mode (development only): the serial's Thing must not exist yet (unless the
 *   stack allows re-provisioning), and the serial is claimed with a conditional write as well;
 * - `rotate`: the asking certificate must be the only one attached to the serial's Thing (so a
 *   rotated-out certificate in its grace period cannot rotate, and one vehicle cannot rotate
 *   another's), no retirement or unconfirmed rotation may be pending for that Thing, and in
 *   registry mode the serial must be `provisioned` (not revoked). The new certificate is recorded
 *   as unconfirmed: the sweep retires it if the vehicle never confirms it.
 * It never throws: any malformed event, bad configuration or AWS error is a denial. Every decision
 * is logged as one JSON line; the certificate PEM is never logged.
 *
 * Runs on the Node.js 22 Lambda runtime, whose bundled AWS SDK v3 it uses (not bundled here).
 */
import { X509Certificate } from "crypto";
import { AttributeValue, ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { DescribeCertificateCommand, DescribeThingCommand, IoTClient } from "@aws-sdk/client-iot";
import { CERTIFICATE_ID, certificateArn, certificateIdOf, errorName, thingCertificateArns } from "../../runtime/iotIdentity";
import { certificateKeyFingerprint } from "../../runtime/keyFingerprint";
import { hoursAfter, ROTATION } from "../../runtime/rotationState";

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
    /** The only parameters a device may send through this template (the hook denies any other). */
    deviceParameters: string[];
}

export interface HookConfig {
    mode: "prefix" | "registry";
    tableName?: string;
    /** Rules by template name. */
    templates: Record<string, TemplateRule>;
    /** Prefix mode only: provision a serial whose Thing already exists (a development convenience). */
    allowReprovisioning: boolean;
    /**
     * Registry mode: the new certificate's public key must be the one registered for the serial.
     * Off only with `deviceKeys: aws` (AWS makes the key: there is nothing to bind; refused in production).
     */
    bindKeys: boolean;
    /** The rotation state table (keyed by Thing name): pending retirements and unconfirmed rotations. */
    rotationTable: string;
    /** A re-registered serial's earlier certificate retires after this many hours. */
    gracePeriodHours: number;
    /** A rotated certificate the vehicle has not confirmed within this many hours is retired. */
    confirmTimeoutHours: number;
    /** Registry mode: a serial's rotations start at least this many hours apart (0: no limit); a re-arm resets it. */
    minRotationIntervalHours?: number;
    /** A claim's lease (seconds from `provisionedAt`); REGISTRATION_LEASE_SECONDS unless given (tests). */
    registrationLeaseSeconds?: number;
}

/**
 * How long a claim that has not become a Thing holds its serial for the claiming certificate alone. AWS waits at
 * most 5 s for the hook's answer, then runs the template (developer guide, "Pre-provisioning hooks":
 * https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html); a registration still in
 * flight two minutes after the hook allowed it is not one AWS will complete. A unit whose registration failed
 * retries with the same certificate at once (its ownership token lives an hour), or with a new one after this.
 */
export const REGISTRATION_LEASE_SECONDS = 120;

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
    /** SHA-256 of the unit's public key (SubjectPublicKeyInfo DER), 64 lowercase hex digits. */
    publicKeyFingerprint: "publicKeyFingerprint",
    /** The certificate a re-registration or a re-arm replaced. */
    previousCertificateId: "previousCertificateId",
    /** When the hook last allowed a rotation of the serial (`provisioning.rotation.minIntervalHours` counts from it; a re-arm removes it). */
    rotationStartedAt: "rotationStartedAt",
    /** String set: every key fingerprint the serial had before its current one (confirm and rearm add to it; rearm refuses them). */
    publicKeyHistory: "publicKeyHistory",
    /** The key a confirmed rotation replaced (confirm copies it there): history for serials registered before it was kept. */
    previousPublicKeyFingerprint: "previousPublicKeyFingerprint",
    /** Fingerprint of the key of the certificate that claimed the serial (or resumed its claim): who holds the lease. */
    claimKeyFingerprint: "claimKeyFingerprint",
} as const;
/**
 * Attributes the hook names when it claims or re-registers a serial (the hook role may touch these
 * only): it writes all but the fingerprint, which it evaluates in its conditions.
 */
export const REGISTRY_CLAIM_ATTRIBUTES = [
    REGISTRY.key, REGISTRY.status, REGISTRY.certificateId, REGISTRY.templateName, REGISTRY.provisionedAt, REGISTRY.claimCertificateId,
    REGISTRY.publicKeyFingerprint, REGISTRY.previousCertificateId, REGISTRY.rotationStartedAt, REGISTRY.claimKeyFingerprint, REGISTRY.publicKeyHistory,
] as const;

/** Prefix mode (development): the attributes its conditional put writes, the only ones its grant names. */
export const PREFIX_CLAIM_ATTRIBUTES = [
    REGISTRY.key, REGISTRY.status, REGISTRY.certificateId, REGISTRY.templateName, REGISTRY.provisionedAt, REGISTRY.claimCertificateId,
    REGISTRY.claimKeyFingerprint,
] as const;

export const SERIAL_STATUS = { active: "active", provisioned: "provisioned", revoked: "revoked" } as const;

/**
 * A Thing may hold at most this many certificates: the one in use and, during a rotation, its
 * successor. A rotation therefore starts only from a Thing with one certificate (the asker's).
 */
export const MAX_THING_CERTIFICATES = 2;

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

/**
 * What a decision says about a thief holding a unit's current key (the eviction alarm counts these:
 * components/operations/operations.ts, EVICTION_SIGNAL_PATTERN):
 * - `same-key-re-registration`: a provisioned serial registered again with its key (a lost answer, or a
 *   thief re-registering to evict the unit);
 * - `replaced-certificate-in-use`: a certificate older than another live one on its Thing asked to rotate
 *   (the unit whose certificate someone else rotated away, or a unit retrying a rotation whose answer it lost).
 */
export type EvictionSignal = "same-key-re-registration" | "replaced-certificate-in-use";

export type Decision = ({ allow: true; serial: string; resumed?: true } | { allow: false; serial?: string; reason: string }) & { signal?: EvictionSignal };

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

const nonEmptyStrings = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((p) => typeof p === "string" && p.length > 0);

function parseRule(value: unknown): TemplateRule | undefined {
    if (!isRecord(value)) return undefined;
    const { purpose, thingNamePrefix, serialPrefixes, deviceParameters } = value;
    if (!HOOK_PURPOSES.includes(purpose as HookPurpose) || typeof thingNamePrefix !== "string") return undefined;
    if (!nonEmptyStrings(serialPrefixes) || !nonEmptyStrings(deviceParameters)) return undefined;
    return { purpose: purpose as HookPurpose, thingNamePrefix, serialPrefixes, deviceParameters };
}

const hours = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

/**
 * The environment the component sets: `HOOK_MODE`, `REGISTRY_TABLE`, `HOOK_TEMPLATES` (JSON),
 * `ALLOW_REPROVISIONING`, `BIND_KEYS`, `ROTATION_TABLE`, `GRACE_PERIOD_HOURS`, `CONFIRM_TIMEOUT_HOURS`,
 * `MIN_ROTATION_INTERVAL_HOURS`.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): HookConfig | undefined {
    const mode = env.HOOK_MODE;
    if (mode !== "prefix" && mode !== "registry") return undefined;
    if (!env.REGISTRY_TABLE || !env.ROTATION_TABLE) return undefined;
    if (env.BIND_KEYS !== "true" && env.BIND_KEYS !== "false") return undefined;
    const gracePeriodHours = hours(env.GRACE_PERIOD_HOURS);
    const confirmTimeoutHours = hours(env.CONFIRM_TIMEOUT_HOURS);
    const minRotationIntervalHours = env.MIN_ROTATION_INTERVAL_HOURS === undefined ? 0 : hours(env.MIN_ROTATION_INTERVAL_HOURS);
    if (gracePeriodHours === undefined || confirmTimeoutHours === undefined || confirmTimeoutHours === 0 || minRotationIntervalHours === undefined) return undefined;
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
    return {
        mode, tableName: env.REGISTRY_TABLE, templates, allowReprovisioning: env.ALLOW_REPROVISIONING === "true",
        bindKeys: env.BIND_KEYS === "true", rotationTable: env.ROTATION_TABLE, gracePeriodHours, confirmTimeoutHours, minRotationIntervalHours,
    };
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
    /** Fingerprint of the new certificate's public key (undefined when its PEM does not parse). */
    keyFingerprint?: string;
    /** The new certificate's ARN (same region and account as the template). */
    certificateArn: string;
}

type Send = (command: any) => Promise<any>;
const within = (client: Pick<DynamoDBClient | IoTClient, "send">, deadline: number): Send =>
    (command) => withDeadline((abortSignal) => (client.send as (c: unknown, o: unknown) => Promise<unknown>)(command, { abortSignal }), deadline);

const isConditionFailure = (err: unknown) => err instanceof ConditionalCheckFailedException || errorName(err) === "ConditionalCheckFailedException";

/** A certificate attached to a Thing, with what decides whether it still counts. */
interface Attached { id: string; live: boolean; created: number }

/**
 * The certificates attached to the Thing (none if it does not exist), each described: only a certificate
 * that can still connect (not INACTIVE or REVOKED: AWS IoT API reference, CertificateStatus; a device
 * connects only with an ACTIVE one) counts toward the Thing's limit, so a deactivated leftover that could
 * not be detached never wedges a unit. `undefined` when the Thing does not exist.
 */
async function attachedCertificates(r: Request, deps: HookDeps): Promise<Attached[] | undefined> {
    const iot = within(deps.iot, r.deadline);
    let arns: string[];
    try {
        arns = await thingCertificateArns(iot, r.thingName);
    } catch (err) {
        if (errorName(err) === "ResourceNotFoundException") return undefined;
        throw err;
    }
    return Promise.all(arns.map(async (arn) => {
        const id = certificateIdOf(arn)!;
        const d = (await iot(new DescribeCertificateCommand({ certificateId: id }))).certificateDescription;
        return { id, live: d?.status !== "INACTIVE" && d?.status !== "REVOKED", created: d?.creationDate?.getTime() ?? Number.POSITIVE_INFINITY };
    }));
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
    // AWS passes the device's RegisterThing parameters as they came (developer guide, "Pre-provisioning
    // hooks"): anything beyond the template's own is a device trying something the template never meant.
    if (Object.keys(event.parameters).some((k) => !rule.deviceParameters.includes(k))) return { allow: false, serial, reason: "unexpected-parameter" };
    if (typeof event.claimCertificateId !== "string" || !CERTIFICATE_ID.test(event.claimCertificateId)) {
        return { allow: false, serial, reason: "invalid-claim-certificate-id" };
    }
    if (rule.thingNamePrefix.length + serial.length > MAX_THING_NAME) return { allow: false, serial, reason: "thing-name-too-long" };
    if (!rule.serialPrefixes.some((p) => serial.startsWith(p))) return { allow: false, serial, reason: "serial-prefix-not-allowed" };

    const request: Request = {
        event: event as unknown as HookEvent, serial, templateName, rule, thingName: `${rule.thingNamePrefix}${serial}`,
        deadline: Date.now() + deps.registryTimeoutMs,
        keyFingerprint: certificateKeyFingerprint(event.certificatePem),
        certificateArn: certificateArn(event.templateArn as string, event.certificateId)!,
    };
    if (rule.purpose === "rotate") return rotate(request, config, deps);
    return config.mode === "registry" ? claimSerial(request, config, deps) : firstThingOnly(request, config, deps);
}

/**
 * Registry mode: the serial must be registered for this template (and, binding keys, for the key
 * the new certificate carries) and still `active`; claim it atomically. A `provisioned` serial
 * registers again only through the template it was claimed with and with the same key.
 */
async function claimSerial(r: Request, config: HookConfig, deps: HookDeps): Promise<Decision> {
    const dynamo = within(deps.dynamo, r.deadline);
    const key = { [REGISTRY.key]: { S: r.serial } };
    const read = await dynamo(new GetItemCommand({
        TableName: config.tableName,
        Key: key,
        ProjectionExpression: "#s, #t, #c, #tn, #fp, #at, #ckf",
        ExpressionAttributeNames: {
            "#s": REGISTRY.status, "#t": REGISTRY.templates, "#c": REGISTRY.certificateId, "#tn": REGISTRY.templateName, "#fp": REGISTRY.publicKeyFingerprint,
            "#at": REGISTRY.provisionedAt, "#ckf": REGISTRY.claimKeyFingerprint,
        },
        ConsistentRead: true,
    }));
    const item = read.Item;
    if (!item) return { allow: false, serial: r.serial, reason: "serial-not-registered" };
    const status = item[REGISTRY.status]?.S;
    if (status === SERIAL_STATUS.revoked) return { allow: false, serial: r.serial, reason: "serial-revoked" };
    if (!(item[REGISTRY.templates]?.SS ?? []).includes(r.templateName)) return { allow: false, serial: r.serial, reason: "serial-template-not-allowed" };
    const registeredKey: string | undefined = item[REGISTRY.publicKeyFingerprint]?.S;
    if (config.bindKeys) {
        if (!registeredKey) return { allow: false, serial: r.serial, reason: "serial-key-not-registered" };
        if (!r.keyFingerprint) return { allow: false, serial: r.serial, reason: "certificate-unreadable" };
        if (r.keyFingerprint !== registeredKey) return { allow: false, serial: r.serial, reason: "device-key-mismatch" };
    }
    const names = { "#s": REGISTRY.status, "#c": REGISTRY.certificateId, "#tn": REGISTRY.templateName, "#at": REGISTRY.provisionedAt, "#claim": REGISTRY.claimCertificateId };
    const values = {
        ":provisioned": { S: SERIAL_STATUS.provisioned },
        ":template": { S: r.templateName },
        ":cert": { S: r.event.certificateId },
        ":at": { S: deps.now().toISOString() },
        ":claim": { S: r.event.claimCertificateId },
    };
    // The key checked on the read must still be the registered one when the write lands (a re-arm between them).
    const keyCondition = config.bindKeys ? " AND #fp = :fp" : "";
    const keyNames: Record<string, string> = config.bindKeys ? { "#fp": REGISTRY.publicKeyFingerprint } : {};
    const keyValues: Record<string, AttributeValue> = config.bindKeys ? { ":fp": { S: registeredKey! } } : {};
    // Who holds the claim's lease: the new certificate's key (a re-claim without a readable key clears it).
    const { claimKeySet, claimKeyNames, claimKeyValues } = claimKeyUpdate(r);

    if (status === SERIAL_STATUS.provisioned) {
        const current: string | undefined = item[REGISTRY.certificateId]?.S;
        // AWS retrying a registration with the same certificate: nothing to write.
        if (current === r.event.certificateId && item[REGISTRY.templateName]?.S === r.templateName) return { allow: true, serial: r.serial };
        if (item[REGISTRY.templateName]?.S !== r.templateName || !current) return { allow: false, serial: r.serial, reason: "serial-already-provisioned" };
        // Without key binding only the key that claimed the serial may come back (nothing else tells its unit from a
        // holder of the claim certificate), and only to resume a claim that never became a Thing.
        const claimKey: string | undefined = item[REGISTRY.claimKeyFingerprint]?.S;
        if (!config.bindKeys && (!claimKey || claimKey !== r.keyFingerprint)) return { allow: false, serial: r.serial, reason: "serial-already-provisioned" };
        const attached = (await attachedCertificates(r, deps)) ?? [];
        // The claimed certificate is on no Thing: AWS has not completed that registration (the unit has no identity).
        if (!attached.some((c) => c.id === current)) {
            if (attached.some((c) => c.live)) return { allow: false, serial: r.serial, reason: "thing-has-other-certificates" };
            // The lease: that registration may still be in flight (AWS running the template): only its certificate may register.
            const claimedAt: string | undefined = item[REGISTRY.provisionedAt]?.S;
            const leaseSeconds = config.registrationLeaseSeconds ?? REGISTRATION_LEASE_SECONDS;
            if (claimedAt && deps.now().getTime() < Date.parse(claimedAt) + leaseSeconds * 1000) return { allow: false, serial: r.serial, reason: "registration-in-progress" };
            return resumeRegistration(r, config, deps, current, { key, keyCondition, keyNames, keyValues });
        }
        // The same unit again (same key, same template): a lost answer, a reboot, the plugin re-sending its CSR.
        // Without key binding nothing tells that unit from another: refused.
        if (!config.bindKeys) return { allow: false, serial: r.serial, reason: "serial-already-provisioned" };
        // Only from a settled Thing: no certificate on it but the registered one, nothing pending. Otherwise a
        // holder of the key (a thief with a stolen current key, or a rotated-out one not yet retired) could
        // overtake a rotation the vehicle started, or keep a rotated-out certificate alive.
        if (attached.some((c) => c.live && c.id !== current)) return { allow: false, serial: r.serial, reason: "thing-has-other-certificates" };
        // The rotation state first, with the condition that nothing is pending: of concurrent re-registrations
        // (and rotations) one wins, and the earlier certificate retires after the grace period.
        try {
            await scheduleRetirement(r, config, deps, certificateArn(r.certificateArn, current)!);
        } catch (err) {
            if (isConditionFailure(err)) return { allow: false, serial: r.serial, reason: "rotation-pending" };
            throw err;
        }
        try {
            await dynamo(new UpdateItemCommand({
                TableName: config.tableName,
                Key: key,
                ConditionExpression: `#s = :provisioned AND #tn = :template AND #c = :current${keyCondition}`,
                UpdateExpression: `SET #c = :cert, #prev = :current, #at = :at, #claim = :claim${claimKeySet}`,
                ExpressionAttributeNames: { "#s": names["#s"], "#c": names["#c"], "#tn": names["#tn"], "#at": names["#at"], "#claim": names["#claim"], "#prev": REGISTRY.previousCertificateId, ...keyNames, ...claimKeyNames },
                ExpressionAttributeValues: { ":provisioned": values[":provisioned"], ":template": values[":template"], ":cert": values[":cert"], ":at": values[":at"], ":claim": values[":claim"], ":current": { S: current }, ...keyValues, ...claimKeyValues },
            }));
        } catch (err) {
            // The scheduled retirement stands: the earlier certificate retires, and the unit (holding the key) registers again after it.
            if (isConditionFailure(err)) return { allow: false, serial: r.serial, reason: "serial-changed-concurrently" };
            throw err;
        }
        // The unit's earlier certificate retires: honest after a lost answer, an eviction if a thief holds the key. Seen either way.
        return { allow: true, serial: r.serial, signal: "same-key-re-registration" };
    }
    if (status !== SERIAL_STATUS.active) return { allow: false, serial: r.serial, reason: "serial-status-not-active" };
    try {
        await dynamo(new UpdateItemCommand({
            TableName: config.tableName,
            Key: key,
            // The template was checked on the read; the condition names only claim attributes (IAM allows no others).
            ConditionExpression: `#s = :active${keyCondition}`,
            UpdateExpression: `SET #s = :provisioned, #c = :cert, #tn = :template, #at = :at, #claim = :claim${claimKeySet}`,
            ExpressionAttributeNames: { ...names, ...keyNames, ...claimKeyNames },
            ExpressionAttributeValues: { ":active": { S: SERIAL_STATUS.active }, ...values, ...keyValues, ...claimKeyValues },
        }));
    } catch (err) {
        // Another request claimed the serial between our read and our write: exactly one wins.
        if (isConditionFailure(err)) return { allow: false, serial: r.serial, reason: "serial-already-provisioned" };
        throw err;
    }
    return { allow: true, serial: r.serial };
}

/** The update clause recording who holds a claim's lease: SET to the new certificate's key, or REMOVE when its PEM does not parse. */
function claimKeyUpdate(r: Request): { claimKeySet: string; claimKeyNames: Record<string, string>; claimKeyValues: Record<string, AttributeValue> } {
    const claimKeyNames = { "#ckf": REGISTRY.claimKeyFingerprint };
    return r.keyFingerprint
        ? { claimKeySet: ", #ckf = :ckf", claimKeyNames, claimKeyValues: { ":ckf": { S: r.keyFingerprint } } }
        : { claimKeySet: " REMOVE #ckf", claimKeyNames, claimKeyValues: {} };
}

/**
 * A claim whose lease ran out without a Thing holding its certificate (AWS gave up on that registration: the
 * hook answered late, or a later template step failed), asked again by the key that may hold it: the new
 * certificate takes the claim over, with a new lease. Nothing is evicted (no Thing holds a certificate of the
 * serial), so there is no eviction signal and nothing to retire: the earlier certificate is on no Thing and AWS
 * activates a fleet-provisioning certificate only in a completed RegisterThing (developer guide, "Device
 * provisioning MQTT API": the new certificate is PENDING_ACTIVATION until RegisterThing;
 * https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html). The write is conditioned on
 * the claim read (same certificate, same template, same key), so of concurrent resumptions one wins.
 */
async function resumeRegistration(
    r: Request, config: HookConfig, deps: HookDeps, current: string,
    k: { key: Record<string, AttributeValue>; keyCondition: string; keyNames: Record<string, string>; keyValues: Record<string, AttributeValue> },
): Promise<Decision> {
    const { claimKeySet, claimKeyNames, claimKeyValues } = claimKeyUpdate(r);
    // Without key binding the claim's key is the one that may resume (checked on the read, held by the write).
    const claimCondition = config.bindKeys ? "" : " AND #ckf = :ckf";
    try {
        await within(deps.dynamo, r.deadline)(new UpdateItemCommand({
            TableName: config.tableName,
            Key: k.key,
            ConditionExpression: `#s = :provisioned AND #tn = :template AND #c = :current${k.keyCondition}${claimCondition}`,
            UpdateExpression: `SET #c = :cert, #prev = :current, #at = :at, #claim = :claim${claimKeySet}`,
            ExpressionAttributeNames: {
                "#s": REGISTRY.status, "#tn": REGISTRY.templateName, "#c": REGISTRY.certificateId, "#prev": REGISTRY.previousCertificateId,
                "#at": REGISTRY.provisionedAt, "#claim": REGISTRY.claimCertificateId, ...k.keyNames, ...claimKeyNames,
            },
            ExpressionAttributeValues: {
                ":provisioned": { S: SERIAL_STATUS.provisioned }, ":template": { S: r.templateName }, ":current": { S: current }, ":cert": { S: r.event.certificateId },
                ":at": { S: deps.now().toISOString() }, ":claim": { S: r.event.claimCertificateId }, ...k.keyValues, ...claimKeyValues,
            },
        }));
    } catch (err) {
        if (isConditionFailure(err)) return { allow: false, serial: r.serial, reason: "serial-changed-concurrently" };
        throw err;
    }
    return { allow: true, serial: r.serial, resumed: true };
}

/**
 * A replaced certificate of `r.thingName` retires after the grace period (the sweep deactivates and
 * detaches it), only if nothing is pending for the Thing (ConditionalCheckFailed otherwise).
 */
async function scheduleRetirement(r: Request, config: HookConfig, deps: HookDeps, arn: string): Promise<void> {
    await within(deps.dynamo, r.deadline)(new UpdateItemCommand({
        TableName: config.rotationTable,
        Key: { [ROTATION.thingName]: { S: r.thingName } },
        ConditionExpression: "attribute_not_exists(#u) AND attribute_not_exists(#r)",
        UpdateExpression: "SET #k = :keeper, #after = :after ADD #r :old",
        ExpressionAttributeNames: { "#k": ROTATION.keeper, "#after": ROTATION.retireAfter, "#r": ROTATION.retiring, "#u": ROTATION.unconfirmed },
        ExpressionAttributeValues: { ":keeper": { S: r.certificateArn }, ":after": { S: hoursAfter(deps.now(), config.gracePeriodHours) }, ":old": { SS: [arn] } },
    }));
}

/**
 * Prefix mode (development): refuse a serial whose Thing exists, unless the stack allows
 * re-provisioning; then claim the serial in the registry table with a conditional put, so of two
 * concurrent first provisionings exactly one wins (AWS's retry with the same certificate passes).
 * A claim whose Thing was never made (AWS gave up on that registration) is resumed by the key that
 * claimed it once its lease has run out (REGISTRATION_LEASE_SECONDS): any other key stays refused.
 */
async function firstThingOnly(r: Request, config: HookConfig, deps: HookDeps): Promise<Decision> {
    if (!config.allowReprovisioning) {
        try {
            await within(deps.iot, r.deadline)(new DescribeThingCommand({ thingName: r.thingName }));
            return { allow: false, serial: r.serial, reason: "thing-already-exists" };
        } catch (err) {
            if (errorName(err) !== "ResourceNotFoundException") throw err;
        }
    }
    // No Thing: a claim older than the lease never became one, and its own key may take it again.
    const leaseSeconds = config.registrationLeaseSeconds ?? REGISTRATION_LEASE_SECONDS;
    const resume = r.keyFingerprint ? { key: r.keyFingerprint, leaseStart: new Date(deps.now().getTime() - leaseSeconds * 1000).toISOString() } : undefined;
    try {
        await within(deps.dynamo, r.deadline)(new PutItemCommand({
            TableName: config.tableName,
            Item: {
                [REGISTRY.key]: { S: r.serial },
                [REGISTRY.status]: { S: SERIAL_STATUS.provisioned },
                [REGISTRY.certificateId]: { S: r.event.certificateId },
                [REGISTRY.templateName]: { S: r.templateName },
                [REGISTRY.provisionedAt]: { S: deps.now().toISOString() },
                [REGISTRY.claimCertificateId]: { S: r.event.claimCertificateId },
                ...(r.keyFingerprint ? { [REGISTRY.claimKeyFingerprint]: { S: r.keyFingerprint } } : {}),
            },
            ConditionExpression: config.allowReprovisioning ? undefined : `attribute_not_exists(#k) OR #c = :cert${resume ? " OR (#at < :leaseStart AND #ckf = :ckf)" : ""}`,
            ExpressionAttributeNames: config.allowReprovisioning ? undefined : { "#k": REGISTRY.key, "#c": REGISTRY.certificateId, ...(resume ? { "#at": REGISTRY.provisionedAt, "#ckf": REGISTRY.claimKeyFingerprint } : {}) },
            ExpressionAttributeValues: config.allowReprovisioning ? undefined : { ":cert": { S: r.event.certificateId }, ...(resume ? { ":leaseStart": { S: resume.leaseStart }, ":ckf": { S: resume.key } } : {}) },
        }));
    } catch (err) {
        if (isConditionFailure(err)) return { allow: false, serial: r.serial, reason: "serial-already-provisioned" };
        throw err;
    }
    return { allow: true, serial: r.serial };
}

/**
 * Rotation: only the certificate attached to the serial's Thing, alone, may get it a successor, and
 * only while nothing is pending for that Thing. The successor is recorded as unconfirmed (with a
 * condition that nothing is pending, so two concurrent rotations have one winner).
 */
async function rotate(r: Request, config: HookConfig, deps: HookDeps): Promise<Decision> {
    const attached = await attachedCertificates(r, deps);
    if (!attached) return { allow: false, serial: r.serial, reason: "thing-not-found" };
    const asker = attached.find((c) => c.id === r.event.claimCertificateId);
    if (!asker?.live) return { allow: false, serial: r.serial, reason: "requester-not-attached-to-thing" };
    const live = attached.filter((c) => c.live);
    if (live.length >= MAX_THING_CERTIFICATES) {
        // A certificate with a newer live one beside it asks: someone else rotated it away (or its own answer was lost).
        const replaced = live.some((c) => c.created > asker.created);
        return { allow: false, serial: r.serial, reason: "too-many-certificates", ...(replaced ? { signal: "replaced-certificate-in-use" as const } : {}) };
    }
    const dynamo = within(deps.dynamo, r.deadline);
    const minHours = config.minRotationIntervalHours ?? 0;
    if (config.mode === "registry") {
        const read = await dynamo(new GetItemCommand({
            TableName: config.tableName,
            Key: { [REGISTRY.key]: { S: r.serial } },
            ProjectionExpression: "#s, #rs",
            ExpressionAttributeNames: { "#s": REGISTRY.status, "#rs": REGISTRY.rotationStartedAt },
            ConsistentRead: true,
        }));
        if (read.Item?.[REGISTRY.status]?.S !== SERIAL_STATUS.provisioned) return { allow: false, serial: r.serial, reason: "serial-not-provisioned" };
        // The new key goes into the serial's history below (what `rearm` refuses): a certificate whose key cannot be
        // read would leave it out, so it is refused, as the provisioning path refuses it.
        if (!r.keyFingerprint) return { allow: false, serial: r.serial, reason: "certificate-unreadable" };
        // One rotation per interval: a holder of the current key cannot keep restarting rotations (a re-arm removes the mark).
        const started: string | undefined = read.Item?.[REGISTRY.rotationStartedAt]?.S;
        if (minHours > 0 && started && hoursAfter(new Date(started), minHours) > deps.now().toISOString()) return { allow: false, serial: r.serial, reason: "rotation-too-soon" };
    }
    try {
        await dynamo(new UpdateItemCommand({
            TableName: config.rotationTable,
            Key: { [ROTATION.thingName]: { S: r.thingName } },
            ConditionExpression: "attribute_not_exists(#u) AND attribute_not_exists(#r)",
            UpdateExpression: "SET #u = :new, #by = :by",
            ExpressionAttributeNames: { "#u": ROTATION.unconfirmed, "#by": ROTATION.confirmBy, "#r": ROTATION.retiring },
            ExpressionAttributeValues: { ":new": { S: r.certificateArn }, ":by": { S: hoursAfter(deps.now(), config.confirmTimeoutHours) } },
        }));
    } catch (err) {
        if (isConditionFailure(err)) return { allow: false, serial: r.serial, reason: "rotation-pending" };
        throw err;
    }
    if (config.mode === "registry") {
        // The rotation's start (the interval above), and its key in the serial's history: a key the serial ever had a
        // certificate for, confirmed or not, is one `rearm` refuses (a thief's rotation never confirmed included).
        const fp = r.keyFingerprint;
        try {
            await dynamo(new UpdateItemCommand({
                TableName: config.tableName,
                Key: { [REGISTRY.key]: { S: r.serial } },
                ConditionExpression: "#s = :provisioned",
                UpdateExpression: `SET #rs = :now${fp ? " ADD #h :fp" : ""}`,
                ExpressionAttributeNames: { "#s": REGISTRY.status, "#rs": REGISTRY.rotationStartedAt, ...(fp ? { "#h": REGISTRY.publicKeyHistory } : {}) },
                ExpressionAttributeValues: { ":provisioned": { S: SERIAL_STATUS.provisioned }, ":now": { S: deps.now().toISOString() }, ...(fp ? { ":fp": { SS: [fp] } } : {}) },
            }));
        } catch (err) {
            // Revoked since the read (a quarantine): the unconfirmed rotation recorded above is the quarantine's to drop.
            if (isConditionFailure(err)) return { allow: false, serial: r.serial, reason: "serial-not-provisioned" };
            // Any other failure (a throttle, the registry's deadline): the rotation is refused, so the unconfirmed
            // certificate recorded above is taken back (only if it is still this one), or the unit's retries would meet
            // `rotation-pending` until the sweep retired a certificate AWS never registered.
            await withdrawPending(r, config, deps);
            throw err;
        }
    }
    return { allow: true, serial: r.serial };
}

const WITHDRAW_MS = 1000;

/**
 * Removes the unconfirmed rotation `rotate` recorded for this request, if the item still names it (best effort, within
 * one more second: the registry's budget may be spent, and AWS's 5 s for the whole hook is not).
 */
async function withdrawPending(r: Request, config: HookConfig, deps: HookDeps): Promise<void> {
    try {
        await within(deps.dynamo, Date.now() + WITHDRAW_MS)(new UpdateItemCommand({
            TableName: config.rotationTable,
            Key: { [ROTATION.thingName]: { S: r.thingName } },
            ConditionExpression: "#u = :new",
            UpdateExpression: "REMOVE #u, #by",
            ExpressionAttributeNames: { "#u": ROTATION.unconfirmed, "#by": ROTATION.confirmBy },
            ExpressionAttributeValues: { ":new": { S: r.certificateArn } },
        }));
    } catch {
        // Left for the sweep after confirmBy, as before.
    }
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
            ...(decision.allow && decision.resumed ? { resumedRegistration: true } : {}),
            ...(decision.signal ? { evictionSignal: decision.signal } : {}),
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
