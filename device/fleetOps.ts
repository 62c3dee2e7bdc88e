/**
 * The operator's side of the serial registry and of a vehicle's certificates, as `npm run device`
 * commands (they call AWS with the caller's credentials; `--stack` names the tables):
 * - `register`: the factory's end-of-line registration, a CSV of `serial,publicKey,template` written
 *   with BatchWriteItem. Idempotent and resumable: serials already registered with the same key and
 *   templates are skipped, serials registered differently are reported and never overwritten (an
 *   overwrite could re-arm a provisioned vehicle), and unprocessed items are retried.
 * - `quarantine`: a suspected key compromise: every certificate attached to the Thing is deactivated
 *   and detached, the serial is `revoked` (no claim-certificate holder can provision it) and any
 *   pending rotation state of the Thing is dropped.
 * - `rearm`: a replacement unit for a serial: what quarantine does, then the replacement unit's key
 *   fingerprint written and the serial set `active`, so only that unit can provision it.
 * Each takes its AWS clients as arguments (the CLI makes real ones).
 */
import * as fs from "fs";
import {
    BatchGetItemCommand, BatchGetItemCommandOutput, BatchWriteItemCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, UpdateItemCommand, WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { DetachThingPrincipalCommand, IoTClient, UpdateCertificateCommand } from "@aws-sdk/client-iot";
import { CERTIFICATE_ID, certificateIdOf, errorName, thingCertificateArns } from "../components/runtime/iotIdentity";
import { FINGERPRINT, publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { REGISTRY, SERIAL_STATUS } from "../components/provisioning/lambda/provisioningHook";
import { ROTATION } from "../components/runtime/rotationState";

export type Dynamo = Pick<DynamoDBClient, "send">;
export type Iot = Pick<IoTClient, "send">;

/** A registration line or argument that cannot be used, named. */
export class RegistrationError extends Error {}

const SERIAL = /^[A-Za-z0-9_-]{1,64}$/;
const TEMPLATE = /^[0-9A-Za-z_-]{1,36}$/;

/**
 * A unit's key as the factory gives it: the 64-hex-digit fingerprint itself, or the public key as the
 * base64 DER SubjectPublicKeyInfo (a PEM `PUBLIC KEY` body on one line), or a PEM block. Returns the
 * fingerprint; a private key is refused (it never belongs in a registration file).
 */
export function fingerprintOf(value: string, where: string): string {
    const v = value.trim();
    if (FINGERPRINT.test(v)) return v;
    if (/PRIVATE KEY/.test(v)) throw new RegistrationError(`${where}: that is a private key; register the public key or its fingerprint (npm run device -- keygen prints it)`);
    try {
        const pem = v.startsWith("-----BEGIN") ? v : `-----BEGIN PUBLIC KEY-----\n${v.replace(/\s+/g, "").match(/.{1,64}/g)?.join("\n") ?? ""}\n-----END PUBLIC KEY-----\n`;
        return publicKeyFingerprint(pem);
    } catch {
        throw new RegistrationError(`${where}: publicKey is neither a 64-hex-digit SHA-256 fingerprint nor a base64 SubjectPublicKeyInfo (it starts "${v.slice(0, 8)}...")`);
    }
}

export interface Registration { serial: string; fingerprint: string; templates: string[] }

/** Parses `serial,publicKey,template` lines (a header line first); a serial may appear once per template. */
export function parseRegistrations(csv: string, file: string): Registration[] {
    const lines = csv.split(/\r?\n/).map((l) => l.trim());
    // The header is optional and may repeat: keygen prints bare lines (keygen ... >> registration.csv), edge-config
    // writes a file with its header, and factories concatenate both. Any other header is refused (the columns are fixed).
    const isHeader = (line: string) => line.split(",").map((h) => h.trim()).join(",") === "serial,publicKey,template";
    const first = lines.find((l) => l && !l.startsWith("#"));
    if (first && !isHeader(first) && /[A-Za-z]/.test(first.split(",")[0]) && /^[a-z_ ]+(,[a-zA-Z_ ]+)*$/.test(first)) {
        throw new RegistrationError(`${file}:${lines.indexOf(first) + 1}: the header must be serial,publicKey,template (or none)`);
    }
    const bySerial = new Map<string, Registration>();
    lines.forEach((line, i) => {
        if (!line || line.startsWith("#") || isHeader(line)) return;
        const where = `${file}:${i + 1}`;
        const cells = line.split(",").map((c) => c.trim());
        if (cells.length !== 3) throw new RegistrationError(`${where}: expected 3 columns (serial,publicKey,template), found ${cells.length}`);
        const [serial, key, template] = cells;
        if (!SERIAL.test(serial)) throw new RegistrationError(`${where}: serial "${serial.slice(0, 64)}" is not 1-64 characters of A-Z a-z 0-9 _ -`);
        if (!TEMPLATE.test(template)) throw new RegistrationError(`${where}: template "${template.slice(0, 36)}" is not a provisioning template name`);
        const fingerprint = fingerprintOf(key, where);
        const seen = bySerial.get(serial);
        if (seen && seen.fingerprint !== fingerprint) throw new RegistrationError(`${where}: serial ${serial} appears with two different keys`);
        if (seen) seen.templates = [...new Set([...seen.templates, template])];
        else bySerial.set(serial, { serial, fingerprint, templates: [template] });
    });
    return [...bySerial.values()];
}

export interface RegisterResult {
    written: string[];
    /** Already registered with the same key and templates. */
    unchanged: string[];
    /** Registered with another key or other templates, or no longer `active`: left as they are. */
    conflicts: { serial: string; why: string }[];
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** Registers serials in batches of 25 (BatchWriteItem's limit), reading each batch first (BatchGetItem). */
export async function registerSerials(dynamo: Dynamo, table: string, regs: Registration[], log: (line: string) => void = () => undefined): Promise<RegisterResult> {
    const result: RegisterResult = { written: [], unchanged: [], conflicts: [] };
    for (let i = 0; i < regs.length; i += 25) {
        const batch = regs.slice(i, i + 25);
        const existing = new Map<string, Record<string, any>>();
        let keys: Record<string, any>[] | undefined = batch.map((r) => ({ [REGISTRY.key]: { S: r.serial } }));
        for (let attempt = 0; keys?.length && attempt < 8; attempt++) {
            const got: BatchGetItemCommandOutput = await dynamo.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
            for (const item of got.Responses?.[table] ?? []) existing.set(item[REGISTRY.key].S!, item);
            keys = got.UnprocessedKeys?.[table]?.Keys;
            if (keys?.length) await backoff(attempt);
        }
        if (keys?.length) throw new Error(`DynamoDB left ${keys.length} reads unprocessed after 8 attempts; run the same command again (it resumes)`);
        let writes: WriteRequest[] = [];
        for (const r of batch) {
            const item = existing.get(r.serial);
            if (item) {
                const status = item[REGISTRY.status]?.S;
                if (status !== SERIAL_STATUS.revoked && item[REGISTRY.publicKeyFingerprint]?.S === r.fingerprint && sameSet(item[REGISTRY.templates]?.SS ?? [], r.templates)) result.unchanged.push(r.serial);
                else result.conflicts.push({ serial: r.serial, why: status === SERIAL_STATUS.active ? "registered with another key or other templates" : `already ${status}: use rearm for a replacement unit` });
                continue;
            }
            writes.push({ PutRequest: { Item: {
                [REGISTRY.key]: { S: r.serial }, [REGISTRY.status]: { S: SERIAL_STATUS.active },
                [REGISTRY.templates]: { SS: r.templates }, [REGISTRY.publicKeyFingerprint]: { S: r.fingerprint },
                // The key history starts with the factory key: rearm refuses every key in it.
                [REGISTRY.publicKeyHistory]: { SS: [r.fingerprint] },
            } } });
        }
        const serials = writes.map((w) => w.PutRequest!.Item![REGISTRY.key].S!);
        for (let attempt = 0; writes.length && attempt < 8; attempt++) {
            const put = await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [table]: writes } }));
            writes = put.UnprocessedItems?.[table] ?? [];
            if (writes.length) await backoff(attempt);
        }
        if (writes.length) throw new Error(`DynamoDB left ${writes.length} writes unprocessed after 8 attempts; run the same command again (it resumes)`);
        result.written.push(...serials);
        log(`registered ${Math.min(i + 25, regs.length)}/${regs.length}`);
    }
    return result;
}

