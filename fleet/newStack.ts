/**
 * A new country's stack file made from an existing one (`npm run country -- new`): the region and the account
 * pinned, every name the stack owns derived from the new stack's name, the region's services checked, and the
 * choices only its owners can make listed. Pure: stack-file text in, stack-file text and notes out; the command
 * (fleet/country.ts) validates the result with the program's own checks before it writes anything.
 */
import { Document, isMap, isScalar, isSeq, parseDocument, visit, YAMLMap, YAMLSeq } from "yaml";
import { COUNTRY_CODES } from "../config/countries";
import { canShare } from "../config/crossStack";
import { GREENGRASS_REGIONS, IOT_REGIONS, MSK_REGIONS, SERVICE_REGIONS_SOURCE } from "../config/serviceRegions";
import { AWS_REGIONS, StackConfig } from "../config/stackConfig";

/** Pulumi stack names: letters, digits, '-', '_' and '.'; ours also become part of names, so lower case and digits. */
const STACK_NAME = /^[a-z][a-z0-9-]{0,14}$/;
const ACCOUNT = /^\d{12}$/;

export interface NewStackRequest {
    stack: string;
    from: string;
    region: string;
    account: string;
    country?: string;
}

export interface NewStack {
    text: string;
    namePrefix: string;
    /** What the new stack's owners must still decide, one line each. */
    decide: string[];
}

/** A request the command refuses: one line. */
export class NewStackError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "NewStackError";
    }
}

/** The checks that need no stack file: names, the region and its services, the account, the country. */
export function checkRequest(r: NewStackRequest, existing: string[]): string {
    if (!STACK_NAME.test(r.stack)) throw new NewStackError(`${r.stack}: a stack name of 1-15 characters: lower-case letters, digits and '-', starting with a letter (it becomes part of every name the stack owns)`);
    if (existing.includes(r.stack)) throw new NewStackError(`Pulumi.${r.stack}.yaml exists: choose another stack name (a new country is a new file)`);
    if (!existing.includes(r.from)) throw new NewStackError(`--from ${r.from}: no Pulumi.${r.from}.yaml; stacks are ${existing.join(", ")}`);
    if (!AWS_REGIONS.includes(r.region)) throw new NewStackError(`--region ${r.region}: an AWS region such as eu-central-1 (one the aws provider knows)`);
    if (!IOT_REGIONS.includes(r.region)) throw new NewStackError(`--region ${r.region}: AWS IoT Core has no endpoint there (AWS's endpoint list, ${SERVICE_REGIONS_SOURCE})`);
    if (!ACCOUNT.test(r.account)) throw new NewStackError(`--account ${r.account}: a 12-digit AWS account id`);
    const country = r.country ?? (COUNTRY_CODES.has(r.stack.toUpperCase()) ? r.stack.toUpperCase() : undefined);
    if (!country) throw new NewStackError(`--country: ${r.stack} is not an ISO 3166-1 alpha-2 code, so name the country (such as --country DE)`);
    if (!COUNTRY_CODES.has(country)) throw new NewStackError(`--country ${country}: an ISO 3166-1 alpha-2 country code in upper case, such as DE`);
    return country;
}

const section = (doc: Document, key: string): YAMLMap | undefined => {
    const v = doc.getIn(["config", key]);
    return isMap(v) ? v : undefined;
};
const str = (m: YAMLMap | undefined, key: string): string | undefined => {
    const v = m?.get(key);
    return typeof v === "string" ? v : isScalar(v) && typeof v.value === "string" ? v.value : undefined;
};
const flowList = (doc: Document, items: string[]) => {
    const seq = doc.createNode(items) as YAMLSeq;
    seq.flow = true;
    for (const item of seq.items) if (isScalar(item)) item.type = "QUOTE_DOUBLE";
    return seq;
};

/** Replaces the source stack's name where a value carries it as a word (topics, e-mail addresses). */
function renamed(value: string, from: string, to: string, fromCountry: string, toCountry: string): string {
    const word = (w: string) => new RegExp(`(^|[^a-z0-9])${w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=$|[^a-z0-9])`, "g");
    let out = value.replace(word(from), `$1${to}`);
    if (fromCountry.toLowerCase() !== from) out = out.replace(word(fromCountry.toLowerCase()), `$1${toCountry.toLowerCase()}`);
    return out;
}

/**
 * The new stack file. `source` is the text of Pulumi.<from>.yaml and `sourceConfig` its validated config; `others`
 * the other stacks' validated configs (to choose the region-settings owner).
 */
