/**
 * How close a planned stack comes to AWS's quotas (config/awsQuotas.ts), read from the resources the plan records:
 * each IoT policy's size (the per-core policy a core template creates measured at the longest serial the hook
 * admits), each provisioning template's size and the policies it attaches to a certificate, each topic rule's
 * actions, the stack's topic rules and templates, each Greengrass deployment's components. Over a quota is a
 * mandatory finding (AWS would refuse the change at `pulumi up`), within 10% of it an advisory one; both name the
 * quota and its AWS page. Quotas that span the stacks sharing an account are checked from config
 * (config/accountQuotas.ts): a stack's own count here, the sum there.
 */
import { AWS_QUOTAS, cite, QuotaId } from "../config/awsQuotas";
import { MAX_SERIAL } from "../components/edge/corePolicy";
import { evaluateTemplateValue, Finding, ResourceView } from "../guardrails/rules";

/** One quota as one resource (or the stack) uses it. */
export interface QuotaUse {
    quota: QuotaId;
    /** What uses it, in words ("policy fms-kr-provisioning-device-policy"). */
    subject: string;
    urn: string;
    used: number;
    limit: number;
}

/** From this share of a quota on, the plan warns. */
export const NEAR_QUOTA = 0.9;

const TYPES = {
    policy: "aws:iot/policy:Policy",
    template: "aws:iot/provisioningTemplate:ProvisioningTemplate",
    rule: "aws:iot/topicRule:TopicRule",
    deployment: "aws-native:greengrassv2:Deployment",
} as const;

/** Serial a template's per-Thing policy is measured at: as long as the hook admits (provisioningHook SERIAL). */
const LONGEST_SERIAL = `S${"0".repeat(MAX_SERIAL - 1)}`;

const parse = (v: unknown): unknown => {
    if (typeof v !== "string") return v;
    try {
        return JSON.parse(v);
    } catch {
        return undefined;
    }
};
const size = (doc: unknown) => JSON.stringify(doc).replace(/\s/g, "").length;
const limitOf = (id: QuotaId) => AWS_QUOTAS[id].value;

/** Every quota use the planned resources show (values a preview does not know yet are skipped). */
export function quotaUses(resources: ResourceView[]): QuotaUse[] {
    const uses: QuotaUse[] = [];
    const use = (quota: QuotaId, subject: string, urn: string, used: number) => uses.push({ quota, subject, urn, used, limit: limitOf(quota) });
    const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "";

    for (const p of resources.filter((r) => r.type === TYPES.policy)) {
        const doc = parse(p.props.policy);
        if (doc !== undefined) use("policyDocumentSize", `policy ${p.props.name ?? p.name}`, p.urn, size(doc));
    }
    const templates = resources.filter((r) => r.type === TYPES.template);
    for (const t of templates) {
        if (typeof t.props.templateBody !== "string") continue;
        const name = t.props.name ?? t.name;
        use("provisioningTemplateSize", `template ${name}`, t.urn, t.props.templateBody.length);
        const body = parse(t.props.templateBody) as { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> } | undefined;
        const policies = Object.entries(body?.Resources ?? {}).filter(([, x]) => x?.Type === "AWS::IoT::Policy");
        // Each AWS::IoT::Policy resource of a template is a policy attached to the certificate it provisions.
        use("policiesPerCertificate", `certificates of template ${name}`, t.urn, policies.length);
        for (const [logical, p] of policies) {
            if (p.Properties?.PolicyDocument === undefined) continue;
            const doc = parse(evaluateTemplateValue(p.Properties.PolicyDocument, { SerialNumber: LONGEST_SERIAL }));
            if (doc !== undefined) use("policyDocumentSize", `the per-Thing policy (resource ${logical}) of template ${name}, at a serial of ${MAX_SERIAL} characters`, t.urn, size(doc));
        }
    }
    if (templates.length > 0) use("provisioningTemplatesPerAccount", "this stack's provisioning templates", stackUrn, templates.length);

    const rules = resources.filter((r) => r.type === TYPES.rule);
    for (const r of rules) {
        // A rule's actions are its action lists (kafkas, lambdas, ...); the error action is not one of them.
        const actions = Object.entries(r.props).filter(([k, v]) => Array.isArray(v) && k !== "tags").reduce((n, [, v]) => n + (v as unknown[]).length, 0);
        use("actionsPerRule", `rule ${r.props.name ?? r.name}`, r.urn, actions);
    }
    if (rules.length > 0) use("rulesPerAccount", "this stack's topic rules", stackUrn, rules.length);

    for (const d of resources.filter((r) => r.type === TYPES.deployment)) {
        const components = d.props.components;
        if (components && typeof components === "object") use("greengrassComponentsPerDeployment", `deployment ${d.props.deploymentName ?? d.name}`, d.urn, Object.keys(components).length);
    }
    return uses;
}

/** Findings for the uses at or near their quota: over is mandatory, from NEAR_QUOTA on advisory. */
export function quotaFindings(uses: QuotaUse[]): Finding[] {
    const findings: Finding[] = [];
    for (const u of uses) {
        if (u.used > u.limit) {
            findings.push({ policy: "aws-quota", level: "mandatory", urn: u.urn, message: `${u.subject}: ${u.used}, over ${cite(u.quota)}` });
        } else if (u.used >= NEAR_QUOTA * u.limit) {
            findings.push({ policy: "aws-quota", level: "advisory", urn: u.urn, message: `${u.subject}: ${u.used} of ${u.limit} (${u.limit - u.used} left), within ${Math.round((1 - NEAR_QUOTA) * 100)}% of ${cite(u.quota)}` });
        }
    }
    return findings;
}

/** Lines for the plan's text output: the fullest use of each quota. */
export function quotaLines(uses: QuotaUse[]): string[] {
    const fullest = new Map<QuotaId, QuotaUse>();
    for (const u of uses) {
        const best = fullest.get(u.quota);
        if (!best || u.used / u.limit > best.used / best.limit) fullest.set(u.quota, u);
    }
    return [...fullest.values()].map((u) => `  ${AWS_QUOTAS[u.quota].name}: ${u.used} of ${u.limit} (${Math.round((100 * u.used) / u.limit)}%), ${u.subject}`);
}