function backoff(attempt: number): Promise<void> {
    return new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
}

/**
 * The unit a runbook acts on. Its Thing is found from what the registry says about the serial: the template it
 * provisioned through (or, never provisioned, each template it may use) names the Thing prefix (`thingPrefixes`,
 * the stack's vehicle and core templates), never one prefix for every unit. `thingName` overrides (no stack outputs).
 */
export interface ThingTarget {
    registryTable: string;
    rotationTable: string;
    serial: string;
    /** Thing-name prefix of each of the stack's provisioning templates. */
    thingPrefixes?: Record<string, string>;
    /** The Thing, given explicitly (`--thing`). */
    thingName?: string;
}

/** The certificate ARNs attached to a Thing; undefined when the Thing does not exist. */
async function attached(iot: Iot, thingName: string): Promise<string[] | undefined> {
    try {
        return await thingCertificateArns((c) => iot.send(c), thingName);
    } catch (err) {
        if (errorName(err) === "ResourceNotFoundException") return undefined;
        throw err;
    }
}

/** Deactivates, then detaches, every certificate attached to the Thing; returns their ARNs. */
export async function retireAll(iot: Iot, thingName: string): Promise<string[]> {
    const arns = (await attached(iot, thingName)) ?? [];
    for (const arn of arns) {
        await iot.send(new UpdateCertificateCommand({ certificateId: certificateIdOf(arn)!, newStatus: "INACTIVE" }));
        await iot.send(new DetachThingPrincipalCommand({ thingName, principal: arn }));
    }
    return arns;
}

