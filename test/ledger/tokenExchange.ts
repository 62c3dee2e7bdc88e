import type { ActorLedger, LedgerCall } from "./types";

// aws-greengrass/aws-greengrass-nucleus v2.16.1, S3Downloader: GetBucketLocation (line 206, to pick the regional
// client), HeadObject (line 172, the download size; authorized as s3:GetObject) and GetObject (line 109) of the
// artifact; the artifact bucket is SSE-KMS, so S3 decrypts with the caller's kms:Decrypt.
const NUCLEUS = "aws-greengrass/aws-greengrass-nucleus@v2.16.1:src/main/java/com/aws/greengrass/componentmanager/builtins/S3Downloader.java";
const S3_KMS = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html";

/**
 * The token-exchange role as the nucleus itself uses it (artifacts from S3). The log manager's calls
 * (CreateLogGroup / CreateLogStream / PutLogEvents) are issue 20's (test/ledger/greengrassLogManager.ts there);
 * the telemetry component publishes through IPC to AWS IoT Core (the core's IoT policy, mqttCore), not with AWS
 * credentials.
 */
export const tokenExchange: ActorLedger = {
    actor: "Greengrass nucleus (token-exchange role)",
    principal: { role: "-edge-token-exchange-role" },
    calls: [
        { action: "s3:GetBucketLocation", resource: "arn:${Partition}:s3:::${ArtifactBucket}", source: `${NUCLEUS}:206` },
        { action: "s3:GetObject", resource: "arn:${Partition}:s3:::${ArtifactBucket}/artifacts/${edgeComponentName}/0123456789abcdef/telemetry.py", source: `${NUCLEUS}:109 and :172 (HeadObject)` },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: { "kms:ViaService": "s3.${Region}.amazonaws.com" }, source: S3_KMS },
    ],
    mustDeny: [
        { action: "s3:GetObject", resource: "arn:${Partition}:s3:::${claimCertificateBucket}/claim-certificate/${claimCertificateId}/private.pem.key", why: "the claim certificate's key", source: NUCLEUS },
        { action: "s3:GetObject", resource: "arn:${Partition}:s3:::${ArtifactBucket}/not-artifacts/x", why: "objects outside the artifact prefix", source: NUCLEUS },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: { "kms:ViaService": "dynamodb.${Region}.amazonaws.com" }, why: "the stack key outside S3 (the registry table)", source: S3_KMS },
        {
            action: "logs:PutLogEvents", sessionVariables: { "credentials-iot:ThingName": "${CoreThingName}" },
            resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/greengrass/UserComponent/${Region}/${edgeComponentName}:log-stream:/${LogDate}/thing/${OtherCoreThingName}",
            why: "another core's log stream (the credentials provider sets credentials-iot:ThingName from the core's own Thing)",
            source: "https://docs.aws.amazon.com/iot/latest/developerguide/authorizing-direct-aws.html",
        },
        {
            action: "logs:PutLogEvents", sessionVariables: { "credentials-iot:ThingName": "${CoreThingName}" },
            resource: "arn:${Partition}:logs:${Region}:${Account}:log-group:/aws/lambda/${NamePrefix}-provisioning-hook:log-stream:x",
            why: "log groups of functions", source: "https://docs.aws.amazon.com/iot/latest/developerguide/authorizing-direct-aws.html",
        },
    ],
    notes: "Log-manager entries come from issue 20.",
};

/**
 * Folds issue 20's log-manager call sequence (`{ action, resource, source }[]`, its Thing as `${ThingName}`) into this
 * ledger: the core's Thing becomes `${CoreThingName}`, and the credentials provider's `credentials-iot:ThingName` is
 * set from it. Use: `tokenExchange.calls.push(...logManagerCalls(LOG_MANAGER_CALLS))`.
 */
export function logManagerCalls(calls: readonly { action: string; resource: string; source: string }[]): LedgerCall[] {
    return calls.map((c) => ({
        action: c.action,
        resource: c.resource.split("${ThingName}").join("${CoreThingName}"),
        sessionVariables: { "credentials-iot:ThingName": "${CoreThingName}" },
        source: c.source,
    }));
}
