/**
 * Vehicle certificate rotation, the two steps after the rotation template has issued a new
 * certificate (see components/provisioning/lambda/provisioningHook.ts for the first):
 *
 * - `confirm`: invoked by the topic rule a vehicle reaches (Basic Ingest) once it is connected with
 *   its NEW certificate. The rule passes `principal()` (the certificate id of that connection,
 *   which AWS IoT sets, not the device) and `clientid()` (the Thing name: the device policy lets a
 *   certificate connect only as its own attached Thing). Every certificate of that Thing created
 *   before the confirming one is scheduled for retirement after the grace period, the pending
 *   unconfirmed rotation (if it is this certificate) is cleared, and in registry mode the registry
 *   records the confirmed certificate and its key as the serial's current ones.
 * - `sweep`: on a schedule, deactivates and detaches the certificates whose grace period is over
 *   and the rotated certificates never confirmed in time, and publishes how many device
 *   certificates the latest Device Defender audit found expiring.
 *
 * Older certificates only: a confirmation sent with an old certificate retires nothing newer (and
 * records nothing). The state machine is described in components/runtime/rotationState.ts.
 * Runs on the Node.js 22 Lambda runtime, whose bundled AWS SDK v3 it uses.
 */
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import {
    DescribeAuditTaskCommand, DescribeCertificateCommand, DetachThingPrincipalCommand, IoTClient, ListAuditTasksCommand,
    UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { CERTIFICATE_ID, certificateIdOf, errorName, thingCertificateArns } from "../../runtime/iotIdentity";
import { certificateKeyFingerprint } from "../../runtime/keyFingerprint";
import { hoursAfter, ROTATION } from "../../runtime/rotationState";

export { ROTATION };

/** The Device Defender audit check whose findings the expiring-certificates metric counts. */
export const EXPIRING_CHECK = "DEVICE_CERTIFICATE_EXPIRING_CHECK";
export const EXPIRING_METRIC = "ExpiringDeviceCertificates";
/** Metrics the sweep's log metric filters make of its `rotation-sweep` line: metric name -> JSON field summed. */
export const SWEEP_METRICS = {
    CertificatesRetired: "retiredCount",
    CertificateRetireFailures: "failedCount",
    UnconfirmedRetirements: "unconfirmed",
} as const;

export interface RotationConfig {
    tableName: string;
    /** Thing names of the devices that rotate through this stack start with one of these (vehicles, cores). */
    thingNamePrefixes: string[];
    gracePeriodHours: number;
    /** CloudWatch namespace of this stack's metrics. */
    metricNamespace: string;
    /** Registry mode: the serial registry, whose `certificateId` and key the confirmation updates. */
    registryTable?: string;
}

export interface RotationDeps {
    config: RotationConfig | undefined;
    dynamo: Pick<DynamoDBClient, "send">;
    iot: Pick<IoTClient, "send">;
    cloudwatch: Pick<CloudWatchClient, "send">;
    now: () => Date;
    log: (line: string) => void;
}

// The registry attributes the confirmation writes are REGISTRY_CONFIRM_ATTRIBUTES, and those it reads first
// (the serial must be `provisioned`) REGISTRY_CONFIRM_READ_ATTRIBUTES (policies/rotation.ts): the IAM
// conditions of this function's role allow exactly those and the key.
//
//
/**
 * A confirmation from a certificate that a newer live one on its Thing replaced: the unit behind it did not
 * start the rotation that replaced it (a thief holding its key did), or it lost its own rotation's answer.
 * Counted by the eviction alarm (components/operations/operations.ts, EVICTION_SIGNAL_PATTERN).
 */
export const REPLACED_CERTIFICATE_IN_USE = "replaced-certificate-in-use";

const THING = /^[a-zA-Z0-9:_-]{1,128}$/;

export function configFromEnv(env: NodeJS.ProcessEnv): RotationConfig | undefined {
    const grace = Number(env.GRACE_PERIOD_HOURS);
    const prefixes = (env.THING_NAME_PREFIXES ?? "").split(",").filter((p) => p.length > 0);
    if (!env.ROTATION_TABLE || prefixes.length === 0 || !env.METRIC_NAMESPACE || !Number.isInteger(grace) || grace < 0) return undefined;
    return {
        tableName: env.ROTATION_TABLE, thingNamePrefixes: prefixes, gracePeriodHours: grace, metricNamespace: env.METRIC_NAMESPACE,
        registryTable: env.REGISTRY_TABLE || undefined,
    };
}

export type ConfirmResult =
    | { confirmed: true; thingName: string; retiring: string[]; retireAfter?: string; current: boolean; evictionSignal?: typeof REPLACED_CERTIFICATE_IN_USE }
    | { confirmed: false; reason: string };

/**
 * The Thing a client id stands for. A vehicle's policy lets it connect only as its Thing name; a
 * Greengrass core's as `<thing>` or `<thing>#<n>` (the nucleus' extra connections, and the rotation
 * command's, which must not take the nucleus' own client id over): the part before `#`.
 */
export function thingOfClientId(clientId: string): string {
    const hash = clientId.indexOf("#");
    return hash < 0 ? clientId : clientId.slice(0, hash);
}

/** The prefix of this stack's devices that a Thing name has, if any. */
function prefixOf(config: RotationConfig, thingName: string): string | undefined {
    return config.thingNamePrefixes.find((p) => thingName.startsWith(p));
}

/** The rule's event: `{certificateId: principal(), thingName: clientid()}`. */
export async function confirm(event: unknown, deps: RotationDeps): Promise<ConfirmResult> {
    const config = deps.config;
    const e = (typeof event === "object" && event !== null ? event : {}) as Record<string, unknown>;
    const thingName = typeof e.thingName === "string" ? thingOfClientId(e.thingName) : undefined;
    let result: ConfirmResult;
    if (!config) result = { confirmed: false, reason: "misconfigured" };
    else if (typeof e.certificateId !== "string" || !CERTIFICATE_ID.test(e.certificateId)) result = { confirmed: false, reason: "invalid-certificate-id" };
    else if (thingName === undefined || !THING.test(thingName) || !prefixOf(config, thingName)) result = { confirmed: false, reason: "not-a-vehicle" };
    else result = await confirmAttached(e.certificateId, thingName, config, deps);
    deps.log(JSON.stringify({ event: "rotation-confirm", time: deps.now().toISOString(), thingName: typeof e.thingName === "string" ? e.thingName.slice(0, 128) : undefined, certificateId: typeof e.certificateId === "string" ? e.certificateId.slice(0, 64) : undefined, ...result }));
    return result;
}

async function confirmAttached(certificateId: string, thingName: string, config: RotationConfig, deps: RotationDeps): Promise<ConfirmResult> {
    const prefix = prefixOf(config, thingName)!;
    const serial = thingName.slice(prefix.length);
    if (config.registryTable) {
        // Only a serial the registry says is provisioned confirms anything: a revoked (quarantined) or re-armed one never
        // makes a certificate the keeper (a thief's rotation racing the runbook).
        const read = await deps.dynamo.send(new GetItemCommand({
            TableName: config.registryTable, Key: { serialNumber: { S: serial } }, ConsistentRead: true,
            ProjectionExpression: "#s", ExpressionAttributeNames: { "#s": "status" },
        }));
        const status = read.Item?.status?.S;
        if (status !== "provisioned") return { confirmed: false, reason: `serial-${status ?? "not-registered"}` };
    }
    const arns = await thingCertificateArns((c) => deps.iot.send(c), thingName);
    const mine = arns.find((a) => certificateIdOf(a) === certificateId);
    if (!mine) return { confirmed: false, reason: "certificate-not-attached" };
    const describe = async (arn: string) => (await deps.iot.send(new DescribeCertificateCommand({ certificateId: certificateIdOf(arn)! }))).certificateDescription;
    const own = await describe(mine);
    const confirmedAt = own?.creationDate?.getTime() ?? Number.POSITIVE_INFINITY;
    const older: string[] = [];
    let newest = true;
    for (const arn of arns) {
        if (arn === mine) continue;
        const d = await describe(arn);
        // A deactivated leftover (retired, its detach failed) neither retires nor replaces anything.
        if (d?.status === "INACTIVE" || d?.status === "REVOKED") continue;
        const created = d?.creationDate?.getTime() ?? Number.POSITIVE_INFINITY;
        if (created < confirmedAt) older.push(arn);
        else newest = false;
    }
    // Only the newest certificate confirms anything: an older one (a rotated-out key) changes nothing, and is seen.
    if (!newest) return { confirmed: true, thingName, retiring: [], current: false, evictionSignal: REPLACED_CERTIFICATE_IN_USE };
    const retireAfter = hoursAfter(deps.now(), config.gracePeriodHours);
    const key = { [ROTATION.thingName]: { S: thingName } };
    const names = { "#u": ROTATION.unconfirmed, "#by": ROTATION.confirmBy, "#k": ROTATION.keeper, "#r": ROTATION.retiring, "#x": ROTATION.retired };
    const update = (input: { ConditionExpression: string; UpdateExpression: string; names: Record<string, string>; values: Record<string, unknown> }) => deps.dynamo.send(new UpdateItemCommand({
        TableName: config.tableName, Key: key, ConditionExpression: input.ConditionExpression, UpdateExpression: input.UpdateExpression,
        // DynamoDB refuses names and values an expression does not use: only those it does.
        ExpressionAttributeNames: used(input.names, input), ExpressionAttributeValues: used(input.values, input) as never,
    }));
    const lost = (err: unknown) => { if (errorName(err) !== "ConditionalCheckFailedException") throw err; return false; };
    const mineValue = { ":mine": { S: mine } };
    // Never a certificate the sweep has claimed (the tombstone): of a late confirmation and the sweep, one wins.
    const notRetired = "NOT contains(#x, :mine)";
    // The first confirmation: this certificate is the pending rotation, or the sweep moved it (unconfirmed in time) among
    // the replaced ones and has not claimed it yet. Its older certificates retire after a full grace period from now.
    const first = await update(older.length > 0 ? {
        ConditionExpression: `(#u = :mine OR contains(#r, :mine)) AND ${notRetired}`,
        UpdateExpression: "SET #k = :mine, #after = :after ADD #r :older REMOVE #u, #by",
        names: { ...names, "#after": ROTATION.retireAfter }, values: { ...mineValue, ":after": { S: retireAfter }, ":older": { SS: older } },
    } : {
        ConditionExpression: `(#u = :mine OR contains(#r, :mine)) AND ${notRetired}`,
        UpdateExpression: "SET #k = :mine REMOVE #u, #by",
        names, values: mineValue,
    }).then(() => true, lost);
    // A repeated confirmation (the device's retry, Lambda's): the keeper already; never moves the retirement later.
    const repeated = first || await update(older.length > 0 ? {
        ConditionExpression: `#k = :mine AND ${notRetired}`,
        UpdateExpression: "SET #after = if_not_exists(#after, :after) ADD #r :older",
        names: { ...names, "#after": ROTATION.retireAfter }, values: { ...mineValue, ":after": { S: retireAfter }, ":older": { SS: older } },
    } : {
        ConditionExpression: `#k = :mine AND ${notRetired}`, UpdateExpression: "SET #k = :mine", names, values: mineValue,
    }).then(() => true, lost);
    // Older certificates, and nothing pending names this one as the new one (the sweep claimed it, or the state is gone): refused.
    // Nothing older and nothing pending: the certificate in use, confirmed again (a device confirming on connect); nothing to write.
    if (!first && !repeated && older.length > 0) return { confirmed: false, reason: "not-pending" };
    if (config.registryTable) await recordCurrent(config, deps, serial, certificateId, own?.certificatePem, [mine, ...older].map((a) => certificateIdOf(a)!));
    return older.length > 0 ? { confirmed: true, thingName, retiring: older, retireAfter, current: true } : { confirmed: true, thingName, retiring: [], current: true };
}

/** The entries of `map` whose placeholder (`#x`, `:x`) the condition or update expression uses. */
function used<T>(map: Record<string, T>, e: { ConditionExpression: string; UpdateExpression: string }): Record<string, T> {
    const text = `${e.ConditionExpression} ${e.UpdateExpression}`;
    return Object.fromEntries(Object.entries(map).filter(([k]) => new RegExp(`${k}(?![A-Za-z0-9_])`).test(text)));
}

/**
 * Registry mode: the serial's current certificate and key are the confirmed ones (the runbooks read them), and the
 * key it replaces joins the serial's key history (rearm refuses every key in it). Only while the serial is still
 * `provisioned` with one of this Thing's certificates as its current one: a quarantine or a re-arm since the check
 * keeps what the operator wrote.
 */
async function recordCurrent(config: RotationConfig, deps: RotationDeps, serial: string, certificateId: string, pem: string | undefined, thingCertificates: string[]): Promise<void> {
    const fingerprint = certificateKeyFingerprint(pem);
    // AWS always sends the PEM (DescribeCertificate); without it the registry keeps the earlier key, said once here.
    if (!fingerprint) deps.log(JSON.stringify({ event: "rotation-confirm-warning", time: deps.now().toISOString(), serial, certificateId, reason: "certificate-pem-unreadable: key not recorded" }));
    const ids = Object.fromEntries(thingCertificates.slice(0, 99).map((id, i) => [`:c${i}`, { S: id }]));
    try {
        await deps.dynamo.send(new UpdateItemCommand({
            TableName: config.registryTable,
            Key: { serialNumber: { S: serial } },
            ConditionExpression: `#s = :provisioned AND #c IN (${Object.keys(ids).join(", ")})`,
            // The replaced key is kept (previousPublicKeyFingerprint, from the item as it is), the new one joins the history.
            UpdateExpression: `SET #c = :cert, #at = :at${fingerprint ? ", #pfp = if_not_exists(#fp, :fp), #fp = :fp ADD #h :fps" : ""}`,
            ExpressionAttributeNames: {
                "#s": "status", "#c": "certificateId", "#at": "confirmedAt",
                ...(fingerprint ? { "#fp": "publicKeyFingerprint", "#h": "publicKeyHistory", "#pfp": "previousPublicKeyFingerprint" } : {}),
            },
            ExpressionAttributeValues: {
                ":provisioned": { S: "provisioned" }, ":cert": { S: certificateId }, ":at": { S: deps.now().toISOString() }, ...ids,
                ...(fingerprint ? { ":fp": { S: fingerprint }, ":fps": { SS: [fingerprint] } } : {}),
            },
            ReturnValues: "NONE",
        }));
    } catch (err) {
        if (errorName(err) !== "ConditionalCheckFailedException") throw err;
        deps.log(JSON.stringify({ event: "rotation-confirm-warning", time: deps.now().toISOString(), serial, certificateId, reason: "registry-changed: a quarantine or re-arm since the check keeps what it wrote" }));
    }
}

export interface SweepResult {
    retired: string[];
    failed: { arn: string; error: string }[];
    /** Rotated certificates never confirmed in time, joined to the retiring ones by this sweep. */
    unconfirmed: number;
    expiringCertificates?: number;
}

/** Retires the certificates whose grace period is over; publishes the expiring-certificates count. */
export async function sweep(deps: RotationDeps): Promise<SweepResult> {
    const config = deps.config;
    if (!config) throw new Error("certificate rotation sweep: misconfigured environment");
    const now = deps.now().toISOString();
    const result: SweepResult = { retired: [], failed: [], unconfirmed: 0 };
    let startKey: Record<string, any> | undefined;
    do {
        const page = await deps.dynamo.send(new ScanCommand({
            TableName: config.tableName,
            ConsistentRead: true,
            FilterExpression: "#after <= :now OR #by <= :now",
            ExpressionAttributeNames: { "#after": ROTATION.retireAfter, "#by": ROTATION.confirmBy },
            ExpressionAttributeValues: { ":now": { S: now } },
            ExclusiveStartKey: startKey,
        }));
        for (const item of page.Items ?? []) await retireItem(item, now, config, deps, result);
        startKey = page.LastEvaluatedKey;
    } while (startKey);
    result.expiringCertificates = await publishExpiring(config, deps);
    // The counts are numbers so the sweep's log metric filters can sum them (SWEEP_METRICS).
    deps.log(JSON.stringify({ event: "rotation-sweep", time: now, ...result, retiredCount: result.retired.length, failedCount: result.failed.length }));
    return result;
}

async function retireItem(item: Record<string, any>, now: string, config: RotationConfig, deps: RotationDeps, result: SweepResult): Promise<void> {
    const thingName: string = item[ROTATION.thingName].S;
    const key = { [ROTATION.thingName]: { S: thingName } };
    const due = (at: string | undefined) => at !== undefined && at <= now;
    const update = (input: Omit<ConstructorParameters<typeof UpdateItemCommand>[0], "TableName" | "Key">) => deps.dynamo.send(new UpdateItemCommand({ TableName: config.tableName, Key: key, ...input }));
    const lost = (err: unknown) => { if (errorName(err) !== "ConditionalCheckFailedException") throw err; };
    // A rotated certificate never confirmed in time joins the replaced ones, due now; the NEXT sweep retires it,
    // unless a late confirmation made it the keeper meanwhile (this scan may already be stale).
    const unconfirmed: string | undefined = item[ROTATION.unconfirmed]?.S;
    if (unconfirmed && due(item[ROTATION.confirmBy]?.S)) {
        await update({
            ConditionExpression: "#u = :arn AND #by = :seen",
            UpdateExpression: "REMOVE #u, #by ADD #r :set SET #after = if_not_exists(#after, :now)",
            ExpressionAttributeNames: { "#u": ROTATION.unconfirmed, "#by": ROTATION.confirmBy, "#r": ROTATION.retiring, "#after": ROTATION.retireAfter },
            ExpressionAttributeValues: { ":arn": { S: unconfirmed }, ":seen": item[ROTATION.confirmBy], ":set": { SS: [unconfirmed] }, ":now": { S: now } },
        }).then(() => { result.unconfirmed++; }, lost);
    }
    // Claimed by an earlier sweep that did not see its deactivation succeed (it died, or AWS throttled it): again.
    for (const arn of (item[ROTATION.deactivating]?.SS ?? []) as string[]) await deactivateClaimed(arn, thingName, update, lost, deps, result);
    // Replaced certificates whose grace period is over: each one claimed first (taken out of the set, never the
    // keeper, by a conditional write on the item as it is now), then deactivated and detached.
    if (due(item[ROTATION.retireAfter]?.S)) {
        for (const arn of (item[ROTATION.retiring]?.SS ?? []) as string[]) {
            const certificateId = certificateIdOf(arn);
            if (!certificateId) continue;
            if (arn === item[ROTATION.keeper]?.S) {
                // Listed and kept: out of the set, never retired.
                await update({
                    ConditionExpression: "#k = :arn", UpdateExpression: "DELETE #r :set",
                    ExpressionAttributeNames: { "#r": ROTATION.retiring, "#k": ROTATION.keeper }, ExpressionAttributeValues: { ":arn": { S: arn }, ":set": { SS: [arn] } },
                }).catch(lost);
                continue;
            }
            try {
                // The claim leaves a tombstone a confirmation's write is conditioned against (confirmAttached), and lists
                // the certificate as deactivating until AWS's answer is seen (the item stays until then).
                await update({
                    ConditionExpression: "contains(#r, :arn) AND (attribute_not_exists(#k) OR #k <> :arn) AND #after <= :now",
                    UpdateExpression: "DELETE #r :set ADD #x :set, #d :set",
                    ExpressionAttributeNames: { "#r": ROTATION.retiring, "#k": ROTATION.keeper, "#after": ROTATION.retireAfter, "#x": ROTATION.retired, "#d": ROTATION.deactivating },
                    ExpressionAttributeValues: { ":arn": { S: arn }, ":set": { SS: [arn] }, ":now": { S: now } },
                });
            } catch (err) {
                lost(err);
                continue; // the keeper now, or retired by another sweep
            }
            await deactivateClaimed(arn, thingName, update, lost, deps, result);
        }
    }
    try {
        // Nothing pending any more (an emptied set is no attribute): the item goes, and the Thing may rotate again.
        await deps.dynamo.send(new DeleteItemCommand({
            TableName: config.tableName,
            Key: key,
            ConditionExpression: "attribute_not_exists(#r) AND attribute_not_exists(#u) AND attribute_not_exists(#d)",
            ExpressionAttributeNames: { "#r": ROTATION.retiring, "#u": ROTATION.unconfirmed, "#d": ROTATION.deactivating },
        }));
    } catch (err) {
        lost(err);
    }
}

/**
 * Deactivates a claimed certificate and detaches it. Only once AWS's answer is seen does it leave the deactivating set
 * (a write conditioned on the item still listing it, so an item a quarantine or re-arm dropped is never re-created);
 * a failure leaves it listed, and the next sweep tries again (AWS IoT API reference, UpdateCertificate: "This operation is
 * idempotent", https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html).
 */
async function deactivateClaimed(arn: string, thingName: string, update: (input: any) => Promise<unknown>, lost: (err: unknown) => void, deps: RotationDeps, result: SweepResult): Promise<void> {
    const certificateId = certificateIdOf(arn);
    if (!certificateId) return;
    try {
        await tolerateGone(deps.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "INACTIVE" })));
    } catch (err) {
        result.failed.push({ arn, error: errorName(err) });
        return;
    }
    // Deactivated: retired (it can no longer connect). A detach that fails leaves an INACTIVE leftover, which the
    // hook and confirm do not count, so it wedges nothing; it is reported, and the runbooks detach it.
    if (!result.retired.includes(arn)) result.retired.push(arn);
    try {
        await tolerateGone(deps.iot.send(new DetachThingPrincipalCommand({ thingName, principal: arn })));
    } catch (err) {
        result.failed.push({ arn, error: `detach: ${errorName(err)}` });
    }
    await update({
        ConditionExpression: "contains(#d, :arn)", UpdateExpression: "DELETE #d :set",
        ExpressionAttributeNames: { "#d": ROTATION.deactivating }, ExpressionAttributeValues: { ":arn": { S: arn }, ":set": { SS: [arn] } },
    }).catch(lost);
}

