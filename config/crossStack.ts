/**
 * Rules across stack files. Stacks may share an AWS account and region; what one creates or claims there
 * (physical names, Thing names and MQTT client ids, provisioning templates, topic rules, the region's AWS IoT
 * settings) must not be another's. Two stacks CAN share an account and region when they have the same region
 * and either pin a common account (`aws:allowedAccountIds`) or one of them pins none: an unpinned stack may be
 * deployed anywhere, so it is held to every stack of its region.
 *
 * Each broken rule is one line naming both files (`Pulumi.a.yaml and Pulumi.b.yaml: ...`); a dev stack that pins
 * no account is a warning (production and staging stacks must pin one: stackConfig.ts).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ruleNameFor, CONFIRM_RULE_KEY } from "./routingConfig";
import { loadStackConfig, StackConfig, stackConfigFromEngine } from "./stackConfig";
import { readStackFile, stackNames } from "./stackFile";

/** A rule across two stack files is broken: one line naming both. Handled like a config error (exit 2, no trace). */
export class CrossStackError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

const fileOf = (stack: string) => `Pulumi.${stack}.yaml`;

/** Whether two stacks can land in one account and region (same region; a common pinned account, or one unpinned). */
export function canShare(a: StackConfig, b: StackConfig): boolean {
    if (a.region !== b.region) return false;
    if (!a.allowedAccountIds || !b.allowedAccountIds) return true;
    return a.allowedAccountIds.some((x) => b.allowedAccountIds!.includes(x));
}

/** Where two stacks may meet, for the error line: `ap-northeast-2, account 123456789012` or `..., an unpinned account`. */
function where(a: StackConfig, b: StackConfig): string {
    const common = a.allowedAccountIds && b.allowedAccountIds ? a.allowedAccountIds.filter((x) => b.allowedAccountIds!.includes(x)) : [];
    const unpinned = [a, b].filter((s) => !s.allowedAccountIds).map((s) => fileOf(s.stack));
    return common.length > 0 ? `${a.region}, account ${common.join(", ")}` : `${a.region}; ${unpinned.join(" and ")} pin${unpinned.length === 1 ? "s" : ""} no account (aws:allowedAccountIds), so both can deploy to one`;
}

/** The Thing-name and client-id spaces a stack claims: `<prefix>*` each. */
export function namePrefixesOf(c: StackConfig): { what: string; prefix: string }[] {
    return [
        { what: "vehicle Thing-name prefix (provisioning.thingNamePrefix)", prefix: c.provisioning.thingNamePrefix },
        { what: "claim client-id prefix (provisioning.claimClientIdPrefix)", prefix: c.provisioning.claimClientIdPrefix },
        ...(c.greengrass ? [{ what: "core Thing-name prefix (greengrass.coreThingNamePrefix)", prefix: c.greengrass.coreThingNamePrefix }] : []),
    ];
}

/** Provisioning template names a stack creates (per account and region). */
export function templateNamesOf(c: StackConfig): string[] {
    return [c.provisioning.templateName, c.provisioning.rotation.templateName, ...(c.greengrass ? [c.greengrass.templateName, c.greengrass.rotationTemplateName] : [])];
}

/** Topic rule names a stack creates (per account and region): its routes' and the certificate-confirmation rule. */
export function ruleNamesOf(c: StackConfig): string[] {
    return [ruleNameFor(c.namePrefix, CONFIRM_RULE_KEY), ...(c.routing?.routes.map((r) => r.ruleName) ?? [])];
}

const overlaps = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

