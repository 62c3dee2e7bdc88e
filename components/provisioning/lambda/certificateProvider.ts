/**
 * AWS IoT certificate provider (`privateCa` identity mode): signs the CSR of every fleet-provisioning
 * `CreateCertificateFromCsr` (first provisioning by claim, and rotation) with the maker's AWS Private CA.
 *
 * AWS IoT developer guide, "Self-managed certificate signing using AWS IoT Core certificate provider"
 * (https://docs.aws.amazon.com/iot/latest/developerguide/provisioning-cert-provider.html): once an account has a
 * certificate provider, every `CreateCertificateFromCsr` of the MQTT fleet-provisioning API in that account and
 * region invokes its Lambda with `{certificateSigningRequest, principalId, clientId}` (the CSR in PEM, the
 * principal of the asking connection, its MQTT client id) and uses the `certificatePem` the function returns to
 * create the certificate. The pre-provisioning hook then decides RegisterThing as before: the serial's registry
 * entry binds the public key, whoever signed the certificate.
 *
 * What this function issues, and what it refuses (every refusal throws, so AWS IoT answers the device on
 * `.../create-from-csr/json/rejected`; the decision is logged as one JSON line, never the PEMs):
 * - the CSR must be one PKCS#10 request whose signature verifies with the key it carries (proof of possession),
 *   signed with SHA-256/384/512, and the key must be EC P-256, P-384 or P-521, or RSA of 2048 to 4096 bits
 *   (`weak-key`, `bad-signature`);
 * - a CSR asking for a CA (basicConstraints CA:TRUE, or keyUsage keyCertSign/cRLSign) is refused
 *   (`ca-certificate-requested`); the template is an end-entity client-authentication template besides;
 * - the subject is the stack's, never the device's: the certificate gets `O=<organization>,
 *   CN=<SHA-256 of the public key>` (the fingerprint the registry binds each serial to), passed as API passthrough
 *   (AWS Private CA user guide, "Template order of operations": API passthrough values win over the CSR's, and a
 *   base template would copy the CSR's Subject and Subject Alternative Name). A CSR may carry an empty subject or
 *   a single CN (the device's own label, as AWS IoT's own signer ignores it); any other attribute (O, OU, C,
 *   serialNumber, several CNs...) or a subjectAltName is a foreign subject and refused (`foreign-subject`), as is
 *   any extension or attribute it does not know (`unexpected-extension:<oid>`, `unexpected-attribute:<oid>`);
 * - it issues with `acm-pca:IssueCertificate` from the stack's CA, with its template, signing algorithm and
 *   validity (its role may use that CA with that template only), waits for `GetCertificate` within a bound, and
 *   returns the certificate only after checking it: not a CA, the CSR's key, the subject it asked for.
 *
 * Runs on the Node.js 22 Lambda runtime, whose bundled AWS SDK v3 it uses (not bundled here).
 */
import { createHash, createPublicKey, KeyObject, verify, X509Certificate } from "crypto";
import { ACMPCAClient, GetCertificateCommand, IssueCertificateCommand } from "@aws-sdk/client-acm-pca";
import { CertificationRequest } from "@peculiar/asn1-csr";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
    BasicConstraints, Certificate, Extension, Extensions, id_ce_basicConstraints, id_ce_extKeyUsage, id_ce_keyUsage, id_ce_subjectAltName, id_ce_subjectKeyIdentifier,
    KeyUsage, KeyUsageFlags,
} from "@peculiar/asn1-x509";
import { MAX_ORGANIZATION, PRIVATE_CA_TEMPLATES, privateCaTemplateArn, privateCaTemplateOf, PrivateCaTemplate, SigningAlgorithm, SIGNING_ALGORITHMS } from "../../../config/privateCaValues";

export interface ProviderEvent {
    certificateSigningRequest: string;
    principalId: string;
    clientId: string;
}

export interface ProviderResponse {
    certificatePem: string;
}

export { PRIVATE_CA_TEMPLATES, SIGNING_ALGORITHMS, privateCaTemplateArn as templateArn };
export type { PrivateCaTemplate, SigningAlgorithm };

export interface ProviderConfig {
    caArn: string;
    templateArn: string;
    signingAlgorithm: SigningAlgorithm;
    validityDays: number;
    /** The certificate subject's O. */
    organization: string;
}

