import * as crypto from "crypto";
import { z } from "zod";
import { ConfigError } from "./errors";
import { MAX_ORGANIZATION, PRIVATE_CA_TEMPLATES, privateCaTemplateArn, privateCaTemplateOf, SIGNING_ALGORITHMS } from "./privateCaValues";
import { list, oneOf, section, text, wholeNumber } from "./schema";

/**
 * `provisioning.identity`: where a vehicle's certificate comes from.
 *
 * - `claim` (default, today's behaviour): fleet provisioning by claim; AWS IoT signs the certificate.
 * - `oemCa`: units leave the factory with a certificate signed by the maker's CA; the stack registers the
 *   CA certificate (SNI_ONLY, so one CA serves every country account) and a just-in-time registration
 *   function makes the Thing, after checking the unit belongs to this stack's fleet (docs/identity.md).
 * - `privateCa`: fleet provisioning by claim, but AWS IoT's certificate provider has every certificate
 *   issued by the maker's AWS Private CA.
 */

export const IDENTITY_MODES = ["claim", "oemCa", "privateCa"] as const;
export type IdentityMode = (typeof IDENTITY_MODES)[number];

/** The subject attribute that carries a unit's serial (the Thing is `<thingNamePrefix><serial>`). */
export const SERIAL_FIELDS = ["CN", "serialNumber"] as const;
export type SerialField = (typeof SERIAL_FIELDS)[number];

/**
 * How a unit's membership of this stack's fleet is decided. The registry always decides (the serial is
 * registered here, not revoked, and bound to the certificate's public key); `registryAndSubjectCountry`
 * also requires the subject's C attribute to be the stack's country, for makers whose CA writes it.
 */
export const MEMBERSHIP = ["registry", "registryAndSubjectCountry"] as const;
export type Membership = (typeof MEMBERSHIP)[number];

const CA_PEM = "a PEM CA certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----) with basicConstraints CA:TRUE, currently valid; the certificate only, never its key";
const PEM_SHAPE = /^\s*-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$/;

/** A CA certificate as AWS IoT's RegisterCACertificate takes it: one PEM certificate, a CA, in its validity. */
const caCertificatePem = z.string({ error: (i) => (i.input === undefined ? `required; ${CA_PEM}` : CA_PEM) }).superRefine((pem, ctx) => {
    if (/PRIVATE KEY/.test(pem)) {
        ctx.addIssue({ code: "custom", input: pem, message: "a private key: the CA's key never belongs in a stack file (only its certificate); remove it and rotate the key if it was committed" });
        return;
    }
    if (!PEM_SHAPE.test(pem)) {
        ctx.addIssue({ code: "custom", input: pem, message: CA_PEM });
        return;
    }
    let cert: crypto.X509Certificate;
    try {
        cert = new crypto.X509Certificate(pem);
    } catch {
        ctx.addIssue({ code: "custom", input: pem, message: `${CA_PEM}; this one does not parse as X.509` });
        return;
    }
    if (!cert.ca) ctx.addIssue({ code: "custom", input: pem, message: `${CA_PEM}; this one is not a CA (basicConstraints CA:FALSE or absent): it is a device certificate` });
    else if (Date.parse(cert.validTo) <= Date.now()) ctx.addIssue({ code: "custom", input: pem, message: `${CA_PEM}; this one expired ${cert.validTo}` });
}).meta({ description: CA_PEM });

export const oemCaSchema = section({
    caCertificates: list(caCertificatePem, 1, "a PEM CA certificate").max(4, { error: "a list of at most 4 CA certificates (the current CA and the ones it is rolling over to or from)" })
        .meta({ description: "the maker's CA certificate(s) that sign units for this fleet (public certificates, never keys); more than one while the maker rolls its CA over" }),
    serialField: oneOf(SERIAL_FIELDS).optional()
        .meta({ description: "the subject attribute carrying the unit's serial: CN (default) or serialNumber (OID 2.5.4.5)" }),
    membership: oneOf(MEMBERSHIP).optional()
        .meta({ description: "how a unit's membership of this stack's fleet is decided: registry (default: the serial registered here and bound to the certificate's key) or registryAndSubjectCountry (also the subject's C = the stack's country)" }),
}, "units arrive with a certificate signed by the maker's CA (just-in-time registration)");

const PCA_ARN = /^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]{36}$/;
const PCA_TEMPLATE_ARN = "an AWS Private CA end-entity template ARN with API passthrough (the stack sets the subject): "
    + PRIVATE_CA_TEMPLATES.map((t) => privateCaTemplateArn("aws", t)).join(" or ");

export const privateCaSchema = section({
    certificateAuthorityArn: text("an AWS Private CA ARN: arn:aws:acm-pca:<region>:<account>:certificate-authority/<uuid>", PCA_ARN),
    templateArn: z.string({ error: PCA_TEMPLATE_ARN }).refine((v) => privateCaTemplateOf(v) !== undefined, { error: PCA_TEMPLATE_ARN }).optional()
        .meta({ description: `${PCA_TEMPLATE_ARN} (default the first)` }),
    validityDays: wholeNumber(1, 3650).optional()
        .meta({ description: "days a certificate the Private CA issues stays valid (default 365)" }),
    signingAlgorithm: oneOf(SIGNING_ALGORITHMS)
        .meta({ description: "how the Private CA signs: ECDSA for a CA with an EC key (EC_prime256v1: SHA256WITHECDSA), RSA for an RSA one (RSA_2048: SHA256WITHRSA)" }),
    organization: text(`the maker's organization name for the certificates' subject (O=), 1-${MAX_ORGANIZATION} characters`, new RegExp(`^[\\p{L}\\p{N} .,'&()/-]{1,${MAX_ORGANIZATION}}$`, "u"))
        .meta({ description: "the O= of every vehicle certificate's subject (the CN is the SHA-256 of the unit's public key); the CSR's own subject is never copied" }),
    certificateProviderOwner: text("the name of the stack (in this account and region) that owns AWS IoT's certificate provider", /^[A-Za-z0-9_.-]{1,100}$/).optional()
        .meta({ description: "the one stack in this account and region that creates AWS IoT's certificate provider (an account-and-region singleton); default this stack" }),
}, "fleet provisioning by claim with certificates issued by the maker's AWS Private CA");

