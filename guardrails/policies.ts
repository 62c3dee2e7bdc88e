import type { Policy, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { ResourceView, Rule, RULES } from "./rules";

function view(r: { urn: string; type: string; name: string; props: Record<string, any> }, dependencies: string[]): ResourceView {
    return { urn: r.urn, type: r.type, name: r.name, props: r.props ?? {}, dependencies };
}

function dependenciesOf(r: PolicyResource): string[] {
    const urns = new Set(r.dependencies.map((d) => d.urn));
    for (const deps of Object.values(r.propertyDependencies ?? {})) for (const d of deps) urns.add(d.urn);
    return [...urns];
}

/** The guardrail rules as Pulumi policies (enforcement level from each rule). */
export function toPolicy(rule: Rule): Policy {
    if (rule.kind === "resource") {
        const policy: ResourceValidationPolicy = {
            name: rule.name,
            description: rule.description,
            enforcementLevel: rule.level,
            // Per-resource checks see no dependencies; none of them needs any.
            validateResource: (args, reportViolation) => rule.check(view(args, []), (message) => reportViolation(message)),
        };
        return policy;
    }
    const policy: StackValidationPolicy = {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.level,
        validateStack: (args, reportViolation) => rule.check(
            args.resources.map((r) => view(r, dependenciesOf(r))),
            (urn, message) => reportViolation(message, urn || undefined),
        ),
    };
    return policy;
}

export const POLICIES: Policy[] = RULES.map(toPolicy);
