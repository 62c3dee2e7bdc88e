/**
 * aws-native inputs held to the CloudFormation resource schemas, as `@aws-cdk/aws-service-spec` carries them (the
 * CDK's database built from the CloudFormation registry schemas, the same schemas `pulumi-aws-native` is generated
 * from): property names, required properties, types, enum values (`allowedValues`), and which properties are
 * create-only (`causesReplacement`).
 *
 * Patterns, lengths and numeric ranges (the CDK database drops them) come from the API models instead: see
 * checkApiConstraints below. What the schema check cannot see: cross-property rules
 * (oneOf/dependencies), and anything the service validates beyond its schema (a recipe's own JSON schema, a
 * component version already taken, an ARN of the wrong account).
 */
import { loadAwsServiceSpecSync } from "@aws-cdk/aws-service-spec";
import { isSecretValue } from "../../plan/report";
import type { ProgramRun, RecordedResource } from "../../plan/program";
import type { Constraints, MemberConstraint } from "../../scripts/apiConstraints";
import { API_CONSTRAINTS } from "./apiConstraints";

type SpecType = { type: string; element?: SpecType; types?: SpecType[]; reference?: { $ref: string }; allowedValues?: string[] };
interface SpecProperty { type: SpecType; required?: boolean; causesReplacement?: "yes" | "no" | "maybe" }
interface SpecShape { name?: string; cloudFormationType?: string; properties: Record<string, SpecProperty> }
interface SpecDb {
    lookup(entity: "resource", key: "cloudFormationType", op: "equals", value: string): { only(): SpecShape };
    get(entity: "typeDefinition", id: string): SpecShape;
}

let db: SpecDb | undefined;
/** The schema database, loaded once per process (about a second). */
export function spec(): SpecDb {
    db ??= loadAwsServiceSpecSync() as unknown as SpecDb;
    return db;
}

/** `aws-native:greengrassv2:ComponentVersion` -> `AWS::GreengrassV2::ComponentVersion` (the schema's own casing). */
export function cloudFormationType(token: string): string {
    const [, module, resource] = token.split(":");
    // aws-native lower-cases the service module; the schema's casing is found by a case-insensitive lookup.
    const known = spec() as unknown as { all(entity: "resource"): SpecShape[] };
    const wanted = `aws::${module}::${resource}`.toLowerCase();
    const found = known.all("resource").find((r) => r.cloudFormationType!.toLowerCase() === wanted);
    if (!found) throw new Error(`${token}: no CloudFormation resource type ${wanted} in the schemas`);
    return found.cloudFormationType!;
}

/** A Pulumi secret input (`{<sig>: <secret signature>, value}`) is checked as its value. */
const unsecret = (v: unknown): unknown => (isSecretValue(v) ? v.value : v);

/**
 * The schema property an aws-native input names: aws-native makes CloudFormation's PascalCase names camelCase
 * (`InlineRecipe` -> `inlineRecipe`, `IotJobConfiguration` -> `iotJobConfiguration`), so the match ignores case.
 */
function schemaName(shape: SpecShape, input: string): string | undefined {
    return Object.keys(shape.properties).find((p) => p.toLowerCase() === input.toLowerCase());
}

