import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { FLEET_METRIC_NAMESPACE } from "./dashboardMetrics";
import { GREENGRASS_METRICS } from "./greengrassHealth";

/**
 * What a stack has, resolved: the dashboard shows a section only for what exists (no routing widget on
 * a stack without routing, no Greengrass widget without cores, no fleet-index widget where another stack
 * owns the region's index).
 */
export interface DashboardFacts {
    region: string;
    /** This stack's own metric namespace (its log metric filters and Lambdas publish there). */
    namespace: string;
    hookFunctionName: string;
    /** None on an oemCa stack (no claim certificate). */
    claimCertificateId?: string;
    templateNames: string[];
    rotation: { confirmFunctionName: string; sweepFunctionName: string; failureQueueName: string; ruleName: string };
    /** The Kafka routes' topic rules (none: no routing section). */
    routing?: { ruleNames: string[] };
    /** The fleet metric counting connected vehicles (only the stack that owns the region's fleet index). */
    connectedFleetMetric?: string;
    greengrass?: { roleAliasName: string };
    alarmArns: string[];
}

/** A CloudWatch metric in a dashboard: `[namespace, name, dim, value, ..., {options}]`. */
export type MetricLine = (string | Record<string, unknown>)[];

export interface Widget {
    type: "metric" | "alarm";
    title: string;
    /** metric widgets: metric lines, or Metrics Insights queries as `[{expression, label, id}]`. */
    metrics?: MetricLine[];
    stat?: string;
    period?: number;
    alarms?: string[];
}

/** Own metric names (the stack's metric filters and Lambdas; the test reads them back from the plan). */
export const OWN = {
    denied: "ProvisioningDenied",
    allowed: "ProvisioningAllowed",
    decisions: "ProvisioningDecisions",
    ruleFailures: "RuleActionFailures",
    destinationDisabled: "RuleDestinationDisabled",
    expiring: "ExpiringDeviceCertificates",
    retired: "CertificatesRetired",
    retireFailures: "CertificateRetireFailures",
    unconfirmed: "UnconfirmedRetirements",
} as const;

/** Rules drawn one line each up to this many; past it, the ten with the most. */
export const PER_RULE_LINES = 10;
export const ALARMS_PER_WIDGET = 100;

const insights = (id: string, label: string, expression: string): Record<string, unknown> => ({ id, label, expression });

/**
 * The widgets, in the order an operator checks them: provisioning, the hook, rotation, routing,
 * connections, Greengrass, alarms. Metrics Insights queries (`SELECT ... FROM SCHEMA(...)`) group
 * per-reason and per-rule series without listing every value
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html).
 */
