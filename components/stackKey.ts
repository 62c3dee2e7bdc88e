import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArnContext } from "../policies/document";
import { stackKeyPolicy } from "../policies/kms";
import { policyJson } from "./arnContext";

export interface StackKeyArgs {
    ctx: pulumi.Input<ArnContext>;
    /** `alias/<aliasName>`. */
    aliasName: string;
    /** Log-group name patterns CloudWatch Logs may encrypt with the key. */
    logGroupPatterns: string[];
    /** Let CloudWatch alarms publish to SNS topics encrypted with the key. */
    alarmsPublishToEncryptedTopics?: boolean;
    /** Waiting period before a deleted key is gone (7-30 days). */
    deletionWindowInDays?: number;
}

/** The stack's customer-managed KMS key (rotation on) and its alias: registry table, logs, claim bucket. */
export class StackKey extends pulumi.ComponentResource {
    public readonly key: aws.kms.Key;
    public readonly arn: pulumi.Output<string>;
    public readonly aliasName: pulumi.Output<string>;

    constructor(name: string, args: StackKeyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:kms:StackKey", name, {}, opts);
        this.key = new aws.kms.Key(`${name}-key`, {
            description: `FMS IoT stack key (${args.aliasName})`,
            enableKeyRotation: true,
            deletionWindowInDays: args.deletionWindowInDays ?? 30,
            policy: policyJson(args.ctx, {}, (ctx) => stackKeyPolicy({ ...ctx, logGroupPatterns: args.logGroupPatterns, alarmsPublishToEncryptedTopics: args.alarmsPublishToEncryptedTopics })),
        }, { parent: this });
        const alias = new aws.kms.Alias(`${name}-alias`, {
            name: `alias/${args.aliasName}`,
            targetKeyId: this.key.keyId,
        }, { parent: this });
        this.arn = this.key.arn;
        this.aliasName = alias.name;
        this.registerOutputs({ arn: this.arn, aliasName: this.aliasName });
    }
}
