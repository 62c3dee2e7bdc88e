/**
 * AWS Private CA as the certificate-provider Lambda meets it: IssueCertificate and GetCertificate, answered by a
 * CA made here (no key material is committed). What it models, each from AWS's documentation:
 * - IssueCertificate is asynchronous: GetCertificate answers `RequestInProgressException` until the certificate is
 *   issued (AWS Private CA API reference, GetCertificate: "RequestInProgressException: Your request is already in
 *   progress");
 * - the template decides the extensions (end entity: basicConstraints CA:FALSE, client authentication); the subject
 *   comes from `ApiPassthrough.Subject` with an APIPassthrough template and from the CSR otherwise, and the CSR's
 *   Subject Alternative Name is copied even by a base template (AWS Private CA user guide, "Template order of
 *   operations", https://docs.aws.amazon.com/privateca/latest/userguide/template-order-of-operations.html);
 * - an unknown CA ARN is `ResourceNotFoundException`.
 * `misbehave` makes it issue what was not asked (a CA certificate, another key), for the Lambda's own checks.
 */
import { makeKeys, type CryptoKeyPair } from "./x509";
import { webcrypto } from "crypto";
import type { GetCertificateCommandInput, IssueCertificateCommandInput } from "@aws-sdk/client-acm-pca";
import * as x509 from "@peculiar/x509";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const SUBJECT_KEYS: Record<string, string> = { Country: "C", Organization: "O", OrganizationalUnit: "OU", CommonName: "CN", SerialNumber: "serialNumber" };

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: {} });

export class PrivateCaDouble {
    /** Calls of GetCertificate that answer in-progress before a certificate is ready. */
    inProgressPolls = 1;
    misbehave?: "ca-certificate" | "other-key";
    readonly issued = new Map<string, { pem: string; polls: number }>();

    private constructor(readonly caArn: string, private readonly keys: CryptoKeyPair, readonly caCert: x509.X509Certificate) {}

    static async create(caArn: string, name = "CN=Maker Vehicle Issuing CA,O=Maker"): Promise<PrivateCaDouble> {
        const keys = await makeKeys();
        const caCert = await x509.X509CertificateGenerator.createSelfSigned({
            serialNumber: "01", name, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 10 * 365 * 86_400_000),
            keys: keys as never, signingAlgorithm: ALG,
            extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
        });
        return new PrivateCaDouble(caArn, keys, caCert);
    }

    get caPem(): string {
        return this.caCert.toString("pem");
    }

    async issue(input: IssueCertificateCommandInput): Promise<{ CertificateArn: string }> {
        if (input.CertificateAuthorityArn !== this.caArn) throw awsError("ResourceNotFoundException", `Could not find certificate authority ${input.CertificateAuthorityArn}`);
        const csr = new x509.Pkcs10CertificateRequest(Buffer.from(input.Csr as Uint8Array).toString());
        const apiPassthrough = /_API(CSR)?Passthrough\//.test(input.TemplateArn ?? "");
        const passSubject = apiPassthrough && input.ApiPassthrough?.Subject
            ? Object.entries(input.ApiPassthrough.Subject).filter(([, v]) => typeof v === "string").map(([k, v]) => `${SUBJECT_KEYS[k] ?? k}=${v}`).join(",")
            : undefined;
        const san = csr.getExtension("2.5.29.17");
        const other = this.misbehave === "other-key" ? (await makeKeys()).publicKey : undefined;
        const days = input.Validity?.Type === "DAYS" ? Number(input.Validity.Value) : 1;
        const cert = await x509.X509CertificateGenerator.create({
            serialNumber: webcrypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, "0"), "7"),
            subject: passSubject ?? csr.subject,
            issuer: this.caCert.subject,
            notBefore: new Date(Date.now() - 60_000),
            notAfter: new Date(Date.now() + days * 86_400_000),
            signingKey: this.keys.privateKey as never,
            publicKey: (other ?? await csr.publicKey.export()) as never,
            signingAlgorithm: ALG,
            extensions: [
                new x509.BasicConstraintsExtension(this.misbehave === "ca-certificate", undefined, true),
                new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
                new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
                ...(san ? [san] : []),
            ],
        });
        const arn = `${this.caArn}/certificate/${cert.serialNumber}`;
        this.issued.set(arn, { pem: cert.toString("pem"), polls: 0 });
        return { CertificateArn: arn };
    }

    async get(input: GetCertificateCommandInput): Promise<{ Certificate: string; CertificateChain: string }> {
        const found = input.CertificateAuthorityArn === this.caArn ? this.issued.get(input.CertificateArn ?? "") : undefined;
        if (!found) throw awsError("ResourceNotFoundException", `Could not find certificate ${input.CertificateArn}`);
        if (found.polls++ < this.inProgressPolls) throw awsError("RequestInProgressException", "Your request is already in progress.");
        return { Certificate: found.pem, CertificateChain: this.caPem };
    }
}