export function newStackFile(r: NewStackRequest, country: string, source: string, sourceConfig: StackConfig, others: StackConfig[]): NewStack {
    const doc = parseDocument(source);
    const config = doc.get("config");
    if (!isMap(config)) throw new NewStackError(`Pulumi.${r.from}.yaml has no config: section`);
    const decide: string[] = [];
    const ns = sourceConfig.project;
    const key = (k: string) => `${ns}:${k}`;
    const from = sourceConfig;

    // The file's own settings that belong to the source stack: its secrets and its ESC environments.
    for (const k of ["secretsprovider", "encryptionsalt", "encryptedkey", "environment"]) {
        if (doc.has(k)) {
            doc.delete(k);
            decide.push(`${k}: ${r.from}'s was not copied (${k === "environment" ? "its ESC environments are that country's" : "secrets are encrypted per stack"}); pulumi stack init ${r.stack} makes the stack's own`);
        }
    }
    for (const item of [...config.items]) {
        const value = item.value;
        if (isMap(value) && value.has("secure")) {
            config.delete(item.key);
            decide.push(`${String(isScalar(item.key) ? item.key.value : item.key)}: an encrypted value of ${r.from} was not copied; set this stack's own: pulumi config set --secret ${String(isScalar(item.key) ? item.key.value : item.key).replace(`${ns}:`, "")} <value> --stack ${r.stack}`);
        }
    }

    // Where and whose.
    const region = r.region;
    if (from.greengrass && !GREENGRASS_REGIONS.includes(region)) {
        throw new NewStackError(`--region ${region}: AWS IoT Greengrass V2 has no endpoint there (${SERVICE_REGIONS_SOURCE}) and Pulumi.${r.from}.yaml has a greengrass section: use a region that has one (${GREENGRASS_REGIONS.filter((x) => !x.startsWith("cn-") && !x.startsWith("us-gov")).join(", ")}) or a --from stack without it`);
    }
    if (from.routing && !MSK_REGIONS.includes(region)) {
        throw new NewStackError(`--region ${region}: Amazon MSK has no endpoint there (${SERVICE_REGIONS_SOURCE}) and Pulumi.${r.from}.yaml has a routing section: use a region that has one or a --from stack without it`);
    }
    config.set("aws:region", region);
    config.set("aws:allowedAccountIds", flowList(doc, [r.account]));
    if (config.has("aws:profile")) {
        config.delete("aws:profile");
        decide.push(`aws:profile: ${r.from}'s profile was not copied (it reaches ${r.from}'s account); set one for ${r.account} if you use named profiles`);
    }
    config.set(key("country"), country);

    // Every name the stack owns, from the new stack's name.
    const head = from.namePrefix.split("-")[0];
    const namePrefix = `${head}-${r.stack}`.length <= 20 ? `${head}-${r.stack}` : r.stack.length >= 3 ? r.stack : `fms-${r.stack}`;
    config.set(key("namePrefix"), namePrefix);
    const tags = section(doc, key("tags"));
    for (const item of tags?.items ?? []) {
        if (isScalar(item.value) && typeof item.value.value === "string") item.value.value = item.value.value.split(from.namePrefix).join(namePrefix);
    }
    const p = section(doc, key("provisioning"))!;
    p.set("templateName", `${namePrefix}-vehicle`);
    p.set("thingNamePrefix", `${r.stack}-vehicle-`);
    p.set("claimClientIdPrefix", `${r.stack}-claim-`);
    if (p.hasIn(["rotation", "templateName"])) p.setIn(["rotation", "templateName"], `${namePrefix}-rotate`);
    if (p.has("devicePolicyName")) {
        p.delete("devicePolicyName");
        decide.push(`provisioning.devicePolicyName: ${r.from} keeps an adopted policy name (${from.provisioning.devicePolicyName}); this stack names its own ${namePrefix}-device`);
    }
    const topics = section(doc, key("topics"));
    const root = str(topics, "deviceRoot");
    if (root) topics!.set("deviceRoot", renamed(root, r.from, r.stack, from.country, country));
    const g = section(doc, key("greengrass"));
    if (g) {
        g.set("templateName", `${namePrefix}-edge-core`);
        if (g.has("rotationTemplateName")) g.set("rotationTemplateName", `${namePrefix}-core-rotate`);
        if (g.has("coreThingNamePrefix")) g.set("coreThingNamePrefix", `${namePrefix}-core-`);
        // The system log group follows the region-settings owner (create on the owner, shared on the others).
        g.deleteIn(["logs", "systemLogGroup"]);
    }

    // Routing: rule names follow namePrefix; an existing cluster is the source country's.
    const routing = section(doc, key("routing"));
    if (routing) {
        const routes = routing.get("routes");
        for (const route of isSeq(routes) ? routes.items : []) {
            if (!isMap(route)) continue;
            if (route.has("ruleName")) route.delete("ruleName");
            const topic = str(route, "kafkaTopic");
            if (topic) route.set("kafkaTopic", renamed(topic, r.from, r.stack, from.country, country));
        }
        if (from.routing?.msk.mode === "existing") {
            routing.set("msk", doc.createNode({ mode: "create", vpcCidr: "10.40.0.0/16", subnetCidrs: ["10.40.1.0/24", "10.40.2.0/24"] }));
            decide.push(`routing.msk: ${r.from}'s cluster is ${r.from}'s (${from.routing.msk.clusterArn}); this stack creates its own (mode: create, 10.40.0.0/16); for an existing cluster: mode existing with clusterArn, bootstrapServers, vpcId, subnetIds and securityGroupId (docs/routing.md)`);
        } else {
            decide.push(`routing.msk: mode create, a cluster of this stack's own (${from.routing!.msk.mode === "create" ? `${from.routing!.msk.brokerInstanceType}, ${from.routing!.msk.vpcCidr}` : ""}); size it for this country, or mode existing (docs/routing.md)`);
        }
        decide.push("routing: the MSK SASL/SCRAM password is generated unless you set it: pulumi config set --secret mskPassword <password> --stack " + r.stack);
    }

    // The region's AWS IoT settings: one owner per account and region.
    const ops = section(doc, key("operations"));
    const probe = { ...from, stack: r.stack, region, allowedAccountIds: [r.account] } as StackConfig;
    const owners = others.filter((o) => canShare(probe, o) && o.operations.ownsRegionSettings && o.allowedAccountIds?.includes(r.account));
    if (owners.length > 0) {
        if (ops) ops.set("regionSettingsOwner", owners[0].stack);
        else config.set(key("operations"), doc.createNode({ regionSettingsOwner: owners[0].stack }));
        decide.push(`operations.regionSettingsOwner: ${owners[0].stack} (it owns AWS IoT logging, audit and fleet index in ${region}, account ${r.account}); deploy it first`);
    } else {
        ops?.delete("regionSettingsOwner");
        decide.push(`operations.regionSettingsOwner: ${r.stack} owns AWS IoT logging, audit and fleet index in ${region}, account ${r.account} (no stack file there owns them); if a stack outside this project does, name it or turn these off there`);
    }
    const emails = ops?.get("notifyEmails");
    if (isSeq(emails)) {
        for (const e of emails.items) if (isScalar(e) && typeof e.value === "string") e.value = renamed(e.value.split(from.namePrefix).join(namePrefix), r.from, r.stack, from.country, country);
        decide.push(`operations.notifyEmails: ${emails.items.map((e) => (isScalar(e) ? String(e.value) : "")).join(", ")}: the people who get this country's findings and alarms`);
    }
    decide.unshift(
        `provisioning.serialPrefixes: ${from.provisioning.serialPrefixes.join(", ")} (copied from ${r.from}): the serials of this country's vehicles; the hook provisions no other`,
        ...(from.greengrass ? [`greengrass.serialPrefixes: ${from.greengrass.serialPrefixes.join(", ")} (copied from ${r.from}): the serials of this country's Greengrass cores`] : []),
    );

    // The header: what this file is.
    // Comments that speak of the source stack are about it, not this one.
    const aboutSource = (c: string | null | undefined) => !!c && (new RegExp(`(^|[^a-z0-9])${r.from}([^a-z0-9]|$)`, "i").test(c) || c.includes(from.namePrefix));
    visit(doc, (_, node) => {
        const n = node as { commentBefore?: string | null; comment?: string | null };
        if (aboutSource(n.commentBefore)) n.commentBefore = undefined;
        if (aboutSource(n.comment)) n.comment = undefined;
    });
    if (aboutSource(doc.comment)) doc.comment = null;
    // The source's header (above config:) is replaced by this file's own.
    if (isMap(doc.contents)) {
        doc.contents.commentBefore = undefined;
        const first = doc.contents.items[0]?.key as { commentBefore?: string; spaceBefore?: boolean } | undefined;
        if (first && typeof first === "object") { first.commentBefore = undefined; first.spaceBefore = false; }
    }
    doc.commentBefore = ` yaml-language-server: $schema=./schema/stack-config.schema.json\n ${country} ${from.environment} stack (${region}, account ${r.account}), made from ${r.from} by npm run country -- new.`;
    return { text: doc.toString({ lineWidth: 0, flowCollectionPadding: false }), namePrefix, decide };
}
