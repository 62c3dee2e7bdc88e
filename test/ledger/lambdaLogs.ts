import type { LedgerCall } from "./types";

/**
 * What the Lambda runtime does with the function's execution role: it writes the function's logs to its log group
 * (`loggingConfig.logGroup`, `/aws/lambda/<name>`), creating each stream. AWS Lambda developer guide, "Defining
 * Lambda function permissions with an execution role" / AWSLambdaBasicExecutionRole (logs:CreateLogGroup,
 * logs:CreateLogStream, logs:PutLogEvents); the group exists (this program creates it), so no CreateLogGroup.
 */
export function lambdaLogCalls(functionName: string): LedgerCall[] {
    const source = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html";
    const stream = `arn:\${Partition}:logs:\${Region}:\${Account}:log-group:/aws/lambda/${functionName}:log-stream:2026/12/03/[$LATEST]0123456789abcdef`;
    return [
        { action: "logs:CreateLogStream", resource: stream, source },
        { action: "logs:PutLogEvents", resource: stream, source },
    ];
}

/** Another function's log group: a function writes its own logs only. */
export function otherFunctionLogs(): LedgerCall {
    return {
        action: "logs:PutLogEvents",
        resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/lambda/${NamePrefix}-someone-else:log-stream:2026/12/03/[$LATEST]0123",
        source: "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
        why: "log groups of other functions",
    };
}
