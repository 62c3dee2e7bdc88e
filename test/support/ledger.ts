/**
 * Simulates ledger calls (test/ledger/) against a plan's actual policy documents with @cloud-copilot/iam-simulate.
 *
 * IAM roles: the role's inline policies from the plan, the AWS-managed policies it attaches (documents in
 * test/ledger/managedPolicies.ts, from AWS's managed-policy reference), and the resource's own policy where the plan
 * has one (KMS key policy, S3 bucket policy). iam-simulate also validates the action, the ARN against the action's
 * resource types and the context keys against the SAR.
 *
 * IoT policies: AWS IoT, not IAM, evaluates them, so first what AWS IoT resolves itself, as the AWS IoT developer
 * guide documents it ("Thing policy variables", "Basic policy variables"): `${iot:ClientId}` is the MQTT client id;
 * `${iot:Connection.Thing.ThingName}` and `iot:Connection.Thing.IsAttached` resolve only when the certificate is
 * attached to the Thing the client id names (a statement whose variable does not resolve does not match). Then
 * iam-simulate evaluates actions, ARNs (topic, topicfilter, client, thing) and effects. What that cannot express:
 * IoT's MQTT wildcard rules (`+`/`#` are literal in IoT policies, and iam-simulate treats them as literal too, which
 * agrees), and `?` (a wildcard in IAM, literal in IoT policies; no policy here uses it).
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { ProgramRun, RecordedResource } from "../../plan/program";
import type { PolicyDocument, Statement } from "../../policies/document";
import type { ActorLedger, LedgerCall, LedgerPrincipal } from "../ledger/types";
import { MANAGED_POLICIES } from "../ledger/managedPolicies";
import { readStackFile } from "../../config/stackFile";
import { CONFIRM_TOPIC } from "../../policies/topics";
import { isAllowed } from "./iotPolicyEvaluator";
import { EXCEPTIONS, policyDocuments, templatePolicy } from "./sar";

const unsecretText = (v: unknown): string => (typeof v === "string" ? v : String((v as { value: unknown }).value));
const parse = (v: unknown): PolicyDocument => (typeof v === "string" ? JSON.parse(v) : (v as { value?: unknown }).value !== undefined ? parse((v as { value: unknown }).value) : v) as PolicyDocument;

/** Template values of one plan (see test/ledger/types.ts). */
export function ledgerVars(run: ProgramRun): Record<string, string> {
    const account = run.ofType("aws:iam/role:Role")[0].state.arn.split(":")[4];
    const vars: Record<string, string> = { Partition: "aws", Region: run.region, Account: account, LogDate: "2026/12/03", CertificateId: "a".repeat(64) };
    for (const [k, v] of Object.entries(run.outputs)) if (typeof v === "string") vars[k] = v;
    const provisioning = run.resources.find((r) => r.type === "fms:iot:FleetProvisioning");
    if (provisioning) vars.NamePrefix = provisioning.name.replace(/-provisioning$/, "");
    const hook = run.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith("-provisioning-hook"));
    const templates = hook ? JSON.parse(hook.inputs.environment.variables.HOOK_TEMPLATES) as Record<string, { thingNamePrefix: string; serialPrefixes?: string[] }> : {};
    const vehicle = templates[vars.provisioningTemplateName];
    if (vehicle) {
        vars.ThingNamePrefix = vehicle.thingNamePrefix;
        vars.ThingName = `${vehicle.thingNamePrefix}${vehicle.serialPrefixes?.[0] ?? "2974680"}000001`;
        vars.OtherThingName = `${vehicle.thingNamePrefix}${vehicle.serialPrefixes?.[0] ?? "2974680"}000002`;
    }
    // oemCa: no hook; the JITR function's prefixes name the vehicles.
    const jitr = run.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name.endsWith("-jitr"));
    if (!vehicle && jitr) {
        const env = jitr.inputs.environment.variables;
        const serial = (JSON.parse(env.SERIAL_PREFIXES) as string[])[0];
        vars.ThingNamePrefix = env.THING_NAME_PREFIX;
        vars.ThingName = `${env.THING_NAME_PREFIX}${serial}000001`;
        vars.OtherThingName = `${env.THING_NAME_PREFIX}${serial}000002`;
    }
    const jitrRules = run.outputs.jitrRuleNames as string[] | undefined;
    if (jitrRules?.length) vars.JitrRuleName = jitrRules[0];
    if (vars.edgeCoreThingNamePrefix) {
        vars.CoreThingName = `${vars.edgeCoreThingNamePrefix}297469000001`;
        vars.OtherCoreThingName = `${vars.edgeCoreThingNamePrefix}297469000002`;
    }
    const find = (type: string, suffix: string) => run.resources.find((r) => r.type === type && r.name.endsWith(suffix));
    const set = (k: string, v: unknown) => { if (typeof v === "string") vars[k] = v; };
    set("MskSecretArn", find("aws:secretsmanager/secret:Secret", "")?.state.arn);
    set("SecretKeyArn", find("aws:kms/key:Key", "-scram-key")?.state.arn);
    set("StackKeyArn", find("aws:kms/key:Key", "-key-key")?.state.arn);
    set("DestinationArn", find("aws:iot/topicRuleDestination:TopicRuleDestination", "")?.state.arn);
    set("ArtifactBucket", run.resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.name.includes("-edge-artifacts"))?.state.bucket);
    set("HookMode", hook?.inputs.environment.variables.HOOK_MODE);
    const issuer = find("aws:lambda/function:Function", "-private-ca-fn");
    set("PrivateCaArn", issuer?.inputs.environment.variables.CA_ARN);
    set("PrivateCaTemplateArn", issuer?.inputs.environment.variables.TEMPLATE_ARN);
    set("SweepScheduleArn", find("aws:cloudwatch/eventRule:EventRule", "-sweep-schedule")?.state.arn);
    set("WatchScheduleArn", find("aws:cloudwatch/eventRule:EventRule", "-destination-watch-schedule")?.state.arn);
    const topics = readStackFile(run.stack).config["fms-iot:topics"];
    vars.DeviceRoot = (topics ? JSON.parse(topics).deviceRoot : undefined) ?? "vehicles";
    // AWS IoT developer guide, "Device provisioning MQTT API": CreateCertificateFromCsr or CreateKeysAndCertificate.
    set("CertApi", vars.deviceKeys === "device" ? "create-from-csr" : vars.deviceKeys === "aws" ? "create" : undefined);
    const ingest = run.outputs.basicIngestTopics as string[] | undefined;
    set("BasicIngestTopic", ingest?.[0]);
    if (vars.certificateConfirmRuleName) vars.ConfirmTopic = `$aws/rules/${vars.certificateConfirmRuleName}/${CONFIRM_TOPIC}`;
    return vars;
}

