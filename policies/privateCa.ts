import { ArnContext, iotArn, PolicyDocument, policyDocument } from "./document";

/** ARN of AWS IoT's certificate provider (SAR, AWS IoT resource type `certificateprovider`). */
export function certificateProviderArn(ctx: ArnContext, name: string): string {
    return iotArn(ctx, `certprovider/${name}`);
}

export interface CertificateProviderRolePolicyArgs {
    /** The function's own log group. */
    logGroupArn: string;
    /** The maker's AWS Private CA: the only CA the function may issue from. */
    certificateAuthorityArn: string;
    /** The only template it may issue with (`acm-pca:TemplateArn`). */
    templateArn: string;
}

/**
 * The certificate-provider Lambda (`privateCa` mode): write its own log group; issue from the stack's Private CA with
 * the stack's template only, and read back what it issued there. `acm-pca:TemplateArn` is IssueCertificate's
 * condition key in the Service Authorization Reference ("Filters access by the certificate template ARN"): a call
 * with another template, or none, is not allowed. GetCertificate has no such key; it reads certificates of that CA
 * only. Nothing else: no other CA, no RevokeCertificate, no CA administration.
 */
export function certificateProviderRolePolicy(a: CertificateProviderRolePolicyArgs): PolicyDocument {
    return policyDocument(
        { Sid: "OwnLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${a.logGroupArn}:*`] },
        {
            Sid: "IssueFromStackCaWithTemplate",
            Effect: "Allow",
            Action: ["acm-pca:IssueCertificate"],
            Resource: [a.certificateAuthorityArn],
            Condition: { StringEquals: { "acm-pca:TemplateArn": a.templateArn } },
        },
        { Sid: "ReadIssuedCertificates", Effect: "Allow", Action: ["acm-pca:GetCertificate"], Resource: [a.certificateAuthorityArn] },
    );
}
