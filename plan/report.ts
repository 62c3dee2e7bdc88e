import { evaluate, Finding, ResourceView } from "../guardrails/rules";
import { ProgramRun, RecordedResource } from "./program";

/** The marker Pulumi puts on a secret value. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const SECRET_TEXT = "[secret]";

export function isSecretValue(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && Object.values(v).includes(SECRET_SIG);
}

/** A copy of a value with every secret replaced by `[secret]`. */
export function redact(v: unknown): unknown {
    if (isSecretValue(v)) return SECRET_TEXT;
    if (Array.isArray(v)) return v.map(redact);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
    return v;
}

/** A copy of a value with every secret replaced by its value (for rules that must see the real input). */
export function reveal(v: unknown): unknown {
    if (isSecretValue(v)) return reveal((v as { value?: unknown }).value);
    if (Array.isArray(v)) return v.map(reveal);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, reveal(x)]));
    return v;
}

export function stackUrn(run: ProgramRun, project = "fms-iot"): string {
    return `urn:pulumi:${run.stack}::${project}::pulumi:pulumi:Stack::${project}-${run.stack}`;
}

export function views(run: ProgramRun): ResourceView[] {
    const stack: ResourceView = { urn: stackUrn(run), type: "pulumi:pulumi:Stack", name: `fms-iot-${run.stack}`, props: {}, dependencies: [] };
    return [stack, ...run.resources.map((r) => ({
        urn: r.urn, type: r.type, name: r.name, props: reveal(r.inputs) as Record<string, any>, dependencies: r.dependencies,
    }))];
}

export function guardrailFindings(run: ProgramRun): Finding[] {
    return evaluate(views(run));
}

export interface PlanDocument {
    stack: string;
    region: string;
    /** Config keys whose `secure:` value could not be decrypted offline and was planned with a placeholder. */
    placeholders: string[];
    resources: { urn: string; type: string; name: string; parent: string | null; inputs: unknown; dependencies: string[]; protect: boolean; retainOnDelete: boolean }[];
    outputs: Record<string, unknown>;
    violations: Finding[];
}

export function planDocument(run: ProgramRun, findings: Finding[], placeholders: string[]): PlanDocument {
    return {
        stack: run.stack,
        region: run.region,
        placeholders,
        resources: run.resources.map((r) => ({
            urn: r.urn, type: r.type, name: r.name, parent: r.parent, inputs: redact(r.inputs),
            dependencies: r.dependencies, protect: r.protect, retainOnDelete: r.retainOnDelete,
        })),
        outputs: Object.fromEntries(Object.entries(run.outputs).map(([k, v]) => [k, run.secretOutputs.has(k) ? SECRET_TEXT : redact(v)])),
        violations: findings,
    };
}

/** Components and resources as an indented tree. */
export function tree(resources: RecordedResource[]): string {
    const children = new Map<string | null, RecordedResource[]>();
    const known = new Set(resources.map((r) => r.urn));
    for (const r of resources) {
        const parent = r.parent && known.has(r.parent) ? r.parent : null;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const lines: string[] = [];
    const walk = (parent: string | null, indent: string) => {
        const list = children.get(parent) ?? [];
        list.forEach((r, i) => {
            const last = i === list.length - 1;
            const flags = [r.protect ? "protected" : "", r.retainOnDelete ? "retained on delete" : ""].filter(Boolean).join(", ");
            lines.push(`${indent}${parent === null ? "" : last ? "└─ " : "├─ "}${r.type}  ${r.name}${flags ? `  (${flags})` : ""}`);
            walk(r.urn, parent === null ? "" : indent + (last ? "   " : "│  "));
        });
    };
    walk(null, "");
    return lines.join("\n");
}

/** The longest chain of custom resources, each depending on the one before (a lower bound on `pulumi up` steps). */
export function longestDependencyChain(resources: RecordedResource[]): string[] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const components = new Map<string, string[]>();
    for (const r of resources) if (r.parent) components.set(r.parent, [...(components.get(r.parent) ?? []), r.urn]);
    // A dependency on a component is a dependency on every custom resource inside it.
    const expand = (urn: string, seen = new Set<string>()): string[] => {
        const r = byUrn.get(urn);
        if (!r || seen.has(urn)) return [];
        seen.add(urn);
        if (r.custom) return [urn];
        return (components.get(urn) ?? []).flatMap((c) => expand(c, seen));
    };
    const memo = new Map<string, string[]>();
    const chain = (urn: string, stack: Set<string>): string[] => {
        if (memo.has(urn)) return memo.get(urn)!;
        if (stack.has(urn)) return [];
        stack.add(urn);
        let best: string[] = [];
        for (const d of byUrn.get(urn)!.dependencies.flatMap((x) => expand(x))) {
            const c = chain(d, stack);
            if (c.length > best.length) best = c;
        }
        stack.delete(urn);
        const result = [...best, urn];
        memo.set(urn, result);
        return result;
    };
    let longest: string[] = [];
    for (const r of resources.filter((x) => x.custom)) {
        const c = chain(r.urn, new Set());
        if (c.length > longest.length) longest = c;
    }
    return longest;
}

/** A Mermaid flowchart: components as subgraphs, custom resources as nodes, dependencies as edges. */
export function mermaid(resources: RecordedResource[]): string {
    const ids = new Map(resources.map((r, i) => [r.urn, `r${i}`]));
    const known = new Set(resources.map((r) => r.urn));
    const children = new Map<string | null, RecordedResource[]>();
    for (const r of resources) {
        if (r.type.startsWith("pulumi:providers:")) continue;
        const parent = r.parent && known.has(r.parent) ? r.parent : null;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const shortType = (t: string) => t.replace(/^aws:([a-z0-9]+)\/[a-zA-Z0-9]+:/, "$1:").replace(/^pulumi-nodejs:dynamic\//, "dynamic:");
    const label = (s: string) => s.replace(/"/g, "'");
    const lines = ["flowchart LR"];
    const emit = (parent: string | null, indent: string) => {
        for (const r of children.get(parent) ?? []) {
            if (r.custom) {
                lines.push(`${indent}${ids.get(r.urn)}["${label(r.name)}<br/><small>${label(shortType(r.type))}</small>"]`);
            } else {
                lines.push(`${indent}subgraph ${ids.get(r.urn)}["${label(r.type)} ${label(r.name)}"]`);
                emit(r.urn, indent + "  ");
                lines.push(`${indent}end`);
            }
        }
    };
    emit(null, "  ");
    const edges = new Set<string>();
    for (const r of resources.filter((x) => x.custom && ids.has(x.urn) && !x.type.startsWith("pulumi:providers:"))) {
        for (const d of r.dependencies) {
            const dep = resources.find((x) => x.urn === d);
            if (!dep || dep.type.startsWith("pulumi:providers:") || dep.urn === r.parent) continue;
            edges.add(`  ${ids.get(d)} --> ${ids.get(r.urn)}`);
        }
    }
    return [...lines, ...edges].join("\n");
}
