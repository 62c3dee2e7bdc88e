/**
 * The README's table of config mistakes: each a realistic bad stack file (a shipped stack, edited), and
 * the exact one line it stops with. The lines are held here (EXPECTED) and the README table is generated
 * from the same cases (UPDATE_README=1 npm test rewrites it). Every case goes through what the program and
 * `npm run plan` validate with (readStackFile: the file's own checks; stackConfigFromEngine: the schema),
 * without running the program; the first case also through the program, the tab case through `npm run plan`.
 *
 * Secrets: cases put a private key, a password and AWS keys where they do not belong; no error line may
 * contain any 8 characters of them in a row.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkAcrossStacks } from "../config/crossStack";
import { stackConfigFromEngine } from "../config/stackConfig";
import { PROJECT_ROOT, readStackFile, stackNames } from "../config/stackFile";
import { main as plan } from "../plan/cli";
import { ProgramFailed, runStack } from "../plan/program";
import { markedSection } from "../plan/readmeSection";

type ConfigEdit = (c: Record<string, string>) => void;
/** An edit of the engine's values (what Pulumi hands the program), or of the stack file's text. */
type Edit = { config: ConfigEdit } | { yaml: (text: string) => string } | { copyOf: string; yaml: (text: string) => string };
const edit = (key: string, change: (o: any) => void): Edit => ({ config: (c) => { const o = JSON.parse(c[`fms-iot:${key}`] ?? "{}"); change(o); c[`fms-iot:${key}`] = JSON.stringify(o); } });
const set = (key: string, value: string | undefined): Edit => ({ config: (c) => { if (value === undefined) delete c[key]; else c[key] = value; } });
const yaml = (change: (text: string) => string): Edit => ({ yaml: change });
const replace = (from: string | RegExp, to: string): Edit => yaml((t) => { const r = t.replace(from, to); assert.notStrictEqual(r, t, `the edit ${from} applies`); return r; });
/** A new stack file made from a shipped one (the case's stack is the new one), with replacements. */
const copyOf = (from: string, ...changes: [string | RegExp, string][]): Edit => ({
    copyOf: from,
    yaml: (t) => changes.reduce((text, [a, b]) => { const r = text.replace(a, b); assert.notStrictEqual(r, text, `the edit ${a} applies`); return r; }, t),
});

