/**
 * The guardrails, as plain functions over resources: the policy pack (`pulumi preview --policy-pack
 * guardrails`) and the offline plan (`npm run plan`) run these same rules.
 *
 * Values unknown during a preview arrive as `undefined`; a rule skips what it cannot see.
 */

export type Level = "mandatory" | "advisory";

/** A resource as the rules see it. */
export interface ResourceView {
    urn: string;
    type: string;
    name: string;
    props: Record<string, any>;
    /** URNs this resource depends on (explicitly or through its inputs). */
    dependencies: string[];
}

export interface Finding {
    policy: string;
    urn: string;
    message: string;
    level: Level;
}

interface RuleBase {
    name: string;
    description: string;
    level: Level;
}

export interface ResourceRule extends RuleBase {
    kind: "resource";
    check(resource: ResourceView, report: (message: string) => void): void;
}

export interface StackRule extends RuleBase {
    kind: "stack";
    check(resources: ResourceView[], report: (urn: string, message: string) => void): void;
}

export type Rule = ResourceRule | StackRule;

interface Statement {
    Sid?: string;
    Effect?: string;
    Action?: string | string[];
    Resource?: string | string[];
    Principal?: unknown;
    Condition?: Record<string, Record<string, unknown>>;
}

const THING = "${iot:Connection.Thing.ThingName}";
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function parseDoc(value: unknown): Statement[] | undefined {
    if (value === undefined || value === null || value === "") return undefined;
    try {
        const doc = typeof value === "string" ? JSON.parse(value) : value;
        return list(doc?.Statement as never) as unknown as Statement[];
    } catch {
        return undefined;
    }
}

function asObject(value: unknown): Record<string, any> | undefined {
    const v = parsed(value);
    return typeof v === "object" && v !== null ? v as Record<string, any> : undefined;
}

/** A value as given, or parsed when it is a JSON string (undefined when it is a string that is not JSON). */
function parsed(value: unknown): unknown {
    if (typeof value !== "string") return value;
    try { return JSON.parse(value); } catch { return undefined; }
}

/** Policy documents a resource carries, by property. */
function policyDocuments(r: ResourceView): { where: string; statements: Statement[] }[] {
    const docs: { where: string; statements: Statement[] }[] = [];
    const add = (where: string, value: unknown) => {
        const statements = parseDoc(value);
        if (statements) docs.push({ where, statements });
    };
    switch (r.type) {
        case "aws:iam/rolePolicy:RolePolicy":
        case "aws:iam/policy:Policy":
        case "aws:iam/userPolicy:UserPolicy":
        case "aws:iam/groupPolicy:GroupPolicy":
        case "aws:iot/policy:Policy":
        case "aws:kms/key:Key":
        case "aws:s3/bucketPolicy:BucketPolicy":
        case "aws:secretsmanager/secretPolicy:SecretPolicy":
            add("policy", r.props.policy);
            break;
        case "aws:iam/role:Role":
            for (const [i, p] of (Array.isArray(r.props.inlinePolicies) ? r.props.inlinePolicies : []).entries()) add(`inlinePolicies[${i}]`, p?.policy);
            break;
    }
    return docs;
}

const isRootPrincipal = (p: unknown): boolean =>
    typeof p === "object" && p !== null && list((p as { AWS?: string | string[] }).AWS).every((a) => /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(a)) && list((p as { AWS?: string | string[] }).AWS).length > 0;

const wildcardAction = (a: string): boolean => a === "*" || /^[a-z0-9-]+:\*$/i.test(a);

