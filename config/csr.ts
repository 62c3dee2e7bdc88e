/**
 * A PEM certificate signing request, parsed rather than pattern-matched: a request cut short (a
 * truncated paste, a lost line), with a damaged body or a signature that does not verify is refused
 * in config instead of by CreateCertificateFromCsr in the middle of an `up`. The shape is PKCS #10's
 * (RFC 2986 section 4: CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm,
 * signature BIT STRING }, certificationRequestInfo ::= SEQUENCE { version INTEGER, subject Name,
 * subjectPKInfo SubjectPublicKeyInfo, attributes [0] }), in DER (RFC 2986 section 4, X.690). The
 * signature is checked with the request's own public key for the algorithms AWS IoT signs device
 * certificates for (ECDSA and RSA with SHA-256/384/512: CreateCertificateFromCsr, AWS IoT API reference).
 */
import * as crypto from "crypto";

interface Tlv { tag: number; start: number; end: number; headerEnd: number }

/** One DER tag-length-value at `off`, or a reason it is not one inside `buf`. */
function tlv(buf: Buffer, off: number): Tlv | string {
    if (off + 2 > buf.length) return "it ends in the middle of a field";
    const tag = buf[off];
    let len = buf[off + 1];
    let headerEnd = off + 2;
    if (len & 0x80) {
        const n = len & 0x7f;
        if (n === 0 || n > 4 || headerEnd + n > buf.length) return "a field length is damaged";
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + buf[headerEnd + i];
        headerEnd += n;
    }
    const end = headerEnd + len;
    if (end > buf.length) return `it is cut short (a field needs ${end} bytes, the PEM holds ${buf.length})`;
    return { tag, start: off, end, headerEnd };
}

/** The children of a constructed DER value. */
function children(buf: Buffer, parent: Tlv): Tlv[] | string {
    const out: Tlv[] = [];
    for (let off = parent.headerEnd; off < parent.end;) {
        const t = tlv(buf.subarray(0, parent.end), off);
        if (typeof t === "string") return t;
        out.push(t);
        off = t.end;
    }
    return out;
}

/**
 * Signature algorithms (OID, DER hex) of the certificates AWS IoT's CreateCertificateFromCsr issues and the
 * hash each verifies with: ECDSA, RSA (PKCS #1 v1.5) and DSA with SHA-256/384/512 (AWS IoT developer guide,
 * "X.509 client certificates": supported signing algorithms). RSASSA-PSS is accepted unverified (its hash is in
 * its parameters).
 */
const SIGNATURE_HASHES: Record<string, string> = {
    "2a8648ce3d040302": "sha256", "2a8648ce3d040303": "sha384", "2a8648ce3d040304": "sha512",
    "2a864886f70d01010b": "sha256", "2a864886f70d01010c": "sha384", "2a864886f70d01010d": "sha512",
    "608648016503040302": "sha256",
};
const RSASSA_PSS = "2a864886f70d01010a";

/** Why `pem` is not a whole, self-consistent PKCS #10 request, or undefined when it is. */
export function csrProblem(pem: string): string | undefined {
    const r = parseCsr(pem);
    return typeof r === "string" ? r : undefined;
}

/** The public key of a whole, self-consistent request, or why there is none. */
export function csrPublicKey(pem: string): crypto.KeyObject | string {
    return parseCsr(pem);
}

function parseCsr(pem: string): crypto.KeyObject | string {
    const m = /^-----BEGIN CERTIFICATE REQUEST-----\r?\n([\s\S]*?)-----END CERTIFICATE REQUEST-----\s*$/.exec(pem);
    if (!m) return "it is not one PEM block from -----BEGIN CERTIFICATE REQUEST----- to -----END CERTIFICATE REQUEST-----";
    const body = m[1].replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) return "its body is not whole base64 (a line lost or cut?)";
    const der = Buffer.from(body, "base64");
    const outer = tlv(der, 0);
    if (typeof outer === "string") return outer;
    if (outer.tag !== 0x30) return "it is not a certification request (DER SEQUENCE)";
    if (outer.end !== der.length) return `it has ${der.length - outer.end} bytes after the request`;
    const parts = children(der, outer);
    if (typeof parts === "string") return parts;
    if (parts.length !== 3 || parts[0].tag !== 0x30 || parts[1].tag !== 0x30 || parts[2].tag !== 0x03) return "it is not a certification request (info, algorithm, signature)";
    const info = children(der, parts[0]);
    if (typeof info === "string") return info;
    if (info.length < 3 || info[0].tag !== 0x02 || info[1].tag !== 0x30 || info[2].tag !== 0x30) return "its request info is not version, subject, public key";
    let key: crypto.KeyObject;
    try {
        key = crypto.createPublicKey({ key: der.subarray(info[2].start, info[2].end), format: "der", type: "spki" });
    } catch {
        return "its public key cannot be read";
    }
    const algorithm = children(der, parts[1]);
    if (typeof algorithm === "string" || algorithm.length < 1 || algorithm[0].tag !== 0x06) return "its signature algorithm cannot be read";
    const hash = SIGNATURE_HASHES[der.subarray(algorithm[0].headerEnd, algorithm[0].end).toString("hex")] as string | undefined;
    const oid = der.subarray(algorithm[0].headerEnd, algorithm[0].end).toString("hex");
    if (oid === RSASSA_PSS) return key;
    if (!hash) return "its signature algorithm is not one AWS IoT takes (ECDSA, RSA or DSA with SHA-256, SHA-384 or SHA-512)";
    const bits = der.subarray(parts[2].headerEnd, parts[2].end);
    if (bits.length < 2 || bits[0] !== 0) return "its signature cannot be read";
    const ok = crypto.verify(hash, der.subarray(parts[0].start, parts[0].end), key, bits.subarray(1));
    return ok ? key : "its signature does not verify with its own public key (a damaged or edited request)";
}
