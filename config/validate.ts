import { ConfigError } from "./errors";

/** Small typed readers for raw config values; each throws a one-line ConfigError naming the key. */

export type Raw = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Raw {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function readObject(key: string, value: unknown, fields: readonly string[], optional = false): Raw {
    if (value === undefined && optional) return {};
    if (!isPlainObject(value)) throw new ConfigError(key, value, "expected an object");
    const unknown = Object.keys(value).filter((f) => !fields.includes(f));
    if (unknown.length > 0) {
        throw new ConfigError(`${key}.${unknown[0]}`, value[unknown[0]], `unknown field; allowed fields are ${fields.join(", ")}`);
    }
    return value;
}

export interface StringRule {
    pattern?: RegExp;
    maxLength?: number;
    /** Human-readable statement of what is allowed, used in the error. */
    allowed: string;
}

export function readString(key: string, value: unknown, rule: StringRule): string;
export function readString(key: string, value: unknown, rule: StringRule, fallback: string): string;
export function readString(key: string, value: unknown, rule: StringRule, fallback: undefined): string | undefined;
export function readString(key: string, value: unknown, rule: StringRule, ...fallback: [string?]): string | undefined {
    if (value === undefined || value === null) {
        if (fallback.length > 0) return fallback[0];
        throw new ConfigError(key, value, `required; ${rule.allowed}`);
    }
    if (typeof value !== "string") throw new ConfigError(key, value, rule.allowed);
    if (rule.pattern && !rule.pattern.test(value)) throw new ConfigError(key, value, rule.allowed);
    if (rule.maxLength !== undefined && value.length > rule.maxLength) throw new ConfigError(key, value, rule.allowed);
    return value;
}

export function readEnum<T extends string>(key: string, value: unknown, allowed: readonly T[], fallback?: T): T {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
        throw new ConfigError(key, value, `one of ${allowed.join(", ")}`);
    }
    return value as T;
}

export function readBoolean(key: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    throw new ConfigError(key, value, "true or false");
}

export function readInteger(key: string, value: unknown, allowed: readonly number[], fallback: number): number {
    if (value === undefined) return fallback;
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !allowed.includes(n)) throw new ConfigError(key, value, `one of ${allowed.join(", ")}`);
    return n;
}

/** A whole number from `min` to `max` (YAML numbers arrive as strings). */
export function readIntInRange(key: string, value: unknown, min: number, max: number, fallback: number): number {
    if (value === undefined) return fallback;
    const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) throw new ConfigError(key, value, `a whole number from ${min} to ${max}`);
    return n;
}

export function readStringList(key: string, value: unknown, rule: StringRule & { minItems: number }): string[] {
    if (!Array.isArray(value) || value.length < rule.minItems) {
        throw new ConfigError(key, value, `a list of at least ${rule.minItems} item(s), each ${rule.allowed}`);
    }
    const seen = new Set<string>();
    return value.map((item, i) => {
        const s = readString(`${key}[${i}]`, item, rule);
        if (seen.has(s)) throw new ConfigError(`${key}[${i}]`, item, "must not repeat an earlier item");
        seen.add(s);
        return s;
    });
}

/** Serial prefixes a template accepts (YAML numbers such as 297468 are read as their digits). */
export function readSerialPrefixes(key: string, value: unknown): string[] {
    const list = Array.isArray(value) ? value.map((v) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? String(v) : v)) : value;
    return readStringList(key, list, { minItems: 1, pattern: /^[a-zA-Z0-9_-]{1,32}$/, allowed: "1-32 characters from a-z A-Z 0-9 _ -" });
}

/** True when some serial could start with a prefix of both lists. */
export function prefixesOverlap(a: readonly string[], b: readonly string[]): string | undefined {
    for (const x of a) for (const y of b) if (x.startsWith(y) || y.startsWith(x)) return `${x} and ${y}`;
    return undefined;
}