const noWildcards: ResourceRule = {
    kind: "resource",
    name: "no-wildcard-actions-on-any-resource",
    description: "No IAM, IoT, KMS or resource-policy statement allows `*` or a service-wide action (iot:*, kms:*, ...) on resource `*`; IoT policies allow no `*` or `iot:*` at all. A key policy's account-root administration statement is the only exception.",
    level: "mandatory",
    check(r, report) {
        for (const { where, statements } of policyDocuments(r)) {
            for (const s of statements) {
                if (s.Effect !== "Allow") continue;
                const wild = list(s.Action).filter(wildcardAction);
                if (wild.length === 0) continue;
                if (r.type === "aws:kms/key:Key" && isRootPrincipal(s.Principal)) continue;
                const anyResource = list(s.Resource).includes("*") || s.Resource === undefined;
                if (anyResource || r.type === "aws:iot/policy:Policy") {
                    report(`${where}: statement ${s.Sid ?? "(no Sid)"} allows ${wild.join(", ")} on ${list(s.Resource).join(", ") || "every resource"}`);
                }
            }
        }
    },
};

/** `arn:...:iot:<region>:<account>:client/...` → `client/...` */
const iotResource = (arn: string): string => arn.replace(/^arn:aws[a-z-]*:iot:[^:]*:[^:]*:/, "");

const PROVISIONING_TOPIC = /^(topic|topicfilter)\/\$aws\/(certificates\/create(-from-csr)?\/\*|provisioning-templates\/[0-9A-Za-z_-]+\/provision\/\*)$/;

function connectResources(statements: Statement[]): { resource: string; statement: Statement }[] {
    return statements.filter((s) => s.Effect === "Allow" && list(s.Action).some((a) => a === "iot:Connect" || a === "iot:*" || a === "*"))
        .flatMap((s) => list(s.Resource).map((resource) => ({ resource: iotResource(resource), statement: s })));
}

/** A claim policy connects with a client-id prefix (`client/<prefix>*`), never as a Thing. */
function isClaimPolicy(statements: Statement[]): boolean {
    const connects = connectResources(statements);
    return connects.length > 0 && connects.every((c) => /^client\/[A-Za-z0-9:_-]+\*$/.test(c.resource));
}