export function fill(template: string, vars: Record<string, string>, where: string): string {
    return template.replace(/\$\{([A-Za-z]+)\}/g, (_, k: string) => {
        if (vars[k] === undefined) throw new Error(`${where}: the plan has no value for \${${k}}`);
        return vars[k];
    });
}

/** The role or IoT policy a principal names, if the stack has it. */
export function principalResource(run: ProgramRun, p: LedgerPrincipal): RecordedResource | undefined {
    if ("service" in p) return { urn: `service:${p.service}`, type: "service", name: p.service, parent: null, custom: false, inputs: {}, state: {}, dependencies: [], protect: false, retainOnDelete: false, additionalSecretOutputs: [], ignoreChanges: [] };
    if ("templatePolicy" in p) {
        const template = run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate").find((t) => t.name.endsWith(p.templatePolicy.template));
        const body = template && JSON.parse(unsecretText(template.inputs.templateBody));
        if (!template || body.Resources?.[p.templatePolicy.resource]?.Type !== "AWS::IoT::Policy") return undefined;
        return { ...template, urn: `${template.urn}#${p.templatePolicy.resource}` };
    }
    const [type, suffix] = "role" in p ? ["aws:iam/role:Role", p.role] : ["aws:iot/policy:Policy", p.iotPolicy];
    const found = run.resources.filter((r) => r.type === type && r.name.endsWith(suffix));
    if (found.length > 1) throw new Error(`ledger principal *${suffix} names ${found.length} resources`);
    return found[0];
}

