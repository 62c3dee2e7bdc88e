/**
 * Writes test/support/apiConstraints.ts: for every aws-native resource type the shipped stacks use, the
 * CloudFormation property paths and the pattern / min / max that AWS's API puts on the member each one is sent as,
 * read from botocore's service models (`data/<service>/<version>/service-2.json.gz`, the AWS SDK for Python's and
 * the AWS CLI's). The CloudFormation resource schemas as the CDK's database carries them
 * (`@aws-cdk/aws-service-spec`, test/support/cfnSchema.ts) drop patterns, lengths and numeric ranges; no npm
 * package here ships the registry schemas with them; the API models do, for the members the CloudFormation
 * handlers pass on.
 *
 *     npm run api-constraints [-- /path/to/botocore/data <botocore version>]
 *
 * Without a path it asks python3 where botocore is. A test holds the generated file to botocore when botocore is
 * installed (as config/serviceRegions.ts is held to its endpoint data).
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { PROJECT_ROOT } from "../config/stackFile";
import { findBotocore } from "./serviceRegions";

export const API_CONSTRAINTS_FILE = path.join(PROJECT_ROOT, "test", "support", "apiConstraints.ts");

/**
 * A CloudFormation property path (top-level; `[]` when each element of a list is sent by its own call): the API input
 * member it is sent as, or why it has none (`{ none }`: a property the handler keeps to itself or turns into
 * something else; no property of today's types needs one).
 */
type Mapped = string | { none: string };
interface ResourceMapping { service: string; operation: string; properties: Record<string, Mapped> }

/**
 * The hand-written table: CloudFormation property -> `<Operation>.<member>` of the API call the resource's create
 * handler makes with it. The handlers pass values through and leave validation to the service (the IoT handlers say
 * so: "the handlers act as pass-through in terms of input validation ... we delegate deeper checks to the service",
 * CreateHandler.java cited at TargetArns below), so the API member's constraints are the ones a value meets at deploy. Nested properties follow by name below the member (the CloudFormation schemas of these
 * types use the API's member names in PascalCase: `IotJobConfiguration.JobExecutionsRolloutConfig.MaximumPerMinute`
 * is `iotJobConfiguration.jobExecutionsRolloutConfig.maximumPerMinute`), list elements as `[]`, map values as `.*`
 * and map keys as `.<key>`. Tests fail on a property path of the schema (test/support/cfnSchema.ts schemaPaths) or an
 * input path of a shipped stack that reaches neither a generated member nor a `none`, and on a type the stacks use
 * that the table lacks.
 */