export function dashboardWidgets(f: DashboardFacts): Widget[] {
    const ns = f.namespace;
    const own = (name: string, dims: Record<string, string> = {}, options: Record<string, unknown> = {}): MetricLine =>
        [ns, name, ...Object.entries(dims).flat(), ...(Object.keys(options).length ? [options] : [])];
    const lambda = (metric: string, fn: string, options: Record<string, unknown> = {}): MetricLine => ["AWS/Lambda", metric, "FunctionName", fn, ...(Object.keys(options).length ? [options] : [])];
    const widgets: Widget[] = [
        {
            type: "metric", title: "Provisioning: hook decisions (allowed, denied)", stat: "Sum", period: 300,
            metrics: [own(OWN.allowed, {}, { label: "allowed" }), own(OWN.denied, {}, { label: "denied" })],
        },
        {
            type: "metric", title: "Provisioning: decisions by reason", stat: "Sum", period: 300,
            metrics: [[insights("reasons", "", `SELECT SUM(${OWN.decisions}) FROM SCHEMA("${ns}", Reason) GROUP BY Reason`)]],
        },
        // A stack without a claim certificate (oemCa) or templates has neither widget.
        ...(f.claimCertificateId === undefined ? [] : [{
            type: "metric", title: "Provisioning: Things registered with the claim certificate, its failures", stat: "Sum", period: 300,
            metrics: [
                ["AWS/IoT", "ApproximateNumberOfThingsRegistered", "ClaimCertificateId", f.claimCertificateId, { label: "registered" }],
                ["AWS/IoT", "CreateKeysAndCertificateFailed", "ClaimCertificateId", f.claimCertificateId, { label: "CreateKeysAndCertificate failed" }],
            ],
        } as Widget]),
        ...(f.templateNames.length === 0 ? [] : [{
            type: "metric", title: "Provisioning: RegisterThing failures per template", stat: "Sum", period: 300,
            metrics: f.templateNames.map((t) => ["AWS/IoT", "RegisterThingFailed", "TemplateName", t]),
        } as Widget]),
        {
            type: "metric", title: "Pre-provisioning hook: duration p99", stat: "p99", period: 300,
            metrics: [lambda("Duration", f.hookFunctionName)],
        },
        {
            type: "metric", title: "Pre-provisioning hook: errors, throttles", stat: "Sum", period: 300,
            metrics: [lambda("Errors", f.hookFunctionName), lambda("Throttles", f.hookFunctionName)],
        },
        {
            type: "metric", title: "Rotation: confirmations, retirements, unconfirmed retirements", stat: "Sum", period: 3600,
            metrics: [
                lambda("Invocations", f.rotation.confirmFunctionName, { label: "confirmations" }),
                ["AWS/IoT", "TopicMatch", "RuleName", f.rotation.ruleName, { label: "confirm messages" }],
                own(OWN.retired, {}, { label: "retired" }),
                own(OWN.unconfirmed, {}, { label: "unconfirmed, retired" }),
                own(OWN.retireFailures, {}, { label: "retire failures" }),
            ],
        },
        {
            type: "metric", title: "Rotation: confirm/sweep errors, confirm-failure queue depth", stat: "Sum", period: 300,
            metrics: [
                lambda("Errors", f.rotation.confirmFunctionName, { label: "confirm errors" }),
                lambda("Errors", f.rotation.sweepFunctionName, { label: "sweep errors" }),
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f.rotation.failureQueueName, { stat: "Maximum", label: "confirm-failure queue" }],
            ],
        },
        {
            type: "metric", title: "Rotation: device certificates expiring (Device Defender audit)", stat: "Maximum", period: 3600,
            metrics: [own(OWN.expiring)],
        },
    ];
    if (f.routing) {
        const rules = f.routing.ruleNames;
        // One line per rule while they are few; past that, the rules with the most (a stack may route up to AWS's
        // 1,000-rule quota: one line each would pass a graph's limits). Rule names carry the stack's prefix.
        const perRule = (metric: string, id: string): MetricLine[] => rules.length <= PER_RULE_LINES
            ? rules.map((r, i) => [insights(`${id}${i}`, r, `SELECT SUM(${metric}) FROM SCHEMA("AWS/IoT", ActionType, RuleName) WHERE RuleName = '${r}'`)])
            : [[insights(id, "", `SELECT SUM(${metric}) FROM SCHEMA("AWS/IoT", ActionType, RuleName) GROUP BY RuleName ORDER BY SUM() DESC LIMIT ${PER_RULE_LINES}`)]];
        widgets.push(
            {
                type: "metric", title: "Routing: rule action failures per rule (Kafka)", stat: "Sum", period: 300,
                metrics: perRule("Failure", "f"),
            },
            {
                type: "metric", title: "Routing: error action failures (messages lost), failures in the error logs", stat: "Sum", period: 300,
                metrics: [...perRule("ErrorActionFailure", "e"), own(OWN.ruleFailures, {}, { label: "error documents" })],
            },
            {
                type: "metric", title: "Routing: VPC rule destination disabled (1 = disabled)", stat: "Maximum", period: 3600,
                metrics: [own(OWN.destinationDisabled)],
            },
            {
                type: "metric", title: "Routing: messages matched per rule", stat: "Sum", period: 300,
                metrics: rules.length <= PER_RULE_LINES
                    ? rules.map((r) => ["AWS/IoT", "TopicMatch", "RuleName", r])
                    : [[insights("m", "", `SELECT SUM(TopicMatch) FROM SCHEMA("AWS/IoT", RuleName) GROUP BY RuleName ORDER BY SUM() DESC LIMIT ${PER_RULE_LINES}`)]],
            },
        );
    }
    widgets.push({
        type: "metric", title: "Connections: MQTT connects, auth errors", stat: "Sum", period: 300,
        metrics: [["AWS/IoT", "Connect.Success", "Protocol", "MQTT"], ["AWS/IoT", "Connect.AuthError", "Protocol", "MQTT"]],
    });
    if (f.connectedFleetMetric) {
        widgets.push({
            type: "metric", title: "Connections: vehicles connected (fleet index)", stat: "Maximum", period: 300,
            metrics: [[FLEET_METRIC_NAMESPACE.namespace, f.connectedFleetMetric, "AggregationType", "count"]],
        });
    }
    if (f.greengrass) {
        // Deployment outcomes and unhealthy reports: the stack's own metrics from its cores' EventBridge events
        // (components/operations/greengrassHealth.ts); Greengrass publishes no CloudWatch metric for either.
        widgets.push(
            {
                type: "metric", title: "Greengrass: deployment outcomes on this stack's cores, by status", stat: "Sum", period: 300,
                metrics: [[insights("gd", "", `SELECT SUM(${GREENGRASS_METRICS.deployments}) FROM SCHEMA("${ns}", Status) GROUP BY Status`)]],
            },
            {
                type: "metric", title: "Greengrass: failed deployments, unhealthy core reports (component ERRORED/BROKEN)", stat: "Sum", period: 300,
                metrics: [
                    own(GREENGRASS_METRICS.deploymentFailures, {}, { label: "deployments FAILED or REJECTED" }),
                    own(GREENGRASS_METRICS.unhealthyReports, {}, { label: "unhealthy core reports" }),
                ],
            },
            {
                type: "metric", title: "Greengrass: core credential exchanges (role alias)", stat: "Sum", period: 300,
                metrics: [["AWS/IoT", "CredentialExchangeSuccess", "RoleAliasName", f.greengrass.roleAliasName]],
            },
        );
    }
    // An alarm status widget holds at most 100 alarms (dashboard body structure, alarm status widget): one per 100.
    const alarms = [...f.alarmArns].sort();
    for (let i = 0; i < alarms.length; i += ALARMS_PER_WIDGET) {
        const part = alarms.length > ALARMS_PER_WIDGET ? ` (${i / ALARMS_PER_WIDGET + 1} of ${Math.ceil(alarms.length / ALARMS_PER_WIDGET)})` : "";
        widgets.push({ type: "alarm", title: `Alarms${part}`, alarms: alarms.slice(i, i + ALARMS_PER_WIDGET) });
    }
    return widgets;
}

