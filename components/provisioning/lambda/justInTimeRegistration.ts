/**
 * Just-in-time registration (JITR) for `provisioning.identity.mode: oemCa`: units that left the factory
 * with a certificate signed by the maker's CA.
 *
 * AWS IoT developer guide, "Register a client certificate when the client connects to AWS IoT
 * just-in-time registration (JITR)" (https://docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html):
 * the first time a unit connects with a certificate signed by a registered CA that allows
 * auto-registration, AWS IoT registers the certificate as PENDING_ACTIVATION, publishes
 * `{certificateId, caCertificateId, timestamp, certificateStatus, awsAccountId, certificateRegistrationTimestamp}`
 * to `$aws/events/certificates/registered/<caCertificateId>` and closes the connection; a rule sends it
 * here; the unit reconnects once the certificate is ACTIVE.
 *
 * JITR, not a just-in-time provisioning template: a JITP template is applied by AWS IoT on the first
 * connection with no pre-provisioning hook (hooks belong to fleet provisioning templates: AWS IoT
 * developer guide, "Pre-provisioning hooks"; the JITP page, https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html,
 * names none), so nothing could check that the unit belongs to THIS stack's fleet: any certificate the
 * maker's CA signed, for any country, would become a Thing. Here the unit becomes a Thing only if:
 * - its certificate is registered under one of this stack's CAs, PENDING_ACTIVATION, not a CA, and
 *   inside its validity period;
 * - the subject field the stack names (CN or serialNumber) carries a serial with one of the stack's
 *   prefixes (and, with membership registryAndSubjectCountry, C is the stack's country);
 * - the serial is in this stack's registry for this fleet (`templates` holds the stack's template
 *   name), not revoked, bound to the fingerprint of the certificate's public key: a certificate the
 *   maker's CA signed for another key (or another country's serial) is refused, and a conditional
 *   write claims the serial (of two registrations one wins);
 * - a serial already provisioned takes a new certificate only for the same key (the maker renewed the
 *   certificate) and only while the Thing holds its current certificate alone; the current one then
 *   retires after the grace period through the rotation state and sweep.
 * A refused certificate is left PENDING_ACTIVATION, which AWS IoT never lets connect (and which
 * another stack sharing the account and CA may still accept). Every decision is one JSON line
 * (`provisioning-decision`, as the pre-provisioning hook logs, so the same alarms count it).
 */
import { X509Certificate } from "crypto";
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import {
    AddThingToThingGroupCommand, AttachPolicyCommand, AttachThingPrincipalCommand, CreateThingCommand, DescribeCertificateCommand, DescribeThingCommand,
    IoTClient, UpdateCertificateCommand, UpdateThingCommand,
} from "@aws-sdk/client-iot";
import { CERTIFICATE_ID, certificateIdOf, errorName, thingCertificateArns } from "../../runtime/iotIdentity";
import { publicKeyFingerprint } from "../../runtime/keyFingerprint";
import { hoursAfter, ROTATION } from "../../runtime/rotationState";
import { certDate, REGISTRY, SERIAL_STATUS } from "./provisioningHook";

/** Registry attributes a registration names (its IAM condition lists exactly these). */
export const JITR_REGISTRY_ATTRIBUTES = [
    REGISTRY.key, REGISTRY.status, REGISTRY.certificateId, REGISTRY.templateName, REGISTRY.provisionedAt, REGISTRY.publicKeyFingerprint, REGISTRY.previousCertificateId,
] as const;
/** Rotation-state attributes a renewal names. */
export const JITR_ROTATION_ATTRIBUTES = [ROTATION.thingName, ROTATION.keeper, ROTATION.retiring, ROTATION.retireAfter, ROTATION.unconfirmed] as const;

export interface JitrConfig {
    registryTable: string;
    rotationTable: string;
    /** The registry marks a serial as this fleet's by this name in its `templates` set (the factory's registration CSV). */
    fleetName: string;
    thingNamePrefix: string;
    serialPrefixes: string[];
    serialField: "CN" | "serialNumber";
    /** Set (the stack's country) when the subject's C must match it. */
    subjectCountry?: string;
    country: string;
    /** AWS IoT ids of this stack's registered CA certificates. */
    caCertificateIds: string[];
    devicePolicyName: string;
    thingTypeName: string;
    thingGroupName: string;
    gracePeriodHours: number;
}

export interface JitrDeps {
    config: JitrConfig | undefined;
    dynamo: Pick<DynamoDBClient, "send">;
    iot: Pick<IoTClient, "send">;
    now: () => Date;
    log: (line: string) => void;
}

export type JitrDecision = { allow: true; serial: string; thingName: string; renewal: boolean } | { allow: false; serial?: string; reason: string };

