/**
 * Every AWS metric the stack's dashboard may show: namespace, name and the dimensions it is published
 * with, each from AWS's own metric documentation (the page beside it). The stack's own metrics (its
 * log metric filters, its Lambdas' PutMetricData) are not listed here: the test reads them from the
 * stack's plan. test/dashboard.test.ts holds every widget of every shipped stack to these two lists.
 */
export interface DocumentedMetric {
    namespace: string;
    metric: string;
    /** The dimension names the metric is published with (sorted). */
    dimensions: string[];
    source: string;
}

const IOT = "https://docs.aws.amazon.com/iot/latest/developerguide/metrics_dimensions.html";
const LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html";
const SQS = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html";
const FLEET_METRICS = "https://docs.aws.amazon.com/iot/latest/developerguide/fleet-metrics-get-started.html";

export const DOCUMENTED_METRICS: readonly DocumentedMetric[] = [
    // AWS IoT, "Device provisioning metrics": per claim certificate, and per template.
    { namespace: "AWS/IoT", metric: "ApproximateNumberOfThingsRegistered", dimensions: ["ClaimCertificateId"], source: `${IOT}#provisioning-metrics` },
    { namespace: "AWS/IoT", metric: "CreateKeysAndCertificateFailed", dimensions: ["ClaimCertificateId"], source: `${IOT}#provisioning-metrics` },
    { namespace: "AWS/IoT", metric: "RegisterThingFailed", dimensions: ["TemplateName"], source: `${IOT}#provisioning-metrics` },
    // AWS IoT, "Message broker metrics": Connect.AuthError by Protocol.
    { namespace: "AWS/IoT", metric: "Connect.AuthError", dimensions: ["Protocol"], source: `${IOT}#message-broker-metrics` },
    { namespace: "AWS/IoT", metric: "Connect.Success", dimensions: ["Protocol"], source: `${IOT}#message-broker-metrics` },
    // AWS IoT, "Rule metrics" (TopicMatch by RuleName) and "Rule action metrics" (Success/Failure, and the
    // error action's ErrorActionFailure, by RuleName and ActionType).
    { namespace: "AWS/IoT", metric: "TopicMatch", dimensions: ["RuleName"], source: `${IOT}#rulemetrics` },
    { namespace: "AWS/IoT", metric: "Failure", dimensions: ["ActionType", "RuleName"], source: `${IOT}#rule-action-metrics` },
    { namespace: "AWS/IoT", metric: "ErrorActionFailure", dimensions: ["ActionType", "RuleName"], source: `${IOT}#rule-action-metrics` },
    // AWS IoT, "AWS IoT Core credential provider metrics": the cores' credential exchanges by role alias.
    { namespace: "AWS/IoT", metric: "CredentialExchangeSuccess", dimensions: ["RoleAliasName"], source: `${IOT}#credential-provider-metrics` },
    // Lambda, "Types of metrics for Lambda functions": invocation and performance metrics by FunctionName.
    { namespace: "AWS/Lambda", metric: "Invocations", dimensions: ["FunctionName"], source: LAMBDA },
    { namespace: "AWS/Lambda", metric: "Errors", dimensions: ["FunctionName"], source: LAMBDA },
    { namespace: "AWS/Lambda", metric: "Throttles", dimensions: ["FunctionName"], source: LAMBDA },
    { namespace: "AWS/Lambda", metric: "Duration", dimensions: ["FunctionName"], source: LAMBDA },
    // SQS, "Available CloudWatch metrics for Amazon SQS": by QueueName.
    { namespace: "AWS/SQS", metric: "ApproximateNumberOfMessagesVisible", dimensions: ["QueueName"], source: SQS },
    { namespace: "AWS/SQS", metric: "ApproximateAgeOfOldestMessage", dimensions: ["QueueName"], source: SQS },
];

/**
 * Fleet metrics (AWS IoT fleet indexing) publish to the IoTFleetMetrics namespace, named as the fleet
 * metric, with the dimension AggregationType (the getting-started tutorial's "View in CloudWatch" step).
 */
export const FLEET_METRIC_NAMESPACE = { namespace: "IoTFleetMetrics", dimensions: ["AggregationType"], source: FLEET_METRICS } as const;

export function documented(namespace: string, metric: string, dimensions: string[]): DocumentedMetric | undefined {
    const dims = [...dimensions].sort().join(",");
    return DOCUMENTED_METRICS.find((m) => m.namespace === namespace && m.metric === metric && m.dimensions.join(",") === dims);
}
