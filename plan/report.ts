import { evaluate, Finding, ResourceView } from "../guardrails/rules";
import { ProgramRun, RecordedResource } from "./program";
import { quotaFindings, QuotaUse, quotaUses } from "./quotaHeadroom";

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
    /** Every use of an AWS quota the plan shows (plan/quotaHeadroom.ts), and the ones over (mandatory) or near (advisory) it. */
    quotas: { uses: QuotaUse[]; findings: Finding[] };
}

/** The stack's uses of AWS's quotas and the findings they raise. */
export function quotaReport(run: ProgramRun): PlanDocument["quotas"] {
    const uses = quotaUses(views(run));
    return { uses, findings: quotaFindings(uses) };
}

export function planDocument(run: ProgramRun, findings: Finding[], placeholders: string[], quotas: PlanDocument["quotas"] = quotaReport(run)): PlanDocument {
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
        quotas,
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

const isProvider = (r: RecordedResource) => r.type.startsWith("pulumi:providers:");
/** Text for inside a Mermaid `["..."]` label (a double quote would end it). */
const mermaidLabel = (s: string) => s.replace(/"/g, "'");

/**
 * A Mermaid flowchart of the stack's top-level components (what index.ts builds), one node each with its type and
 * resource count, and an edge from a component to each component that depends on something inside it (arrows point
 * from what is needed to what needs it). The resource-level view is `resourceMermaid`.
 */
export function componentMermaid(resources: RecordedResource[]): string {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const topOf = (urn: string): RecordedResource | undefined => {
        let r = byUrn.get(urn);
        while (r?.parent && byUrn.has(r.parent)) r = byUrn.get(r.parent)!;
        return r;
    };
    const tops = resources.filter((r) => !(r.parent && byUrn.has(r.parent)) && !isProvider(r));
    const ids = new Map(tops.map((r, i) => [r.urn, `c${i}`]));
    const count = new Map<string, number>();
    for (const r of resources) if (r.custom && !isProvider(r)) count.set(topOf(r.urn)!.urn, (count.get(topOf(r.urn)!.urn) ?? 0) + 1);
    const lines = ["flowchart LR"];
    for (const t of tops) {
        const n = count.get(t.urn) ?? 0;
        // Plain text and <br/> only: the same label reads in GitHub's Mermaid and in the rendered SVG (no HTML labels).
        const what = t.custom ? t.name : `${t.name}, ${n} resource${n === 1 ? "" : "s"}`;
        lines.push(`  ${ids.get(t.urn)}["${mermaidLabel(t.type)}<br/>${mermaidLabel(what)}"]`);
    }
    const edges = new Set<string>();
    for (const r of resources) {
        const to = topOf(r.urn);
        if (!to || !ids.has(to.urn)) continue;
        for (const d of r.dependencies) {
            const from = topOf(d);
            if (!from || from.urn === to.urn || !ids.has(from.urn)) continue;
            edges.add(`  ${ids.get(from.urn)} --> ${ids.get(to.urn)}`);
        }
    }
    return [...lines, ...[...edges].sort()].join("\n");
}

/** A Mermaid flowchart: components as subgraphs, custom resources as nodes, dependencies as edges. */
export function resourceMermaid(resources: RecordedResource[]): string {
    const ids = new Map(resources.map((r, i) => [r.urn, `r${i}`]));
    const known = new Set(resources.map((r) => r.urn));
    const children = new Map<string | null, RecordedResource[]>();
    for (const r of resources) {
        if (isProvider(r)) continue;
        const parent = r.parent && known.has(r.parent) ? r.parent : null;
        children.set(parent, [...(children.get(parent) ?? []), r]);
    }
    const shortType = (t: string) => t.replace(/^aws:([a-z0-9]+)\/[a-zA-Z0-9]+:/, "$1:").replace(/^pulumi-nodejs:dynamic\//, "dynamic:");
    const label = mermaidLabel;
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
