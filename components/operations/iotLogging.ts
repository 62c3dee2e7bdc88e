import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { trustedBy } from "../arnContext";
import { ArnContext } from "../../policies/document";
import { iotLoggingPolicy } from "../../policies/ruleEngine";

/** The log group AWS IoT writes its logs (rule errors among them) to. */
export const IOT_LOG_GROUP = "AWSIotLogsV2";

export interface IotLoggingArgs {
    ctx: pulumi.Input<ArnContext>;
    manageLogGroup: boolean;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
}

/**
 * What AWS IoT logging for the account and region writes through: a role that writes only
 * `AWSIotLogsV2`, and that log group, kept encrypted and with a retention. The logging options
 * themselves are part of RegionSettings (one owner per account and region).
 */
export class IotLogging extends pulumi.ComponentResource {
    public readonly logGroupName: string;
    public readonly roleArn: pulumi.Output<string>;
    /** What the logging options must wait for: the role's policy and the log group. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: IotLoggingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:Logging", name, {}, opts);
        const parent = { parent: this };
        const ctx = pulumi.output(args.ctx);
        const logGroupArn = ctx.apply((c) => `arn:${c.partition}:logs:${c.region}:${c.accountId}:log-group:${IOT_LOG_GROUP}`);
        const logGroup = args.manageLogGroup
            ? new aws.cloudwatch.LogGroup(`${name}-log-group`, { name: IOT_LOG_GROUP, retentionInDays: args.logRetentionDays, kmsKeyId: args.kmsKeyArn }, parent)
            : undefined;
        const role = new aws.iam.Role(`${name}-role`, {
            description: "AWS IoT logging: writes AWSIotLogsV2 only",
            assumeRolePolicy: trustedBy("iot.amazonaws.com", ctx),
        }, parent);
        const policy = new aws.iam.RolePolicy(`${name}-policy`, {
            role: role.id,
            policy: logGroupArn.apply((arn) => JSON.stringify(iotLoggingPolicy(arn))),
        }, parent);
        this.logGroupName = IOT_LOG_GROUP;
        this.roleArn = role.arn;
        this.ready = logGroup ? [policy, logGroup] : [policy];
        this.registerOutputs({ logGroupName: this.logGroupName, roleArn: this.roleArn });
    }
}
