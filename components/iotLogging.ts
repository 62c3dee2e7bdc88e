import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { trustedBy } from "./arnContext";
import { IotLogLevel } from "../config/operationsConfig";
import { ArnContext } from "../policies/document";
import { iotLoggingPolicy } from "../policies/ruleEngine";

/** The log group AWS IoT writes its logs (rule errors among them) to. */
export const IOT_LOG_GROUP = "AWSIotLogsV2";

export interface IotLoggingArgs {
    ctx: pulumi.Input<ArnContext>;
    level: IotLogLevel;
    manageLogGroup: boolean;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
}

/**
 * AWS IoT logging for the account and region (one setting per region: one stack per region owns
 * it), with its own role that writes only `AWSIotLogsV2`, kept encrypted and with a retention.
 */
export class IotLogging extends pulumi.ComponentResource {
    public readonly level: string;
    public readonly logGroupName: string;

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
        new aws.iot.LoggingOptions(`${name}-options`, {
            roleArn: role.arn,
            defaultLogLevel: args.level,
            disableAllLogs: false,
        }, { parent: this, dependsOn: logGroup ? [policy, logGroup] : [policy] });
        this.level = args.level;
        this.logGroupName = IOT_LOG_GROUP;
        this.registerOutputs({ level: this.level, logGroupName: this.logGroupName });
    }
}