/** Not a key (a made-up body), shaped as one is pasted: it must never be echoed. */
export const FAKE_PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDfakefakefake0\n-----END PRIVATE KEY-----\n";
/** A certificate request cut short: its DER header claims 270 bytes (0x30 0x82 0x01 0x0e), 40 follow. Not a key. */
const TRUNCATED_CSR = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x0e, 0x30, 0x81, 0xb5, 0x02, 0x01, 0x00]), Buffer.alloc(30, 0x41)]).toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
const SECRETS = [FAKE_PRIVATE_KEY, "Tr0ub4dor&3-fms", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAIOSFODNN7EXAMPLE"];

/** [mistake, stack, edit]: each class the issue names, on the shipped stacks. */
const CASES: [string, string, Edit][] = [
    // Regions and the services a stack creates
    ["a region the aws provider does not know", "kr", set("aws:region", "ap-northeast-9")],
    ["no region", "kr", set("aws:region", undefined)],
    ["a region where AWS IoT Core has no endpoint", "jp", set("aws:region", "af-south-1")],
    ["a Greengrass section in a region without Greengrass V2", "kr", set("aws:region", "eu-north-1")],
    // Keys
    ["a misspelt namespace (the section would be dropped)", "kr", { config: (c) => { c["fms_iot:routing"] = c["fms-iot:routing"]; delete c["fms-iot:routing"]; } }],
    ["a misspelt key", "kr", { config: (c) => { c["fms-iot:routng"] = c["fms-iot:routing"]; delete c["fms-iot:routing"]; } }],
    ["a key without its namespace", "kr", { config: (c) => { c.routing = c["fms-iot:routing"]; delete c["fms-iot:routing"]; } }],
    ["a misspelt aws: key (ambient credentials otherwise)", "kr", set("aws:profle", "fms-kr")],
    ["aws: key in the wrong case", "kr", set("aws:allowedAccountIDs", JSON.stringify(["123456789012"]))],
    ["an aws provider key the explicit providers never see", "kr", set("aws:assumeRoles", JSON.stringify([{ roleArn: "arn:aws:iam::123456789012:role/deploy" }]))],
    ["an AWS secret key in the stack file", "kr", set("aws:secretKey", SECRETS[2])],
    ["an aws-native: key", "kr", set("aws-native:region", "ap-northeast-2")],
    ["the MSK password under a misspelt key", "kr", set("fms-iot:mskPasword", SECRETS[1])],
    ["a key outside config: (indentation lost)", "kr", yaml((t) => t.replace(/^ {2}fms-iot:greengrass:[\s\S]*$/m, (block) => block.replace(/^ {2}/gm, "")))],
    // YAML numbers
    ["an unquoted serial prefix with a leading zero", "kr", replace('      - "297468"', "      - 0297468")],
    ["an unquoted serial prefix too long for a number", "dev", edit("provisioning", (p) => { p.serialPrefixes = [29746800000000000001]; })],
    ["an unquoted account id with a leading zero", "kr", replace('  aws:allowedAccountIds: ["123456789012"]', "  aws:allowedAccountIds: [012345678901]")],
    ["an unquoted account id", "kr", replace('  aws:allowedAccountIds: ["123456789012"]', "  aws:allowedAccountIds: [123456789012]")],
    ["an unquoted component version 1.10", "kr", replace('componentVersion: "1.0"', "componentVersion: 1.10")],
    ["an unquoted component version 1", "dev", replace('componentVersion: "1.0"', "componentVersion: 1")],
    ["an unquoted claim rotation 2026", "jp", replace('rotation: "2026-11"', "rotation: 2026")],
    // Secrets where they do not belong
    ["a private key pasted as the claim CSR", "kr", edit("claimCertificate", (cc) => { cc.csrPem = FAKE_PRIVATE_KEY; })],
    ["a password under a field that does not exist", "kr", edit("routing", (r) => { r.kafka.password = SECRETS[1]; })],
    ["an AWS secret key pasted as the claim role", "kr", edit("claimCertificate", (cc) => { cc.assumeRoleArn = SECRETS[2]; })],
    ["an AWS access key id in the stack file", "kr", set("aws:accessKey", SECRETS[3])],
    // Tags
    ["a tag the program sets, in another case", "kr", edit("tags", (t) => { t.project = "fleet"; })],
    ["two tags that differ only by case", "kr", edit("tags", (t) => { t.costcenter = "fms"; })],
    ["a tag key starting with aws:", "kr", edit("tags", (t) => { t["aws:owner"] = "x"; })],
    ["a tag value that is a number", "kr", edit("tags", (t) => { t.Tier = 1; })],
    // MSK
    ["a broker type MSK does not offer", "dev", edit("routing", (r) => { r.msk.brokerInstanceType = "kafka.t2.micro"; })],
    ["an Express broker (no EBS volume)", "dev", edit("routing", (r) => { r.msk.brokerInstanceType = "express.m7g.large"; })],
    ["four subnets (MSK spreads brokers over two or three zones)", "dev", edit("routing", (r) => { r.msk.vpcCidr = "10.40.0.0/16"; r.msk.subnetCidrs = ["10.40.1.0/24", "10.40.2.0/24", "10.40.3.0/24", "10.40.4.0/24"]; })],
    ["three subnets in us-west-1", "dev", { config: (c) => { c["aws:region"] = "us-west-1"; delete c["fms-iot:greengrass"]; const r = JSON.parse(c["fms-iot:routing"]); r.msk.subnetCidrs = ["10.40.1.0/24", "10.40.2.0/24", "10.40.3.0/24"]; c["fms-iot:routing"] = JSON.stringify(r); } }],
    ["a broker volume of 0 GiB", "dev", edit("routing", (r) => { r.msk.brokerVolumeGiB = 0; })],
    ["a Kafka version MSK no longer takes", "dev", edit("routing", (r) => { r.msk.kafkaVersion = "3.6.0"; })],
    ["a CIDR that is not an address", "dev", edit("routing", (r) => { r.msk.vpcCidr = "10.400.0.0/16"; })],
    ["a subnet outside the VPC", "dev", edit("routing", (r) => { r.msk.subnetCidrs = ["10.40.1.0/24", "10.41.2.0/24"]; })],
    ["a broker on the TLS port (9094), not SASL/SCRAM's", "kr", edit("routing", (r) => { r.msk.bootstrapServers = ["b-1.fmskr.abc123.c2.kafka.ap-northeast-2.amazonaws.com:9094"]; })],
    ["a broker in another region", "kr", edit("routing", (r) => { r.msk.bootstrapServers = ["b-1.fmskr.abc123.c2.kafka.us-east-1.amazonaws.com:9096"]; })],
    ["a cluster ARN in another region", "kr", edit("routing", (r) => { r.msk.clusterArn = r.msk.clusterArn.replace("ap-northeast-2", "ap-northeast-1"); })],
    ["acks true", "kr", edit("routing", (r) => { r.kafka.acks = true; })],
    // Routes
    ["no routes", "kr", edit("routing", (r) => { r.routes = []; })],
    ["a route key with a '-'", "kr", edit("routing", (r) => { r.routes[0].key = "rule-1"; })],
    ["two routes with one key", "kr", edit("routing", (r) => { r.routes[1].key = "rule1"; })],
    ["an adopted rule name with a '-' (AWS IoT rule names have none)", "kr", edit("routing", (r) => { r.routes[0].ruleName = "test-rule-rule1"; })],
    ["two routes given one rule name", "kr", edit("routing", (r) => { r.routes[0].ruleName = "test_rule_1"; r.routes[1].ruleName = "test_rule_1"; })],
    ["rule SQL without FROM", "kr", edit("routing", (r) => { r.routes[0].sql = "SELECT * WHERE temperature > 50"; })],
    // Device Defender, alarms, operations
    ["a certificate age Device Defender does not take (30-3652 days)", "kr", edit("operations", (o) => { o.certificateAgeDays = 7; })],
    ["a certificate-expiring threshold under Device Defender's 30 days", "kr", edit("operations", (o) => { o.certificateExpiringDays = 14; })],
    ["a security-profile threshold of 0", "kr", edit("operations", (o) => { o.securityProfile = { messagesSent: 0 }; })],
    ["an alarm threshold written as a word", "kr", edit("operations", (o) => { o.alarms.hookDenies = "twenty"; })],
    ["a misspelt alarm", "kr", edit("operations", (o) => { o.alarms.hookDenys = 20; })],
    ["a region-settings owner with no stack", "dev", edit("operations", (o) => { o.regionSettingsOwner = "korea"; })],
    ["an IoT log level that does not exist", "kr", edit("operations", (o) => { o.logLevel = "VERBOSE"; })],
    ["an e-mail address that is not one", "kr", edit("operations", (o) => { o.notifyEmails = ["fms-kr-ops"]; })],
    // Provisioning
    ["no provisioning section", "jp", set("fms-iot:provisioning", undefined)],
    // privateCa (au): the template must let the stack set the subject; how the CA signs; CSRs only
    ["a privateCa base template (it copies the CSR's subject)", "au", edit("provisioning", (p) => { p.identity.privateCa.templateArn = "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"; })],
    ["a privateCa section without its signing algorithm", "au", edit("provisioning", (p) => { delete p.identity.privateCa.signingAlgorithm; })],
    ["privateCa with AWS-made keys", "au", edit("provisioning", (p) => { p.deviceKeys = "aws"; })],
    ["an empty serial prefix list", "jp", edit("provisioning", (p) => { p.serialPrefixes = []; })],
    ["prefix-mode hook on a production stack", "kr", edit("provisioning", (p) => { p.hookMode = "prefix"; })],
    ["re-provisioning in registry mode", "kr", edit("provisioning", (p) => { p.allowReprovisioning = true; })],
    ["an unknown device-key mode", "kr", edit("provisioning", (p) => { p.deviceKeys = "hsm"; })],
    ["a rotation grace period over 30 days", "kr", edit("provisioning", (p) => { p.rotation.gracePeriodHours = 721; })],
    ["a rotation template named like the vehicle template", "kr", edit("provisioning", (p) => { p.rotation.templateName = p.templateName; })],
    ["a claim client-id prefix the Thing names cover", "kr", edit("provisioning", (p) => { p.claimClientIdPrefix = "kr-vehicle-claim-"; })],
    ["a misspelt field", "kr", edit("provisioning", (p) => { p.serialPrefix = p.serialPrefixes; })],
    ["a device policy name IoT refuses", "kr", edit("provisioning", (p) => { p.devicePolicyName = "fleet/device"; })],
    ["a template name over 36 characters", "jp", edit("provisioning", (p) => { p.templateName = "fms-jp-vehicle-provisioning-template-1"; })],
    ["AWS-made device keys on a production stack (nothing to bind a serial to)", "kr", edit("provisioning", (p) => { p.deviceKeys = "aws"; })],
    ["no reserved concurrency written as 0", "kr", edit("provisioning", (p) => { p.hookReservedConcurrency = 0; })],
    ["a rotation that may never be confirmed (0 hours)", "kr", edit("provisioning", (p) => { p.rotation.confirmTimeoutHours = 0; })],
    ["a provisioning budget of 0 per hour", "kr", edit("operations", (o) => { o.alarms.provisioningsPerHour = 0; })],
    // Greengrass
    ["core Thing names the vehicles' prefix covers", "kr", edit("greengrass", (g) => { g.coreThingNamePrefix = "kr-"; })],
    ["a nucleus version AWS has not published", "kr", edit("greengrass", (g) => { g.nucleusVersion = "2.16.9"; })],
    ["a full component version (the patch follows the content)", "kr", edit("greengrass", (g) => { g.telemetry.componentVersion = "1.0.0"; })],
    ["telemetry to a route that does not exist", "kr", edit("greengrass", (g) => { g.telemetry.route = "rule9"; })],
    ["a core template named like the vehicle template", "kr", edit("greengrass", (g) => { g.templateName = "fms-kr-vehicle"; })],
    ["a log total smaller than one file", "kr", edit("greengrass", (g) => { g.logs.totalLogsSizeKB = 512; })],
    ["credentials shorter than AWS allows", "kr", edit("greengrass", (g) => { g.credentialDurationSeconds = 600; })],
    // Top-level values
    ["a lower-case country code", "jp", set("fms-iot:country", "jp")],
    ["an unknown environment", "kr", set("fms-iot:environment", "prod")],
    ["a name prefix with upper case", "kr", set("fms-iot:namePrefix", "FMS-KR")],
    ["a retention CloudWatch does not offer", "kr", set("fms-iot:logRetentionDays", "10")],
    ["protect that is not a boolean", "kr", set("fms-iot:protect", "yes")],
    ["a claim status of REVOKED", "kr", edit("claimCertificate", (cc) => { cc.status = "REVOKED"; })],
    ["a wildcard in the device topic root", "kr", edit("topics", (t) => { t.deviceRoot = "vehicles/#"; })],
    // Issue 27: the classes the independent table found accepted or misreported.
    // A CSR cut short: the header says 270 bytes, the paste holds the first 40 (RFC 2986 DER, parsed: config/csr.ts).
    ["a CSR cut short (the paste lost its last lines)", "kr", edit("claimCertificate", (cc) => { cc.csrPem = TRUNCATED_CSR; })],
    // AWS IoT developer guide, "MQTT topics", Topic filters: '#' must be the last character, '+' a whole level.
    ["'#' before the last level of a rule's topic filter", "kr", edit("routing", (r) => { r.routes[0].sql = "SELECT * FROM 'vehicles/#/status'"; })],
    ["'+' sharing a level in a rule's topic filter", "kr", edit("routing", (r) => { r.routes[1].sql = "SELECT * FROM 'vehicles/+status'"; })],
    // AWS IoT Core quotas: at most 7 '/' in a topic or topic filter (config/mqttTopics.ts MAX_TOPIC_SLASHES).
    ["a rule topic filter deeper than AWS IoT's 7 '/'", "kr", edit("routing", (r) => { r.routes[0].sql = "SELECT * FROM 'fleet/kr/seoul/gangnam/depot/bay/lane/+/status'"; })],
    ["a device topic root too deep for the device's topics", "kr", edit("topics", (t) => { t.deviceRoot = "fleet/kr/seoul/gangnam/depot/bay/lane"; })],
    ["an MSK password in plain text in a production stack file", "kr", set("fms-iot:mskPassword", SECRETS[1])],
    ["an unquoted serial prefix too long for YAML, in the file", "kr", replace('      - "297469"', "      - 29746912345678901234")],
    ["an unquoted account id too long for YAML, in the file", "kr", replace("  fms-iot:country: KR", "  aws:allowedAccountIds: [1234567890123456789]\n  fms-iot:country: KR")],
    ["routes without an msk section", "kr", edit("routing", (r) => { delete r.msk; })],
    ["an msk section without its mode", "dev", edit("routing", (r) => { delete r.msk.mode; })],
    // Across stack files: what two stacks that can share an account and region must not share (config/crossStack.ts)
    ["a production stack that pins no account", "kr", replace(/^ {2}aws:allowedAccountIds: .*\n/m, "")],
    ["a staging stack that pins no account", "jp", yaml((t) => t.replace(/^ {2}aws:allowedAccountIds: .*\n/m, "").replace("environment: production", "environment: staging"))],
    ["a copied stack file that keeps namePrefix (de from kr)", "de", copyOf("kr", ["country: KR", "country: DE"])],
    ["a copied stack file that keeps the Thing-name prefix (de from kr)", "de", copyOf("kr", ["country: KR", "country: DE"], [/fms-kr/g, "fms-de"])],
    ["a copied stack file that keeps the template names (de from kr)", "de", copyOf("kr", ["country: KR", "country: DE"], ["namePrefix: fms-kr", "namePrefix: fms-de"], ["thingNamePrefix: kr-vehicle-", "thingNamePrefix: de-vehicle-"], ["claimClientIdPrefix: kr-claim-", "claimClientIdPrefix: de-claim-"])],
    ["a copied stack file that routes to the same Kafka topics of one cluster (de from kr)", "de", copyOf("kr", ["country: KR", "country: DE"], [/fms-kr-/g, "fms-de-"], ["namePrefix: fms-kr", "namePrefix: fms-de"], [/kr-(vehicle|claim)-/g, "de-$1-"])],
    ["a copied stack file that keeps an adopted rule name (de from kr)", "de", copyOf("kr", ["country: KR", "country: DE"], [/fms-kr/g, "fms-de"], [/kr-/g, "de-"], ["- key: rule1", "- key: rule1\n        ruleName: fms_kr_rule1"])],
    ["a vehicle Thing-name prefix another stack's covers", "dev", replace("thingNamePrefix: test-thing-", "thingNamePrefix: kr-")],
    ["a claim client-id prefix inside another stack's vehicle Thing names", "dev", replace("claimClientIdPrefix: claim-", "claimClientIdPrefix: kr-vehicle-claim-")],
    ["a core Thing-name prefix another stack's vehicles use", "dev", replace("    templateName: fms-dev-edge-core", "    templateName: fms-dev-edge-core\n    coreThingNamePrefix: kr-vehicle-edge-")],
    ["a second region-settings owner in one account and region", "dev", replace("    regionSettingsOwner: kr\n", "")],
    ["a region-settings owner in another region", "jp", replace("config:\n", "config:\n  fms-iot:operations:\n    regionSettingsOwner: kr\n")],
    // Where vehicles' certificates come from (provisioning.identity, docs/identity.md)
    ["an identity mode that does not exist", "jp", edit("provisioning", (p) => { p.identity = { mode: "jitp" }; })],
    ["the maker CA's private key pasted where its certificate goes (oemCa)", "us", edit("provisioning", (p) => { p.identity.oemCa.caCertificates = [FAKE_PRIVATE_KEY]; })],
    ["a Private CA in another region than the stack (privateCa)", "kr", edit("provisioning", (p) => { p.identity = { mode: "privateCa", privateCa: { certificateAuthorityArn: "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012", signingAlgorithm: "SHA256WITHRSA", organization: "Maker" } }; })],
];

/** The shipped stacks the cases start from. */
const TABLE_STACKS = ["dev", "jp", "kr", "us"];


/** Through `npm run plan` (after CASES, in this order). */
const PLAN_CASES: [string, string, (text: string) => string][] = [
    ["tab-indented YAML", "kr", (t) => t.replace("  fms-iot:namePrefix", "\tfms-iot:namePrefix")],
    // Encrypted by a colleague with the stack's key: the offline plan holds only a placeholder for it.
    ["a value under secure: that is not a secret (the offline plan cannot decrypt it)", "kr",
        (t) => t.replace(/^ {2}fms-iot:namePrefix: .*$/m, "  fms-iot:namePrefix:\n    secure: AAABAJ1cYmD9u2Z+nC0ECVB8F8pQ2Jc=")],
    // Checked by the program before its first resource (index.ts): the per-core policy at the longest serial.
    ["a core prefix too long for the per-core policy (AWS's 2048 characters at the longest serial)", "kr",
        (t) => t.replace(/^ {2}fms-iot:greengrass:\n/m, `  fms-iot:greengrass:\n    coreThingNamePrefix: ${"c".repeat(63)}-\n`)],
];

/** The exact line each case stops with (in CASES order, then PLAN_CASES). */
const EXPECTED: string[] = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "bad-config-lines.json"), "utf8"));