/** Tags the program puts on a Greengrass core-device policy (policies/greengrass.ts, CORE_POLICY_KIND). */
function corePolicyPrefix(r: ResourceView): string | undefined | null {
    const tags = asObject(r.props.tags);
    if (tags?.FmsPolicy !== "greengrass-core") return undefined;
    return typeof tags.CoreThingNamePrefix === "string" ? tags.CoreThingNamePrefix : null;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * What each action of a core policy may name (AWS's minimal core policy): `thing` is the regex of the
 * core Thing names it is for (a prefix and `*` in the shared shape, one Thing name in a per-core one),
 * `clients` of the client ids it may connect as.
 */
function coreActionResources(prefix: string, perCore?: { thing: string; clients: string }): Record<string, RegExp> {
    const thing = perCore?.thing ?? `${escapeRe(prefix)}\\*`;
    const things = `\\$aws/things/${thing}`;
    return {
        "iot:Connect": new RegExp(`^client/${perCore?.clients ?? `${escapeRe(prefix)}\\*`}$`),
        // A per-core document may name the core's whole reserved subtree ($aws/things/<thing>/*): one Thing only.
        "iot:Publish": new RegExp(`^topic/(${things}/(greengrass/health/json|greengrassv2/health/json|jobs/\\*|shadow/\\*${perCore ? "|\\*" : ""})|\\$aws/rules/[A-Za-z0-9_]+\\*?(/\\*)?)$`),
        "iot:Receive": new RegExp(`^topic/${things}/(greengrass/health/json|greengrassv2/health/json|jobs/\\*|shadow/\\*${perCore ? "|\\*" : ""})$`),
        "iot:Subscribe": new RegExp(`^topicfilter/${things}/((jobs|shadow)/\\*${perCore ? "|\\*" : ""})$`),
        "iot:GetThingShadow": new RegExp(`^thing/${thing}$`),
        "iot:UpdateThingShadow": new RegExp(`^thing/${thing}$`),
        "iot:DeleteThingShadow": new RegExp(`^thing/${thing}$`),
        "iot:AssumeRoleWithCertificate": /^rolealias\/[\w=,@-]+$/,
        "greengrass:GetComponentVersionArtifact": /^arn:aws[a-z-]*:greengrass:[a-z0-9-]+:(\*|\d{12}):components:/,
        // Documented with Resource "*": no resource-level scoping exists for these.
        "greengrass:ResolveComponentCandidates": /^\*$/,
        "greengrass:GetDeploymentConfiguration": /^\*$/,
        "greengrass:ListThingGroupsForCoreDevice": /^\*$/,
    };
}

const corePolicy: ResourceRule = {
    kind: "resource",
    name: "iot-greengrass-core-policy-scoped",
    description: "An IoT policy tagged FmsPolicy=greengrass-core (a Greengrass core device's) keeps AWS's minimal core-policy shape scoped to its CoreThingNamePrefix tag: connect as client/<prefix>*, health/jobs/shadow topics under $aws/things/<prefix>*/, Basic Ingest, shadows of thing/<prefix>*, AssumeRoleWithCertificate on a role alias, and the Greengrass data-plane calls; nothing else.",
    level: "mandatory",
    check(r, report) {
        if (r.type !== "aws:iot/policy:Policy") return;
        const prefix = corePolicyPrefix(r);
        if (prefix === undefined) return;
        if (prefix === null || !/^[A-Za-z0-9_-]{3,64}$/.test(prefix)) {
            report(`tagged as a Greengrass core policy without a CoreThingNamePrefix tag of 3-64 characters from A-Z a-z 0-9 _ -`);
            return;
        }
        const statements = parseDoc(r.props.policy);
        if (!statements) return;
        const allowed = coreActionResources(prefix);
        for (const s of statements.filter((x) => x.Effect === "Allow")) {
            for (const action of list(s.Action)) {
                const rule = allowed[action];
                if (!rule) {
                    report(`statement ${s.Sid ?? "(no Sid)"} allows ${action}, which a Greengrass core does not need`);
                    continue;
                }
                for (const resource of list(s.Resource).map(iotResource)) {
                    if (!rule.test(resource)) report(`statement ${s.Sid ?? "(no Sid)"} allows ${action} on ${resource}, outside core Things ${prefix}*`);
                }
            }
        }
    },
};

/** Ref and Fn::Join, the intrinsics our templates use, over a template value (undefined for anything else). */
export function evaluateTemplateValue(value: unknown, params: Record<string, string>): unknown {
    if (Array.isArray(value)) return value.map((v) => evaluateTemplateValue(v, params));
    if (typeof value !== "object" || value === null) return value;
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === "string") return params[o.Ref] ?? `\${${o.Ref}}`;
    if (Array.isArray(o["Fn::Join"])) {
        const [sep, parts] = o["Fn::Join"] as [string, unknown[]];
        return (parts ?? []).map((p) => String(evaluateTemplateValue(p, params))).join(sep);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, evaluateTemplateValue(v, params)]));
}

/** A serial no real one equals: what the per-core check evaluates a template's Thing name and policy with. */
const STAND_IN_SERIAL = "GuardrailSerial0001";