const SERIAL = /^[A-Za-z0-9_-]{1,64}$/;
const FIELD_NAME: Record<JitrConfig["serialField"], string> = { CN: "CN", serialNumber: "serialNumber" };

/** The environment the component sets (see `configFromEnv`); undefined when anything is missing or malformed. */
export function configFromEnv(env: NodeJS.ProcessEnv): JitrConfig | undefined {
    try {
        const c: JitrConfig = {
            registryTable: env.REGISTRY_TABLE ?? "",
            rotationTable: env.ROTATION_TABLE ?? "",
            fleetName: env.FLEET_NAME ?? "",
            thingNamePrefix: env.THING_NAME_PREFIX ?? "",
            serialPrefixes: JSON.parse(env.SERIAL_PREFIXES ?? "[]"),
            serialField: env.SERIAL_FIELD as JitrConfig["serialField"],
            subjectCountry: env.SUBJECT_COUNTRY || undefined,
            country: env.COUNTRY ?? "",
            caCertificateIds: JSON.parse(env.CA_CERTIFICATE_IDS ?? "[]"),
            devicePolicyName: env.DEVICE_POLICY ?? "",
            thingTypeName: env.THING_TYPE ?? "",
            thingGroupName: env.THING_GROUP ?? "",
            gracePeriodHours: Number(env.GRACE_PERIOD_HOURS),
        };
        const strings = [c.registryTable, c.rotationTable, c.fleetName, c.thingNamePrefix, c.country, c.devicePolicyName, c.thingTypeName, c.thingGroupName];
        if (strings.some((s) => !s) || !(c.serialField in FIELD_NAME) || !Number.isInteger(c.gracePeriodHours)) return undefined;
        if (!Array.isArray(c.serialPrefixes) || !c.serialPrefixes.length || !c.serialPrefixes.every((p) => typeof p === "string" && p)) return undefined;
        if (!Array.isArray(c.caCertificateIds) || !c.caCertificateIds.length || !c.caCertificateIds.every((id) => CERTIFICATE_ID.test(String(id)))) return undefined;
        return c;
    } catch {
        return undefined;
    }
}

