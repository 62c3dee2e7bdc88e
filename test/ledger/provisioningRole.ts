import type { ActorLedger } from "./types";

const FP = "https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html";
const arn = (r: string) => `arn:\${Partition}:iot:\${Region}:\${Account}:${r}`;

/**
 * The fleet-provisioning role: AWS IoT runs the template's resources with it on RegisterThing ("Provisioning
 * devices that don't have device certificates using fleet provisioning": the role with AWSIoTThingsRegistration):
 * the Thing (create or update, type, groups), the certificate (activate, attach) and the policy attachment.
 */
export const provisioningRole: ActorLedger = {
    actor: "fleet provisioning (RegisterThing)",
    principal: { role: "-provisioning-provisioning-role" },
    managedPolicies: ["service-role/AWSIoTThingsRegistration"],
    calls: [
        { action: "iot:CreateThing", resource: arn("thing/${ThingName}"), source: FP },
        { action: "iot:UpdateThing", resource: arn("thing/${ThingName}"), source: FP },
        { action: "iot:DescribeThingType", resource: arn("thingtype/${NamePrefix}-vehicle"), source: FP },
        { action: "iot:AddThingToThingGroup", resource: arn("thinggroup/${thingGroupName}"), source: FP },
        { action: "iot:UpdateCertificate", resource: arn("cert/${CertificateId}"), source: FP },
        { action: "iot:AttachThingPrincipal", resource: arn("cert/${CertificateId}"), source: FP },
        { action: "iot:AttachPolicy", resource: arn("cert/${CertificateId}"), source: FP },
    ],
    mustDeny: [
        { action: "iot:DeleteThing", resource: arn("thing/${ThingName}"), why: "provisioning never deletes", source: FP },
        { action: "iot:DeleteCertificate", resource: arn("cert/${CertificateId}"), why: "provisioning never deletes", source: FP },
    ],
    notes: "AWSIoTThingsRegistration grants its actions on *: the must-deny list can only hold what it leaves out.",
};
