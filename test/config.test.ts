import * as assert from "assert";
import { parseStackConfig, RawStackConfig } from "../config/stackConfig";
import { assertConfigError, assertStackConfigError } from "./support/assertions";
import { runStack } from "../plan/program";

type Edit = (c: Record<string, string>) => void;

function editObject(key: string, change: (o: Record<string, unknown>) => void): Edit {
    return (c) => {
        const o = JSON.parse(c[`fms-iot:${key}`] ?? "{}");
        change(o);
        c[`fms-iot:${key}`] = JSON.stringify(o);
    };
}

/** Each bad config, the key its one-line error must name, and a word of what is allowed. */
const BAD: [string, Edit, string, RegExp][] = [
    ["a region that is not an AWS region", (c) => { c["aws:region"] = "seoul"; }, "aws:region", /an AWS region such as/],
    ["no region at all", (c) => { delete c["aws:region"]; }, "aws:region", /required/],
    ["an empty serial prefix list", editObject("provisioning", (p) => { p.serialPrefixes = []; }), "fms-iot:provisioning.serialPrefixes", /at least 1 item/],
    ["a blank serial prefix", editObject("provisioning", (p) => { p.serialPrefixes = [""]; }), "fms-iot:provisioning.serialPrefixes[0]", /1-32 characters/],
    ["a Thing-name prefix IoT rejects", editObject("provisioning", (p) => { p.thingNamePrefix = "vehicle #"; }), "fms-iot:provisioning.thingNamePrefix", /characters AWS IoT allows/],
    ["an unknown country code", (c) => { c["fms-iot:country"] = "XX"; }, "fms-iot:country", /unknown ISO 3166-1/],
    ["a lower-case country code", (c) => { c["fms-iot:country"] = "kr"; }, "fms-iot:country", /upper case/],
    ["an unknown environment", (c) => { c["fms-iot:environment"] = "prod"; }, "fms-iot:environment", /one of dev, staging, production/],
    ["a template name over 36 characters", editObject("provisioning", (p) => { p.templateName = "t".repeat(37); }), "fms-iot:provisioning.templateName", /at most 36|1-36/],
    ["a template name with a dot", editObject("provisioning", (p) => { p.templateName = "fms.kr"; }), "fms-iot:provisioning.templateName", /0-9 A-Z a-z _ -/],
    ["a misspelt provisioning field", editObject("provisioning", (p) => { p.serialPrefix = ["297468"]; }), "fms-iot:provisioning.serialPrefix", /unknown field/],
    ["a rotation interval in fractions of an hour", editObject("provisioning", (p) => { p.rotation = { minIntervalHours: 0.5 }; }), "fms-iot:provisioning.rotation.minIntervalHours", /whole number/],
    ["a rotation interval over a year", editObject("provisioning", (p) => { p.rotation = { minIntervalHours: 8761 }; }), "fms-iot:provisioning.rotation.minIntervalHours", /8760/],
    ["an unknown hook mode", editObject("provisioning", (p) => { p.hookMode = "allow-all"; }), "fms-iot:provisioning.hookMode", /one of prefix, registry/],
    ["a claim client-id prefix that overlaps the Thing names", editObject("provisioning", (p) => { p.claimClientIdPrefix = "kr-"; }), "fms-iot:provisioning.claimClientIdPrefix", /must not overlap/],
    ["a wildcard in the device topic root", editObject("topics", (t) => { t.deviceRoot = "vehicles/#"; }), "fms-iot:topics.deviceRoot", /no wildcards/],
    ["a tag that overrides Country", editObject("tags", (t) => { t.Country = "JP"; }), "fms-iot:tags.Country", /set by the program/],
    ["a tag key starting with aws:", editObject("tags", (t) => { t["aws:owner"] = "x"; }), "fms-iot:tags.aws:owner", /not starting with aws:/],
    ["a retention CloudWatch does not offer", (c) => { c["fms-iot:logRetentionDays"] = "10"; }, "fms-iot:logRetentionDays", /one of 1, 3, 5/],
    ["protect that is not a boolean", (c) => { c["fms-iot:protect"] = "yes"; }, "fms-iot:protect", /true or false/],
    ["a name prefix with upper case", (c) => { c["fms-iot:namePrefix"] = "FMS-KR"; }, "fms-iot:namePrefix", /lower-case/],
    ["a claim CSR that is not a CSR", editObject("claimCertificate", (cc) => { cc.csrPem = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"; }), "fms-iot:claimCertificate.csrPem", /certificate signing request/],
    ["a claim status of REVOKED", editObject("claimCertificate", (cc) => { cc.status = "REVOKED"; }), "fms-iot:claimCertificate.status", /one of ACTIVE, INACTIVE/],
    ["a provisioning section that is not an object", (c) => { c["fms-iot:provisioning"] = "fms-kr-vehicle"; }, "fms-iot:provisioning", /expected an object/],
    ["a misspelt section (it would be ignored)", (c) => { c["fms-iot:routng"] = c["fms-iot:routing"]; delete c["fms-iot:routing"]; }, "fms-iot:routng", /unknown key; did you mean fms-iot:routing\? \(the keys are fms-iot:country, .*fms-iot:mskPassword\)$/],
    ["no provisioning section", (c) => { delete c["fms-iot:provisioning"]; }, "fms-iot:provisioning", /required; an object \(fleet provisioning by claim/],
    ["prefix mode on a production stack", editObject("provisioning", (p) => { p.hookMode = "prefix"; }), "fms-iot:provisioning.hookMode", /: registry on a production stack \(prefix mode lets anyone who knows a serial prefix provision; it is for dev stacks only\)$/],
    ["re-provisioning in registry mode", editObject("provisioning", (p) => { p.allowReprovisioning = true; }), "fms-iot:provisioning.allowReprovisioning", /false in registry mode/],
    ["an unknown device-key mode", editObject("provisioning", (p) => { p.deviceKeys = "hsm"; }), "fms-iot:provisioning.deviceKeys", /one of device, aws/],
    ["a rotation grace period over 30 days", editObject("provisioning", (p) => { p.rotation = { gracePeriodHours: 721 }; }), "fms-iot:provisioning.rotation.gracePeriodHours", /a whole number from 0 to 720/],
    ["a rotation template named like the vehicle template", editObject("provisioning", (p) => { p.rotation = { templateName: p.templateName }; }), "fms-iot:provisioning.rotation.templateName", /other than provisioning.templateName/],
    ["core serial prefixes missing", editObject("greengrass", (g) => { delete g.serialPrefixes; }), "fms-iot:greengrass.serialPrefixes", /at least 1 item/],
    ["a region the aws provider does not know", (c) => { c["aws:region"] = "ap-northeast-9"; }, "aws:region", /an AWS region such as ap-northeast-2 \(one the aws provider knows\)$/],
    ["a misspelt namespace (the whole section would be dropped)", (c) => { c["fms_iot:routing"] = c["fms-iot:routing"]; delete c["fms-iot:routing"]; }, "fms_iot:routing", /unknown namespace "fms_iot" \(this project reads fms-iot:, aws: and pulumi:\); did you mean fms-iot:routing\?$/],
    ["allowed accounts that are not a list", (c) => { c["aws:allowedAccountIds"] = "123456789012"; }, "aws:allowedAccountIds", /a list of at least 1 item/],
    ["a route key that is the confirmation rule's", editObject("routing", (r) => { (r.routes as { key: string }[])[0].key = "cert_confirm"; }), "fms-iot:routing.routes[0].key", /names the certificate-confirmation rule/],
];

describe("stack config validation", () => {
    for (const [i, [label, edit, key, allowed]] of BAD.entries()) {
        // The first few through the real program (nothing registered), the rest through the same schema directly.
        if (i < 3) {
            it(`fails on ${label}: one line naming ${key}, and no resource registered`, async () => {
                await assertConfigError(runStack("kr", { edit }), key, allowed);
            });
        } else {
            it(`fails on ${label}: one line naming the file and ${key}`, () => assertStackConfigError("kr", edit, key, allowed));
        }
    }

    it("applies production defaults: protect on, a year of logs, registry mode, claim- client ids", () => {
        const raw: RawStackConfig = {
            project: "fms-iot", stack: "x", aws: { region: "eu-central-1", allowedAccountIds: ["123456789012"] },
            values: { country: "DE", environment: "production", namePrefix: "fms-de", provisioning: { templateName: "fms-de-vehicle", thingNamePrefix: "de-", serialPrefixes: ["297468"] } },
        };
        const cfg = parseStackConfig(raw);
        assert.strictEqual(cfg.protect, true);
        assert.strictEqual(cfg.logRetentionDays, 365);
        assert.strictEqual(cfg.provisioning.hookMode, "registry");
        assert.strictEqual(cfg.provisioning.claimClientIdPrefix, "claim-");
        assert.strictEqual(cfg.topics.deviceRoot, "vehicles");
        assert.deepStrictEqual([cfg.provisioning.deviceKeys, cfg.provisioning.allowReprovisioning, cfg.provisioning.rotation], ["device", false, { templateName: "fms-de-rotate", gracePeriodHours: 24, confirmTimeoutHours: 24, minIntervalHours: 24 }]);
        assert.deepStrictEqual(cfg.claimCertificate, { rotation: "1", status: "ACTIVE", csrPem: undefined, assumeRoleArn: undefined });
        assert.deepStrictEqual(cfg.tags, { Country: "DE", Environment: "production", Project: "fms-iot" });
        const dev = parseStackConfig({ ...raw, values: { ...raw.values, environment: "dev" } });
        assert.strictEqual(dev.protect, false);
        assert.strictEqual(dev.logRetentionDays, 14);
    });

    it("reads YAML-number serial prefixes (what `pulumi config set --path` writes) as their digits", () => {
        const cfg = parseStackConfig({
            project: "fms-iot", stack: "x", aws: { region: "eu-central-1" },
            values: { country: "DE", environment: "dev", namePrefix: "fms-de", provisioning: { templateName: "fms-de-vehicle", thingNamePrefix: "de-", serialPrefixes: [297468], hookMode: "prefix" } },
        });
        assert.deepStrictEqual(cfg.provisioning.serialPrefixes, ["297468"]);
    });

    it("prefix mode: core serial prefixes may not overlap the vehicles' (the prefix alone binds a serial to a template)", async () => {
        await assertConfigError(runStack("dev", { edit: editObject("greengrass", (g) => { g.serialPrefixes = ["2974680"]; }) }), "fms-iot:greengrass.serialPrefixes", /do not overlap provisioning.serialPrefixes \(2974680 and 297468\)/);
    });
});
