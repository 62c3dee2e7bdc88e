/**
 * Keeps the Kafka route's VPC rule destination enabled. AWS IoT Core Developer Guide, "Virtual
 * private cloud (VPC) destinations":
 *
 *   "If a VPC topic rule destination doesn't receive any traffic for 30 days in a row, it will be disabled."
 *
 * A stack deployed ahead of its fleet (or a quiet country) would lose its route silently: every rule
 * action then fails into the error action. On a schedule this function reads the destination's
 * status, publishes `RuleDestinationDisabled` (1 disabled, 0 enabled; an alarm watches it) and,
 * when allowed, sets a DISABLED destination back to ENABLED (UpdateTopicRuleDestination; if what
 * the destination uses was deleted, that fails and the metric stays 1).
 * Runs on the Node.js 22 Lambda runtime, whose bundled AWS SDK v3 it uses.
 */
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { GetTopicRuleDestinationCommand, IoTClient, UpdateTopicRuleDestinationCommand } from "@aws-sdk/client-iot";
import { errorName } from "../../runtime/iotIdentity";

export const DISABLED_METRIC = "RuleDestinationDisabled";

export interface WatchConfig {
    destinationArn: string;
    metricNamespace: string;
    /** Set a DISABLED destination back to ENABLED (`routing.reenableDestination`). */
    reenable: boolean;
}

export interface WatchDeps {
    config: WatchConfig | undefined;
    iot: Pick<IoTClient, "send">;
    cloudwatch: Pick<CloudWatchClient, "send">;
    log: (line: string) => void;
}

export interface WatchResult {
    status: string;
    reenabled: boolean;
    error?: string;
}

export function configFromEnv(env: Record<string, string | undefined>): WatchConfig | undefined {
    const arn = env.DESTINATION_ARN;
    if (!arn || !/^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:ruledestination\/vpc\/[0-9a-f-]+$/.test(arn) || !env.METRIC_NAMESPACE) return undefined;
    return { destinationArn: arn, metricNamespace: env.METRIC_NAMESPACE, reenable: env.REENABLE === "true" };
}

export async function watch(deps: WatchDeps): Promise<WatchResult> {
    const config = deps.config;
    if (!config) throw new Error("destination watch: DESTINATION_ARN and METRIC_NAMESPACE are required");
    const got = await deps.iot.send(new GetTopicRuleDestinationCommand({ arn: config.destinationArn }));
    const status = got.topicRuleDestination?.status ?? "UNKNOWN";
    let reenabled = false;
    let error: string | undefined;
    if (status === "DISABLED" && config.reenable) {
        try {
            await deps.iot.send(new UpdateTopicRuleDestinationCommand({ arn: config.destinationArn, status: "ENABLED" }));
            reenabled = true;
        } catch (err) {
            error = `${errorName(err)}: ${(err as Error).message}`;
        }
    }
    // Still counts as disabled this period: messages failed until now, and the alarm should say so.
    const disabled = status !== "ENABLED" && status !== "IN_PROGRESS";
    await deps.cloudwatch.send(new PutMetricDataCommand({
        Namespace: config.metricNamespace,
        MetricData: [{ MetricName: DISABLED_METRIC, Value: disabled ? 1 : 0, Unit: "Count" }],
    }));
    deps.log(JSON.stringify({ event: "rule-destination-status", status, reason: got.topicRuleDestination?.statusReason, reenabled, error }));
    return { status, reenabled, ...(error ? { error } : {}) };
}

let deps: WatchDeps | undefined;
/** Lambda entry point (`index.handler`). */
export async function handler(): Promise<WatchResult> {
    deps ??= {
        config: configFromEnv(process.env),
        iot: new IoTClient({ maxAttempts: 3 }),
        cloudwatch: new CloudWatchClient({ maxAttempts: 3 }),
        log: (line) => process.stdout.write(`${line}\n`),
    };
    return watch(deps);
}
