import type { ActorLedger } from "./types";

const fn = (name: string) => `arn:\${Partition}:lambda:\${Region}:\${Account}:function:${name}`;
const iot = (r: string) => `arn:\${Partition}:iot:\${Region}:\${Account}:${r}`;
// AWS IoT developer guide, "Pre-provisioning hooks": IoT invokes the hook for the template; the permission names the
// template as source ("lambda add-permission ... --source-arn <template ARN>").
const HOOKS = "https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html";
// AWS IoT developer guide, "Self-managed certificate signing using AWS IoT Core certificate provider": AWS IoT invokes
// the provider's function for CreateCertificateFromCsr; the permission names the provider (certprovider/<name>) as source.
const CERT_PROVIDER = "https://docs.aws.amazon.com/iot/latest/developerguide/provisioning-cert-provider.html";
// "AWS Lambda" rule action: AWS IoT invokes the function for the rule (source ARN = the rule's ARN).
const RULE_LAMBDA = "https://docs.aws.amazon.com/iot/latest/developerguide/lambda-rule-action.html";
// Amazon EventBridge user guide, "Using resource-based policies": a scheduled rule invokes a Lambda through its policy.
const EVENTS = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions";
const here = { "aws:SourceAccount": "${Account}" };

/** AWS IoT invoking this stack's functions: the hook for each of its templates, the confirmation for its rule. */
export const iotInvokes: ActorLedger = {
    actor: "AWS IoT (invokes the hook, the confirmation and the certificate provider)",
    principal: { service: "iot.amazonaws.com" },
    calls: [
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-provisioning-hook"), context: { ...here, "aws:SourceArn": iot("provisioningtemplate/${provisioningTemplateName}") }, when: { provisioningTemplateName: true }, source: HOOKS },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-provisioning-hook"), context: { ...here, "aws:SourceArn": iot("provisioningtemplate/${rotationTemplateName}") }, when: { rotationTemplateName: true }, source: HOOKS },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-provisioning-hook"), context: { ...here, "aws:SourceArn": iot("provisioningtemplate/${edgeCoreTemplateName}") }, when: { edgeCoreTemplateName: true }, source: HOOKS },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-provisioning-hook"), context: { ...here, "aws:SourceArn": iot("provisioningtemplate/${edgeCoreRotationTemplateName}") }, when: { edgeCoreRotationTemplateName: true }, source: HOOKS },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-rotation-confirm"), context: { ...here, "aws:SourceArn": iot("rule/${certificateConfirmRuleName}") }, when: { certificateConfirmRuleName: true }, source: RULE_LAMBDA },
        { action: "lambda:InvokeFunction", resource: fn("${certificateProviderFunction}"), context: { ...here, "aws:SourceArn": "${certificateProviderArn}" }, when: { certificateProviderFunction: true }, source: CERT_PROVIDER },
        // oemCa: the rule of the (first) registered CA hands each registration event to the JITR function.
        { action: "lambda:InvokeFunction", resource: fn("${jitrFunctionName}"), context: { ...here, "aws:SourceArn": iot("rule/${JitrRuleName}") }, when: { JitrRuleName: true }, source: RULE_LAMBDA },
    ],
    mustDeny: [
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-provisioning-hook"), context: { ...here, "aws:SourceArn": iot("provisioningtemplate/fms-other-vehicle") }, when: { provisioningTemplateName: true }, why: "another template (confused deputy)", source: HOOKS },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-provisioning-hook"), context: { "aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:${Partition}:iot:${Region}:999999999999:provisioningtemplate/${provisioningTemplateName}" }, when: { provisioningTemplateName: true }, why: "another account's template of the same name", source: HOOKS },
        { action: "lambda:InvokeFunction", resource: fn("${jitrFunctionName}"), context: { ...here, "aws:SourceArn": iot("rule/fms_other_jitr_0") }, when: { JitrRuleName: true }, why: "another stack's rule", source: RULE_LAMBDA },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-rotation-confirm"), context: { ...here, "aws:SourceArn": iot("rule/fms_other_rule") }, when: { certificateConfirmRuleName: true }, why: "another rule", source: RULE_LAMBDA },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-rotation-sweep"), context: { ...here, "aws:SourceArn": iot("rule/${certificateConfirmRuleName}") }, when: { certificateConfirmRuleName: true }, why: "the sweep is EventBridge's to call", source: RULE_LAMBDA },
        { action: "lambda:InvokeFunction", resource: fn("${certificateProviderFunction}"), context: { ...here, "aws:SourceArn": iot("certprovider/fms-other-certificate-provider") }, when: { certificateProviderFunction: true }, why: "another certificate provider (confused deputy)", source: CERT_PROVIDER },
        { action: "lambda:InvokeFunction", resource: fn("${certificateProviderFunction}"), context: { "aws:SourceAccount": "999999999999", "aws:SourceArn": "arn:${Partition}:iot:${Region}:999999999999:certprovider/${NamePrefix}-certificate-provider" }, when: { certificateProviderFunction: true }, why: "another account's provider of the same name", source: CERT_PROVIDER },
        { action: "lambda:InvokeFunction", resource: fn("${certificateProviderFunction}"), context: { ...here, "aws:SourceArn": iot("provisioningtemplate/${provisioningTemplateName}") }, when: { certificateProviderFunction: true }, why: "a template invoking the signer as if it were a hook", source: CERT_PROVIDER },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-provisioning-hook"), context: { ...here, "aws:SourceArn": "${certificateProviderArn}" }, when: { certificateProviderFunction: true }, why: "the provider invoking the hook", source: HOOKS },
    ],
};