/** The value of one subject attribute (`CN`, `C`, `serialNumber`), when it appears exactly once. */
export function subjectAttribute(cert: X509Certificate, name: string): string | undefined {
    const values = cert.subject.split("\n").filter((l) => l.startsWith(`${name}=`)).map((l) => l.slice(name.length + 1));
    return values.length === 1 ? values[0] : undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isConditionFailure = (err: unknown) => err instanceof ConditionalCheckFailedException || errorName(err) === "ConditionalCheckFailedException";
const safe = (v: unknown) => (typeof v === "string" ? v.slice(0, 128).replace(/[^\w:./=+@-]/g, "?") : undefined);

/** The checks a certificate must pass before the registry is asked: its CA, its status, its validity and its subject. */
async function readCertificate(event: unknown, config: JitrConfig, deps: JitrDeps): Promise<{ ok: false; reason: string; serial?: string } | { ok: true; certificateId: string; arn: string; cert: X509Certificate; serial: string }> {
    if (!isRecord(event) || typeof event.certificateId !== "string" || !CERTIFICATE_ID.test(event.certificateId)) return { ok: false, reason: "malformed-event" };
    if (typeof event.caCertificateId !== "string" || !config.caCertificateIds.includes(event.caCertificateId)) return { ok: false, reason: "foreign-ca" };
    const described = await deps.iot.send(new DescribeCertificateCommand({ certificateId: event.certificateId }));
    const d = described.certificateDescription;
    if (!d?.certificatePem || !d.certificateArn) return { ok: false, reason: "certificate-unreadable" };
    // The description, not the event, says which CA AWS IoT registered it under (the CA it verified the
    // certificate's signature with at the TLS handshake) and what its status is now.
    if (!d.caCertificateId || !config.caCertificateIds.includes(d.caCertificateId)) return { ok: false, reason: "foreign-ca" };
    let cert: X509Certificate;
    try {
        cert = new X509Certificate(d.certificatePem);
    } catch {
        return { ok: false, reason: "certificate-unreadable" };
    }
    const serial = subjectAttribute(cert, FIELD_NAME[config.serialField]);
    if (!serial || !SERIAL.test(serial)) return { ok: false, reason: "no-serial-in-subject" };
    if (cert.ca) return { ok: false, serial, reason: "ca-certificate" };
    const now = deps.now().getTime();
    if (now < Date.parse(cert.validFrom)) return { ok: false, serial, reason: "not-yet-valid" };
    if (now > Date.parse(cert.validTo)) return { ok: false, serial, reason: "expired" };
    if (!config.serialPrefixes.some((p) => serial.startsWith(p))) return { ok: false, serial, reason: "serial-prefix-not-allowed" };
    if (config.subjectCountry && subjectAttribute(cert, "C") !== config.subjectCountry) return { ok: false, serial, reason: "subject-country-mismatch" };
    if (d.status !== "PENDING_ACTIVATION") return { ok: false, serial, reason: `certificate-${String(d.status).toLowerCase()}` };
    return { ok: true, certificateId: event.certificateId, arn: d.certificateArn, cert, serial };
}

export async function decide(event: unknown, deps: JitrDeps): Promise<JitrDecision> {
    const config = deps.config;
    if (!config) return { allow: false, reason: "misconfigured" };
    const c = await readCertificate(event, config, deps);
    if (!c.ok) return { allow: false, serial: c.serial, reason: c.reason };
    const thingName = `${config.thingNamePrefix}${c.serial}`;
    const fingerprint = publicKeyFingerprint(c.cert.publicKey);
    const key = { [REGISTRY.key]: { S: c.serial } };
    const read = await deps.dynamo.send(new GetItemCommand({ TableName: config.registryTable, Key: key, ConsistentRead: true }));
    const item = read.Item;
    if (!item) return { allow: false, serial: c.serial, reason: "serial-not-registered" };
    const status = item[REGISTRY.status]?.S;
    if (status === SERIAL_STATUS.revoked) return { allow: false, serial: c.serial, reason: "serial-revoked" };
    if (!(item[REGISTRY.templates]?.SS ?? []).includes(config.fleetName)) return { allow: false, serial: c.serial, reason: "serial-not-in-this-fleet" };
    if (item[REGISTRY.publicKeyFingerprint]?.S !== fingerprint) return { allow: false, serial: c.serial, reason: "key-mismatch" };

    const attached = await attachedIds(deps, thingName);
    const current = item[REGISTRY.certificateId]?.S;
    const names = { "#s": REGISTRY.status, "#fp": REGISTRY.publicKeyFingerprint, "#c": REGISTRY.certificateId, "#at": REGISTRY.provisionedAt };
    const at = { S: deps.now().toISOString() };
    let renewal = false;
    if (status === SERIAL_STATUS.provisioned && current === c.certificateId) {
        // A retried event (the function failed after its claim): finish what it started.
    } else if (status === SERIAL_STATUS.provisioned) {
        // A renewal: the same key, a new certificate from the maker's CA; only from a settled Thing.
        if (!current || attached.length !== 1 || attached[0] !== current) return { allow: false, serial: c.serial, reason: "thing-not-settled" };
        try {
            await deps.dynamo.send(new UpdateItemCommand({
                TableName: config.rotationTable,
                Key: { [ROTATION.thingName]: { S: thingName } },
                ConditionExpression: "attribute_not_exists(#u) AND attribute_not_exists(#r)",
                UpdateExpression: "SET #k = :keeper, #after = :after ADD #r :old",
                ExpressionAttributeNames: { "#k": ROTATION.keeper, "#after": ROTATION.retireAfter, "#r": ROTATION.retiring, "#u": ROTATION.unconfirmed },
                ExpressionAttributeValues: { ":keeper": { S: c.arn }, ":after": { S: hoursAfter(deps.now(), config.gracePeriodHours) }, ":old": { SS: [c.arn.replace(/[0-9a-f]{64}$/, current)] } },
            }));
            await deps.dynamo.send(new UpdateItemCommand({
                TableName: config.registryTable, Key: key,
                ConditionExpression: "#s = :provisioned AND #fp = :fp AND #c = :current",
                UpdateExpression: "SET #c = :cert, #prev = :current, #at = :at",
                ExpressionAttributeNames: { ...names, "#prev": REGISTRY.previousCertificateId },
                ExpressionAttributeValues: { ":provisioned": { S: SERIAL_STATUS.provisioned }, ":fp": { S: fingerprint }, ":current": { S: current }, ":cert": { S: c.certificateId }, ":at": at },
            }));
        } catch (err) {
            if (isConditionFailure(err)) return { allow: false, serial: c.serial, reason: "serial-changed-concurrently" };
            throw err;
        }
        renewal = true;
    } else if (status === SERIAL_STATUS.active) {
        // First registration, or a re-armed serial (quarantine left the Thing without certificates).
        if (attached.length > 0) return { allow: false, serial: c.serial, reason: "thing-has-other-certificates" };
        try {
            await deps.dynamo.send(new UpdateItemCommand({
                TableName: config.registryTable, Key: key,
                ConditionExpression: "#s = :active AND #fp = :fp",
                UpdateExpression: "SET #s = :provisioned, #c = :cert, #tn = :fleet, #at = :at",
                ExpressionAttributeNames: { ...names, "#tn": REGISTRY.templateName },
                ExpressionAttributeValues: { ":active": { S: SERIAL_STATUS.active }, ":provisioned": { S: SERIAL_STATUS.provisioned }, ":fp": { S: fingerprint }, ":cert": { S: c.certificateId }, ":fleet": { S: config.fleetName }, ":at": at },
            }));
        } catch (err) {
            if (isConditionFailure(err)) return { allow: false, serial: c.serial, reason: "serial-already-provisioned" };
            throw err;
        }
    } else {
        return { allow: false, serial: c.serial, reason: "serial-status-not-active" };
    }

    const attributes = { serial: c.serial, country: config.country, CertDate: certDate(deps.now()), CertExpiry: certDate(new Date(c.cert.validTo)) };
    await ensureThing(deps, config, thingName, attributes);
    await deps.iot.send(new AttachPolicyCommand({ policyName: config.devicePolicyName, target: c.arn }));
    await deps.iot.send(new AttachThingPrincipalCommand({ thingName, principal: c.arn }));
    // Quarantined meanwhile? The registry must still name this certificate before it is switched on.
    const again = await deps.dynamo.send(new GetItemCommand({ TableName: config.registryTable, Key: key, ConsistentRead: true }));
    if (again.Item?.[REGISTRY.status]?.S !== SERIAL_STATUS.provisioned || again.Item?.[REGISTRY.certificateId]?.S !== c.certificateId) {
        return { allow: false, serial: c.serial, reason: "serial-changed-concurrently" };
    }
    await deps.iot.send(new UpdateCertificateCommand({ certificateId: c.certificateId, newStatus: "ACTIVE" }));
    return { allow: true, serial: c.serial, thingName, renewal };
}

/**
 * The Thing's live certificates (attached and neither INACTIVE nor REVOKED), as the pre-provisioning hook counts them:
 * a leftover a failed detach left INACTIVE can never connect, and must not block a renewal or a re-armed unit.
 */
async function attachedIds(deps: JitrDeps, thingName: string): Promise<string[]> {
    let ids: string[];
    try {
        ids = (await thingCertificateArns((cmd) => deps.iot.send(cmd), thingName)).map((a) => certificateIdOf(a)!);
    } catch (err) {
        if (errorName(err) === "ResourceNotFoundException") return [];
        throw err;
    }
    const live = await Promise.all(ids.map(async (certificateId) => {
        try {
            const status = (await deps.iot.send(new DescribeCertificateCommand({ certificateId }))).certificateDescription?.status;
            return status !== "INACTIVE" && status !== "REVOKED";
        } catch (err) {
            if (errorName(err) === "ResourceNotFoundException") return false;
            throw err;
        }
    }));
    return ids.filter((_, i) => live[i]);
}

/** The Thing in the stack's type and group, with the attributes claim-provisioned vehicles carry. */
async function ensureThing(deps: JitrDeps, config: JitrConfig, thingName: string, attributes: Record<string, string>): Promise<void> {
    let exists = true;
    try {
        await deps.iot.send(new DescribeThingCommand({ thingName }));
    } catch (err) {
        if (errorName(err) !== "ResourceNotFoundException") throw err;
        exists = false;
    }
    if (exists) await deps.iot.send(new UpdateThingCommand({ thingName, attributePayload: { attributes, merge: true } }));
    else await deps.iot.send(new CreateThingCommand({ thingName, thingTypeName: config.thingTypeName, attributePayload: { attributes } }));
    await deps.iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: config.thingGroupName }));
}

