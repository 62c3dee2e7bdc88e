import "reflect-metadata";
import { generateKeyPair, KeyObject, webcrypto } from "crypto";
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

/** A key pair for TLS (ECDSA P-256), exportable. */
export async function makeKeys(): Promise<CryptoKeyPair> {
    return await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
}

/** PKCS#8 PEM of a private key. */
export async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
    const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
    return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

export interface Issued {
    keys: CryptoKeyPair;
    certPem: string;
    keyPem: string;
    /** SHA-256 of the DER certificate, hex: AWS IoT's certificate id. */
    certificateId: string;
}

function certificateIdOf(cert: x509.X509Certificate): string {
    return require("crypto").createHash("sha256").update(Buffer.from(cert.rawData)).digest("hex");
}

let serial = 1;

type RsaKey = { publicKey: KeyObject; privateKey: KeyObject };

/** An RSA 2048-bit key pair, made on libuv's pool (off the event loop). */
function newRsaKey(): Promise<RsaKey> {
    return new Promise<RsaKey>((resolve, reject) =>
        generateKeyPair("rsa", { modulusLength: 2048 }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey }))));
}

/** A test certificate authority: signs the server's, the claim's and each provisioned device's certificate. */
export class TestCa {
    private constructor(private readonly keys: CryptoKeyPair, private readonly cert: x509.X509Certificate, public readonly certPem: string) {}

    static async create(name = "CN=FMS IoT test CA"): Promise<TestCa> {
        const keys = await makeKeys();
        const cert = await x509.X509CertificateGenerator.createSelfSigned({
            serialNumber: "01", name, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
            keys: keys as never, signingAlgorithm: ALG,
            extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
        });
        return new TestCa(keys, cert, cert.toString("pem"));
    }

    /** Signs a public key from a device's CSR (as AWS IoT's CreateCertificateFromCsr does): no key here. */
    async sign(publicKey: x509.PublicKey): Promise<{ certPem: string; certificateId: string }> {
        serial++;
        const cert = await x509.X509CertificateGenerator.create({
            serialNumber: serial.toString(16).padStart(4, "0"),
            subject: "CN=AWS IoT Certificate",
            issuer: this.cert.subject,
            notBefore: new Date(Date.now() - 60_000),
            notAfter: new Date("2049-12-31T23:59:59Z"),
            signingKey: this.keys.privateKey as never,
            publicKey,
            signingAlgorithm: ALG,
            extensions: [
                new x509.BasicConstraintsExtension(false, undefined, true),
                new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
                new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
            ],
        });
        return { certPem: cert.toString("pem"), certificateId: certificateIdOf(cert) };
    }

    /**
     * What CreateKeysAndCertificate returns: an RSA 2048-bit key pair made by AWS IoT, the private key
     * as PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), and a certificate for it.
     */
    async issueRsa(): Promise<{ certPem: string; keyPem: string; certificateId: string }> {
        const { publicKey, privateKey } = this.rsaKeys.pop() ?? await newRsaKey();
        const signed = await this.sign(new x509.PublicKey(publicKey.export({ type: "spki", format: "der" })));
        return { ...signed, keyPem: privateKey.export({ type: "pkcs1", format: "pem" }).toString() };
    }

    /**
     * Makes `count` RSA 2048-bit key pairs now, each handed out once by a later `issueRsa` (then it makes its own
     * again). For the burst bench: one RSA key costs this machine about 170 ms of CPU, so AWS's 10
     * CreateKeysAndCertificate a second would take both of its cores, a cost that is the double's, not AWS's
     * (AWS makes them on its own fleet). Made before power-on, they are reported as set-up time.
     */
    async prepareRsaKeys(count: number): Promise<void> {
        const made = await Promise.all(Array.from({ length: count }, () => newRsaKey()));
        this.rsaKeys.push(...made);
    }

    private readonly rsaKeys: RsaKey[] = [];

    /** A certificate for `subject`; `serverNames` makes it a server certificate for those DNS names and IPs. */
    async issue(subject: string, serverNames?: { dns: string[]; ip: string[] }): Promise<Issued> {
        const keys = await makeKeys();
        serial++;
        const cert = await x509.X509CertificateGenerator.create({
            serialNumber: serial.toString(16).padStart(4, "0"),
            subject,
            issuer: this.cert.subject,
            notBefore: new Date(Date.now() - 60_000),
            notAfter: new Date(Date.now() + 86_400_000),
            signingKey: this.keys.privateKey as never,
            publicKey: keys.publicKey as never,
            signingAlgorithm: ALG,
            extensions: [
                new x509.BasicConstraintsExtension(false, undefined, true),
                new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
                new x509.ExtendedKeyUsageExtension([serverNames ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
                ...(serverNames ? [new x509.SubjectAlternativeNameExtension([
                    ...serverNames.dns.map((value) => ({ type: "dns" as const, value })),
                    ...serverNames.ip.map((value) => ({ type: "ip" as const, value })),
                ])] : []),
            ],
        });
        return { keys, certPem: cert.toString("pem"), keyPem: await privateKeyPem(keys), certificateId: certificateIdOf(cert) };
    }
}
