/**
 * Adopting a country's CDK stacks (seed 000: `AwsIotCoreProvisioningInfraStack`, `AwsIotCoreRuleInfraStack`, as in
 * aws-samples/42dot-cdk-fleetmanagement-system) into this program: from what CloudFormation says those stacks hold
 * (`aws cloudformation describe-stack-resources --stack-name <stack> --output json`), a `pulumi import --file`
 * document for the resources this program has a counterpart for, under the component and provider the program
 * registers them with, so the first `pulumi up` after the import updates them in place.
 *
 * The document's shape is Pulumi's, as the CLI at the pinned version reads it (pulumi/pulumi v3.248.0
 * pkg/cmd/pulumi/operations/import.go:162-185, `importSpec` and `importFile`; read at 488-498):
 *   {"nameTable": {"<name>": "<provider urn>"},
 *    "resources": [{"type", "name", "id", "parent"?, "provider"?, "component"?}],
 *    "providerInputs": {"<name>": {<the provider's inputs>}}}
 * `parent` and `provider` name a nameTable entry or another entry of the file; an entry with `component: true` and
 * no id creates an empty component resource to parent the imported ones (Pulumi 3.94 and later).
 * `providerInputs` (import.go: "allows the import system to create explicit providers that are not yet in state with
 * the correct configuration") is what the engine creates a provider that is not yet in the stack from; without it the
 * engine creates that provider with empty inputs (pkg/resource/deploy/import.go: "ProviderInputs may be nil ...
 * inputs = resource.PropertyMap{}", lines 457-462), that is with no region, profile or allowed accounts (the field came
 * with pulumi/pulumi#21671, first in v3.231.0). So the file carries the
 * inputs the program registers its providers with, and `pulumi import` needs no targeted `up` first.
 */
import { ProgramRun, RecordedResource } from "./program";

/** One row of `describe-stack-resources` (`StackResources`) or `list-stack-resources` (`StackResourceSummaries`). */
export interface CfnResource { StackName?: string; LogicalResourceId: string; PhysicalResourceId?: string; ResourceType: string }

export function readCfnResources(json: unknown, file: string): CfnResource[] {
    const doc = json as { StackResources?: CfnResource[]; StackResourceSummaries?: CfnResource[] };
    const rows = doc?.StackResources ?? doc?.StackResourceSummaries;
    if (!Array.isArray(rows)) throw new Error(`${file}: not the output of aws cloudformation describe-stack-resources (no StackResources)`);
    return rows;
}

/** A physical name this program sets, and the config key that sets it where there is one. */
interface Naming { input: string; config?: { key: string; line: (ours: RecordedResource, cdkName: string) => string } }

export interface Mapping {
    /** The CDK construct, as seed 000 names it (its id, with `<svc>-<env>` the sample's service and environment). */
    construct: string;
    cfnType: string;
    /** CDK's logical id: the construct id without its non-alphanumerics, plus an 8-hex hash for an L2 construct. */
    logicalId: RegExp;
    /** This program's resource: its type and the end of its name (the names start with the stack's namePrefix). */
    type: string;
    nameSuffix: (m: RegExpExecArray) => string;
    /**
     * What identifies it, in both tools: CloudFormation's physical id (its `Ref` value, per the resource's "Return
     * values" in the CloudFormation User Guide) and the id `pulumi import` takes (per the resource's "Import" section
     * in @pulumi/aws). Where the two agree the physical id is the import id as is; test/adopt.test.ts reads the
     * provider's own docs to hold `importBy` to them.
     */
    cfnRef: "name" | "arn" | "id" | "bucket";
    importBy: "name" | "functionName" | "arn" | "id" | "bucket";
    naming?: Naming;
}

const HASH = "(?:[0-9A-F]{8})?$";
const nameFromSecretArn = (arn: string) => /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn)?.[1] ?? arn;