const corePolicyInTemplate: ResourceRule = {
    kind: "resource",
    name: "iot-template-policy-per-thing",
    description: "A provisioning template that creates its own policy (AWS::IoT::Policy with PolicyDocument, the per-core Greengrass policy) scopes it to the Thing the template creates: connect as client/<thing> and client/<thing>#* (the nucleus' ids), health/jobs/shadow topics under $aws/things/<thing>/, Basic Ingest, the Thing's own shadow, AssumeRoleWithCertificate on a role alias and the Greengrass data-plane calls; no prefix wildcard, nothing else.",
    level: "mandatory",
    check(r, report) {
        if (r.type !== "aws:iot/provisioningTemplate:ProvisioningTemplate") return;
        const body = asObject(r.props.templateBody);
        const resources = asObject(body?.Resources);
        if (!resources) return;
        const params = { SerialNumber: STAND_IN_SERIAL };
        const things = Object.values(resources).filter((x: any) => x?.Type === "AWS::IoT::Thing");
        for (const [logical, p] of Object.entries(resources).filter(([, x]: [string, any]) => x?.Type === "AWS::IoT::Policy")) {
            const props = asObject((p as any).Properties) ?? {};
            if (props.PolicyDocument === undefined) continue;
            if (props.PolicyName !== undefined) report(`policy resource ${logical} has both PolicyName and PolicyDocument (AWS accepts one or the other)`);
            const thingName = things.length === 1 ? evaluateTemplateValue((things[0] as any).Properties?.ThingName, params) : undefined;
            if (typeof thingName !== "string" || !thingName.includes(STAND_IN_SERIAL)) {
                report(`policy resource ${logical} creates a policy per Thing, but the template's Thing name does not follow the SerialNumber parameter`);
                continue;
            }
            const doc = evaluateTemplateValue(props.PolicyDocument, params);
            const statements = parseDoc(doc);
            if (!statements) {
                report(`policy resource ${logical}: the PolicyDocument is not a policy document`);
                continue;
            }
            const t = escapeRe(thingName);
            const allowed = coreActionResources("", { thing: t, clients: `${t}(#\\*)?` });
            for (const s of statements.filter((x) => x.Effect === "Allow")) {
                for (const action of list(s.Action)) {
                    const rule = allowed[action];
                    if (!rule) {
                        report(`policy resource ${logical}: statement ${s.Sid ?? "(no Sid)"} allows ${action}, which a Greengrass core does not need`);
                        continue;
                    }
                    for (const resource of list(s.Resource).map(iotResource)) {
                        if (!rule.test(resource)) report(`policy resource ${logical}: statement ${s.Sid ?? "(no Sid)"} allows ${action} on ${resource.split(STAND_IN_SERIAL).join("${SerialNumber}")}, not only the Thing this template creates`);
                    }
                }
            }
        }
    },
};

