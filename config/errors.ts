import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * A stack configuration value is wrong. Extends `pulumi.RunError`, which the Pulumi runtime
 * prints as its message alone (no stack trace): one line naming the file, the key, the bad value
 * and what is allowed:
 *
 *     Pulumi.kr.yaml: Invalid stack config fms-iot:namePrefix = "FMS-KR": 3-20 characters: ...
 *
 * A value that looks secret (a PEM block, anything under a key named like a password, secret,
 * token or private key, an AWS access key) is never printed: the line shows what it is, its
 * length and the first 12 hex digits of its SHA-256 instead, so it can be told apart from
 * another without landing in a CI log.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly key: string, public readonly value: unknown, public readonly allowed: string, public readonly file?: string) {
        super(`${file ? `${file}: ` : ""}Invalid stack config ${key} = ${describeValue(key, value)}: ${allowed}${isOfflinePlaceholder(value)
            ? ` (the offline plan checks a secure: value only as a placeholder; pulumi preview checks the real one, or keep only secrets secure:)` : ""}`);
        this.name = "ConfigError";
    }

    /** The same error, naming the file the value came from. */
    in(file: string): ConfigError {
        return this.file ? this : new ConfigError(this.key, this.value, this.allowed, file);
    }
}

/** A key whose value is secret by its name alone (whatever the value looks like). */
const SECRET_KEY = /pass(word|phrase)?|secret|token|private|credential|api[-_]?key|accesskey|secretkey/i;
/** Values that are secret whatever their key: PEM blocks, AWS access key ids and 40-character secret keys. */
const SECRET_VALUE = [
    { what: "a PEM block", test: (s: string) => /-----BEGIN [A-Z0-9 ]+-----/.test(s) },
    { what: "an AWS access key id", test: (s: string) => /\b(AKIA|ASIA)[A-Z0-9]{16}\b/.test(s) },
    { what: "what looks like an AWS secret access key", test: (s: string) => /(^|[^A-Za-z0-9+/])[A-Za-z0-9+/]{40}([^A-Za-z0-9+/=]|$)/.test(s) && /[0-9]/.test(s) && /[A-Z]/.test(s) && /[a-z]/.test(s) },
];

/** `(a PEM block PRIVATE KEY, 1704 characters, sha256:1f2e3d4c5b6a)`: enough to recognise a value, not to use it. */
export function fingerprint(text: string, what: string): string {
    const pem = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
    const sha = crypto.createHash("sha256").update(text).digest("hex").slice(0, 12);
    return `(${what}${pem ? ` ${pem}` : ""}, ${text.length} characters, sha256:${sha}; not shown)`;
}

/** The secret-looking string inside a value, if any, and what it is. */
export function secretIn(key: string, value: unknown): { what: string; text: string } | undefined {
    const text = typeof value === "string" ? value : value !== undefined && value !== null && typeof value === "object" ? JSON.stringify(value) : undefined;
    if (text === undefined || text === "(set)") return undefined;
    const last = key.split(/[.:[\]]/).filter(Boolean).pop() ?? key;
    if (SECRET_KEY.test(last)) return { what: `the value of ${last}`, text };
    const hit = SECRET_VALUE.find((s) => s.test(text));
    return hit ? { what: hit.what, text } : undefined;
}

/**
 * Whether a number, printed, shows digits as a stack file could have held them: at most 15 significant
 * digits (what an IEEE 754 double carries through decimal text and back), no exponent, within 2^53. A YAML
 * number with more digits (an account id, a serial, a long fraction) lost them when YAML read it:
 * printing it would show digits nobody wrote.
 */
export function numberKeepsItsDigits(n: number): boolean {
    if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER) return false;
    const text = String(n);
    if (/e/i.test(text)) return false;
    return text.replace(/^-/, "").replace(".", "").replace(/^0+/, "").length <= 15;
}

const LONG_NUMBER = "(an unquoted YAML number too long to keep its digits)";
const LONG_MARK = "__fms_long_number__";

/** The prefix of the placeholder `npm run plan` gives a `secure:` value it cannot decrypt offline. */
export const OFFLINE_PLACEHOLDER_PREFIX = "offline-placeholder-for-";

function isOfflinePlaceholder(value: unknown): boolean {
    return typeof value === "string" && value.startsWith(OFFLINE_PLACEHOLDER_PREFIX);
}

export function describeValue(key: string, value: unknown): string {
    if (value === undefined) return "(missing)";
    if (isOfflinePlaceholder(value)) return "(secure: encrypted in the stack file; the offline plan cannot decrypt it)";
    const secret = secretIn(key, value);
    if (secret) return fingerprint(secret.text, secret.what);
    if (typeof value === "number" && !numberKeepsItsDigits(value)) return LONG_NUMBER;
    const text = (JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && !numberKeepsItsDigits(v) ? LONG_MARK : v)) ?? String(value))
        .split(`"${LONG_MARK}"`).join(LONG_NUMBER);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A stack or project file that is not valid YAML: one line, `Pulumi.<stack>.yaml:<line>:<col>: <what>`. */
export class StackFileError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        // Handled like a config error: exit 2, one line, no stack trace.
        this.name = "ConfigError";
    }
}