/** EventBridge's schedules invoking the sweep and the destination watch. */
export const eventsInvoke: ActorLedger = {
    actor: "EventBridge schedules",
    principal: { service: "events.amazonaws.com" },
    calls: [
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-rotation-sweep"), context: { ...here, "aws:SourceArn": "${SweepScheduleArn}" }, when: { SweepScheduleArn: true }, source: EVENTS },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-destination-watch"), context: { ...here, "aws:SourceArn": "${WatchScheduleArn}" }, when: { WatchScheduleArn: true }, source: EVENTS },
    ],
    mustDeny: [
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-provisioning-hook"), context: { ...here, "aws:SourceArn": "${SweepScheduleArn}" }, when: { SweepScheduleArn: true, provisioningTemplateName: true }, why: "the hook is AWS IoT's to call", source: EVENTS },
        { action: "lambda:InvokeFunction", resource: fn("${jitrFunctionName}"), context: { ...here, "aws:SourceArn": "${SweepScheduleArn}" }, when: { SweepScheduleArn: true, jitrFunctionName: true }, why: "the JITR function is AWS IoT's to call", source: EVENTS },
        { action: "lambda:InvokeFunction", resource: fn("${NamePrefix}-destination-watch"), context: { ...here, "aws:SourceArn": "${SweepScheduleArn}" }, when: { SweepScheduleArn: true, WatchScheduleArn: true }, why: "another schedule", source: EVENTS },
    ],
};

// CloudWatch user guide, "Using Amazon CloudWatch alarms" > notifications to an encrypted SNS topic: the key policy lets
// cloudwatch.amazonaws.com use the key (kms:Decrypt, kms:GenerateDataKey*).
const ALARMS = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html";

/** CloudWatch alarms publishing to the encrypted operations topic: the stack key's policy. */
export const alarmsUseKey: ActorLedger = {
    actor: "CloudWatch alarms (encrypted operations topic)",
    principal: { service: "cloudwatch.amazonaws.com" },
    calls: [
        { action: "kms:GenerateDataKey", resource: "${StackKeyArn}", context: here, when: { operationsTopicArn: true }, source: ALARMS },
        { action: "kms:Decrypt", resource: "${StackKeyArn}", context: here, when: { operationsTopicArn: true }, source: ALARMS },
    ],
    mustDeny: [
        { action: "kms:GenerateDataKey", resource: "${StackKeyArn}", context: { "aws:SourceAccount": "999999999999" }, why: "alarms of another account", source: ALARMS },
        { action: "kms:CreateGrant", resource: "${StackKeyArn}", context: here, why: "anything beyond encrypting for the topic", source: ALARMS },
    ],
};
