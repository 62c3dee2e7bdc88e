import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArnContext } from "../policies/document";
import { serviceTrustPolicy } from "../policies/iam";

/** Partition, region and account of the stack's `aws` provider, for building ARNs before resources exist. */
export function arnContext(region: string, opts?: pulumi.InvokeOutputOptions): pulumi.Output<ArnContext> {
    const identity = aws.getCallerIdentityOutput({}, opts);
    const partition = aws.getPartitionOutput({}, opts);
    return pulumi.all([identity.accountId, partition.partition]).apply(([accountId, p]) => ({ partition: p, region, accountId }));
}

/** Serializes a policy document built from the ARN context and other resolved values. */
export function policyJson<T extends Record<string, pulumi.Input<unknown>>>(
    ctx: pulumi.Input<ArnContext>,
    inputs: T,
    build: (ctx: ArnContext, values: pulumi.UnwrappedObject<T>) => object,
): pulumi.Output<string> {
    return pulumi.all([ctx, pulumi.output(inputs)]).apply(([c, v]) => JSON.stringify(build(c, v as pulumi.UnwrappedObject<T>)));
}

/** Assume-role policy for an AWS service, guarded to act for this account only (`aws:SourceAccount`). */
export function trustedBy(service: string, ctx: pulumi.Input<ArnContext>, sourceArns?: (c: ArnContext) => string[]): pulumi.Output<string> {
    return pulumi.output(ctx).apply((c) => JSON.stringify(serviceTrustPolicy(service, c.accountId, sourceArns?.(c))));
}
