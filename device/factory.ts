/**
 * The maker's side of `provisioning.identity.mode: oemCa`, for trying the flow without the maker's PKI:
 * - `factory-ca`: a THROWAWAY test CA (EC P-256, CA:TRUE, pathlen 0, keyCertSign and cRLSign). Never for
 *   production: a real maker's CA key lives in its HSM and never leaves it; nothing here is committed and
 *   the tests make their own.
 * - `factory-issue`: what the factory's HSM-backed CA does at end of line: signs a unit's CSR (the unit's key
 *   never leaves it) after checking the CSR's signature, with the subject the factory decides (the serial in
 *   CN or serialNumber, C for the country), never the CSR's own subject; an end-entity certificate
 *   (CA:FALSE, digitalSignature, clientAuth) valid for the days given.
 * - `csr`: the unit's CSR for its registered key (`keygen`'s unit-key.pem).
 */
import { createPrivateKey, randomBytes, webcrypto } from "crypto";
import * as x509 from "@peculiar/x509";
import { makeKeyAndCsr } from "./credentials";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export class FactoryError extends Error {}

export type SerialField = "CN" | "serialNumber";

/** X.520 serialNumber (RFC 4519 §2.31), by OID: @peculiar/x509's name parser knows no short name for it. */
const SERIAL_NUMBER_OID = "2.5.4.5";

/** RFC 4514 value escaping for the attributes we write. */
const escape = (v: string) => v.replace(/([,+"\\<>;=])/g, "\\$1");

async function importEcKey(keyPem: string): Promise<webcrypto.CryptoKey> {
    const der = createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" });
    return webcrypto.subtle.importKey("pkcs8", der, ALG, false, ["sign"]);
}

const pemOfKey = (der: ArrayBuffer) => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;

/** A throwaway CA for trying oemCa: its certificate and its key (PKCS#8 PEM). */
export async function makeFactoryCa(o: { subject?: string; days?: number; now?: Date } = {}): Promise<{ certPem: string; keyPem: string }> {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as webcrypto.CryptoKeyPair;
    const now = o.now ?? new Date();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: randomBytes(16).toString("hex").replace(/^[89a-f]/, "1"),
        name: o.subject ?? "CN=Throwaway Test Vehicle CA (never for production),O=fms-iot test",
        notBefore: new Date(now.getTime() - 60_000),
        notAfter: new Date(now.getTime() + (o.days ?? 30) * 86_400_000),
        keys: keys as never,
        signingAlgorithm: ALG,
        extensions: [
            new x509.BasicConstraintsExtension(true, 0, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
            await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
        ],
    });
    return { certPem: cert.toString("pem"), keyPem: pemOfKey(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)) };
}

export interface IssueOptions {
    caCertPem: string;
    caKeyPem: string;
    csrPem: string;
    serial: string;
    serialField: SerialField;
    /** ISO 3166-1 alpha-2; written as the subject's C when given. */
    country?: string;
    days: number;
    /** Start of validity (default now, less a minute of clock skew). */
    notBefore?: Date;
}

/** Signs a unit's CSR as the factory's CA would: the subject is the factory's, the key the CSR's. */
export async function issueFromCsr(o: IssueOptions): Promise<string> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(o.serial)) throw new FactoryError(`--serial ${o.serial.slice(0, 64)}: 1-64 characters of A-Z a-z 0-9 _ -`);
    if (o.country !== undefined && !/^[A-Z]{2}$/.test(o.country)) throw new FactoryError(`--country ${o.country}: an ISO 3166-1 alpha-2 code in upper case`);
    let csr: x509.Pkcs10CertificateRequest;
    try {
        csr = new x509.Pkcs10CertificateRequest(o.csrPem);
    } catch {
        throw new FactoryError("--csr: not a PEM certificate signing request");
    }
    if (!(await csr.verify())) throw new FactoryError("--csr: its signature does not verify (the CSR was not made with the key it carries)");
    const ca = new x509.X509Certificate(o.caCertPem);
    if (!(await ca.getExtension(x509.BasicConstraintsExtension))?.ca) throw new FactoryError("--ca-dir: ca.pem is not a CA certificate");
    const signingKey = await importEcKey(o.caKeyPem);
    const notBefore = o.notBefore ?? new Date(Date.now() - 60_000);
    const subject = [...(o.country ? [`C=${o.country}`] : []), o.serialField === "CN" ? `CN=${escape(o.serial)}` : `${SERIAL_NUMBER_OID}=${escape(o.serial)}`,
        ...(o.serialField === "serialNumber" ? [`CN=vehicle ${escape(o.serial)}`] : [])].join(",");
    const cert = await x509.X509CertificateGenerator.create({
        serialNumber: randomBytes(16).toString("hex").replace(/^[89a-f]/, "1"),
        subject,
        issuer: ca.subject,
        notBefore,
        notAfter: new Date(notBefore.getTime() + o.days * 86_400_000),
        signingKey: signingKey as never,
        publicKey: csr.publicKey,
        signingAlgorithm: ALG,
        extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        ],
    });
    return cert.toString("pem");
}

/** The unit's CSR for its own key (the subject is not used: the factory sets it). */
export async function unitCsr(keyPem: string): Promise<string> {
    return (await makeKeyAndCsr("CN=unit", keyPem)).csrPem;
}