/**
 * The dashboard body (CloudWatch dashboard body structure:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
 * two widgets a row, 12 of 24 columns wide.
 */
export function dashboardBody(region: string, widgets: Widget[]): string {
    return JSON.stringify({
        widgets: widgets.map((w, i) => {
            const place = { x: (i % 2) * 12, y: Math.floor(i / 2) * 6, width: 12, height: 6 };
            if (w.type === "alarm") return { type: "alarm", ...place, properties: { title: w.title, alarms: w.alarms } };
            return { type: "metric", ...place, properties: { title: w.title, region, view: "timeSeries", stat: w.stat, period: w.period, metrics: w.metrics } };
        }),
    });
}

/** The console URL of a dashboard. */
export function dashboardUrl(partition: string, region: string, name: string): string {
    const host = partition === "aws-cn" ? "console.amazonaws.cn" : partition === "aws-us-gov" ? "console.amazonaws-us-gov.com" : "console.aws.amazon.com";
    return `https://${host}/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(name)}`;
}

export interface DashboardArgs {
    name: string;
    partition: pulumi.Input<string>;
    facts: pulumi.Output<DashboardFacts>;
}

/** One CloudWatch dashboard for the stack: what an operator checks first, for what the stack has. */
export class OperationsDashboard extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    public readonly dashboardName: pulumi.Output<string>;

    constructor(name: string, args: DashboardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:OperationsDashboard", name, {}, opts);
        const facts = args.facts;
        const dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, {
            dashboardName: args.name,
            dashboardBody: facts.apply((f) => dashboardBody(f.region, dashboardWidgets(f))),
        }, { parent: this });
        this.dashboardName = dashboard.dashboardName;
        this.url = pulumi.all([args.partition, facts.region, dashboard.dashboardName]).apply(([p, r, n]) => dashboardUrl(p, r, n));
        this.registerOutputs({ url: this.url, dashboardName: this.dashboardName });
    }
}