const deviceConnect: ResourceRule = {
    kind: "resource",
    name: "iot-device-connects-as-its-thing",
    description: "IoT device policies connect only as `${iot:Connection.Thing.ThingName}` with `iot:Connection.Thing.IsAttached`, and their topics are the Thing's own (Basic Ingest `$aws/rules/...` aside). Claim policies (a client-id prefix) are checked by iot-claim-policy-provisioning-only.",
    level: "mandatory",
    check(r, report) {
        if (r.type !== "aws:iot/policy:Policy" || corePolicyPrefix(r) !== undefined) return;
        const statements = parseDoc(r.props.policy);
        if (!statements || isClaimPolicy(statements)) return;
        for (const { resource, statement } of connectResources(statements)) {
            if (resource !== `client/${THING}`) {
                report(`connects as ${resource}: a device must connect only as client/${THING}`);
            } else if (statement.Condition?.Bool?.["iot:Connection.Thing.IsAttached"] !== "true") {
                report(`connects as its Thing without the condition iot:Connection.Thing.IsAttached = true`);
            }
        }
        for (const s of statements.filter((x) => x.Effect === "Allow")) {
            for (const resource of list(s.Resource).map(iotResource)) {
                if (!/^(topic|topicfilter)\//.test(resource)) continue;
                if (resource.startsWith("topic/$aws/rules/")) continue;
                // Certificate rotation: the provisioning MQTT API has fixed topics; the rotation hook binds
                // the request to the Thing the asking certificate is attached to.
                if (PROVISIONING_TOPIC.test(resource)) continue;
                if (!resource.includes(THING)) report(`statement ${s.Sid ?? "(no Sid)"} allows ${resource}, which is not scoped to the Thing`);
            }
        }
    },
};

/** The certificate API a key mode must not open: device keys never take AWS's (CreateKeysAndCertificate). */
const FORBIDDEN_CERTIFICATE_API: Record<string, RegExp> = {
    device: /^(topic|topicfilter)\/\$aws\/certificates\/create\/\*$/,
    aws: /^(topic|topicfilter)\/\$aws\/certificates\/create-from-csr\/\*$/,
};

const claimPolicy: ResourceRule = {
    kind: "resource",
    name: "iot-claim-policy-provisioning-only",
    description: "A claim-certificate policy may only connect with its client-id prefix and use the fleet-provisioning topics ($aws/certificates/create[-from-csr]/*, $aws/provisioning-templates/<name>/provision/*); tagged DeviceKeys=device (or untagged) it may not allow CreateKeysAndCertificate ($aws/certificates/create/*), which sends the device's private key over MQTT.",
    level: "mandatory",
    check(r, report) {
        if (r.type !== "aws:iot/policy:Policy" || corePolicyPrefix(r) !== undefined) return;
        const statements = parseDoc(r.props.policy);
        if (!statements || !isClaimPolicy(statements)) return;
        const mode = asObject(r.props.tags)?.DeviceKeys === "aws" ? "aws" : "device";
        for (const s of statements.filter((x) => x.Effect === "Allow")) {
            for (const resource of list(s.Resource).map(iotResource)) {
                if (FORBIDDEN_CERTIFICATE_API[mode].test(resource)) {
                    report(`statement ${s.Sid ?? "(no Sid)"} allows ${resource} while deviceKeys is ${mode}${mode === "device" ? ": AWS IoT would make the vehicle's key and send it over MQTT" : ""}`);
                }
            }
        }
        for (const s of statements.filter((x) => x.Effect === "Allow")) {
            const other = list(s.Action).filter((a) => !["iot:Connect", "iot:Publish", "iot:Receive", "iot:Subscribe"].includes(a));
            if (other.length > 0) report(`statement ${s.Sid ?? "(no Sid)"} allows ${other.join(", ")}: a claim certificate only provisions`);
            for (const resource of list(s.Resource).map(iotResource)) {
                if (resource.startsWith("client/")) continue;
                if (!PROVISIONING_TOPIC.test(resource)) report(`statement ${s.Sid ?? "(no Sid)"} allows ${resource}, outside the provisioning topics`);
            }
        }
    },
};

const kmsRotation: ResourceRule = {
    kind: "resource",
    name: "kms-key-rotation",
    description: "Symmetric customer-managed KMS keys rotate (checkov CKV_AWS_7).",
    level: "mandatory",
    check(r, report) {
        if (r.type !== "aws:kms/key:Key") return;
        const spec = r.props.customerMasterKeySpec ?? r.props.keySpec;
        if (spec && spec !== "SYMMETRIC_DEFAULT") return;
        if (r.props.enableKeyRotation !== true) report("key rotation is off (enableKeyRotation must be true)");
    },
};

function relatedTo(bucket: ResourceView, r: ResourceView): boolean {
    const name = bucket.props.bucket;
    return r.dependencies.includes(bucket.urn) || (name !== undefined && r.props.bucket === name);
}

const s3Secure: StackRule = {
    kind: "stack",
    name: "s3-bucket-private-encrypted-tls-only",
    description: "Every S3 bucket blocks all public access, is encrypted with SSE-KMS by default, and has a bucket policy that denies requests without TLS (checkov CKV_AWS_53-56, 19/145, 379).",
    level: "mandatory",
    check(resources, report) {
        for (const bucket of resources.filter((r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketV2:BucketV2")) {
            const related = resources.filter((r) => r !== bucket && relatedTo(bucket, r));
            const pab = related.find((r) => r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
            const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
            if (!pab) report(bucket.urn, "no public-access block");
            else if (flags.some((f) => pab.props[f] !== true)) report(bucket.urn, `public-access block must set ${flags.join(", ")} to true`);
            const sse = related.find((r) => r.type.startsWith("aws:s3/bucketServerSideEncryptionConfiguration"));
            const algorithms = (sse?.props.rules ?? []).map((x: any) => x?.applyServerSideEncryptionByDefault?.sseAlgorithm);
            if (!sse) report(bucket.urn, "no default encryption configuration");
            else if (!algorithms.some((a: string) => a === "aws:kms" || a === "aws:kms:dsse")) report(bucket.urn, "default encryption is not SSE-KMS");
            const policy = related.find((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy");
            const denies = parseDoc(policy?.props.policy)?.some((s) => s.Effect === "Deny" && String(s.Condition?.Bool?.["aws:SecureTransport"]) === "false");
            if (!policy) report(bucket.urn, "no bucket policy denying requests without TLS");
            else if (policy.props.policy !== undefined && !denies) report(bucket.urn, "bucket policy does not deny aws:SecureTransport = false");
        }
    },
};

const secretsCmk: ResourceRule = {
    kind: "resource",
    name: "secrets-manager-customer-managed-key",
    description: "Secrets Manager secrets are encrypted with a customer-managed KMS key (checkov CKV_AWS_149; MSK SCRAM requires it).",
    level: "mandatory",
    check(r, report) {
        if (r.type !== "aws:secretsmanager/secret:Secret") return;
        const key = r.props.kmsKeyId;
        if (key === undefined && "kmsKeyId" in r.props) return;
        if (!key || key === "alias/aws/secretsmanager") report("the secret uses the AWS-managed key: set kmsKeyId to a customer-managed key");
    },
};

const topicRules: ResourceRule = {
    kind: "resource",
    name: "iot-topic-rule-error-action-and-name",
    description: "Every IoT topic rule has an error action (IoT Lens: no message lost silently) and a name matching ^[a-zA-Z0-9_]+$ (at most 128).",
    level: "mandatory",
    check(r, report) {
        if (r.type !== "aws:iot/topicRule:TopicRule") return;
        const errorAction = asObject(r.props.errorAction);
        if (!errorAction || Object.values(errorAction).every((v) => v === undefined || v === null)) report("no error action");
        if (typeof r.props.name === "string" && !/^[a-zA-Z0-9_]{1,128}$/.test(r.props.name)) report(`rule name ${r.props.name} must match ^[a-zA-Z0-9_]+$ (1-128)`);
    },
};

/** The stack's environment, from the `aws` provider's default tags (or the resource's own tags). */
function environmentOf(resources: ResourceView[], r: ResourceView): string | undefined {
    const own = asObject(r.props.tags)?.Environment;
    if (own) return own;
    for (const p of resources.filter((x) => x.type === "pulumi:providers:aws")) {
        const env = asObject(asObject(p.props.defaultTags)?.tags)?.Environment;
        if (env) return env;
    }
    return undefined;
}

const templateHook: StackRule = {
    kind: "stack",
    name: "provisioning-template-pre-provisioning-hook",
    description: "Fleet-provisioning templates have a pre-provisioning hook, except on dev stacks (Environment tag `dev`).",
    level: "mandatory",
    check(resources, report) {
        for (const t of resources.filter((r) => r.type === "aws:iot/provisioningTemplate:ProvisioningTemplate")) {
            if (environmentOf(resources, t) === "dev") continue;
            const hook = asObject(t.props.preProvisioningHook);
            if (!hook || !("targetArn" in hook)) report(t.urn, "no pre-provisioning hook: any holder of the claim certificate could provision any serial");
        }
    },
};

const prefixModeDevOnly: StackRule = {
    kind: "stack",
    name: "provisioning-hook-registry-outside-dev",
    description: "A pre-provisioning hook in prefix mode (HOOK_MODE=prefix: any serial with the prefix is accepted) runs only on dev stacks (Environment tag `dev`); staging and production check every serial against the registry.",
    level: "mandatory",
    check(resources, report) {
        for (const f of resources.filter((r) => r.type === "aws:lambda/function:Function")) {
            const mode = asObject(asObject(f.props.environment)?.variables)?.HOOK_MODE;
            if (mode === "prefix" && environmentOf(resources, f) !== "dev") {
                report(f.urn, `the provisioning hook runs in prefix mode on a ${environmentOf(resources, f) ?? "untagged"} stack: set provisioning.hookMode: registry`);
            }
        }
    },
};

const CURRENT_RUNTIMES = new Set([
    "nodejs20.x", "nodejs22.x", "nodejs24.x", "python3.11", "python3.12", "python3.13", "python3.14",
    "java17", "java21", "java25", "dotnet8", "dotnet10", "ruby3.3", "ruby3.4", "provided.al2023",
]);
const SECRET_NAME = /(secret|passw(or)?d|pwd|token|api[_-]?key|private[_-]?key|credential)/i;
const SECRET_VALUE = /(-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16})/;

const lambdaRule: ResourceRule = {
    kind: "resource",
    name: "lambda-current-runtime-no-secret-env",
    description: "Lambda functions use a supported runtime, and no environment variable looks like a secret (by name or by value).",
    level: "mandatory",
    check(r, report) {
        if (r.type !== "aws:lambda/function:Function") return;
        const runtime = r.props.runtime;
        if (typeof runtime === "string" && !CURRENT_RUNTIMES.has(runtime)) report(`runtime ${runtime} is deprecated or unknown; use one of ${[...CURRENT_RUNTIMES].join(", ")}`);
        const variables = asObject(asObject(r.props.environment)?.variables) ?? {};
        for (const [name, value] of Object.entries(variables)) {
            if (SECRET_NAME.test(name)) report(`environment variable ${name} looks like a secret: read it from Secrets Manager at run time`);
            else if (typeof value === "string" && SECRET_VALUE.test(value)) report(`environment variable ${name} holds key material`);
        }
    },
};

const mskPasswordSecret: ResourceRule = {
    kind: "resource",
    name: "msk-password-from-secret-config",
    description: "The MSK SASL/SCRAM password comes from encrypted config (pulumi config set --secret mskPassword) or is generated, never from a plaintext value in the stack file (which is committed).",
    level: "advisory",
    check(r, report) {
        if (r.type !== "aws:secretsmanager/secret:Secret") return;
        if (asObject(r.props.tags)?.PasswordSource === "plain-config") {
            report("mskPassword is in the stack file in plain text: set it with `pulumi config set --secret mskPassword <password>` (and rotate it: it has been committed)");
        }
    },
};

/** The dynamic resource that holds a region's AWS IoT logging, audit and indexing (components/operations/regionSettings.ts). */
const REGION_SETTINGS = "pulumi-nodejs:dynamic/iot:RegionSettings";

const loggingOn: StackRule = {
    kind: "stack",
    name: "iot-logging-enabled",
    description: "AWS IoT logging, where the stack manages it, is on (IoT Lens; Device Defender LOGGING_DISABLED).",
    level: "mandatory",
    check(resources, report) {
        for (const l of resources.filter((r) => r.type === "aws:iot/loggingOptions:LoggingOptions")) {
            if (l.props.disableAllLogs === true || l.props.defaultLogLevel === "DISABLED") report(l.urn, "IoT logging is disabled");
        }
        for (const s of resources.filter((r) => r.type === REGION_SETTINGS)) {
            const level = asObject(s.props.logging)?.defaultLogLevel;
            if (level === "DISABLED") report(s.urn, "IoT logging is disabled");
        }
    },
};

const loggingPresent: StackRule = {
    kind: "stack",
    name: "iot-logging-managed",
    description: "The stack owns AWS IoT logging for its region (operations.regionSettingsOwner), or names the stack in the same account and region that does.",
    level: "advisory",
    check(resources, report) {
        if (resources.some((r) => r.type === "aws:iot/loggingOptions:LoggingOptions" || r.type === REGION_SETTINGS)) return;
        // A stack that names the owner in its config (the Operations component records it) has chosen.
        if (resources.some((r) => r.type === "fms:iot:Operations" && typeof r.props.regionSettingsOwner === "string")) return;
        const stack = resources.find((r) => r.type === "pulumi:pulumi:Stack");
        report(stack?.urn ?? "", "this stack does not manage AWS IoT logging for its region, and names no stack that does: make sure another stack in its account and region does");
    },
};

/** Where a provider or dynamic resource calls AWS: its region, profile and allowed accounts. */
function credentialsOf(r: ResourceView): { region?: string; profile: string; accounts: string; assumesRole: boolean } | undefined {
    const isProvider = r.type === "pulumi:providers:aws" || r.type === "pulumi:providers:aws-native";
    const isDynamic = r.type.startsWith("pulumi-nodejs:dynamic/") && typeof r.props.region === "string";
    if (!isProvider && !isDynamic) return undefined;
    // A provider's list inputs reach the engine JSON-encoded (the SDK serializes provider config as strings).
    const accounts = parsed(r.props.allowedAccountIds);
    const assumeRoles = parsed(r.props.assumeRoles);
    return {
        region: r.props.region,
        profile: r.props.profile ?? "(ambient credentials)",
        accounts: Array.isArray(accounts) ? [...accounts].sort().join(",") : "(any account)",
        assumesRole: (Array.isArray(assumeRoles) && assumeRoles.length > 0) || Boolean(r.props.assumeRoleArn),
    };
}

const sharedCredentials: StackRule = {
    kind: "stack",
    name: "providers-share-credentials",
    description: "Every explicit aws/aws-native provider and every dynamic resource of a stack uses the same region, profile and allowed accounts (an explicit provider reads only its own arguments, so one left without the stack's profile deploys to whatever credentials are ambient). A provider that assumes a role into another account keeps the profile and names that account.",
    level: "mandatory",
    check(resources, report) {
        const seen = resources.map((r) => ({ r, c: credentialsOf(r) })).filter((x): x is { r: ResourceView; c: NonNullable<ReturnType<typeof credentialsOf>> } => x.c !== undefined);
        const reference = seen.find((x) => x.r.type === "pulumi:providers:aws" && !x.c.assumesRole) ?? seen[0];
        if (!reference) return;
        for (const { r, c } of seen) {
            const differs = [
                c.region !== undefined && reference.c.region !== undefined && c.region !== reference.c.region ? `region ${c.region} (not ${reference.c.region})` : "",
                c.profile !== reference.c.profile ? `profile ${c.profile} (not ${reference.c.profile})` : "",
                !c.assumesRole && c.accounts !== reference.c.accounts ? `allowed accounts ${c.accounts} (not ${reference.c.accounts})` : "",
            ].filter(Boolean);
            if (differs.length > 0) report(r.urn, `${r.name} calls AWS with ${differs.join(", ")}: every provider of the stack must use the same credentials as ${reference.r.name}`);
        }
    },
};

export const RULES: Rule[] = [sharedCredentials, mskPasswordSecret, noWildcards, deviceConnect, claimPolicy, corePolicy, corePolicyInTemplate, kmsRotation, s3Secure, secretsCmk, topicRules, templateHook, prefixModeDevOnly, lambdaRule, loggingOn, loggingPresent];

/** Runs every rule over a stack's resources. */
export function evaluate(resources: ResourceView[], rules: Rule[] = RULES): Finding[] {
    const findings: Finding[] = [];
    for (const rule of rules) {
        if (rule.kind === "resource") {
            for (const r of resources) rule.check(r, (message) => findings.push({ policy: rule.name, urn: r.urn, message, level: rule.level }));
        } else {
            rule.check(resources, (urn, message) => findings.push({ policy: rule.name, urn, message, level: rule.level }));
        }
    }
    return findings;
}
