import type { ActorLedger } from "./types";
import { lambdaLogCalls, otherFunctionLogs } from "./lambdaLogs";

const HANDLER = "components/provisioning/lambda/certificateProvider.ts";
// Service Authorization Reference, AWS Private CA: IssueCertificate and GetCertificate are authorized on the
// certificate-authority resource; IssueCertificate's condition key acm-pca:TemplateArn is the template the request
// names (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsprivatecertificateauthority.html).
const SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsprivatecertificateauthority.html";
const OTHER_CA = "arn:${Partition}:acm-pca:${Region}:${Account}:certificate-authority/00000000-1111-2222-3333-444444444444";

/** The certificate-provider Lambda of the privateCa mode, as its handler calls AWS (every `new XxxCommand`). */
export const certificateProvider: ActorLedger = {
    actor: "certificate provider (privateCa)",
    principal: { role: "-private-ca-fn-role" },
    lambdas: ["-private-ca-fn"],
    calls: [
        ...lambdaLogCalls("${NamePrefix}-certificate-provider"),
        { action: "acm-pca:IssueCertificate", resource: "${PrivateCaArn}", context: { "acm-pca:TemplateArn": "${PrivateCaTemplateArn}" }, source: `${HANDLER}:231 (issue)` },
        { action: "acm-pca:GetCertificate", resource: "${PrivateCaArn}", source: `${HANDLER}:246 (issue)` },
    ],
    mustDeny: [
        otherFunctionLogs(),
        {
            action: "acm-pca:IssueCertificate", resource: "${PrivateCaArn}", context: { "acm-pca:TemplateArn": "arn:${Partition}:acm-pca:::template/SubordinateCACertificate_PathLen0_APIPassthrough/V1" },
            why: "a CA certificate from the maker's CA (another template)", source: SAR,
        },
        {
            action: "acm-pca:IssueCertificate", resource: "${PrivateCaArn}", context: { "acm-pca:TemplateArn": "arn:${Partition}:acm-pca:::template/EndEntityClientAuthCertificate_APICSRPassthrough/V1" },
            why: "a template that copies the CSR's extensions", source: SAR,
        },
        { action: "acm-pca:IssueCertificate", resource: "${PrivateCaArn}", why: "a request naming no template (AWS Private CA then uses EndEntityCertificate/V1)", source: SAR },
        { action: "acm-pca:IssueCertificate", resource: OTHER_CA, context: { "acm-pca:TemplateArn": "${PrivateCaTemplateArn}" }, why: "another CA of the account", source: SAR },
        { action: "acm-pca:GetCertificate", resource: OTHER_CA, why: "certificates of another CA", source: SAR },
        { action: "acm-pca:RevokeCertificate", resource: "${PrivateCaArn}", why: "revoking is the PKI team's, not the signer's", source: SAR },
        { action: "acm-pca:CreatePermission", resource: "${PrivateCaArn}", why: "administering the CA", source: SAR },
        { action: "acm-pca:GetCertificateAuthorityCsr", resource: "${PrivateCaArn}", why: "anything of the CA but issuing", source: SAR },
    ],
    notes: "The CSR checks (CA requests, foreign subjects, weak keys) are the handler's: test/certificateProvider.test.ts.",
};