function checkValue(value: unknown, type: SpecType, path: string, findings: string[]): void {
    value = unsecret(value);
    switch (type.type) {
        case "string":
        case "date-time":
            if (typeof value !== "string") { findings.push(`${path}: ${JSON.stringify(value)} is not a string`); return; }
            if (type.allowedValues && !type.allowedValues.includes(value)) findings.push(`${path}: ${JSON.stringify(value)} is not one of ${type.allowedValues.join(", ")}`);
            return;
        case "integer":
            if (!Number.isInteger(value)) findings.push(`${path}: ${JSON.stringify(value)} is not an integer`);
            return;
        case "number":
            if (typeof value !== "number") findings.push(`${path}: ${JSON.stringify(value)} is not a number`);
            return;
        case "boolean":
            if (typeof value !== "boolean") findings.push(`${path}: ${JSON.stringify(value)} is not a boolean`);
            return;
        case "json":
            return;
        case "tag":
            if (!value || typeof value !== "object" || typeof (value as { key?: unknown }).key !== "string" || typeof (value as { value?: unknown }).value !== "string") findings.push(`${path}: a tag is {key, value}`);
            return;
        case "array":
            if (!Array.isArray(value)) { findings.push(`${path}: not an array`); return; }
            value.forEach((v, i) => checkValue(v, type.element!, `${path}[${i}]`, findings));
            return;
        case "map":
            if (!value || typeof value !== "object" || Array.isArray(value)) { findings.push(`${path}: not a map`); return; }
            for (const [k, v] of Object.entries(value)) checkValue(v, type.element!, `${path}.${k}`, findings);
            return;
        case "union": {
            const options = type.types!.map((t) => { const f: string[] = []; checkValue(value, t, path, f); return f; });
            if (!options.some((f) => f.length === 0)) findings.push(...options.sort((a, b) => a.length - b.length)[0]);
            return;
        }
        case "ref":
            checkShape(value, spec().get("typeDefinition", type.reference!.$ref), path, findings);
            return;
        default:
            findings.push(`${path}: schema type ${type.type} unknown to this checker`);
    }
}

function checkShape(value: unknown, shape: SpecShape, path: string, findings: string[]): void {
    if (!value || typeof value !== "object" || Array.isArray(value)) { findings.push(`${path}: not an object (${shape.name})`); return; }
    const given = value as Record<string, unknown>;
    for (const [input, v] of Object.entries(given)) {
        const name = schemaName(shape, input);
        if (!name) { findings.push(`${path}.${input}: no such property in ${shape.name ?? shape.cloudFormationType} (the schema has ${Object.keys(shape.properties).join(", ")})`); continue; }
        checkValue(v, shape.properties[name].type, `${path}.${name}`, findings);
    }
    for (const [name, p] of Object.entries(shape.properties)) {
        if (p.required && !Object.keys(given).some((k) => k.toLowerCase() === name.toLowerCase())) findings.push(`${path}.${name}: required by ${shape.name ?? shape.cloudFormationType}, missing`);
    }
}

/** Every finding for one aws-native resource: `<stack> <type> <name>.<Property>: <what>`. */
export function checkNativeResource(stack: string, r: RecordedResource): string[] {
    const cfn = cloudFormationType(r.type);
    const shape = spec().lookup("resource", "cloudFormationType", "equals", cfn).only();
    const findings: string[] = [];
    checkShape(r.inputs, shape, `${stack} ${r.type} ${r.name}`, findings);
    return findings;
}

export function checkNativeResources(run: ProgramRun): string[] {
    return run.resources.filter((r) => r.custom && r.type.startsWith("aws-native:")).flatMap((r) => checkNativeResource(run.stack, r));
}

/** The create-only top-level properties whose inputs differ between two plans of one resource. */
export function replacingChanges(before: RecordedResource, after: RecordedResource): string[] {
    const shape = spec().lookup("resource", "cloudFormationType", "equals", cloudFormationType(before.type)).only();
    const keys = new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)]);
    const changed = [...keys].filter((k) => JSON.stringify(unsecret(before.inputs[k])) !== JSON.stringify(unsecret(after.inputs[k])));
    return changed.map((k) => schemaName(shape, k) ?? k).filter((k) => shape.properties[k]?.causesReplacement === "yes");
}

/** For a routine change: which aws-native resources it replaces, and through which create-only properties. */
export function replacements(before: ProgramRun, after: ProgramRun): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const b of before.resources.filter((r) => r.custom && r.type.startsWith("aws-native:"))) {
        const a = after.resources.find((r) => r.urn === b.urn);
        if (!a) { out[`${b.type} ${b.name}`] = ["(gone)"]; continue; }
        const props = replacingChanges(b, a);
        if (props.length) out[`${b.type} ${b.name}`] = props;
    }
    return out;
}