/** A role's identity policies: inline role policies of the plan, and the AWS-managed ones it attaches. */
export function rolePolicies(run: ProgramRun, role: RecordedResource): { name: string; policy: PolicyDocument }[] {
    const name = role.state.name;
    const docs = run.ofType("aws:iam/rolePolicy:RolePolicy").filter((p) => p.inputs.role === name).map((p) => ({ name: p.name, policy: parse(p.inputs.policy) }));
    for (const [i, p] of ((role.inputs.inlinePolicies ?? []) as { policy?: unknown }[]).entries()) if (p.policy) docs.push({ name: `${role.name}-inline-${i}`, policy: parse(p.policy) });
    for (const a of run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((x) => x.inputs.role === name)) {
        const managed = MANAGED_POLICIES[a.inputs.policyArn.replace(/^arn:[^:]+:iam::aws:policy\//, "")];
        if (!managed) throw new Error(`${role.name} attaches ${a.inputs.policyArn}, which has no document in test/ledger/managedPolicies.ts`);
        if (managed.document) docs.push({ name: a.inputs.policyArn, policy: managed.document });
    }
    for (const arn of (role.inputs.managedPolicyArns ?? []) as string[]) {
        const managed = MANAGED_POLICIES[arn.replace(/^arn:[^:]+:iam::aws:policy\//, "")];
        if (!managed) throw new Error(`${role.name} attaches ${arn}, which has no document in test/ledger/managedPolicies.ts`);
        if (managed.document) docs.push({ name: arn, policy: managed.document });
    }
    return docs;
}

/** The resource-based policy AWS evaluates with the call, where the plan makes one. */
function resourcePolicyFor(run: ProgramRun, arn: string): PolicyDocument | undefined {
    const key = run.ofType("aws:kms/key:Key").find((k) => k.state.arn === arn);
    if (key) return parse(key.inputs.policy);
    const fn = run.ofType("aws:lambda/function:Function").find((f) => f.state.arn === arn);
    if (fn) {
        // The function policy Lambda builds from its permissions (AWS Lambda developer guide, "Viewing resource-based
        // IAM policies in Lambda": SourceAccount becomes StringEquals aws:SourceAccount, SourceArn ArnLike aws:SourceArn).
        const statements: Statement[] = run.ofType("aws:lambda/permission:Permission").filter((p) => p.inputs.function === fn.state.name || p.inputs.function === fn.state.arn).map((p) => ({
            Sid: p.name,
            Effect: "Allow",
            Principal: { Service: p.inputs.principal },
            Action: [p.inputs.action],
            Resource: [arn],
            Condition: {
                ...(p.inputs.sourceAccount ? { StringEquals: { "aws:SourceAccount": p.inputs.sourceAccount } } : {}),
                ...(p.inputs.sourceArn ? { ArnLike: { "aws:SourceArn": p.inputs.sourceArn } } : {}),
            },
        }));
        return statements.length ? { Version: "2012-10-17", Statement: statements } : undefined;
    }
    const s3 = /^arn:[^:]+:s3:::([^/]+)/.exec(arn);
    if (s3) {
        const policy = run.ofType("aws:s3/bucketPolicy:BucketPolicy").find((p) => p.inputs.bucket === s3[1]);
        return policy ? parse(policy.inputs.policy) : undefined;
    }
    return undefined;
}

const THING_VAR = "${iot:Connection.Thing.ThingName}";

/** What AWS IoT resolves before matching: IoT policy variables and IoT-only condition keys (see the header). */
export function resolveIotPolicy(doc: PolicyDocument, c: { clientId: string; attachedThing?: string }): PolicyDocument {
    const thingResolves = c.attachedThing !== undefined && c.attachedThing === c.clientId;
    const statements: Statement[] = [];
    for (const s of doc.Statement) {
        let condition = s.Condition;
        if (condition?.Bool?.["iot:Connection.Thing.IsAttached"] !== undefined) {
            const expected = String(condition.Bool["iot:Connection.Thing.IsAttached"]);
            if (expected !== String(thingResolves)) continue;
            const { ["iot:Connection.Thing.IsAttached"]: _drop, ...rest } = condition.Bool;
            condition = { ...condition, Bool: rest };
            if (Object.keys(rest).length === 0) delete (condition as Record<string, unknown>).Bool;
            if (Object.keys(condition).length === 0) condition = undefined;
        }
        const resources = (s.Resource ?? [])
            .filter((r) => thingResolves || !r.includes(THING_VAR))
            .map((r) => r.split(THING_VAR).join(c.attachedThing ?? "").split("${iot:ClientId}").join(c.clientId));
        if (resources.length === 0) continue;
        statements.push({ ...s, Resource: resources, ...(condition ? { Condition: condition } : { Condition: undefined }) });
    }
    return { Version: "2012-10-17", Statement: statements.map((s) => JSON.parse(JSON.stringify(s))) };
}

/** IAM policy variables AWS sets in the session (iam-simulate knows the `aws:` ones only). */
function withSessionVariables(doc: PolicyDocument, vars: Record<string, string> | undefined): PolicyDocument {
    if (!vars) return doc;
    let text = JSON.stringify(doc);
    for (const [k, v] of Object.entries(vars)) text = text.split(`\${${k}}`).join(v);
    return JSON.parse(text);
}

/** The IoT policy document of an IoT principal: the plan's policy, or the one its provisioning template creates. */
function iotDocument(p: LedgerPrincipal, r: RecordedResource, vars: Record<string, string>, where: string): PolicyDocument {
    if (!("templatePolicy" in p)) return parse(r.inputs.policy);
    const parameters = Object.fromEntries(Object.entries(p.templatePolicy.parameters).map(([k, v]) => [k, fill(v, vars, where)]));
    const doc = templatePolicy(unsecretText(r.inputs.templateBody), p.templatePolicy.resource, parameters);
    if (!doc) throw new Error(`${where}: ${r.name} creates no readable IoT policy ${p.templatePolicy.resource}`);
    return doc;
}

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

/** One call, filled in and simulated: AWS's decision, or an error naming what is wrong with the ledger entry. */
export async function simulate(run: ProgramRun, ledger: ActorLedger, call: LedgerCall, vars: Record<string, string>): Promise<{ decision: Decision; resource: string; detail: string }> {
    const where = `${run.stack} ${ledger.actor} ${call.action}`;
    const principal = principalResource(run, ledger.principal)!;
    const resource = fill(call.resource, vars, where);
    const context: Record<string, string | string[]> = { "aws:SecureTransport": "true" };
    for (const [k, v] of Object.entries(call.context ?? {})) context[k] = Array.isArray(v) ? v.map((x) => fill(x, vars, where)) : fill(v, vars, where);
    const sessionVariables = call.sessionVariables && Object.fromEntries(Object.entries(call.sessionVariables).map(([k, v]) => [k, fill(v, vars, where)]));
    let identityPolicies: { name: string; policy: PolicyDocument }[];
    let principalArn: string;
    let resourcePolicy: PolicyDocument | undefined;
    if ("role" in ledger.principal) {
        identityPolicies = rolePolicies(run, principal).map((p) => ({ name: p.name, policy: withSessionVariables(p.policy, sessionVariables) }));
        principalArn = principal.state.arn;
        resourcePolicy = resourcePolicyFor(run, resource);
    } else if ("service" in ledger.principal) {
        identityPolicies = [];
        principalArn = ledger.principal.service;
        resourcePolicy = resourcePolicyFor(run, resource);
        if (!resourcePolicy) throw new Error(`${where}: ${resource} has no resource policy in the plan, so no service can be allowed it`);
    } else {
        if (!call.connection) throw new Error(`${where}: an IoT-policy call needs its connection`);
        const connection = { clientId: fill(call.connection.clientId, vars, where), attachedThing: call.connection.attachedThing && fill(call.connection.attachedThing, vars, where) };
        identityPolicies = [{ name: principal.name, policy: resolveIotPolicy(iotDocument(ledger.principal, principal, vars, where), connection) }];
        principalArn = `arn:${vars.Partition}:iot:${vars.Region}:${vars.Account}:cert/${vars.CertificateId}`;
    }
    if (("iotPolicy" in ledger.principal || "templatePolicy" in ledger.principal) && EXCEPTIONS.actions[call.action]) {
        // Not an IAM action (not in the SAR), so iam-simulate refuses it: the IoT policy evaluator double decides.
        const connection = { clientId: fill(call.connection!.clientId, vars, where), attachedThing: call.connection!.attachedThing && fill(call.connection!.attachedThing, vars, where) };
        const prefix = `arn:${vars.Partition}:iot:${vars.Region}:${vars.Account}:`;
        if (!resource.startsWith(prefix)) throw new Error(`${where}: ${resource} is not an IoT resource of this stack`);
        const allowed = isAllowed([iotDocument(ledger.principal, principal, vars, where)], call.action, resource.slice(prefix.length), { region: vars.Region, accountId: vars.Account, ...connection });
        return { decision: allowed ? "Allowed" : "ImplicitlyDenied", resource, detail: `${call.action} on ${resource} (IoT policy evaluator: not an IAM action)` };
    }
    const result = await runSimulation({
        request: { principal: principalArn, action: call.action, resource: { resource, accountId: vars.Account }, contextVariables: context },
        identityPolicies,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy ? { resourcePolicy } : {}),
    }, {});
    if (result.resultType === "error") throw new Error(`${where} on ${resource}: iam-simulate refused the request: ${JSON.stringify(result.errors)}`);
    const decision = result.overallResult as Decision;
    return { decision, resource, detail: `${call.action} on ${resource}${Object.keys(call.context ?? {}).length ? ` with ${JSON.stringify(context)}` : ""}` };
}

const applies = (call: LedgerCall, vars: Record<string, string>) =>
    Object.entries(call.when ?? {}).every(([k, v]) => (v === true ? vars[k] !== undefined : vars[k] === v));

/** Every failure of one stack's ledger: coverage of the plan's actors, calls not allowed, forbidden calls allowed. */
export async function checkLedger(run: ProgramRun, ledger: readonly ActorLedger[]): Promise<string[]> {
    const failures: string[] = [];
    const vars = ledgerVars(run);
    const principals = new Map<string, ActorLedger[]>();
    for (const l of ledger) {
        const r = principalResource(run, l.principal);
        if (r) principals.set(r.urn, [...(principals.get(r.urn) ?? []), l]);
    }
    // Coverage: every role, Lambda function, topic rule and IoT policy of the plan has a ledger.
    const roles = run.ofType("aws:iam/role:Role");
    for (const role of roles) if (!principals.has(role.urn)) failures.push(`${run.stack}: role ${role.name} has no ledger entries (test/ledger/)`);
    for (const policy of run.ofType("aws:iot/policy:Policy")) if (!principals.has(policy.urn)) failures.push(`${run.stack}: IoT policy ${policy.name} has no ledger entries (test/ledger/)`);
    // IoT policies a provisioning template creates (one per device) are principals too (`templatePolicy`).
    for (const t of run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate")) {
        for (const d of policyDocuments({ ...run, resources: [t] }).filter((x) => x.field.startsWith("templateBody."))) {
            if (!principals.has(`${t.urn}#${d.field.replace("templateBody.Resources.", "")}`)) failures.push(`${run.stack}: IoT policy ${d.resource} ${d.field} (created by the template) has no ledger entries (principal templatePolicy, test/ledger/)`);
        }
    }
    for (const fn of run.ofType("aws:lambda/function:Function")) {
        const role = roles.find((r) => r.state.arn === fn.inputs.role);
        const owners = role ? principals.get(role.urn) ?? [] : [];
        if (!owners.some((l) => l.lambdas?.some((s) => fn.name.endsWith(s)))) failures.push(`${run.stack}: Lambda ${fn.name} has no ledger naming it (lambdas: [...] of its role's ledger)`);
    }
    for (const rule of run.ofType("aws:iot/topicRule:TopicRule")) {
        const roleArns = new Set<string>((JSON.stringify(rule.inputs).match(/arn:aws:iam::\d+:role\/[\w+=,.@-]+/g) ?? []));
        for (const arn of roleArns) {
            const role = roles.find((r) => r.state.arn === arn);
            if (!role || !(principals.get(role.urn) ?? []).some((l) => l.rules?.some((s) => rule.name.includes(s)))) failures.push(`${run.stack}: topic rule ${rule.name} uses ${arn} without a ledger naming the rule`);
        }
        const lambdas = (rule.inputs.lambdas ?? []) as { functionArn: string }[];
        for (const l of lambdas) {
            const fn = run.ofType("aws:lambda/function:Function").find((f) => f.state.arn === l.functionArn);
            if (!fn) failures.push(`${run.stack}: topic rule ${rule.name} invokes ${l.functionArn}, not a function of this plan`);
            else if (!run.ofType("aws:lambda/permission:Permission").some((p) => p.inputs.function === fn.state.name && p.inputs.sourceArn === rule.state.arn && p.inputs.principal === "iot.amazonaws.com")) {
                failures.push(`${run.stack}: topic rule ${rule.name} invokes ${fn.name} without a lambda:InvokeFunction permission for that rule`);
            }
        }
    }
    const invoked = new Set<string>();
    for (const l of ledger) {
        const principal = principalResource(run, l.principal);
        if (!principal) continue;
        if ("role" in l.principal) {
            const attached = run.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter((a) => a.inputs.role === principal.state.name).map((a) => String(a.inputs.policyArn).replace(/^arn:[^:]+:iam::aws:policy\//, "")).sort();
            const expected = [...(l.managedPolicies ?? [])].sort();
            if (JSON.stringify(attached) !== JSON.stringify(expected)) failures.push(`${run.stack} ${l.actor}: attaches managed policies ${attached.join(", ") || "none"}, the ledger expects ${expected.join(", ") || "none"}`);
        }
        for (const call of l.calls.filter((c) => applies(c, vars))) {
            const r = await simulate(run, l, call, vars);
            if (r.decision !== "Allowed") failures.push(`${run.stack} ${l.actor}: ${r.detail} is ${r.decision}, but the actor makes this call (${call.source})`);
            if ("service" in l.principal && call.action === "lambda:InvokeFunction") invoked.add(`${r.resource} ${fill(String(call.context?.["aws:SourceArn"] ?? ""), vars, l.actor)}`);
        }
        for (const call of l.mustDeny.filter((c) => applies(c, vars))) {
            const r = await simulate(run, l, call, vars);
            if (call.knownGap) {
                if (r.decision !== "Allowed") failures.push(`${run.stack} ${l.actor}: ${r.detail} is now ${r.decision}: the known gap (${call.knownGap}) is closed, drop its knownGap marker`);
            } else if (r.decision === "Allowed") failures.push(`${run.stack} ${l.actor}: ${r.detail} is Allowed, but must be refused (${call.why})`);
        }
    }
    // Every invoke permission is a call some service ledger makes (a new trigger needs its entry).
    for (const p of run.ofType("aws:lambda/permission:Permission")) {
        const fn = run.ofType("aws:lambda/function:Function").find((f) => f.state.name === p.inputs.function || f.state.arn === p.inputs.function);
        if (fn && !invoked.has(`${fn.state.arn} ${p.inputs.sourceArn ?? ""}`)) failures.push(`${run.stack}: permission ${p.name} (${p.inputs.principal} from ${p.inputs.sourceArn}) is no call of a service's ledger (test/ledger/services.ts)`);
    }
    return failures;
}

/** IAM prefixes of the AWS SDK v3 clients the handlers import (`@aws-sdk/client-<name>`). */
const SDK_CLIENT_PREFIX: Record<string, string> = {
    cloudwatch: "cloudwatch", dynamodb: "dynamodb", iot: "iot", "iot-data-plane": "iot", s3: "s3", kms: "kms", sts: "sts",
    "secrets-manager": "secretsmanager", "cloudwatch-logs": "logs", lambda: "lambda", sns: "sns", "acm-pca": "acm-pca",
};

/**
 * Every AWS call the Lambda handlers make (each `new XxxCommand(` of an `@aws-sdk/client-*` import), as
 * `{ file, line, action }`: the SDK's command names are the API operations, which are the IAM action names.
 */
export function handlerCalls(root: string, files: string[]): { file: string; line: number; action: string }[] {
    const fs = require("fs") as typeof import("fs");
    const path = require("path") as typeof import("path");
    const calls: { file: string; line: number; action: string }[] = [];
    for (const file of files) {
        const text = fs.readFileSync(path.join(root, file), "utf8");
        const prefixOf = new Map<string, string>();
        for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"@aws-sdk\/client-([\w-]+)"/g)) {
            const prefix = SDK_CLIENT_PREFIX[m[2]];
            if (!prefix) throw new Error(`${file}: @aws-sdk/client-${m[2]} has no IAM prefix in SDK_CLIENT_PREFIX (test/support/ledger.ts)`);
            for (const name of m[1].split(",").map((n) => n.trim()).filter((n) => /Command$/.test(n))) prefixOf.set(name, prefix);
        }
        text.split("\n").forEach((line, i) => {
            for (const m of line.matchAll(/new (\w+Command)\(/g)) {
                const prefix = prefixOf.get(m[1]);
                if (prefix) calls.push({ file, line: i + 1, action: `${prefix}:${m[1].replace(/Command$/, "")}` });
            }
        });
    }
    return calls;
}
