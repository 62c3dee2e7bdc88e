import "reflect-metadata";
import { webcrypto } from "crypto";
import * as x509 from "@peculiar/x509";

export type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A fresh key pair and CSR, made in the test (no key material is ever committed). */
export async function makeCsr(subject = "CN=factory-hsm"): Promise<{ csrPem: string; keys: CryptoKeyPair }> {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys: keys as never, signingAlgorithm: ALG });
    return { csrPem: csr.toString("pem"), keys };
}

/** A self-signed certificate for the given keys, standing in for the one AWS IoT would sign. */
export async function makeCertificate(keys: CryptoKeyPair, subject = "CN=AWS IoT Certificate"): Promise<string> {
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: "0a1b2c",
        name: subject,
        notBefore: new Date("2026-01-01T00:00:00Z"),
        notAfter: new Date("2049-12-31T23:59:59Z"),
        keys: keys as never,
        signingAlgorithm: ALG,
    });
    return cert.toString("pem");
}