/*
 * Patterns, lengths and numeric ranges, from the API models (test/support/apiConstraints.ts, generated by
 * scripts/apiConstraints.ts from botocore's service models through a hand-written CloudFormation property -> API
 * member table). A pattern is held to the whole value, as AWS's services do: a DynamoDB table name '"smart-dcb-messages"'
 * (quotes included) was refused with "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" although its
 * inside matches (aws/aws-cli issue #790, the ValidationException quoted there). The Java class the models use is
 * translated (`\p{Graph}`: the visible ASCII characters, as Java's POSIX class is without UNICODE_CHARACTER_CLASS).
 *
 * What it cannot see: constraints CloudFormation's handlers or schemas add beyond the API (a schema's own
 * pattern on a property, a handler that rejects what the API would take), the inside of a blob or JSON string
 * (a recipe's fields, a deployment's merge document), and values only known at deploy time (skipped).
 */
// Pulumi's marker of a value not known at preview (@pulumi/pulumi runtime/rpc.js `unknownValue`).
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const patterns = new Map<string, RegExp>();
/** The model's (Java) regular expression as an anchored JS one, compiled once. */
export function apiPattern(java: string): RegExp {
    let re = patterns.get(java);
    if (!re) {
        const js = java.replace(/\\p\{Graph\}/g, "\\x21-\\x7E");
        re = new RegExp(`^(?:${js})$`, "u");
        patterns.set(java, re);
    }
    return re;
}

function bounds(c: MemberConstraint, what: string): string {
    if (c.min !== undefined && c.max !== undefined) return `${what} ${c.min} to ${c.max}`;
    return c.min !== undefined ? `${what} at least ${c.min}` : `${what} at most ${c.max}`;
}

function checkConstraint(value: unknown, c: MemberConstraint, where: string, findings: string[]): void {
    const allows = `AWS allows (${c.api}, ${c.shape})`;
    const numeric = ["integer", "long", "double", "float"].includes(c.type);
    if (numeric && (c.min !== undefined || c.max !== undefined)) {
        // CloudFormation sends some numbers as strings (SecurityProfile's MetricValue.Count): the number is checked.
        const n = typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
        if (typeof n === "number" && ((c.min !== undefined && n < c.min) || (c.max !== undefined && n > c.max))) findings.push(`${where}: ${JSON.stringify(value)} is out of range; ${allows} ${bounds(c, "values")}`);
        return;
    }
    const length = typeof value === "string" ? [...value].length : Array.isArray(value) ? value.length : value && typeof value === "object" ? Object.keys(value).length : undefined;
    const unit = typeof value === "string" ? "characters" : "entries";
    if (length !== undefined && ((c.min !== undefined && length < c.min) || (c.max !== undefined && length > c.max))) findings.push(`${where}: ${length} ${unit}; ${allows} ${bounds(c, unit)}`);
    if (c.pattern !== undefined && typeof value === "string" && !apiPattern(c.pattern).test(value)) findings.push(`${where}: ${JSON.stringify(value)} does not match ${c.pattern}; ${allows} only values matching it`);
}

/**
 * Walks one input value along the generated paths: `findings` for values outside the member's constraints, and
 * `unmapped` for input paths the table does not reach (a property a stack newly sets, or a name that differs).
 */