async function tolerateGone<T>(call: Promise<T>): Promise<void> {
    try {
        await call;
    } catch (err) {
        if (errorName(err) !== "ResourceNotFoundException") throw err;
    }
}

/**
 * DEVICE_CERTIFICATE_EXPIRING_CHECK's non-compliant count in the latest completed audit, as a metric.
 * ListAuditTasks gives ids without times, so each task is described (DescribeAuditTask: taskStartTime,
 * and auditDetails[check].nonCompliantResourcesCount; AWS IoT API reference) and the newest wins.
 */
async function publishExpiring(config: RotationConfig, deps: RotationDeps): Promise<number | undefined> {
    const end = deps.now();
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
        const page = await deps.iot.send(new ListAuditTasksCommand({ startTime: new Date(end.getTime() - 32 * 86_400_000), endTime: end, taskStatus: "COMPLETED", nextToken }));
        ids.push(...(page.tasks ?? []).map((t) => t.taskId).filter((id): id is string => typeof id === "string"));
        nextToken = page.nextToken;
    } while (nextToken);
    let latest: { started: number; count?: number } | undefined;
    for (const taskId of ids) {
        const task = await deps.iot.send(new DescribeAuditTaskCommand({ taskId }));
        const started = task.taskStartTime?.getTime() ?? 0;
        if (!latest || started > latest.started) latest = { started, count: task.auditDetails?.[EXPIRING_CHECK]?.nonCompliantResourcesCount };
    }
    if (latest?.count === undefined) return undefined; // no audit yet, or the check is not enabled
    await deps.cloudwatch.send(new PutMetricDataCommand({ Namespace: config.metricNamespace, MetricData: [{ MetricName: EXPIRING_METRIC, Value: latest.count, Unit: "Count", Timestamp: end }] }));
    return latest.count;
}

let deps: RotationDeps | undefined;
function runtimeDeps(): RotationDeps {
    deps ??= {
        config: configFromEnv(process.env),
        dynamo: new DynamoDBClient({ maxAttempts: 3 }),
        iot: new IoTClient({ maxAttempts: 3 }),
        cloudwatch: new CloudWatchClient({ maxAttempts: 3 }),
        now: () => new Date(),
        log: (line) => process.stdout.write(`${line}\n`),
    };
    return deps;
}

/** Lambda entry points (`index.confirmHandler`, `index.sweepHandler`). */
export async function confirmHandler(event: unknown): Promise<ConfirmResult> {
    return confirm(event, runtimeDeps());
}

export async function sweepHandler(): Promise<SweepResult> {
    return sweep(runtimeDeps());
}
