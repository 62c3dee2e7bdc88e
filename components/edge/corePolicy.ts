/**
 * The per-core IoT policy as a provisioning-template resource: AWS's documented alternative to a
 * shared core policy with a `<prefix>*` wildcard ("Thing policy variables (iot:Connection.Thing.*)
 * aren't supported ... in AWS IoT policies for core devices", Greengrass developer guide,
 * device-auth), made by the core's template from the core's own Thing name.
 *
 * Naming rule (AWS IoT developer guide, "Provisioning templates > Policy resources"): a policy
 * resource has `PolicyName` or `PolicyDocument`, "but not both"; with `PolicyDocument` the name
 * "Defaults to a hash of the policy document". So the policy of core `<prefix><serial>` is named
 * by the hash of this document evaluated for that serial, and any template that carries this same
 * resource (corePolicyTemplateResource) and evaluates it for the same Thing (a rotation template
 * keeps the Thing) names, and attaches, the same policy. A change of the document (a new route, a
 * new role alias) names a new policy: cores pick it up at their next provisioning or rotation.
 */
import { ConfigError } from "../../config/errors";
import { ArnContext } from "../../policies/document";
import { CoreDevicePolicyArgs, coreDevicePolicy, roleAliasArn } from "../../policies/greengrass";
import { Join, perThingPolicyDocument, SERIAL_PLACEHOLDER } from "../provisioning/templateBody";

/** The longest serial the hook admits (provisioningHook SERIAL, 1-64 of [A-Za-z0-9_-]): the size check uses it. */
export const MAX_SERIAL = 64;

export interface CorePolicyTemplateArgs extends Omit<CoreDevicePolicyArgs, "thingName"> {
    coreThingNamePrefix: string;
}

/** The core template's `PolicyDocument`: coreDevicePolicy for `<coreThingNamePrefix>${SerialNumber}`, checked at the longest serial. */
export function corePolicyTemplateDocument(args: CorePolicyTemplateArgs): Join {
    // Built with a stand-in of the longest serial, so AWS IoT's 2048-character limit (and the Basic
    // Ingest statement's shape, which depends on it) is decided for the largest document a core gets.
    const standIn = `S${"0".repeat(MAX_SERIAL - 1)}`;
    let doc;
    try {
        doc = coreDevicePolicy({ ...args, thingName: `${args.coreThingNamePrefix}${standIn}` });
    } catch (err) {
        throw new Error(`the per-core policy of cores named ${args.coreThingNamePrefix}<serial>, at the longest serial the hook admits (${MAX_SERIAL} characters): ${(err as Error).message}; a shorter greengrass.coreThingNamePrefix (or namePrefix, which names the role alias and rules) leaves room`);
    }
    return perThingPolicyDocument(JSON.parse(JSON.stringify(doc).split(standIn).join(SERIAL_PLACEHOLDER)));
}

/**
 * The partition of a region's ARNs (IAM user guide, "IAM identifiers", ARN format: aws, aws-cn, aws-us-gov; botocore
 * data/endpoints.json, each partition's regionRegex: ^cn\-\w+\-\d+$ and ^us\-gov\-\w+\-\d+$). The stacks' regions are
 * those with an AWS IoT Core endpoint (config/serviceRegions.ts), none in the isolated partitions.
 */
export function partitionOfRegion(region: string): string {
    return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

/**
 * Builds the per-core policy for a stand-in account (12 digits, as every account id) in `region`'s partition, so a
 * configuration whose per-core policy AWS would refuse fails as a config error before the program registers anything.
 */
export function checkCorePolicySize(c: { region: string; roleAlias: string; key: string; file: string }, args: Omit<CorePolicyTemplateArgs, keyof ArnContext | "roleAliasArn">): void {
    const ctx: ArnContext = { partition: partitionOfRegion(c.region), region: c.region, accountId: "000000000000" };
    try {
        corePolicyTemplateDocument({ ...ctx, ...args, roleAliasArn: roleAliasArn(ctx, c.roleAlias) });
    } catch (err) {
        throw new ConfigError(c.key, args.coreThingNamePrefix, `a shorter prefix: ${(err as Error).message}`, c.file);
    }
}

/** The template resource itself, for any template that must attach the same per-core policy (for example core rotation). */
export function corePolicyTemplateResource(args: CorePolicyTemplateArgs): { Type: "AWS::IoT::Policy"; Properties: { PolicyDocument: Join } } {
    return { Type: "AWS::IoT::Policy", Properties: { PolicyDocument: corePolicyTemplateDocument(args) } };
}
