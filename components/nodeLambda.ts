import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArnContext } from "../policies/document";
import { policyJson, trustedBy } from "./arnContext";

export interface NodeLambdaArgs<T extends Record<string, pulumi.Input<unknown>>> {
    ctx: pulumi.Output<ArnContext>;
    /** Physical function name; its log group is `/aws/lambda/<functionName>`. */
    functionName: string;
    description: string;
    /** Also the role's description. */
    roleDescription: string;
    code: pulumi.asset.Archive;
    handler: string;
    timeout: number;
    environment: Record<string, pulumi.Input<string>>;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    /** Inputs the role's policy reads, resolved before it is built. */
    policyInputs: T;
    /** The role's policy, given the function's own log group ARN and the resolved inputs. */
    policy: (ctx: ArnContext, logGroupArn: string, values: pulumi.UnwrappedObject<T>) => object;
    /** Concurrency reserved for the function (none by default: a new account's quota leaves no room for any). */
    reservedConcurrentExecutions?: number;
}

/**
 * A Node.js 22 (arm64) Lambda function with what every function here has: its own encrypted log group
 * with retention (created first, so the function never makes an unencrypted one), a role trusted by
 * Lambda for this account only, and one inline policy. Logical names: `<name>-logs`, `<name>-role`,
 * `<name>-policy` and `<name>` itself.
 */
export function nodeLambda<T extends Record<string, pulumi.Input<unknown>>>(name: string, parent: pulumi.Resource, a: NodeLambdaArgs<T>): { fn: aws.lambda.Function; logGroup: aws.cloudwatch.LogGroup } {
    const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, {
        name: `/aws/lambda/${a.functionName}`,
        retentionInDays: a.logRetentionDays,
        kmsKeyId: a.kmsKeyArn,
    }, { parent });
    const role = new aws.iam.Role(`${name}-role`, { description: a.roleDescription, assumeRolePolicy: trustedBy("lambda.amazonaws.com", a.ctx) }, { parent });
    const policy = new aws.iam.RolePolicy(`${name}-policy`, {
        role: role.id,
        policy: policyJson(a.ctx, { logGroupArn: logGroup.arn, values: pulumi.output(a.policyInputs) }, (c, v) =>
            a.policy(c, v.logGroupArn, v.values as pulumi.UnwrappedObject<T>)),
    }, { parent });
    const fn = new aws.lambda.Function(name, {
        name: a.functionName,
        description: a.description,
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: ["arm64"],
        handler: a.handler,
        code: a.code,
        role: role.arn,
        timeout: a.timeout,
        memorySize: 256,
        environment: { variables: a.environment },
        ...(a.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: a.reservedConcurrentExecutions } : {}),
        loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
    }, { parent, dependsOn: [policy, logGroup] });
    return { fn, logGroup };
}
