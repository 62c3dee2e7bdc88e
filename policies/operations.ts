import { PolicyDocument, policyDocument } from "./document";

/** AWS-managed policy the Device Defender audit role needs to read the account's IoT configuration. */
export function deviceDefenderAuditPolicyArn(partition: string): string {
    return `arn:${partition}:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit`;
}

export interface NotificationPolicyArgs {
    region: string;
    topicArn: string;
    /** Key the topic is encrypted with. */
    kmsKeyArn: string;
}

/** Device Defender (audit findings, detect alarms) publishing to the operations topic, and nothing else. */
export function notificationPolicy(args: NotificationPolicyArgs): PolicyDocument {
    return policyDocument(
        { Sid: "PublishFindings", Effect: "Allow", Action: ["sns:Publish"], Resource: [args.topicArn] },
        {
            Sid: "EncryptForTopic",
            Effect: "Allow",
            Action: ["kms:GenerateDataKey", "kms:Decrypt"],
            Resource: [args.kmsKeyArn],
            Condition: { StringEquals: { "kms:ViaService": `sns.${args.region}.amazonaws.com` } },
        },
    );
}
