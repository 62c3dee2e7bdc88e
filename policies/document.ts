/** Typed IAM / IoT / KMS policy documents. Every policy in this program is built from these types. */
import { AWS_QUOTAS, cite } from "../config/awsQuotas";

export type Effect = "Allow" | "Deny";

/** `{ Operator: { ConditionKey: value } }`, as in IAM and AWS IoT policies. */
export type Condition = Record<string, Record<string, string | string[]>>;

export type Principal = "*" | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[] };

export interface Statement {
    Sid?: string;
    Effect: Effect;
    Action: string[];
    Resource?: string[];
    Principal?: Principal;
    Condition?: Condition;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: Statement[];
}

export function policyDocument(...statements: Statement[]): PolicyDocument {
    return { Version: "2012-10-17", Statement: statements };
}

/** Where ARNs are built: the partition, region and account the stack deploys to. */
export interface ArnContext {
    partition: string;
    region: string;
    accountId: string;
}

/** `arn:<partition>:iot:<region>:<account>:<resource>` (resource such as `topic/a/b`). */
export function iotArn(ctx: ArnContext, resource: string): string {
    return `arn:${ctx.partition}:iot:${ctx.region}:${ctx.accountId}:${resource}`;
}

/** ARN of a fleet provisioning template, known before the template exists. */
export function provisioningTemplateArn(ctx: ArnContext, templateName: string): string {
    return iotArn(ctx, `provisioningtemplate/${templateName}`);
}

/** AWS IoT rejects policy documents over 2048 characters, white space not counted (config/awsQuotas.ts, policyDocumentSize). */
export const IOT_POLICY_MAX_CHARS: number = AWS_QUOTAS.policyDocumentSize.value;

/** A document's size as AWS IoT counts it: its characters, white space excluded. */
export function iotPolicySize(doc: PolicyDocument | string): number {
    return (typeof doc === "string" ? doc : JSON.stringify(doc)).replace(/\s/g, "").length;
}

/** Throws, naming the policy, its size and the quota with its AWS page, when AWS IoT would refuse the document. */
export function assertIotPolicySize(policyName: string, doc: PolicyDocument, what = ""): PolicyDocument {
    const size = iotPolicySize(doc);
    if (size > IOT_POLICY_MAX_CHARS) throw new Error(`${policyName}: ${size} characters${what}, over ${cite("policyDocumentSize")}`);
    return doc;
}