/**
 * How long a provisioning request the hook allowed just before the serial was revoked may still take to
 * attach its certificate: the hook answers within its 3 s budget (AWS allows 5 s) and AWS IoT then
 * registers the Thing. quarantine keeps retiring until the Thing shows no certificate across this window.
 */
export const IN_FLIGHT_MS = 15_000;

/** The Things of the serial's registry item: its template's (provisioned), or each allowed template's. */
function thingsOf(t: ThingTarget, item: Record<string, any> | undefined): string[] {
    if (t.thingName) return [t.thingName];
    const provisionedWith: string | undefined = item?.[REGISTRY.templateName]?.S;
    const templates: string[] = provisionedWith ? [provisionedWith] : (item?.[REGISTRY.templates]?.SS ?? []);
    const unknown = templates.filter((name) => !t.thingPrefixes || !Object.hasOwn(t.thingPrefixes, name));
    if (unknown.length > 0 || templates.length === 0) {
        throw new RegistrationError(`serial ${t.serial}: the registry names template(s) ${templates.join(", ") || "(none)"}, and the stack's outputs give no Thing prefix for ${unknown.join(", ") || "any"}; pass --thing <name>`);
    }
    return [...new Set(templates.map((name) => `${t.thingPrefixes![name]}${t.serial}`))];
}

/**
 * A suspected compromise: no certificate of the unit works any more, and nobody can provision the serial.
 * The serial is revoked first (from then on the hook denies every registration and rotation of it, and confirm
 * every confirmation); its Thing is the one its registry item names (vehicle or core). A request the hook allowed
 * just before may still attach its certificate afterwards, so the Thing is emptied (every certificate deactivated
 * AND detached), then watched for `settleMs` and emptied again until it stays empty. Certificates the registry or
 * the rotation state name are deactivated too, attached or not. A registry item naming a certificate while no
 * Thing is found is an error (after the revoke and those deactivations): the unit's Thing is elsewhere.
 */