/** Seed 000's CDK resources this program has a counterpart for (docs/adoption.md). */
export const CDK_MAPPINGS: Mapping[] = [
    { construct: "<svc>-<env>device-policy (iot.CfnPolicy)", cfnType: "AWS::IoT::Policy", logicalId: new RegExp(`devicepolicy${HASH}`),
        type: "aws:iot/policy:Policy", nameSuffix: () => "-provisioning-device-policy", cfnRef: "name", importBy: "name",
        naming: { input: "name", config: { key: "fms-iot:provisioning.devicePolicyName", line: (_r, n) => `fms-iot:provisioning.devicePolicyName: ${n}` } } },
    { construct: "<svc>-<env>-pre-provisioning-lambda-role (iam.Role)", cfnType: "AWS::IAM::Role", logicalId: new RegExp(`preprovisioninglambdarole${HASH}`),
        type: "aws:iam/role:Role", nameSuffix: () => "-provisioning-hook-role", cfnRef: "name", importBy: "name" },
    { construct: "<svc>-<env>-pre-provisioning-hook-lambda (lambda.Function)", cfnType: "AWS::Lambda::Function", logicalId: new RegExp(`preprovisioninghooklambda${HASH}`),
        type: "aws:lambda/function:Function", nameSuffix: () => "-provisioning-hook", cfnRef: "name", importBy: "functionName", naming: { input: "name" } },
    { construct: "<svc>-<env>-provisioning-template-role (iam.Role)", cfnType: "AWS::IAM::Role", logicalId: new RegExp(`provisioningtemplaterole${HASH}`),
        type: "aws:iam/role:Role", nameSuffix: () => "-provisioning-provisioning-role", cfnRef: "name", importBy: "name" },
    { construct: "<svc>-<env>-provision-template (iot.CfnProvisioningTemplate)", cfnType: "AWS::IoT::ProvisioningTemplate", logicalId: new RegExp(`provisiontemplate${HASH}`),
        type: "aws:iot/provisioningTemplate:ProvisioningTemplate", nameSuffix: () => "-provisioning-template", cfnRef: "name", importBy: "name",
        naming: { input: "name", config: { key: "fms-iot:provisioning.templateName", line: (_r, n) => `fms-iot:provisioning.templateName: ${n}` } } },
    { construct: "<svc>-<env>-claim-certificate-policy (iot.CfnPolicy)", cfnType: "AWS::IoT::Policy", logicalId: new RegExp(`claimcertificatepolicy${HASH}`),
        type: "aws:iot/policy:Policy", nameSuffix: () => "-claim-policy", cfnRef: "name", importBy: "name", naming: { input: "name" } },
    { construct: "cdkTestS3Bucket (s3.Bucket)", cfnType: "AWS::S3::Bucket", logicalId: new RegExp(`^cdkTestS3Bucket${HASH}`),
        type: "aws:s3/bucket:Bucket", nameSuffix: () => "-claim-pems-bucket", cfnRef: "bucket", importBy: "bucket" },
    // The bucket has one policy: CDK's, until this program's TLS-only policy replaces its content in the first up.
    // Adopted (and retained in CloudFormation, walk-through step 2), or deleting the CDK stack would delete the
    // policy this program then manages.
    { construct: "cdkTestS3Bucket's policy (s3.Bucket, enforceSSL)", cfnType: "AWS::S3::BucketPolicy", logicalId: new RegExp(`^cdkTestS3BucketPolicy${HASH}`),
        type: "aws:s3/bucketPolicy:BucketPolicy", nameSuffix: () => "-claim-pems-tls-only", cfnRef: "bucket", importBy: "bucket" },
    { construct: "<svc>-<env>-rule-engine-role (iam.Role)", cfnType: "AWS::IAM::Role", logicalId: new RegExp(`ruleenginerole${HASH}`),
        type: "aws:iam/role:Role", nameSuffix: () => "-routing-rule-role", cfnRef: "name", importBy: "name" },
    { construct: "Key (kms.CfnKey)", cfnType: "AWS::KMS::Key", logicalId: new RegExp(`^Key${HASH}`),
        type: "aws:kms/key:Key", nameSuffix: () => "-routing-scram-key", cfnRef: "id", importBy: "id" },
    { construct: "KeyAlias (kms.CfnAlias)", cfnType: "AWS::KMS::Alias", logicalId: new RegExp(`^KeyAlias${HASH}`),
        type: "aws:kms/alias:Alias", nameSuffix: () => "-routing-scram-alias", cfnRef: "name", importBy: "name", naming: { input: "name" } },
    { construct: "IoTSecret (secretsmanager.CfnSecret)", cfnType: "AWS::SecretsManager::Secret", logicalId: new RegExp(`^IoTSecret${HASH}`),
        type: "aws:secretsmanager/secret:Secret", nameSuffix: () => "-routing-scram-secret", cfnRef: "arn", importBy: "arn", naming: { input: "name" } },
    { construct: "<svc>-<env>-topic-rule-<key> (iot.CfnTopicRule)", cfnType: "AWS::IoT::TopicRule", logicalId: new RegExp(`topicrule([A-Za-z0-9]+?)${HASH}`),
        type: "aws:iot/topicRule:TopicRule", nameSuffix: (m) => `-routing-${m[1]}`, cfnRef: "name", importBy: "name",
        naming: { input: "name", config: { key: "fms-iot:routing.routes[].ruleName", line: (ours, n) => `fms-iot:routing.routes, the route with key ${ours.name.replace(/^.*-routing-/, "")}: ruleName: ${n}` } } },
];

