/**
 * The building blocks of the stack-config schema (zod). Every field carries the one sentence that
 * says what is allowed: zod reports it when a value is wrong, the JSON Schema for editors shows it
 * as the field's description, and ConfigError prints it after the key and the bad value.
 */
import { z } from "zod";
import { ConfigError } from "./errors";

/** The error for a field: "required; ..." when absent, the allowed values otherwise. */
export function says(allowed: string): { error: (issue: { input?: unknown }) => string } {
    return { error: (issue) => (issue.input === undefined ? `required; ${allowed}` : allowed) };
}

/** A string matching a pattern (and a length), described by what is allowed. */
export function text(allowed: string, pattern?: RegExp, maxLength?: number) {
    let s = z.string({
        error: (issue) => issue.input === undefined ? `required; ${allowed}`
            // YAML reads 0297468 as 297468 and 1.10 as 1.1: the digits in the file are already lost.
            : typeof issue.input === "number" ? `${allowed}; YAML read an unquoted number here (leading zeros, trailing zeros and digits past 15 are lost): quote it`
                : allowed,
    });
    if (pattern) s = s.regex(pattern, { error: allowed });
    if (maxLength !== undefined) s = s.max(maxLength, { error: allowed });
    return s.meta({ description: allowed });
}

/** One of a list of strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
    const allowed = `one of ${values.join(", ")}`;
    return z.enum(values, says(allowed)).meta({ description: allowed });
}

/** true or false (a top-level value arrives from the engine as the string "true" or "false"). */
export const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")], says("true or false"))
    .meta({ description: "true or false" });

/** A whole number (YAML numbers, or digit strings as the engine passes top-level values). */
function number(allowed: string) {
    return z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)], says(allowed));
}

export function wholeNumber(min: number, max: number) {
    const allowed = `a whole number from ${min} to ${max}`;
    return number(allowed).pipe(z.number().int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed })).meta({ description: allowed });
}

export function numberIn(values: readonly number[]) {
    const allowed = `one of ${values.join(", ")}`;
    return number(allowed).pipe(z.number().refine((n) => values.includes(n), { error: allowed })).meta({ description: allowed });
}

/** A list of at least `minItems` distinct items. */
export function list<T extends z.ZodType<string>>(item: T, minItems: number, each: string) {
    const allowed = `a list of at least ${minItems} item(s), each ${each}`;
    return z.array(item, says(allowed)).min(minItems, { error: allowed }).superRefine((items, ctx) => {
        items.forEach((v, i) => {
            if (items.indexOf(v) < i) ctx.addIssue({ code: "custom", path: [i], input: v, message: "must not repeat an earlier item" });
        });
    }).meta({ description: allowed });
}

/** An object with exactly these fields (a misspelt field is an error, not silently ignored). */
export function section<S extends z.ZodRawShape>(shape: S, description?: string) {
    const fields = Object.keys(shape).join(", ");
    return z.strictObject(shape, {
        error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field; allowed fields are ${fields}`
            : issue.input === undefined ? `required; an object${description ? ` (${description})` : ""}` : `expected an object${description ? ` (${description})` : ""}`),
    }).meta(description ? { description } : {});
}

const SERIAL_PREFIX = "1-32 characters from a-z A-Z 0-9 _ -";
/**
 * Serial prefixes. A YAML number such as 297468 (what `pulumi config set --path` writes) is its digits,
 * as long as the number holds them exactly: 29746800000000000001 does not (past 2^53) and is refused
 * with "quote it" rather than turned into digits nobody wrote. A leading zero (0297468) is already gone
 * when the engine hands the value over; the stack file's own scan (config/yamlNumbers.ts) names it.
 */
export const serialPrefixes = list(
    z.union([z.string(), z.number()], says(SERIAL_PREFIX)).transform((v, ctx) => {
        if (typeof v === "string") return v;
        if (Number.isSafeInteger(v) && v >= 0) return String(v);
        ctx.addIssue({ code: "custom", input: v, message: `${SERIAL_PREFIX}; YAML read an unquoted number it cannot hold digit for digit: quote it` });
        return z.NEVER;
    })
        .pipe(text(SERIAL_PREFIX, /^[a-zA-Z0-9_-]{1,32}$/)),
    1, "1-32 characters from a-z A-Z 0-9 _ -",
);

/** `a.b[2].c` from a zod path under a top-level key. */
export function keyOf(path: readonly PropertyKey[]): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>((v, p) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined), input);
}

/** The first zod issue as the one-line ConfigError (key, bad value, what is allowed). */
export function configErrorFrom(error: z.ZodError, input: unknown): ConfigError {
    const issue = error.issues[0];
    let path = issue.path;
    if (issue.code === "unrecognized_keys") path = [...path, issue.keys[0]];
    return new ConfigError(keyOf(path), valueAt(input, path), issue.message);
}

const KIND: Record<string, string> = { string: "a string", number: "a number", boolean: "true or false", object: "an object", array: "a list", int: "a whole number" };

/**
 * Our words for any issue a field did not word itself (zod's defaults, "Invalid input: expected object,
 * received undefined", never reach a user).
 */
function ourWords(issue: z.core.$ZodRawIssue): string {
    const i = issue as z.core.$ZodRawIssue & { expected?: string; values?: unknown[]; minimum?: unknown; maximum?: unknown; origin?: string; format?: string; keys?: string[] };
    switch (i.code) {
        case "invalid_type": return i.input === undefined ? `required; ${KIND[i.expected ?? ""] ?? i.expected}` : `expected ${KIND[i.expected ?? ""] ?? i.expected}`;
        case "invalid_value": return `one of ${(i.values ?? []).map((v) => String(v)).join(", ")}`;
        case "too_small": return i.origin === "array" ? `a list of at least ${i.minimum} item(s)` : i.origin === "string" ? `at least ${i.minimum} characters` : `at least ${i.minimum}`;
        case "too_big": return i.origin === "array" ? `a list of at most ${i.maximum} item(s)` : i.origin === "string" ? `at most ${i.maximum} characters` : `at most ${i.maximum}`;
        case "unrecognized_keys": return "unknown field";
        case "invalid_union": return "none of the forms this field takes";
        default: return "not a value this field takes";
    }
}

/** Parses with a schema; a failure is the one-line ConfigError. ConfigErrors from transforms pass through. */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
    const r = schema.safeParse(input, { error: ourWords });
    if (!r.success) throw configErrorFrom(r.error, input);
    return r.data;
}

/** True when some serial could start with a prefix of both lists. */
export function prefixesOverlap(a: readonly string[], b: readonly string[]): string | undefined {
    for (const x of a) for (const y of b) if (x.startsWith(y) || y.startsWith(x)) return `${x} and ${y}`;
    return undefined;
}