export async function quarantine(iot: Iot, dynamo: Dynamo, t: ThingTarget, settleMs = IN_FLIGHT_MS): Promise<string[]> {
    const revoked = await dynamo.send(new UpdateItemCommand({
        TableName: t.registryTable, Key: { [REGISTRY.key]: { S: t.serial } },
        ConditionExpression: "attribute_exists(#k)",
        UpdateExpression: "SET #s = :revoked",
        ExpressionAttributeNames: { "#k": REGISTRY.key, "#s": REGISTRY.status },
        ExpressionAttributeValues: { ":revoked": { S: SERIAL_STATUS.revoked } },
        ReturnValues: "ALL_NEW",
    })).catch((err) => {
        if (errorName(err) === "ConditionalCheckFailedException") throw new RegistrationError(`serial ${t.serial} is not in the registry ${t.registryTable} (register it first, or check --serial and --stack)`);
        throw err;
    });
    const things = thingsOf(t, revoked.Attributes);
    const found = new Set<string>();
    const retired = new Set<string>();
    const sweepThings = async () => {
        let more = 0;
        for (const thing of things) {
            if ((await attached(iot, thing)) !== undefined) found.add(thing);
            const arns = await retireAll(iot, thing);
            arns.forEach((a) => retired.add(a));
            more += arns.length;
        }
        return more;
    };
    await sweepThings();
    for (let quiet = 0; quiet < 2;) {
        await new Promise((r) => setTimeout(r, settleMs / 2));
        quiet = (await sweepThings()) === 0 ? quiet + 1 : 0;
    }
    // Named but not attached (a registration that never completed, a rotation whose RegisterThing failed): deactivated
    // too, every one, those retired above included: AWS may activate a certificate after it was attached (just-in-time
    // registration activates after its own checks), so a certificate the loop saw may be ACTIVE again; INACTIVE is
    // idempotent (AWS IoT API reference, UpdateCertificate, https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html). The rotation state is read first and deleted only after its certificates are off, so a run cut
    // short here (a throttle) still finds them when it is run again.
    const stateKey = (thing: string) => ({ TableName: t.rotationTable, Key: { [ROTATION.thingName]: { S: thing } } });
    const namedIn = (states: (Record<string, any> | undefined)[]) => [
        ...[revoked.Attributes?.[REGISTRY.certificateId]?.S, revoked.Attributes?.[REGISTRY.previousCertificateId]?.S].filter((id): id is string => !!id && CERTIFICATE_ID.test(id)),
        ...states.flatMap((state) => [state?.[ROTATION.unconfirmed]?.S, ...(state?.[ROTATION.retiring]?.SS ?? []), ...(state?.[ROTATION.deactivating]?.SS ?? [])])
            .filter((a): a is string => !!a).map((arn) => certificateIdOf(arn)),
    ];
    const deactivate = async (ids: (string | undefined)[]) => {
        for (const id of new Set(ids)) {
            if (!id) continue;
            try {
                await iot.send(new UpdateCertificateCommand({ certificateId: id, newStatus: "INACTIVE" }));
            } catch (err) {
                if (errorName(err) !== "ResourceNotFoundException") throw err;
            }
        }
    };
    const read = await Promise.all(things.map(async (thing) => (await dynamo.send(new GetItemCommand({ ...stateKey(thing), ConsistentRead: true }))).Item));
    await deactivate(namedIn(read));
    const deleted = await Promise.all(things.map(async (thing) => (await dynamo.send(new DeleteItemCommand({ ...stateKey(thing), ReturnValues: "ALL_OLD" }))).Attributes));
    // Written between the read and the delete (a sweep's claim): those too.
    await deactivate(namedIn(deleted).filter((id) => !namedIn(read).includes(id)));
    const current = revoked.Attributes?.[REGISTRY.certificateId]?.S;
    if (current && found.size === 0) {
        throw new RegistrationError(`serial ${t.serial} is revoked and its certificate ${current} deactivated, but no Thing ${things.join(" or ")} exists to detach it from: find the unit's Thing (aws iot list-principal-things --principal <certificate ARN>) and run again with --thing`);
    }
    return [...retired];
}

