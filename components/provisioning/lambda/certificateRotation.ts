/**
 * Vehicle certificate rotation, the two steps after the rotation template has issued a new
 * certificate (see components/provisioning/lambda/provisioningHook.ts for the first):
 *
 * - `confirm`: invoked by the topic rule a vehicle reaches (Basic Ingest) once it is connected with
 *   its NEW certificate. The rule passes `principal()` (the certificate id of that connection,
 *   which AWS IoT sets, not the device) and `clientid()` (the Thing name: the device policy lets a
 *   certificate connect only as its own attached Thing). Every certificate of that Thing created
 *   before the confirming one is scheduled for retirement after the grace period.
 * - `sweep`: on a schedule, deactivates and detaches the certificates whose grace period is over,
 *   and publishes how many device certificates the latest Device Defender audit found expiring.
 *
 * Older certificates only: a confirmation sent with an old certificate retires nothing newer.
 * Runs on the Node.js 22 Lambda runtime, whose bundled AWS SDK v3 it uses.
 */
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DeleteItemCommand, DynamoDBClient, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import {
    DescribeAuditTaskCommand, DescribeCertificateCommand, DetachThingPrincipalCommand, IoTClient, ListAuditTasksCommand,
    UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { CERTIFICATE_ID, certificateIdOf, errorName, thingCertificateArns } from "../../runtime/iotIdentity";

/** The Device Defender audit check whose findings the expiring-certificates metric counts. */
export const EXPIRING_CHECK = "DEVICE_CERTIFICATE_EXPIRING_CHECK";
export const EXPIRING_METRIC = "ExpiringDeviceCertificates";

export interface RotationConfig {
    tableName: string;
    /** Vehicle Thing names start with this. */
    thingNamePrefix: string;
    gracePeriodHours: number;
    /** CloudWatch namespace of this stack's metrics. */
    metricNamespace: string;
}

export interface RotationDeps {
    config: RotationConfig | undefined;
    dynamo: Pick<DynamoDBClient, "send">;
    iot: Pick<IoTClient, "send">;
    cloudwatch: Pick<CloudWatchClient, "send">;
    now: () => Date;
    log: (line: string) => void;
}

/** Rotation table items, keyed by Thing name. */
export const ROTATION = { thingName: "thingName", keeper: "keeperCertificateArn", retiring: "retiringCertificateArns", retireAfter: "retireAfter" } as const;

const THING = /^[a-zA-Z0-9:_-]{1,128}$/;

export function configFromEnv(env: NodeJS.ProcessEnv): RotationConfig | undefined {
    const grace = Number(env.GRACE_PERIOD_HOURS);
    if (!env.ROTATION_TABLE || !env.THING_NAME_PREFIX || !env.METRIC_NAMESPACE || !Number.isInteger(grace) || grace < 0) return undefined;
    return { tableName: env.ROTATION_TABLE, thingNamePrefix: env.THING_NAME_PREFIX, gracePeriodHours: grace, metricNamespace: env.METRIC_NAMESPACE };
}

export type ConfirmResult = { confirmed: true; thingName: string; retiring: string[]; retireAfter?: string } | { confirmed: false; reason: string };

/** The rule's event: `{certificateId: principal(), thingName: clientid()}`. */
export async function confirm(event: unknown, deps: RotationDeps): Promise<ConfirmResult> {
    const config = deps.config;
    const e = (typeof event === "object" && event !== null ? event : {}) as Record<string, unknown>;
    let result: ConfirmResult;
    if (!config) result = { confirmed: false, reason: "misconfigured" };
    else if (typeof e.certificateId !== "string" || !CERTIFICATE_ID.test(e.certificateId)) result = { confirmed: false, reason: "invalid-certificate-id" };
    else if (typeof e.thingName !== "string" || !THING.test(e.thingName) || !e.thingName.startsWith(config.thingNamePrefix)) result = { confirmed: false, reason: "not-a-vehicle" };
    else result = await confirmAttached(e.certificateId, e.thingName, config, deps);
    deps.log(JSON.stringify({ event: "rotation-confirm", time: deps.now().toISOString(), thingName: typeof e.thingName === "string" ? e.thingName.slice(0, 128) : undefined, certificateId: typeof e.certificateId === "string" ? e.certificateId.slice(0, 64) : undefined, ...result }));
    return result;
}

async function confirmAttached(certificateId: string, thingName: string, config: RotationConfig, deps: RotationDeps): Promise<ConfirmResult> {
    const arns = await thingCertificateArns((c) => deps.iot.send(c), thingName);
    const mine = arns.find((a) => certificateIdOf(a) === certificateId);
    if (!mine) return { confirmed: false, reason: "certificate-not-attached" };
    const created = async (arn: string) => (await deps.iot.send(new DescribeCertificateCommand({ certificateId: certificateIdOf(arn)! }))).certificateDescription?.creationDate?.getTime() ?? Number.POSITIVE_INFINITY;
    const confirmedAt = await created(mine);
    const older: string[] = [];
    for (const arn of arns) if (arn !== mine && (await created(arn)) < confirmedAt) older.push(arn);
    if (older.length === 0) return { confirmed: true, thingName, retiring: [] };
    const retireAfter = new Date(deps.now().getTime() + config.gracePeriodHours * 3600_000).toISOString();
    await deps.dynamo.send(new UpdateItemCommand({
        TableName: config.tableName,
        Key: { [ROTATION.thingName]: { S: thingName } },
        UpdateExpression: "SET #k = :keeper, #after = :after ADD #r :older",
        ExpressionAttributeNames: { "#k": ROTATION.keeper, "#after": ROTATION.retireAfter, "#r": ROTATION.retiring },
        ExpressionAttributeValues: { ":keeper": { S: mine }, ":after": { S: retireAfter }, ":older": { SS: older } },
    }));
    return { confirmed: true, thingName, retiring: older, retireAfter };
}

export interface SweepResult {
    retired: string[];
    failed: { arn: string; error: string }[];
    expiringCertificates?: number;
}

/** Retires the certificates whose grace period is over; publishes the expiring-certificates count. */
export async function sweep(deps: RotationDeps): Promise<SweepResult> {
    const config = deps.config;
    if (!config) throw new Error("certificate rotation sweep: misconfigured environment");
    const now = deps.now().toISOString();
    const result: SweepResult = { retired: [], failed: [] };
    let startKey: Record<string, any> | undefined;
    do {
        const page = await deps.dynamo.send(new ScanCommand({
            TableName: config.tableName,
            ConsistentRead: true,
            FilterExpression: "#after <= :now",
            ExpressionAttributeNames: { "#after": ROTATION.retireAfter },
            ExpressionAttributeValues: { ":now": { S: now } },
            ExclusiveStartKey: startKey,
        }));
        for (const item of page.Items ?? []) await retireItem(item, config, deps, result);
        startKey = page.LastEvaluatedKey;
    } while (startKey);
    result.expiringCertificates = await publishExpiring(config, deps);
    deps.log(JSON.stringify({ event: "rotation-sweep", time: now, ...result }));
    return result;
}

async function retireItem(item: Record<string, any>, config: RotationConfig, deps: RotationDeps, result: SweepResult): Promise<void> {
    const thingName: string = item[ROTATION.thingName].S;
    const keeper: string | undefined = item[ROTATION.keeper]?.S;
    let ok = true;
    for (const arn of (item[ROTATION.retiring]?.SS ?? []) as string[]) {
        const certificateId = certificateIdOf(arn);
        if (!certificateId || arn === keeper) continue;
        try {
            await tolerateGone(deps.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "INACTIVE" })));
            await tolerateGone(deps.iot.send(new DetachThingPrincipalCommand({ thingName, principal: arn })));
            result.retired.push(arn);
        } catch (err) {
            ok = false;
            result.failed.push({ arn, error: errorName(err) });
        }
    }
    if (!ok) return; // the item stays: the next sweep tries again
    try {
        // Delete only what this sweep saw: a confirmation that arrived meanwhile keeps its item.
        await deps.dynamo.send(new DeleteItemCommand({
            TableName: config.tableName,
            Key: { [ROTATION.thingName]: { S: thingName } },
            ConditionExpression: "#after = :seen",
            ExpressionAttributeNames: { "#after": ROTATION.retireAfter },
            ExpressionAttributeValues: { ":seen": item[ROTATION.retireAfter] },
        }));
    } catch (err) {
        if (errorName(err) !== "ConditionalCheckFailedException") throw err;
    }
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