export interface ProviderDeps {
    /** undefined when the environment is misconfigured: every request is then refused. */
    config: ProviderConfig | undefined;
    pca: Pick<ACMPCAClient, "send">;
    log: (line: string) => void;
    sleep: (ms: number) => Promise<void>;
    /** Milliseconds since the epoch (the wait's clock). */
    now: () => number;
    /** How long to wait for AWS Private CA to issue before refusing. */
    issueWaitMs: number;
    pollMs: number;
}

const CA_ARN = /^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]{36}$/;
/** Larger than any CSR of an accepted key (RSA 4096 with a few extensions is under 2 KB of PEM). */
const MAX_CSR_LENGTH = 8192;
/** X.520 ub-common-name. */
const MAX_CN = 64;

const OID = {
    commonName: "2.5.4.3",
    extensionRequest: "1.2.840.113549.1.9.14",
    rsaEncryption: "1.2.840.113549.1.1.1",
    ecPublicKey: "1.2.840.10045.2.1",
} as const;

/** The CSR signature algorithms accepted, with their hash (SHA-1 and MD5 are refused as weak). */
const SIGNATURE_HASHES: Record<string, string> = {
    "1.2.840.10045.4.3.2": "sha256", "1.2.840.10045.4.3.3": "sha384", "1.2.840.10045.4.3.4": "sha512",
    "1.2.840.113549.1.1.11": "sha256", "1.2.840.113549.1.1.12": "sha384", "1.2.840.113549.1.1.13": "sha512",
};
/**
 * AWS IoT developer guide, "X.509 client certificates" (x509-client-certs.html, CreateCertificateFromCsr): the CSR's
 * key is "an RSA key with a length of at least 2048 bits or an ECC key from NIST P-256, NIST P-384, or NIST P-521
 * curves". Anything else is refused here before AWS Private CA signs it.
 */
const EC_CURVES = ["prime256v1", "secp384r1", "secp521r1"];
const RSA_BITS = { min: 2048, max: 4096 };
/** Extensions a CSR may request that the template overrides or that say nothing about identity. */
const HARMLESS_EXTENSIONS = [id_ce_basicConstraints, id_ce_keyUsage, id_ce_extKeyUsage, id_ce_subjectKeyIdentifier];

export type Inspection = { ok: true; publicKey: KeyObject; fingerprint: string } | { ok: false; reason: string };

const refuse = (reason: string): Inspection => ({ ok: false, reason });

/** SHA-256 of the DER SubjectPublicKeyInfo, hex (components/runtime/keyFingerprint.ts computes the same). */
function fingerprintOf(key: KeyObject): string {
    return createHash("sha256").update(key.export({ type: "spki", format: "der" })).digest("hex");
}

function csrDer(pem: unknown): Buffer | undefined {
    if (typeof pem !== "string" || pem.length > MAX_CSR_LENGTH) return undefined;
    const blocks = [...pem.matchAll(/-----BEGIN (NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)-----END (NEW )?CERTIFICATE REQUEST-----/g)];
    if (blocks.length !== 1) return undefined;
    const outside = pem.replace(blocks[0][0], "").trim();
    if (outside) return undefined;
    return Buffer.from(blocks[0][2].replace(/\s+/g, ""), "base64");
}

/** The key's strength: EC P-256/P-384/P-521, RSA 2048-4096. */
function keyStrength(key: KeyObject, algorithm: string): string | undefined {
    const d = key.asymmetricKeyDetails ?? {};
    if (algorithm === OID.ecPublicKey && key.asymmetricKeyType === "ec") return EC_CURVES.includes(d.namedCurve ?? "") ? undefined : `weak-key:ec-${d.namedCurve ?? "unknown"}`;
    if (algorithm === OID.rsaEncryption && key.asymmetricKeyType === "rsa") {
        const bits = d.modulusLength ?? 0;
        return bits >= RSA_BITS.min && bits <= RSA_BITS.max ? undefined : `weak-key:rsa-${bits}`;
    }
    return `weak-key:${key.asymmetricKeyType ?? "unknown"}`;
}

/** basicConstraints CA:TRUE, or keyUsage keyCertSign / cRLSign: what makes a CA certificate. */
function makesCa(e: Extension): boolean {
    const value = e.extnValue.buffer;
    if (e.extnID === id_ce_basicConstraints) return AsnConvert.parse(value, BasicConstraints).cA;
    if (e.extnID === id_ce_keyUsage) return (AsnConvert.parse(value, KeyUsage).toNumber() & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)) !== 0;
    return false;
}

