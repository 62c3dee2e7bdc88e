import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AWS_QUOTAS, cite } from "../../config/awsQuotas";
import { ArnContext, provisioningTemplateArn } from "../../policies/document";
import { AwsTarget } from "../iotSdk";
import { Join, provisioningTemplateBody } from "./templateBody";
import { bodyHash, TemplateVersionPruner } from "./templateVersionPruner";

/** The only payload version AWS IoT accepts for pre-provisioning hooks. */
export const HOOK_PAYLOAD_VERSION = "2020-04-01";

export interface HookedTemplateArgs {
    ctx: pulumi.Output<ArnContext>;
    /** Where the version pruner calls AWS IoT (region and profile of the stack). */
    awsTarget: AwsTarget;
    templateName: string;
    description: string;
    country: string;
    thingNamePrefix: string;
    thingTypeName: pulumi.Input<string>;
    thingGroupName: pulumi.Input<string>;
    /** The policy the template attaches: an existing one by name, or a document created per Thing. */
    policyName?: pulumi.Input<string>;
    policyDocument?: pulumi.Input<Join>;
    /** Another existing policy the template attaches beside it. */
    extraPolicyName?: pulumi.Input<string>;
    provisioningRoleArn: pulumi.Input<string>;
    hookFunctionName: pulumi.Input<string>;
    hookFunctionArn: pulumi.Input<string>;
    dependsOn?: pulumi.Resource[];
}

/**
 * The template body as AWS IoT receives it, refused here when it is longer than AWS accepts (CreateProvisioningTemplate's
 * templateBody, config/awsQuotas.ts provisioningTemplateSize), so `pulumi preview` fails instead of `pulumi up`.
 */
export function checkedTemplateBody(templateName: string, body: string): string {
    const limit = AWS_QUOTAS.provisioningTemplateSize.value;
    if (body.length > limit) throw new Error(`provisioning template ${templateName}: its body is ${body.length} characters, over ${cite("provisioningTemplateSize")}`);
    return body;
}

/**
 * An enabled fleet-provisioning template with its pre-provisioning hook, the hook's invoke
 * permission for exactly this template in this account (created first, so the hook answers from
 * the template's first use), and a pruner that keeps the template under AWS's 5-version limit.
 */
export function hookedTemplate(name: string, parent: pulumi.Resource, a: HookedTemplateArgs): aws.iot.ProvisioningTemplate {
    const permission = new aws.lambda.Permission(`${name}-hook-invoke`, {
        function: a.hookFunctionName,
        action: "lambda:InvokeFunction",
        principal: "iot.amazonaws.com",
        sourceAccount: a.ctx.accountId,
        sourceArn: a.ctx.apply((c) => provisioningTemplateArn(c, a.templateName)),
    }, { parent });
    const templateBody = pulumi.all([a.thingTypeName, a.thingGroupName, a.policyName, a.policyDocument, a.extraPolicyName]).apply(([thingTypeName, thingGroupName, policyName, policyDocument, extraPolicyName]) =>
        checkedTemplateBody(a.templateName, JSON.stringify(provisioningTemplateBody({ thingNamePrefix: a.thingNamePrefix, thingTypeName, thingGroupName, policyName, policyDocument: policyDocument as Join | undefined, extraPolicyName, country: a.country }))));
    const pruner = new TemplateVersionPruner(`${name}-template-versions`, {
        ...a.awsTarget,
        templateName: a.templateName,
        bodyHash: templateBody.apply(bodyHash),
        keepPrevious: 2,
    }, { parent });
    return new aws.iot.ProvisioningTemplate(`${name}-template`, {
        name: a.templateName,
        description: a.description,
        type: "FLEET_PROVISIONING",
        enabled: true,
        provisioningRoleArn: a.provisioningRoleArn,
        preProvisioningHook: { targetArn: a.hookFunctionArn, payloadVersion: HOOK_PAYLOAD_VERSION },
        templateBody,
    }, { parent, dependsOn: [...(a.dependsOn ?? []), permission, pruner] });
}