export const identitySchema = section({
    mode: oneOf(IDENTITY_MODES).optional()
        .meta({ description: "claim (default: fleet provisioning by claim), oemCa (the maker's CA signs units at the factory) or privateCa (claim, certificates from the maker's AWS Private CA)" }),
    oemCa: oemCaSchema.optional(),
    privateCa: privateCaSchema.optional(),
}, "where a vehicle's certificate comes from (docs/identity.md)");

/**
 * The default template: end entity (CA:FALSE), key usage digitalSignature, extended key usage clientAuth, and API
 * passthrough so the subject is the one the certificate-provider Lambda sets (components/provisioning/lambda/certificateProvider.ts).
 */
export const DEFAULT_PCA_TEMPLATE = privateCaTemplateArn("aws", PRIVATE_CA_TEMPLATES[0]);

export function resolveIdentity(key: string, i: z.output<typeof identitySchema> | undefined, ctx: { stack: string; hookMode: string; deviceKeys?: string; region: string; stacks?: string[] }) {
    const mode: IdentityMode = i?.mode ?? "claim";
    for (const m of ["oemCa", "privateCa"] as const) {
        if (i?.[m] !== undefined && mode !== m) throw new ConfigError(`${key}.${m}`, "(set)", `only with mode: ${m} (mode is ${mode}); remove the section or set mode: ${m}`);
    }
    if (mode === "oemCa") {
        const o = i?.oemCa;
        if (!o) throw new ConfigError(`${key}.oemCa`, undefined, "required with mode: oemCa; an object with caCertificates (the maker's CA certificates)");
        if (ctx.hookMode !== "registry") {
            throw new ConfigError(`${key}.mode`, mode, "claim or privateCa with hookMode: prefix (oemCa decides a unit's membership of the fleet by the registry: set hookMode: registry)");
        }
        const ids = o.caCertificates.map((pem) => new crypto.X509Certificate(pem).fingerprint256);
        const twin = ids.findIndex((id, n) => ids.indexOf(id) < n);
        if (twin >= 0) throw new ConfigError(`${key}.oemCa.caCertificates[${twin}]`, o.caCertificates[twin], "must not repeat an earlier certificate (the same CA, re-encoded)");
        return {
            mode,
            oemCa: {
                /** PEM CA certificates, registered with AWS IoT in SNI_ONLY mode. */
                caCertificates: o.caCertificates.map((pem) => pem.trim() + "\n"),
                serialField: o.serialField ?? "CN" as SerialField,
                membership: o.membership ?? "registry" as Membership,
            },
            privateCa: undefined,
        };
    }
    if (mode === "privateCa") {
        const p = i?.privateCa;
        if (!p) throw new ConfigError(`${key}.privateCa`, undefined, "required with mode: privateCa; an object with certificateAuthorityArn");
        // AWS IoT developer guide, "Self-managed certificate signing using AWS IoT Core certificate provider": the
        // provider serves CreateCertificateFromCsr; CreateKeysAndCertificate (deviceKeys: aws) would still be AWS-signed.
        if (ctx.deviceKeys !== undefined && ctx.deviceKeys !== "device") {
            throw new ConfigError(`${key}.mode`, mode, "claim with deviceKeys: aws (the certificate provider signs CSRs only: units must make their keys, deviceKeys: device, for the Private CA to sign their certificates)");
        }
        const caRegion = p.certificateAuthorityArn.split(":")[3];
        if (caRegion !== ctx.region) {
            throw new ConfigError(`${key}.privateCa.certificateAuthorityArn`, p.certificateAuthorityArn, `a Private CA in the stack's region ${ctx.region} (this one is in ${caRegion}; AWS IoT's certificate provider issues from the region it runs in)`);
        }
        const owner = p.certificateProviderOwner ?? ctx.stack;
        if (ctx.stacks && owner !== ctx.stack && !ctx.stacks.includes(owner)) {
            throw new ConfigError(`${key}.privateCa.certificateProviderOwner`, owner, `a stack of this project (stack files here: ${ctx.stacks.join(", ")}): the owner is the one stack that creates the account's and region's certificate provider`);
        }
        return {
            mode,
            oemCa: undefined,
            privateCa: {
                certificateAuthorityArn: p.certificateAuthorityArn,
                templateArn: p.templateArn ?? DEFAULT_PCA_TEMPLATE,
                validityDays: p.validityDays ?? 365,
                signingAlgorithm: p.signingAlgorithm,
                organization: p.organization,
                /** The stack that creates the account-and-region certificate provider. */
                certificateProviderOwner: owner,
                ownsCertificateProvider: owner === ctx.stack,
            },
        };
    }
    return { mode, oemCa: undefined, privateCa: undefined };
}

export type IdentityConfig = ReturnType<typeof resolveIdentity>;
export type OemCaConfig = NonNullable<IdentityConfig["oemCa"]>;
export type PrivateCaConfig = NonNullable<IdentityConfig["privateCa"]>;
