import type { PolicyDocument } from "../../policies/document";

/**
 * AWS-managed policies the plan attaches, by name (after `arn:aws:iam::aws:policy/`). A document is simulated with
 * the role's own policies; `document: undefined` means the role is AWS's to drive (a service calls it with a list of
 * calls AWS does not publish), so the ledger records only that the plan attaches it.
 */
export const MANAGED_POLICIES: Record<string, { source: string; document?: PolicyDocument }> = {
    "service-role/AWSIoTThingsRegistration": {
        // Version v3 (default), edited 2020-10-05.
        source: "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSIoTThingsRegistration.html",
        document: {
            Version: "2012-10-17",
            Statement: [{
                Effect: "Allow",
                Action: [
                    "iot:AddThingToThingGroup", "iot:AttachPolicy", "iot:AttachPrincipalPolicy", "iot:AttachThingPrincipal", "iot:CreateCertificateFromCsr",
                    "iot:CreatePolicy", "iot:CreateThing", "iot:DescribeCertificate", "iot:DescribeThing", "iot:DescribeThingGroup", "iot:DescribeThingType",
                    "iot:DetachPolicy", "iot:DetachThingPrincipal", "iot:GetPolicy", "iot:ListAttachedPolicies", "iot:ListPolicyPrincipals",
                    "iot:ListPrincipalPolicies", "iot:ListPrincipalThings", "iot:ListTargetsForPolicy", "iot:ListThingGroupsForThing", "iot:ListThingPrincipals",
                    "iot:RegisterCertificate", "iot:RegisterThing", "iot:RemoveThingFromThingGroup", "iot:UpdateCertificate", "iot:UpdateThing",
                    "iot:UpdateThingGroupsForThing", "iot:AddThingToBillingGroup", "iot:DescribeBillingGroup", "iot:RemoveThingFromBillingGroup",
                ],
                Resource: ["*"],
            }],
        },
    },
    "service-role/AWSIoTDeviceDefenderAudit": {
        // Device Defender's audit reads the account's IoT configuration with calls AWS chooses per check.
        source: "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSIoTDeviceDefenderAudit.html",
    },
};