/** What breaks between `a` (the stack being planned) and `b`, one line each; empty when nothing does. */
export function pairProblems(a: StackConfig, b: StackConfig): string[] {
    const both = `${fileOf(a.stack)} and ${fileOf(b.stack)}`;
    const out: string[] = [];
    if (canShare(a, b)) {
        const at = `(${where(a, b)})`;
        if (a.namePrefix === b.namePrefix) {
            out.push(`${both}: both have namePrefix "${a.namePrefix}" ${at}: every physical name (and cost tag) of one would be the other's; give each stack its own namePrefix`);
        }
        for (const x of namePrefixesOf(a)) {
            for (const y of namePrefixesOf(b)) {
                if (overlaps(x.prefix, y.prefix)) {
                    out.push(`${both}: ${a.stack}'s ${x.what} "${x.prefix}" and ${b.stack}'s ${y.what} "${y.prefix}" overlap (one is a prefix of the other) ${at}: Thing names and MQTT client ids are per account and region, so a device of one could be named as the other's; give each stack prefixes of its own`);
                }
            }
        }
        const templates = templateNamesOf(a).filter((t) => templateNamesOf(b).includes(t));
        if (templates.length > 0) out.push(`${both}: both create the provisioning template ${templates.join(", ")} ${at}: template names are per account and region; give each stack its own`);
        const rules = ruleNamesOf(a).filter((r) => ruleNamesOf(b).includes(r));
        if (rules.length > 0) out.push(`${both}: both create the topic rule ${rules.join(", ")} ${at}: rule names are per account and region; give each stack its own (routing.routes[].ruleName, or another namePrefix)`);
        const cluster = (c: StackConfig) => (c.routing?.msk.mode === "existing" ? c.routing.msk.clusterArn : undefined);
        if (cluster(a) !== undefined && cluster(a) === cluster(b)) {
            const topics = a.routing!.routes.map((r) => r.kafkaTopic).filter((t) => b.routing!.routes.some((r) => r.kafkaTopic === t));
            if (topics.length > 0) out.push(`${both}: both route to the Kafka topic ${topics.join(", ")} of one MSK cluster (${cluster(a)}): one country's telemetry would land in the other's; give each its own routing.routes[].kafkaTopic`);
        }
        if (a.operations.ownsRegionSettings && b.operations.ownsRegionSettings) {
            out.push(`${both}: both own the AWS IoT region settings (logging, audit, fleet index) ${at}: exactly one stack per account and region does; set operations.regionSettingsOwner: ${a.stack} in ${fileOf(b.stack)} (or ${b.stack} in ${fileOf(a.stack)})`);
        }
    }
    // The owner a stack names must own its account and region: same region, an account both can deploy to, owning.
    for (const [x, y] of [[a, b], [b, a]] as const) {
        if (x.operations.ownsRegionSettings || x.operations.regionSettingsOwner !== y.stack) continue;
        const why = !canShare(x, y) ? (x.region !== y.region ? `${y.stack} is in ${y.region}, not ${x.region}` : `${fileOf(y.stack)} pins account ${y.allowedAccountIds!.join(", ")}, ${fileOf(x.stack)} ${x.allowedAccountIds!.join(", ")}`)
            : !y.operations.ownsRegionSettings ? `${fileOf(y.stack)} names ${y.operations.regionSettingsOwner} as its owner in turn` : undefined;
        if (why) out.push(`${both}: ${fileOf(x.stack)} names ${y.stack} as operations.regionSettingsOwner, but ${why}: no stack would own the AWS IoT region settings of ${x.stack}'s account and region; name the stack that owns them there, or remove the line (${x.stack} then owns them)`);
    }
    return out;
}

/** One stack's warnings (not errors): a dev stack that pins no account. */
export function stackWarnings(c: StackConfig): string[] {
    if (c.allowedAccountIds) return [];
    return [`${fileOf(c.stack)}: aws:allowedAccountIds is not set: this ${c.environment} stack deploys to whichever account the credentials reach, and is held to every stack of ${c.region} as if it shared their account; pin it (production and staging stacks must)`];
}

/**
 * The other stack files of the directory, validated (a file that does not validate is its own plan's error, and
 * is left out here; so is a stack whose region only an ESC environment knows).
 */
export function otherStacks(stack: string, root: string): StackConfig[] {
    const out: StackConfig[] = [];
    for (const other of stackNames(root)) {
        if (other === stack) continue;
        try {
            const f = readStackFile(other, root, () => undefined);
            if (f.placeholders.some((p) => p.key === "aws:region")) continue;
            out.push(stackConfigFromEngine(f.project, other, f.config, fileOf(other), { stacks: stackNames(root) }));
        } catch {
            // Reported when that stack is planned.
        }
    }
    return out;
}

/**
 * Checks `config` against every other stack file in `root`: throws the first broken rule (one line naming both
 * files), returns the warnings.
 */
export function checkAcrossStacks(config: StackConfig, root: string): string[] {
    const others = otherStacks(config.stack, root);
    for (const other of others) {
        const [problem] = pairProblems(config, other);
        if (problem) throw new CrossStackError(problem);
    }
    return stackWarnings(config);
}

/**
 * The program's configuration: this stack's config through the Pulumi runtime (loadStackConfig), then the rules
 * across the stack files beside it (Pulumi runs the program in the project directory). Warnings go to the engine.
 */
export function loadCheckedStackConfig(): StackConfig {
    const config = loadStackConfig();
    const here = process.cwd();
    if (fs.existsSync(path.join(here, fileOf(config.stack)))) {
        for (const warning of checkAcrossStacks(config, here)) void pulumi.log.warn(warning);
    }
    return config;
}
