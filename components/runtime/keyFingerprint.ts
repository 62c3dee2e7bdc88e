/**
 * The fingerprint that binds a serial to the key its unit holds: SHA-256 of the public key's
 * DER-encoded SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), as 64 lowercase hex digits. The factory
 * registers it beside the serial; the pre-provisioning hook recomputes it from the new
 * certificate's PEM (the event's `certificatePem`), whose public key is the one the device's CSR
 * carried (or the one AWS made, with `deviceKeys: aws`). Shared by the hook, the factory's bulk
 * registration and `edge-config`, so all three compute it the same way.
 */
import { createHash, createPublicKey, KeyObject, X509Certificate } from "crypto";

export const FINGERPRINT = /^[0-9a-f]{64}$/;

/** Fingerprint of a public key (a KeyObject, or a PEM `PUBLIC KEY` / `PRIVATE KEY` block). */
export function publicKeyFingerprint(key: KeyObject | string): string {
    const publicKey = typeof key === "string" ? createPublicKey(key) : key.type === "private" ? createPublicKey(key) : key;
    return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
}

/** Fingerprint of the public key in an X.509 certificate PEM; undefined when it does not parse. */
export function certificateKeyFingerprint(certificatePem: unknown): string | undefined {
    if (typeof certificatePem !== "string") return undefined;
    try {
        return publicKeyFingerprint(new X509Certificate(certificatePem).publicKey);
    } catch {
        return undefined;
    }
}
