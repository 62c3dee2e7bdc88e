import * as aws from "@pulumi/aws";
import * as awsnative from "@pulumi/aws-native";
import type { StackConfig } from "../config/stackConfig";
import type { AwsTarget } from "./iotSdk";

/** The stack's providers: every one gets the same region, profile, allowed accounts and default tags. */
export interface StackProviders {
    aws: aws.Provider;
    native: awsnative.Provider;
    /** Cross-account MSK (existing cluster in another account): the same source credentials, then the role. */
    msk?: aws.Provider;
    /** What the dynamic providers (which see no `aws:` provider) are given explicitly. */
    target: AwsTarget;
}

/**
 * An explicit provider reads only its own arguments, never the stack's `aws:` config: without this,
 * `aws:profile` would reach the dynamic providers but not the explicit ones, and the claim
 * certificate would land in one account and everything else in whatever credentials are ambient.
 */
export function stackProviders(cfg: StackConfig): StackProviders {
    const region = cfg.region as aws.Region;
    const common = {
        ...(cfg.awsProfile ? { profile: cfg.awsProfile } : {}),
        ...(cfg.allowedAccountIds ? { allowedAccountIds: cfg.allowedAccountIds } : {}),
    };
    const defaultTags = { tags: cfg.tags };
    const cross = cfg.routing?.msk.mode === "existing" ? cfg.routing.msk.crossAccount : undefined;
    return {
        aws: new aws.Provider(`${cfg.namePrefix}-aws`, { region, defaultTags, ...common }),
        native: new awsnative.Provider(`${cfg.namePrefix}-aws-native`, { region: region as awsnative.Region, defaultTags, ...common }),
        msk: cross && new aws.Provider(`${cfg.namePrefix}-msk-aws`, {
            region,
            defaultTags,
            ...(cfg.awsProfile ? { profile: cfg.awsProfile } : {}),
            // The cluster's account, not this stack's: the role is in it.
            allowedAccountIds: [cross.roleArn.split(":")[4]],
            assumeRoles: [{ roleArn: cross.roleArn, sessionName: `${cfg.namePrefix}-fms-iot` }],
        }),
        target: { region: cfg.region, ...common },
    };
}