function extensionReason(extensions: Extensions): string | undefined {
    for (const e of extensions) {
        if (makesCa(e)) return "ca-certificate-requested";
        if (e.extnID === id_ce_subjectAltName) return "foreign-subject:subject-alternative-name";
        if (!HARMLESS_EXTENSIONS.includes(e.extnID)) return `unexpected-extension:${e.extnID}`;
    }
    return undefined;
}

/**
 * What the CSR asks for, held to the rules in the module comment. Never throws: anything unreadable is a
 * refusal (`malformed-csr`).
 */
export function inspectCsr(pem: unknown): Inspection {
    const der = csrDer(pem);
    if (!der) return refuse("malformed-csr");
    let csr: CertificationRequest;
    let publicKey: KeyObject;
    try {
        csr = AsnConvert.parse(der, CertificationRequest);
        publicKey = createPublicKey({ key: Buffer.from(AsnConvert.serialize(csr.certificationRequestInfo.subjectPKInfo)), format: "der", type: "spki" });
    } catch {
        return refuse("malformed-csr");
    }
    const info = csr.certificationRequestInfo;
    const weak = keyStrength(publicKey, info.subjectPKInfo.algorithm.algorithm);
    if (weak) return refuse(weak);
    const hash = SIGNATURE_HASHES[csr.signatureAlgorithm.algorithm];
    if (!hash) return refuse(`weak-signature:${csr.signatureAlgorithm.algorithm}`);
    try {
        const signed = Buffer.from(csr.certificationRequestInfoRaw ?? AsnConvert.serialize(info));
        if (!verify(hash, signed, publicKey, Buffer.from(csr.signature))) return refuse("bad-signature");
    } catch {
        return refuse("bad-signature");
    }
    // Subject: empty, or one CN and nothing else.
    const attributes = info.subject.flatMap((rdn) => [...rdn]);
    if (attributes.length > 1 || attributes.some((a) => a.type !== OID.commonName)) return refuse("foreign-subject");
    if (attributes.length === 1 && attributes[0].value.toString().length > MAX_CN) return refuse("foreign-subject");
    try {
        for (const attribute of info.attributes ?? []) {
            if (attribute.type !== OID.extensionRequest) return refuse(`unexpected-attribute:${attribute.type}`);
            for (const value of attribute.values) {
                const reason = extensionReason(AsnConvert.parse(value, Extensions));
                if (reason) return refuse(reason);
            }
        }
    } catch {
        return refuse("malformed-csr");
    }
    return { ok: true, publicKey, fingerprint: fingerprintOf(publicKey) };
}

/**
 * Whether a certificate is a CA's by its extensions (node's `X509Certificate.ca` is OpenSSL's X509_check_ca, which
 * also wants keyCertSign: a CA:TRUE certificate without it reads false there).
 */
export function isCaCertificate(cert: X509Certificate): boolean {
    const parsed = AsnConvert.parse(cert.raw, Certificate);
    return (parsed.tbsCertificate.extensions ?? []).some(makesCa);
}

/** The subject this stack gives every certificate: its organization, and the key's fingerprint as CN. */
export function certificateSubject(config: ProviderConfig, fingerprint: string): { Organization: string; CommonName: string } {
    return { Organization: config.organization, CommonName: fingerprint };
}

/** Reads the (non-secret) environment the component sets; undefined when anything is missing or malformed. */
export function configFromEnv(env: Record<string, string | undefined>): ProviderConfig | undefined {
    const validityDays = Number(env.VALIDITY_DAYS);
    const c = {
        caArn: env.CA_ARN ?? "",
        templateArn: env.TEMPLATE_ARN ?? "",
        signingAlgorithm: env.SIGNING_ALGORITHM as SigningAlgorithm,
        validityDays,
        organization: env.ORGANIZATION ?? "",
    };
    if (!CA_ARN.test(c.caArn) || !privateCaTemplateOf(c.templateArn) || !SIGNING_ALGORITHMS.includes(c.signingAlgorithm)) return undefined;
    if (!Number.isInteger(validityDays) || validityDays < 1 || !c.organization || c.organization.length > MAX_ORGANIZATION) return undefined;
    return c;
}

const errorName = (err: unknown): string => (err as { name?: string })?.name ?? "Error";
const safe = (v: unknown): string | undefined => (typeof v === "string" ? v.slice(0, 256) : undefined);