/** The line a case stops with, through the stack-file reader and the schema (the program's own path). */
function messageOf(stack: string, change: Edit): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-badcfg-"));
    try {
        fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        // The shipped stacks the cases edit, and nothing else: the lines do not change when a stack is added.
        for (const s of TABLE_STACKS) fs.copyFileSync(path.join(PROJECT_ROOT, `Pulumi.${s}.yaml`), path.join(dir, `Pulumi.${s}.yaml`));
        const text = fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${"copyOf" in change ? change.copyOf : stack}.yaml`), "utf8");
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "yaml" in change ? change.yaml(text) : text);
        const file = readStackFile(stack, dir);
        if ("config" in change) change.config(file.config);
        const config = stackConfigFromEngine(file.project, stack, file.config, `Pulumi.${stack}.yaml`, { stacks: stackNames(dir) });
        // The rules across stack files, as the program checks them (config/crossStack.ts).
        checkAcrossStacks(config, dir);
    } catch (err) {
        return (err as Error).message;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return `ACCEPTED (${stack})`;
}

const START = "<!-- bad-config:start (generated by test/badConfigTable.test.ts; UPDATE_README=1 npm test rewrites it) -->";
const END = "<!-- bad-config:end -->";

describe("the README's bad-config table: realistic stack-file mistakes and the exact line each stops with", function () {
    this.timeout(120_000);
    const lines: string[] = [];

    before(async () => {
        for (const [, stack, change] of CASES) lines.push(messageOf(stack, change));
        // Mistakes only `npm run plan` meets: a file-level one (tab indentation), and a secure: value it cannot decrypt.
        for (const [, stack, change] of PLAN_CASES) {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-badcfg-"));
            try {
                fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
                fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), change(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")));
                lines.push((await plan(["--stack", stack], dir)).stderr.trim());
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }
        if (process.env.UPDATE_BAD_CONFIG === "1") fs.writeFileSync(path.join(__dirname, "fixtures", "bad-config-lines.json"), `${JSON.stringify(lines, null, 2)}\n`);
    });

    it("at least 60 cases, each with the exact one line it must produce, naming its file", () => {
        assert.ok(CASES.length >= 60, `${CASES.length} cases`);
        assert.strictEqual(lines.length, EXPECTED.length, "UPDATE_BAD_CONFIG=1 rewrites test/fixtures/bad-config-lines.json (review the diff)");
        lines.forEach((line, i) => {
            const label = CASES[i]?.[0] ?? PLAN_CASES[i - CASES.length][0];
            assert.strictEqual(line, EXPECTED[i], label);
            assert.ok(!line.includes("\n"), `${label}: one line`);
            assert.match(line, /^Pulumi\.\w+\.yaml((:\d+:\d+)?| and Pulumi\.\w+\.yaml): /, `${label}: names its file (both, for a rule across stack files)`);
            if (/and Pulumi\./.test(line.split(":")[0])) assert.match(line, new RegExp(`Pulumi\\.${CASES[i][1]}\\.yaml`), `${label}: names the stack planned`);
            assert.doesNotMatch(line, /Invalid input|expected \w+, received|Too (small|big)/, `${label}: our words, not zod's`);
        });
    });

    it("no secret value appears in any error line (a fingerprint or the length instead)", () => {
        for (const line of lines) {
            for (const secret of SECRETS) {
                const body = secret.replace(/-----[A-Z ]+-----|\s/g, "");
                for (let i = 0; i + 8 <= body.length; i++) assert.ok(!line.includes(body.slice(i, i + 8)), `${line} shows part of a secret`);
            }
        }
        assert.ok(lines.some((l) => /sha256:[0-9a-f]{12}; not shown/.test(l)), "the secrets are fingerprinted");
    });

    it("the first case through the real program: the same line, nothing registered", async () => {
        const first = CASES[0][2] as { config: ConfigEdit };
        await assert.rejects(runStack(CASES[0][1], { edit: first.config }), (err: unknown) => {
            assert.ok(err instanceof ProgramFailed);
            assert.strictEqual((err.cause as Error).message, EXPECTED[0]);
            assert.strictEqual(err.resources.length, 0);
            return true;
        });
    });

    it("docs/configuration.md's table is these cases and lines", () => {
        const rows = ["| mistake | the one line it stops with |", "|---|---|"];
        lines.forEach((line, i) => {
            const [label, stack] = CASES[i] ?? PLAN_CASES[i - CASES.length];
            rows.push(`| ${label} (${stack}) | \`${line.replace(/\|/g, "\\|")}\` |`);
        });
        const table = `${START}\n${rows.join("\n")}\n${END}`;
        const file = path.join(PROJECT_ROOT, "docs", "configuration.md");
        const readme = fs.readFileSync(file, "utf8");
        const current = markedSection(readme, { start: START, end: END });
        if (process.env.UPDATE_README === "1") fs.writeFileSync(file, readme.replace(current, () => table));
        else assert.strictEqual(current, table, "UPDATE_README=1 npm test regenerates it");
    });
});
