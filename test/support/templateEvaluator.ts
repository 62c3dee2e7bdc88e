/**
 * Evaluates a fleet-provisioning template body the way AWS IoT does for the resources our templates
 * use: `Parameters` (with `Default`), `Ref`, `Fn::Join`, and the Thing, Certificate and Policy
 * resources. Anything else (another intrinsic or resource type) is an error, so a template that
 * starts using one fails the end-to-end test until this evaluator learns it.
 */

import * as crypto from "crypto";

export interface ProvisionedResources {
    thingName: string;
    thingTypeName?: string;
    attributes: Record<string, string>;
    thingGroups: string[];
    certificateId: string;
    certificateStatus: string;
    policyNames: string[];
    /**
     * Policies the template creates (a policy resource with `PolicyDocument`), by name. AWS IoT
     * developer guide, "Provisioning templates > Policy resources": `PolicyName` "Defaults to a hash
     * of the policy document" and "PolicyName or PolicyDocument, but not both". AWS does not say which
     * hash; this evaluator uses SHA-256 hex of the evaluated document, which keeps the one property a
     * template relies on: the same document for the same Thing names the same policy, another names
     * another.
     */
    createdPolicies: Record<string, string>;
}

export class TemplateError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TemplateError";
    }
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function evaluate(value: Json, params: Record<string, string>): Json {
    if (Array.isArray(value)) return value.map((v) => evaluate(v, params));
    if (value === null || typeof value !== "object") return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "Ref") {
        const name = value.Ref as string;
        if (!(name in params)) throw new TemplateError(`Ref to ${name}, which has no value`);
        return params[name];
    }
    if (keys.length === 1 && keys[0] === "Fn::Join") {
        const [separator, parts] = value["Fn::Join"] as [string, Json[]];
        return parts.map((p) => String(evaluate(p, params))).join(separator);
    }
    const intrinsic = keys.find((k) => k.startsWith("Fn::"));
    if (intrinsic) throw new TemplateError(`intrinsic ${intrinsic} is not supported by this evaluator`);
    return Object.fromEntries(keys.map((k) => [k, evaluate(value[k], params)]));
}

export function evaluateTemplate(body: { Parameters?: Record<string, { Type: string; Default?: string }>; Resources: Record<string, { Type: string; Properties: Json }> }, given: Record<string, string>): ProvisionedResources {
    const params: Record<string, string> = {};
    for (const [name, decl] of Object.entries(body.Parameters ?? {})) {
        if (name in given) params[name] = given[name];
        else if (decl.Default !== undefined) params[name] = decl.Default;
        else throw new TemplateError(`parameter ${name} is required`);
    }
    const result: Partial<ProvisionedResources> = { attributes: {}, thingGroups: [], policyNames: [], createdPolicies: {} };
    for (const [logical, resource] of Object.entries(body.Resources)) {
        const p = evaluate(resource.Properties, params) as Record<string, any>;
        switch (resource.Type) {
            case "AWS::IoT::Thing":
                result.thingName = p.ThingName;
                result.thingTypeName = p.ThingTypeName;
                result.attributes = p.AttributePayload ?? {};
                result.thingGroups = p.ThingGroups ?? [];
                break;
            case "AWS::IoT::Certificate":
                result.certificateId = p.CertificateId;
                result.certificateStatus = p.Status;
                break;
            case "AWS::IoT::Policy": {
                const hasName = p.PolicyName !== undefined;
                const hasDocument = p.PolicyDocument !== undefined;
                if (hasName === hasDocument) throw new TemplateError(`resource ${logical}: PolicyName or PolicyDocument, but not both`);
                if (hasName) {
                    result.policyNames!.push(p.PolicyName);
                    break;
                }
                // "A JSON object specified as an escaped string" (the fleet-provisioning example also shows an object).
                const document = typeof p.PolicyDocument === "string" ? p.PolicyDocument : JSON.stringify(p.PolicyDocument);
                try {
                    JSON.parse(document);
                } catch {
                    throw new TemplateError(`resource ${logical}: the PolicyDocument is not JSON`);
                }
                const name = crypto.createHash("sha256").update(document).digest("hex");
                result.createdPolicies![name] = document;
                result.policyNames!.push(name);
                break;
            }
            default:
                throw new TemplateError(`resource ${logical} has type ${resource.Type}, not supported by this evaluator`);
        }
    }
    if (!result.thingName || !result.certificateId) throw new TemplateError("the template creates no Thing or no certificate");
    return result as ProvisionedResources;
}