/** Issues the certificate and waits for it (bounded); checks it before returning it. */
async function issue(deps: ProviderDeps, config: ProviderConfig, csrPem: string, wanted: { publicKey: KeyObject; fingerprint: string }): Promise<{ certificatePem: string; certificateArn: string }> {
    const subject = certificateSubject(config, wanted.fingerprint);
    const issued = await deps.pca.send(new IssueCertificateCommand({
        CertificateAuthorityArn: config.caArn,
        Csr: Buffer.from(csrPem),
        SigningAlgorithm: config.signingAlgorithm,
        TemplateArn: config.templateArn,
        Validity: { Type: "DAYS", Value: config.validityDays },
        ApiPassthrough: { Subject: subject },
        // The same CSR sent twice (a lost answer) within AWS Private CA's idempotency window is one certificate.
        IdempotencyToken: createHash("sha256").update(csrPem).digest("hex").slice(0, 36),
    }));
    const certificateArn = issued.CertificateArn;
    if (!certificateArn) throw new Error("IssueCertificate returned no CertificateArn");
    const deadline = deps.now() + deps.issueWaitMs;
    for (;;) {
        try {
            const got = await deps.pca.send(new GetCertificateCommand({ CertificateAuthorityArn: config.caArn, CertificateArn: certificateArn }));
            if (!got.Certificate) throw new Error("GetCertificate returned no Certificate");
            const cert = new X509Certificate(got.Certificate);
            // What AWS Private CA made must be what was asked for, or nothing is returned.
            if (isCaCertificate(cert)) throw Object.assign(new Error("issued a CA certificate"), { name: "IssuedMismatch" });
            if (fingerprintOf(cert.publicKey) !== wanted.fingerprint) throw Object.assign(new Error("issued for another key"), { name: "IssuedMismatch" });
            if (!cert.subject.split("\n").includes(`CN=${subject.CommonName}`)) throw Object.assign(new Error("issued with another subject"), { name: "IssuedMismatch" });
            return { certificatePem: got.Certificate, certificateArn };
        } catch (err) {
            // GetCertificate: "RequestInProgressException: Your request is already in progress" until it is issued.
            if (errorName(err) !== "RequestInProgressException" || deps.now() + deps.pollMs > deadline) throw err;
            await deps.sleep(deps.pollMs);
        }
    }
}

export function createHandler(deps: ProviderDeps): (event: unknown) => Promise<ProviderResponse> {
    return async (event: unknown): Promise<ProviderResponse> => {
        const e = (event && typeof event === "object" ? event : {}) as Partial<ProviderEvent>;
        const record: Record<string, unknown> = { event: "certificate-provider-decision", principalId: safe(e.principalId), clientId: safe(e.clientId) };
        const done = (fields: Record<string, unknown>) => deps.log(JSON.stringify({ ...record, ...fields }));
        if (!deps.config) {
            done({ issued: false, reason: "misconfigured" });
            throw new Error("certificate request refused: misconfigured");
        }
        const inspection = inspectCsr(e.certificateSigningRequest);
        if (!inspection.ok) {
            done({ issued: false, reason: inspection.reason });
            throw new Error(`certificate request refused: ${inspection.reason}`);
        }
        try {
            const { certificatePem, certificateArn } = await issue(deps, deps.config, e.certificateSigningRequest as string, inspection);
            done({ issued: true, publicKeyFingerprint: inspection.fingerprint, certificateArn });
            return { certificatePem };
        } catch (err) {
            const reason = `issue-failed:${safe(errorName(err))}`;
            done({ issued: false, publicKeyFingerprint: inspection.fingerprint, reason });
            throw new Error(`certificate request refused: ${reason}`);
        }
    };
}

let cached: ((event: unknown) => Promise<ProviderResponse>) | undefined;

/** Lambda entry point. Configuration comes from the (non-secret) environment. */
export async function handler(event: unknown): Promise<ProviderResponse> {
    cached ??= createHandler({
        config: configFromEnv(process.env),
        pca: new ACMPCAClient({ maxAttempts: 2 }),
        log: (line) => process.stdout.write(`${line}\n`),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        now: () => Date.now(),
        issueWaitMs: ISSUE_WAIT_MS,
        pollMs: 250,
    });
    return cached(event);
}

/** The bound on waiting for AWS Private CA; the function's timeout leaves room for it and the issue call. */
export const ISSUE_WAIT_MS = 6000;
export const FUNCTION_TIMEOUT_SECONDS = 10;