export const MAPPING: Record<string, ResourceMapping> = {
    "AWS::GreengrassV2::ComponentVersion": {
        service: "greengrassv2",
        operation: "CreateComponentVersion",
        properties: {
            // The API takes the recipe as a blob: no pattern or length; the recipe's own fields (ComponentName,
            // ComponentVersion, ...) are checked by the service against the recipe format, which no model here carries.
            InlineRecipe: "CreateComponentVersion.inlineRecipe",
            LambdaFunction: "CreateComponentVersion.lambdaFunction",
            Tags: "CreateComponentVersion.tags",
        },
    },
    "AWS::GreengrassV2::Deployment": {
        service: "greengrassv2",
        operation: "CreateDeployment",
        properties: {
            TargetArn: "CreateDeployment.targetArn",
            ParentTargetArn: "CreateDeployment.parentTargetArn",
            DeploymentName: "CreateDeployment.deploymentName",
            Components: "CreateDeployment.components",
            IotJobConfiguration: "CreateDeployment.iotJobConfiguration",
            DeploymentPolicies: "CreateDeployment.deploymentPolicies",
            Tags: "CreateDeployment.tags",
        },
    },
    "AWS::IoT::SecurityProfile": {
        service: "iot",
        operation: "CreateSecurityProfile",
        properties: {
            SecurityProfileName: "CreateSecurityProfile.securityProfileName",
            SecurityProfileDescription: "CreateSecurityProfile.securityProfileDescription",
            Behaviors: "CreateSecurityProfile.behaviors",
            AlertTargets: "CreateSecurityProfile.alertTargets",
            AdditionalMetricsToRetainV2: "CreateSecurityProfile.additionalMetricsToRetainV2",
            MetricsExportConfig: "CreateSecurityProfile.metricsExportConfig",
            Tags: "CreateSecurityProfile.tags",
            // Not a CreateSecurityProfile member: the create handler makes "an AttachSecurityProfile call for every
            // target" (aws-cloudformation/aws-cloudformation-resource-providers-iot at 15f10d4,
            // aws-iot-securityprofile/src/main/java/com/amazonaws/iot/securityprofile/CreateHandler.java).
            "TargetArns[]": "AttachSecurityProfile.securityProfileTargetArn",
        },
    },
    "AWS::IoT::ScheduledAudit": {
        service: "iot",
        operation: "CreateScheduledAudit",
        properties: {
            ScheduledAuditName: "CreateScheduledAudit.scheduledAuditName",
            Frequency: "CreateScheduledAudit.frequency",
            DayOfMonth: "CreateScheduledAudit.dayOfMonth",
            DayOfWeek: "CreateScheduledAudit.dayOfWeek",
            TargetCheckNames: "CreateScheduledAudit.targetCheckNames",
            Tags: "CreateScheduledAudit.tags",
        },
    },
    "AWS::IoT::FleetMetric": {
        service: "iot",
        operation: "CreateFleetMetric",
        properties: {
            MetricName: "CreateFleetMetric.metricName",
            Description: "CreateFleetMetric.description",
            QueryString: "CreateFleetMetric.queryString",
            QueryVersion: "CreateFleetMetric.queryVersion",
            IndexName: "CreateFleetMetric.indexName",
            Period: "CreateFleetMetric.period",
            AggregationField: "CreateFleetMetric.aggregationField",
            AggregationType: "CreateFleetMetric.aggregationType",
            Unit: "CreateFleetMetric.unit",
            Tags: "CreateFleetMetric.tags",
        },
    },
    "AWS::IoT::CertificateProvider": {
        service: "iot",
        operation: "CreateCertificateProvider",
        properties: {
            // A URI member of the API (POST /certificate-providers/{certificateProviderName}).
            CertificateProviderName: "CreateCertificateProvider.certificateProviderName",
            LambdaFunctionArn: "CreateCertificateProvider.lambdaFunctionArn",
            AccountDefaultForOperations: "CreateCertificateProvider.accountDefaultForOperations",
            Tags: "CreateCertificateProvider.tags",
        },
    },
};

/** A CloudFormation property path's API member and what botocore's model says of it. */
export interface MemberConstraint {
    /** `<Operation>.<member>...` */
    api: string;
    /** botocore's shape name and type (string, integer, long, double, list, map, structure, blob, boolean, ...). */
    shape: string;
    type: string;
    /** A regular expression as the model writes it (Java syntax; test/support/cfnSchema.ts translates). */
    pattern?: string;
    /** String length, list or map length, or numeric range, as `type` says. */
    min?: number;
    max?: number;
}
export type Constraints = Record<string, { operation: string; members: Record<string, MemberConstraint>; none: Record<string, string> }>;

interface Shape { type: string; pattern?: string; min?: number; max?: number; members?: Record<string, { shape: string }>; member?: { shape: string }; key?: { shape: string }; value?: { shape: string } }
interface Model { metadata: { apiVersion: string }; operations: Record<string, { input: { shape: string } }>; shapes: Record<string, Shape> }

/** botocore's data directory and version (found as scripts/serviceRegions.ts finds it), or undefined without botocore. */
export function findBotocoreData(): { dir: string; version: string } | undefined {
    const found = findBotocore();
    return found && { dir: path.dirname(found.file), version: found.version };
}

/** `<service>/<version>/service-2.json[.gz]` under the data directory (the one API version botocore ships). */
export function modelFile(dataDir: string, service: string): string {
    const versions = fs.readdirSync(path.join(dataDir, service)).sort();
    const dir = path.join(dataDir, service, versions[versions.length - 1]);
    for (const f of ["service-2.json.gz", "service-2.json"]) if (fs.existsSync(path.join(dir, f))) return path.join(dir, f);
    throw new Error(`${dir}: no service-2.json`);
}

function readModel(file: string): Model {
    const raw = fs.readFileSync(file);
    return JSON.parse((file.endsWith(".gz") ? zlib.gunzipSync(raw) : raw).toString("utf8")) as Model;
}

const pascal = (s: string) => s[0].toUpperCase() + s.slice(1);

