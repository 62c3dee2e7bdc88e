/**
 * Values of the `privateCa` identity mode that the config, the component and the certificate-provider Lambda share
 * (no imports: the Lambda bundles this file).
 */

/**
 * The AWS Private CA templates a stack may issue vehicle certificates with: end-entity templates (basicConstraints
 * CA:FALSE) of the API-passthrough variety, so the subject the Lambda passes wins over the CSR's (AWS Private CA user
 * guide, "Template order of operations": template > API passthrough > CSR, and a base template copies the CSR's
 * Subject and Subject Alternative Name; "Template varieties" lists these ARNs).
 */
export const PRIVATE_CA_TEMPLATES = ["EndEntityClientAuthCertificate_APIPassthrough/V1", "EndEntityCertificate_APIPassthrough/V1"] as const;
export type PrivateCaTemplate = (typeof PRIVATE_CA_TEMPLATES)[number];

/**
 * IssueCertificate's SigningAlgorithm values (AWS Private CA user guide, "Supported cryptographic algorithms": the
 * family, RSA or ECDSA, "must match the algorithm family of the CA's private key").
 */
export const SIGNING_ALGORITHMS = ["SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA", "SHA256WITHRSA", "SHA384WITHRSA", "SHA512WITHRSA"] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** `arn:<partition>:acm-pca:::template/<name>`. */
export function privateCaTemplateArn(partition: string, template: PrivateCaTemplate): string {
    return `arn:${partition}:acm-pca:::template/${template}`;
}

/** The template name of a template ARN, or undefined when it is none of PRIVATE_CA_TEMPLATES. */
export function privateCaTemplateOf(arn: string): PrivateCaTemplate | undefined {
    const m = /^arn:aws[a-z-]*:acm-pca:::template\/(.+)$/.exec(arn);
    return PRIVATE_CA_TEMPLATES.find((t) => t === m?.[1]);
}

/** ub-organization-name (X.520): the longest O the certificate subject takes. */
export const MAX_ORGANIZATION = 64;
