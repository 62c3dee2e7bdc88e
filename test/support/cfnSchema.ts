/**
 * aws-native inputs held to the CloudFormation resource schemas, as `@aws-cdk/aws-service-spec` carries them (the
 * CDK's database built from the CloudFormation registry schemas, the same schemas `pulumi-aws-native` is generated
 * from): property names, required properties, types, enum values (`allowedValues`), and which properties are
 * create-only (`causesReplacement`).
 *
 * What it cannot see: patterns, lengths and numeric ranges (the CDK database drops them), cross-property rules
 * (oneOf/dependencies), and anything the service validates beyond its schema (a recipe's own JSON schema, a
 * component version already taken, an ARN of the wrong account).
 */
import { loadAwsServiceSpecSync } from "@aws-cdk/aws-service-spec";
import { isSecretValue } from "../../plan/report";
import type { ProgramRun, RecordedResource } from "../../plan/program";

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