/** Every path below one member: the member itself, then structure members, list elements and map keys/values. */
function expand(model: Model, shapeName: string, cfnPath: string, apiPath: string, out: Record<string, MemberConstraint>, seen: string[]): void {
    const s = model.shapes[shapeName];
    const c: MemberConstraint = { api: apiPath, shape: shapeName, type: s.type };
    if (s.pattern !== undefined) c.pattern = s.pattern;
    if (s.min !== undefined) c.min = s.min;
    if (s.max !== undefined) c.max = s.max;
    out[cfnPath] = c;
    if (seen.includes(shapeName)) return; // a recursive shape (none in these operations today) stops here
    const next = [...seen, shapeName];
    if (s.type === "structure") for (const [m, ref] of Object.entries(s.members ?? {})) expand(model, ref.shape, `${cfnPath}.${pascal(m)}`, `${apiPath}.${m}`, out, next);
    if (s.type === "list") expand(model, s.member!.shape, `${cfnPath}[]`, `${apiPath}[]`, out, next);
    if (s.type === "map") {
        expand(model, s.key!.shape, `${cfnPath}.<key>`, `${apiPath}.<key>`, out, next);
        expand(model, s.value!.shape, `${cfnPath}.*`, `${apiPath}.*`, out, next);
    }
}

export function constraintsFrom(dataDir: string): { constraints: Constraints; files: string[] } {
    const constraints: Constraints = {};
    const files = new Set<string>();
    for (const [cfn, m] of Object.entries(MAPPING)) {
        const file = modelFile(dataDir, m.service);
        files.add(path.relative(dataDir, file));
        const model = readModel(file);
        const members: Record<string, MemberConstraint> = {};
        const none: Record<string, string> = {};
        for (const [prop, target] of Object.entries(m.properties)) {
            if (typeof target !== "string") { none[prop] = target.none; continue; }
            const [op, member] = target.split(".");
            const input = model.shapes[model.operations[op]?.input.shape];
            const ref = input?.members?.[member];
            if (!ref) throw new Error(`${cfn}.${prop}: ${m.service} ${target} is not an input member in ${file}`);
            if (prop.endsWith("[]")) {
                // Each element goes by its own call: the list itself is no API member (no length AWS states).
                members[prop.slice(0, -2)] = { api: `${target} (one call per element)`, shape: "-", type: "list" };
            }
            expand(model, ref.shape, prop, target, members, []);
        }
        constraints[cfn] = { operation: `${m.service} ${m.operation}`, members, none };
    }
    return { constraints, files: [...files].sort() };
}

export function apiConstraintsText(dataDir: string, version: string): string {
    const { constraints, files } = constraintsFrom(dataDir);
    return `/**
 * Patterns, lengths and numeric ranges of the API members the aws-native resources' CloudFormation properties are
 * sent as. GENERATED by scripts/apiConstraints.ts (npm run api-constraints) through the mapping table in that
 * script, from botocore ${version}:
${files.map((f) => ` *   data/${f}`).join("\n")}
 * Do not edit by hand.
 */
import type { Constraints } from "../../scripts/apiConstraints";

export const API_CONSTRAINTS_SOURCE = ${JSON.stringify(`botocore ${version} ${files.map((f) => `data/${f}`).join(", ")}`)};
export const API_CONSTRAINTS: Constraints = {
${Object.entries(constraints).map(([cfn, c]) => `    ${JSON.stringify(cfn)}: {
        operation: ${JSON.stringify(c.operation)},
        members: {
${Object.entries(c.members).map(([p, m]) => `            ${JSON.stringify(p)}: { ${JSON.stringify(m).slice(1, -1).replace(/"(\w+)":/g, "$1: ").replace(/,(?=\w+: )/g, ", ")} },`).join("\n")}
        },
        none: ${JSON.stringify(c.none)},
    },`).join("\n")}
};
`;
}

if (require.main === module) {
    const given = process.argv[2];
    const found = given ? { dir: given, version: process.argv[3] ?? "(given path)" } : findBotocoreData();
    if (!found) {
        process.stderr.write("botocore is not installed (pip install botocore), or pass its data directory\n");
        process.exit(2);
    }
    fs.writeFileSync(API_CONSTRAINTS_FILE, apiConstraintsText(found.dir, found.version));
    process.stdout.write(`wrote ${path.relative(process.cwd(), API_CONSTRAINTS_FILE)} from ${found.dir}\n`);
}