/** Every key fingerprint the serial has had (its current one and its history). */
function keysOf(item: Record<string, any> | undefined): string[] {
    const all = [item?.[REGISTRY.publicKeyFingerprint]?.S, item?.[REGISTRY.previousPublicKeyFingerprint]?.S, ...(item?.[REGISTRY.publicKeyHistory]?.SS ?? [])];
    return [...new Set(all.filter((f): f is string => !!f))];
}

/**
 * A replacement unit: quarantine, then the serial bound to the new unit's key and `active` again. A key the serial
 * has ever had (its history: the factory key, every rotated key confirm recorded, every earlier re-arm) is refused:
 * a stolen old key must not provision again. `force` (with its reason, kept in the registry item) overrides that.
 */
export async function rearm(iot: Iot, dynamo: Dynamo, t: ThingTarget & { fingerprint: string; force?: { reason: string } }, settleMs = IN_FLIGHT_MS): Promise<string[]> {
    const before = await dynamo.send(new GetItemCommand({ TableName: t.registryTable, Key: { [REGISTRY.key]: { S: t.serial } }, ConsistentRead: true }));
    if (!before.Item) throw new RegistrationError(`serial ${t.serial} is not in the registry ${t.registryTable} (register it first, or check --serial and --stack)`);
    if (keysOf(before.Item).includes(t.fingerprint) && !t.force) {
        throw new RegistrationError(`serial ${t.serial} has had key ${t.fingerprint} before: a replacement unit has a new key (keygen); if this really is the unit's key, rearm --force --reason "<why>"`);
    }
    if (t.force && !t.force.reason.trim()) throw new RegistrationError("--force needs --reason \"<why>\" (kept in the registry item)");
    const retired = await quarantine(iot, dynamo, t, settleMs);
    const old = keysOf(before.Item);
    await dynamo.send(new UpdateItemCommand({
        TableName: t.registryTable, Key: { [REGISTRY.key]: { S: t.serial } },
        // The key must still be new when the write lands (a confirmation recording a rotated key since the read).
        ConditionExpression: t.force ? "#s = :revoked" : "#s = :revoked AND NOT contains(#h, :fp) AND #fp <> :fp",
        UpdateExpression: `SET #s = :active, #fp = :fp, #prev = if_not_exists(#c, :none)${t.force ? ", #forced = :forced" : ""}${old.length ? " ADD #h :old" : ""} REMOVE #c, #tn, #at, #claim, #rs`,
        ExpressionAttributeNames: {
            "#s": REGISTRY.status, "#fp": REGISTRY.publicKeyFingerprint, "#prev": REGISTRY.previousCertificateId, "#c": REGISTRY.certificateId,
            "#tn": REGISTRY.templateName, "#at": REGISTRY.provisionedAt, "#claim": REGISTRY.claimCertificateId, "#rs": REGISTRY.rotationStartedAt,
            ...(old.length || !t.force ? { "#h": REGISTRY.publicKeyHistory } : {}), ...(t.force ? { "#forced": REARM_FORCED } : {}),
        },
        ExpressionAttributeValues: {
            ":revoked": { S: SERIAL_STATUS.revoked }, ":active": { S: SERIAL_STATUS.active }, ":fp": { S: t.fingerprint }, ":none": { S: "none" },
            ...(old.length ? { ":old": { SS: old } } : {}),
            ...(t.force ? { ":forced": { S: `${new Date().toISOString()} ${t.force.reason.trim()}` } } : {}),
        },
    })).catch((err) => {
        if (errorName(err) === "ConditionalCheckFailedException") throw new RegistrationError(`serial ${t.serial} changed during the re-arm (its key or status): it stays revoked; run rearm again`);
        throw err;
    });
    return retired;
}

/** Registry attribute: when and why the last re-arm was forced onto a key the serial had before. */
export const REARM_FORCED = "rearmForced";

/** Reads a registration CSV file, naming it in every error. */
export function readRegistrations(file: string): Registration[] {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        throw new RegistrationError(`cannot read ${file}`);
    }
    return parseRegistrations(text, file);
}
