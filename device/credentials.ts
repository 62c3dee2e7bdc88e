import "reflect-metadata";
import * as fs from "fs";
import * as path from "path";
import { createPrivateKey, createPublicKey, webcrypto } from "crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Names of the PEM files in a claim or device directory (as the claim bucket stores them). */
export const FILES = { certificate: "certificate.pem.crt", privateKey: "private.pem.key" } as const;

/** ECDSA P-256: a key type AWS IoT's CreateCertificateFromCsr accepts (API reference, CreateCertificateFromCsr). */
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A new ECDSA P-256 private key, PKCS#8 PEM (what `keygen` writes and the CSR is made for). */
export async function makePrivateKey(): Promise<string> {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as webcrypto.CryptoKeyPair;
    const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
    return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

/**
 * A CSR for the given private key (PEM, ECDSA P-256), or for a new one made on this machine:
 * only the CSR is ever sent.
 */
export async function makeKeyAndCsr(subject: string, privateKeyPem?: string): Promise<{ csrPem: string; privateKeyPem: string }> {
    const pem = privateKeyPem ?? await makePrivateKey();
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") throw new Error("the unit's key must be ECDSA P-256 (what this simulator signs CSRs with)");
    const pkcs8 = key.export({ type: "pkcs8", format: "der" });
    const spki = createPublicKey(key).export({ type: "spki", format: "der" });
    const keys = {
        privateKey: await webcrypto.subtle.importKey("pkcs8", pkcs8, ALG, true, ["sign"]),
        publicKey: await webcrypto.subtle.importKey("spki", spki, ALG, true, ["verify"]),
    };
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys: keys as never, signingAlgorithm: ALG });
    return { csrPem: csr.toString("pem"), privateKeyPem: pem };
}

/**
 * Credentials written beside their final names first (mode 0600), and moved into place only once
 * AWS IoT has accepted them: a failure leaves the previous files as they were.
 */
export class PendingCredentials {
    private readonly staged: { tmp: string; final: string }[] = [];

    constructor(private readonly dir: string) {}

    stage(name: string, content: string): void {
        fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        const final = path.join(this.dir, name);
        const tmp = `${final}.pending-${process.pid}`;
        fs.writeFileSync(tmp, content, { mode: 0o600 });
        fs.chmodSync(tmp, 0o600);
        this.staged.push({ tmp, final });
    }

    /** Moves the staged files into place; with `keepPrevious`, the files they replace become `<name>.previous`. */
    commit(keepPrevious = false): string[] {
        for (const { final } of this.staged) if (keepPrevious && fs.existsSync(final)) fs.renameSync(final, `${final}.previous`);
        for (const { tmp, final } of this.staged) fs.renameSync(tmp, final);
        return this.staged.map((s) => s.final);
    }

    discard(): void {
        for (const { tmp } of this.staged) fs.rmSync(tmp, { force: true });
        this.staged.length = 0;
    }
}