/** What CloudFormation holds that is not adopted, and why (shown to the user with the plan). First match wins. */
export const NOT_ADOPTED: { cfnType: string; logicalId?: RegExp; why: string }[] = [
    { cfnType: "Custom::AWS", why: "the CDK claim certificate (AwsCustomResource CreateKeysAndCertificate): this program makes its own claim certificate; keep the CDK one ACTIVE until every vehicle built with it has provisioned, then deactivate it (aws iot update-certificate --new-status INACTIVE)" },
    // terraform-provider-aws internal/service/iot/topic_rule_destination.go at 03b0fbe: schema "vpc_configuration"
    // (and each of role_arn, security_groups, subnet_ids, vpc_id) ForceNew; Update changes `enabled` only.
    { cfnType: "AWS::IoT::TopicRuleDestination", why: "a VPC destination's VPC configuration (role, VPC, subnets, security groups) is create-only (terraform-provider-aws internal/service/iot/topic_rule_destination.go: vpc_configuration ForceNew) and this program's has a security group of its own, so adopting it would replace it. The program creates its own destination; the adopted rules switch to it in the same up, once it is ENABLED; the CDK one goes with its CloudFormation stack (step 4), when no rule uses it" },
    { cfnType: "AWS::IoT::PolicyPrincipalAttachment", why: "attaches the CDK claim policy to the CDK claim certificate, which stay with CloudFormation" },
    { cfnType: "AWS::Lambda::Permission", logicalId: /preprovisioninghooklambdaInvokePermission/, why: "IoT's invoke permission on the CDK hook function, which stays with CloudFormation (this program's hook has its own)" },
    { cfnType: "Custom::CDKBucketDeployment", why: "CDK's copy of the claim PEMs into S3; this program writes its own objects" },
    { cfnType: "AWS::IAM::Policy", logicalId: /iotcorerolepolicy/, why: "the CDK rule-engine policy (iotCoreRolePolicy: ec2, Secrets Manager and KMS actions on *): this program puts a narrower policy of its own on the adopted role; remove the CDK one after the cutover (aws iam delete-role-policy --role-name <role> --policy-name iotCoreRolePolicy)" },
    { cfnType: "AWS::IAM::Policy", why: "an inline policy CDK made for one of its helpers; it goes with the helper" },
    { cfnType: "AWS::CDK::Metadata", why: "CDK bookkeeping" },
];

export interface ImportEntry { type: string; name: string; id?: string; parent?: string; provider?: string; component?: boolean }
export interface ImportFile { nameTable: Record<string, string>; resources: ImportEntry[]; providerInputs: Record<string, Record<string, unknown>> }

export interface Adoption {
    file: ImportFile;
    /** Adopted, keeping their physical names: `<cfn logical id> → <pulumi name>`. */
    adopted: { logicalId: string; physicalId: string; name: string; type: string }[];
    /** Counterparts whose names differ: not in the file; the config line that makes them match, where one exists. */
    renamed: { logicalId: string; cdkName: string; ours: string; name: string; configLine?: string }[];
    /** CloudFormation resources without a counterpart, with the reason. */
    skipped: { logicalId: string; cfnType: string; why: string }[];
}

/** The physical name CloudFormation's id stands for, for the properties this program names. */
function cdkName(m: Mapping, physicalId: string): string {
    if (m.cfnType === "AWS::SecretsManager::Secret") return nameFromSecretArn(physicalId);
    return physicalId;
}

