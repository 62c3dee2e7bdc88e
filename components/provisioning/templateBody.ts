/**
 * Fleet-provisioning template bodies, built as typed objects (serialized once, in the component).
 * The Thing attributes written here are the single source of truth for whoever indexes them.
 */

/** Thing attributes every provisioned vehicle carries. */
export const THING_ATTRIBUTES = { serial: "serial", country: "country", certDate: "CertDate", certExpiry: "CertExpiry" } as const;

/** A Thing type may make at most three attributes searchable. */
export const SEARCHABLE_ATTRIBUTES = [THING_ATTRIBUTES.serial, THING_ATTRIBUTES.country, THING_ATTRIBUTES.certDate];

/** Parameters a device sends (`SerialNumber`) or the hook overrides (`CertDate`). */
export const TEMPLATE_PARAMETERS = { serialNumber: "SerialNumber", certDate: "CertDate", certExpiry: "CertExpiry", certificateId: "AWS::IoT::Certificate::Id" } as const;

export type Ref = { Ref: string };
export type Join = { "Fn::Join": [string, (string | Ref)[]] };
type Value = string | Ref | Join;

export interface ProvisioningTemplateBody {
    Parameters: Record<string, { Type: "String"; Default?: string }>;
    Resources: {
        thing: {
            Type: "AWS::IoT::Thing";
            Properties: {
                ThingName: Join;
                ThingTypeName: string;
                ThingGroups: string[];
                AttributePayload: Record<string, Value>;
            };
            OverrideSettings: Record<"AttributePayload" | "ThingTypeName" | "ThingGroups", "REPLACE" | "DO_NOTHING" | "FAIL">;
        };
        certificate: {
            Type: "AWS::IoT::Certificate";
            Properties: { CertificateId: Ref; Status: "ACTIVE" };
        };
        policy: {
            Type: "AWS::IoT::Policy";
            Properties: PolicyProperties;
        };
        /** A second policy by name ("a thing, a certificate, and one or more IoT policies": developer guide, "Provisioning templates"). */
        rotationPolicy?: {
            Type: "AWS::IoT::Policy";
            Properties: { PolicyName: string };
        };
    };
}

/**
 * AWS IoT developer guide, "Provisioning templates > Policy resources": a policy resource names an
 * existing policy (`PolicyName`) or carries a document (`PolicyDocument`, "A JSON object specified as
 * an escaped string"; the name then "Defaults to a hash of the policy document"), "PolicyName or
 * PolicyDocument, but not both".
 */
export type PolicyProperties = { PolicyName: string } | { PolicyDocument: Join };

/** Stands for the SerialNumber parameter inside a document built by perThingPolicyDocument. */
export const SERIAL_PLACEHOLDER = "{{SerialNumber}}";

/**
 * A policy document for one provisioned Thing, as the template's `PolicyDocument`: the document is
 * built once with SERIAL_PLACEHOLDER where the serial goes (`<thingNamePrefix>{{SerialNumber}}` is
 * the Thing name), serialized, and the placeholder joined in with `Fn::Join` and `Ref`. The hook
 * admits only serials of [A-Za-z0-9_-] (and AWS IoT Thing names allow no quote), so a serial
 * cannot break out of the JSON string it lands in.
 */
export function perThingPolicyDocument(documentWithPlaceholder: object): Join {
    const parts = JSON.stringify(documentWithPlaceholder).split(SERIAL_PLACEHOLDER);
    if (parts.length < 2) throw new Error("perThingPolicyDocument: the document never names the Thing");
    const joined: (string | Ref)[] = [];
    parts.forEach((part, i) => {
        if (i > 0) joined.push({ Ref: TEMPLATE_PARAMETERS.serialNumber });
        if (part) joined.push(part);
    });
    return { "Fn::Join": ["", joined] };
}

export interface TemplateBodyArgs {
    thingNamePrefix: string;
    thingTypeName: string;
    /** Fixed by the template: a device never chooses its group (and so its deployments). */
    thingGroupName: string;
    /** An existing policy by name, or (policyDocument) a document created per Thing. */
    policyName?: string;
    policyDocument?: Join;
    /** Another existing policy the template attaches (cores: their rotation policy). */
    extraPolicyName?: string;
    country: string;
}

function policyProperties(args: TemplateBodyArgs): PolicyProperties {
    if ((args.policyName === undefined) === (args.policyDocument === undefined)) throw new Error("a provisioning template's policy: policyName or policyDocument, not both");
    return args.policyDocument ? { PolicyDocument: args.policyDocument } : { PolicyName: args.policyName! };
}

export function provisioningTemplateBody(args: TemplateBodyArgs): ProvisioningTemplateBody {
    const p = TEMPLATE_PARAMETERS;
    return {
        Parameters: {
            [p.serialNumber]: { Type: "String" },
            [p.certDate]: { Type: "String" },
            [p.certExpiry]: { Type: "String" },
            [p.certificateId]: { Type: "String" },
        },
        Resources: {
            thing: {
                Type: "AWS::IoT::Thing",
                Properties: {
                    ThingName: { "Fn::Join": ["", [args.thingNamePrefix, { Ref: p.serialNumber }]] },
                    ThingTypeName: args.thingTypeName,
                    ThingGroups: [args.thingGroupName],
                    AttributePayload: {
                        [THING_ATTRIBUTES.serial]: { Ref: p.serialNumber },
                        [THING_ATTRIBUTES.country]: args.country,
                        [THING_ATTRIBUTES.certDate]: { Ref: p.certDate },
                        [THING_ATTRIBUTES.certExpiry]: { Ref: p.certExpiry },
                    },
                },
                OverrideSettings: { AttributePayload: "REPLACE", ThingTypeName: "REPLACE", ThingGroups: "DO_NOTHING" },
            },
            certificate: {
                Type: "AWS::IoT::Certificate",
                Properties: { CertificateId: { Ref: p.certificateId }, Status: "ACTIVE" },
            },
            policy: {
                Type: "AWS::IoT::Policy",
                Properties: policyProperties(args),
            },
            ...(args.extraPolicyName ? { rotationPolicy: { Type: "AWS::IoT::Policy" as const, Properties: { PolicyName: args.extraPolicyName } } } : {}),
        },
    };
}
