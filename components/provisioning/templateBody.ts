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

type Ref = { Ref: string };
type Join = { "Fn::Join": [string, (string | Ref)[]] };
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
            Properties: { PolicyName: string };
        };
    };
}

export interface TemplateBodyArgs {
    thingNamePrefix: string;
    thingTypeName: string;
    /** Fixed by the template: a device never chooses its group (and so its deployments). */
    thingGroupName: string;
    policyName: string;
    country: string;
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
                Properties: { PolicyName: args.policyName },
            },
        },
    };
}