export function adopt(run: ProgramRun, cfn: CfnResource[]): Adoption {
    const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
    const provider = (r: RecordedResource) => r.provider?.replace(/::[^:]*$/, "");
    const file: ImportFile = { nameTable: {}, resources: [], providerInputs: {} };
    const adoption: Adoption = { file, adopted: [], renamed: [], skipped: [] };
    const components = new Set<string>();
    const addParents = (r: RecordedResource) => {
        const chain: RecordedResource[] = [];
        for (let p = r.parent ? byUrn.get(r.parent) : undefined; p && !p.custom; p = p.parent ? byUrn.get(p.parent) : undefined) chain.unshift(p);
        for (const c of chain) {
            if (components.has(c.urn)) continue;
            components.add(c.urn);
            const parent = c.parent && byUrn.has(c.parent) ? byUrn.get(c.parent)!.name : undefined;
            file.resources.push({ type: c.type, name: c.name, component: true, ...(parent ? { parent } : {}) });
        }
    };
    for (const res of cfn) {
        const mapping = CDK_MAPPINGS.find((m) => m.cfnType === res.ResourceType && m.logicalId.test(res.LogicalResourceId));
        if (!mapping) {
            const known = NOT_ADOPTED.find((n) => n.cfnType === res.ResourceType && (!n.logicalId || n.logicalId.test(res.LogicalResourceId)));
            adoption.skipped.push({ logicalId: res.LogicalResourceId, cfnType: res.ResourceType, why: known?.why ?? "no counterpart in this program (CDK helper or a resource of your own): it stays with CloudFormation" });
            continue;
        }
        const match = mapping.logicalId.exec(res.LogicalResourceId)!;
        const ours = run.ofType(mapping.type).find((r) => r.name.endsWith(mapping.nameSuffix(match)));
        if (!ours || !res.PhysicalResourceId) {
            adoption.skipped.push({ logicalId: res.LogicalResourceId, cfnType: res.ResourceType, why: ours ? "CloudFormation has no physical id for it (not created)" : `this stack has no ${mapping.type} *${mapping.nameSuffix(match)} (is the feature configured?)` });
            continue;
        }
        if (mapping.naming) {
            const want = ours.inputs[mapping.naming.input];
            const have = cdkName(mapping, res.PhysicalResourceId);
            // A name this program sets (not auto-named) that differs: pulumi up would replace the adopted resource.
            if (typeof want === "string" && want !== have) {
                adoption.renamed.push({ logicalId: res.LogicalResourceId, cdkName: have, ours: want, name: ours.name, configLine: mapping.naming.config?.line(ours, have) });
                continue;
            }
        }
        addParents(ours);
        const providerUrn = provider(ours);
        let providerName: string | undefined;
        if (providerUrn) {
            providerName = byUrn.get(providerUrn)?.name ?? providerUrn.split("::").pop()!;
            file.nameTable[providerName] = providerUrn;
            const registered = byUrn.get(providerUrn);
            if (registered) file.providerInputs[providerName] = registered.inputs;
        }
        const parent = ours.parent && byUrn.has(ours.parent) ? byUrn.get(ours.parent)!.name : undefined;
        file.resources.push({
            type: ours.type, name: ours.name, id: res.PhysicalResourceId,
            ...(parent ? { parent } : {}), ...(providerName ? { provider: providerName } : {}),
        });
        adoption.adopted.push({ logicalId: res.LogicalResourceId, physicalId: res.PhysicalResourceId, name: ours.name, type: ours.type });
    }
    return adoption;
}

/** The report printed with the import file: what is adopted, what needs a config line first, what stays. */
export function adoptionReport(a: Adoption, stack: string): string {
    const lines = [`Adopting into stack ${stack}: ${a.adopted.length} resources in the import file`];
    for (const x of a.adopted) lines.push(`  adopt   ${x.logicalId} (${x.physicalId}) as ${x.type} ${x.name}`);
    if (a.renamed.length > 0) {
        lines.push("", "Named differently here (not in the file: pulumi up would replace them). Add to the stack file and run again:");
        for (const x of a.renamed) {
            lines.push(`  ${x.logicalId}: CloudFormation's ${x.cdkName}, this program's ${x.ours} (${x.name})`);
            lines.push(x.configLine ? `      ${x.configLine}` : "      no config key names it: left with CloudFormation; this program creates its own (delete the CDK one after the cutover)");
        }
    }
    if (a.skipped.length > 0) {
        lines.push("", "Not adopted:");
        for (const x of a.skipped) lines.push(`  ${x.logicalId} (${x.cfnType}): ${x.why}`);
    }
    return lines.join("\n");
}

export const MAPPING_MARKERS = { start: "<!-- cdk-mapping:start (test/adopt.test.ts checks it; UPDATE_README=1 npm test rewrites it) -->", end: "<!-- cdk-mapping:end -->" };

/** docs/adoption.md's mapping table, from the mappings themselves. */
export function mappingTable(): string {
    const rows = CDK_MAPPINGS.map((m) => {
        const ours = `\`${m.type}\` \`<namePrefix>${m.nameSuffix(/(.+)/.exec("<key>")!)}\``;
        const keeps = !m.naming ? "adopted (its name is not the program's to set)"
            : m.naming.config ? `adopted once \`${m.naming.config.key}\` carries the CDK name (the plan prints the line)`
                : "adopted if the names agree, else left with CloudFormation";
        return `| ${m.construct} | \`${m.cfnType}\` | ${ours} | ${keeps} |`;
    });
    const skipped = NOT_ADOPTED.map((n) => `| ${n.logicalId ? `\`${n.logicalId.source}\`` : "any"} | \`${n.cfnType}\` | not adopted | ${n.why} |`);
    return [MAPPING_MARKERS.start, "", "| CDK construct (seed 000) | CloudFormation type | this program's resource | keeps |", "|---|---|---|---|", ...rows, ...skipped, "", MAPPING_MARKERS.end].join("\n");
}