export function createHandler(deps: JitrDeps): (event: unknown) => Promise<JitrDecision> {
    return async (event: unknown) => {
        const started = deps.now();
        let decision: JitrDecision;
        try {
            decision = await decide(event, deps);
        } catch (err) {
            decision = { allow: false, reason: `aws-error:${safe(errorName(err))}` };
        }
        const e = isRecord(event) ? event : {};
        deps.log(JSON.stringify({
            event: "provisioning-decision",
            source: "just-in-time-registration",
            time: started.toISOString(),
            certificateId: safe(e.certificateId),
            caCertificateId: safe(e.caCertificateId),
            serial: decision.serial,
            allowProvisioning: decision.allow,
            reason: decision.allow ? (decision.renewal ? "renewed" : "registered") : decision.reason,
        }));
        // An AWS error is thrown again so Lambda retries the asynchronous invocation (the decision is idempotent).
        if (!decision.allow && decision.reason.startsWith("aws-error:")) throw new Error(decision.reason);
        return decision;
    };
}

let cached: ((event: unknown) => Promise<JitrDecision>) | undefined;

/** Lambda entry point (the topic rule's action). */
export async function handler(event: unknown): Promise<JitrDecision> {
    cached ??= createHandler({
        config: configFromEnv(process.env),
        dynamo: new DynamoDBClient({ maxAttempts: 3 }),
        iot: new IoTClient({ maxAttempts: 3 }),
        now: () => new Date(),
        log: (line) => process.stdout.write(`${line}\n`),
    });
    return cached(event);
}