function walkConstraints(value: unknown, key: string, where: string, table: Constraints[string], lower: Map<string, string>, findings: string[], unmapped: string[]): void {
    value = unsecret(value);
    if (value === undefined || value === null || value === UNKNOWN) return;
    if (Object.keys(table.none).some((p) => p.toLowerCase() === key.toLowerCase())) return; // no API counterpart (the table says why)
    const path = lower.get(key.toLowerCase());
    if (!path) { unmapped.push(where); return; }
    const c = table.members[path];
    checkConstraint(value, c, where, findings);
    if (c.type === "list" && Array.isArray(value)) value.forEach((v, i) => walkConstraints(v, `${path}[]`, `${where}[${i}]`, table, lower, findings, unmapped));
    else if (c.type === "map" && value && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            walkConstraints(k, `${path}.<key>`, `${where} key ${JSON.stringify(k)}`, table, lower, findings, unmapped);
            walkConstraints(v, `${path}.*`, `${where}.${k}`, table, lower, findings, unmapped);
        }
    } else if (c.type === "structure" && value && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            const name = `${path}.${k}`;
            const shown = lower.get(name.toLowerCase())?.split(".").pop() ?? k;
            walkConstraints(v, name, `${where}.${shown}`, table, lower, findings, unmapped);
        }
    }
}

/** Patterns, lengths and ranges of one aws-native resource's inputs, and the input paths the table misses. */
export function checkApiConstraints(stack: string, r: RecordedResource): { findings: string[]; unmapped: string[] } {
    const findings: string[] = [];
    const unmapped: string[] = [];
    const table = API_CONSTRAINTS[cloudFormationType(r.type)];
    if (!table) return { findings, unmapped: [`${stack} ${r.type} ${r.name}`] };
    const lower = new Map(Object.keys(table.members).map((p) => [p.toLowerCase(), p]));
    for (const [input, v] of Object.entries(r.inputs)) {
        const name = lower.get(input.toLowerCase()) ?? Object.keys(table.none).find((p) => p.toLowerCase() === input.toLowerCase()) ?? input;
        walkConstraints(v, input, `${stack} ${r.type} ${r.name}.${name}`, table, lower, findings, unmapped);
    }
    return { findings, unmapped };
}

/** Every pattern, length and range finding of a plan's aws-native resources (unmapped input paths included). */
export function checkApiConstraintsOf(run: ProgramRun): string[] {
    return run.resources.filter((r) => r.custom && r.type.startsWith("aws-native:")).flatMap((r) => {
        const { findings, unmapped } = checkApiConstraints(run.stack, r);
        return [...findings, ...unmapped.map((u) => `${u}: no API member mapped (add it to scripts/apiConstraints.ts and run npm run api-constraints)`)];
    });
}

/** Every property path of a resource type's schema, in the table's syntax (`[]` list elements, `.*` map values). */
export function schemaPaths(cfn: string): string[] {
    const out = new Set<string>();
    const walk = (t: SpecType, path: string, seen: string[]): void => {
        out.add(path);
        if (t.type === "array" || t.type === "map") walk(t.element!, `${path}${t.type === "array" ? "[]" : ".*"}`, seen);
        else if (t.type === "union") t.types!.forEach((u) => walk(u, path, seen));
        else if (t.type === "ref" && !seen.includes(t.reference!.$ref)) {
            const shape = spec().get("typeDefinition", t.reference!.$ref);
            for (const [k, p] of Object.entries(shape.properties)) walk(p.type, `${path}.${k}`, [...seen, t.reference!.$ref]);
        }
    };
    const shape = spec().lookup("resource", "cloudFormationType", "equals", cfn).only();
    for (const [k, p] of Object.entries(shape.properties)) walk(p.type, k, []);
    return [...out];
}

/** The schema's property paths that reach neither an API member nor a `none` entry of the table. */
export function unmappedSchemaPaths(cfn: string): string[] {
    const table = API_CONSTRAINTS[cfn];
    if (!table) return [`${cfn}: no entry in scripts/apiConstraints.ts MAPPING`];
    const members = new Set(Object.keys(table.members).map((p) => p.toLowerCase()));
    const none = Object.keys(table.none).map((p) => p.toLowerCase());
    return schemaPaths(cfn).filter((p) => {
        const l = p.toLowerCase();
        return !members.has(l) && !none.some((n) => l === n || l.startsWith(`${n}.`) || l.startsWith(`${n}[`));
    });
}
