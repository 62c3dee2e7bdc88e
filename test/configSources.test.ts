import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";
import { PLACEHOLDER_REGION, PROJECT_ROOT, readStackFile, stackNames } from "../config/stackFile";
import { stackKeys } from "../config/stackConfig";
import { main as plan } from "../plan/cli";
import { CONFIG_DOC, referenceRows, referenceSection, REFERENCE_MARKERS, SCHEMA_FILE, schemaText } from "../scripts/schema";
import { markedSection } from "../plan/readmeSection";
import { findBotocore, SERVICE_REGIONS_FILE, serviceRegionsText } from "../scripts/serviceRegions";

/** A temporary project: Pulumi.yaml (as given, or ours) and one stack file. */
function project(stackFile: string, stack = "x", pulumiYaml?: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-config-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), pulumiYaml ?? fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8"));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stackFile);
    return dir;
}
const kr = () => fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.kr.yaml"), "utf8");

describe("config from real Pulumi sources: the stack-file schema, Pulumi.yaml, ESC environments, YAML errors", function () {
    this.timeout(60_000);
    const dirs: string[] = [];
    after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });
    const tmp = (...a: Parameters<typeof project>) => { const d = project(...a); dirs.push(d); return d; };

    describe("the JSON Schema for editors (schema/stack-config.schema.json)", () => {
        const ajv = new Ajv2020({ allErrors: true, strict: false });
        const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8")));

        it("is what `npm run schema` writes from the config declaration (no drift)", () => {
            assert.strictEqual(fs.readFileSync(SCHEMA_FILE, "utf8"), schemaText(), "run npm run schema");
        });

        it("docs/configuration.md's reference lists every key of it, nested fields included (npm run schema writes it)", () => {
            assert.strictEqual(markedSection(fs.readFileSync(CONFIG_DOC, "utf8"), REFERENCE_MARKERS), referenceSection(), "run npm run schema");
            const keys = referenceRows().map(([k]) => k);
            for (const k of ["fms-iot:provisioning.hookReservedConcurrency", "fms-iot:provisioning.rotation.confirmTimeoutHours", "fms-iot:routing.routes[].key", "aws:allowedAccountIds"]) assert.ok(keys.includes(k), k);
        });

        it("every shipped stack file validates against it with a standard JSON Schema validator (ajv), and names it for yaml-language-server", () => {
            for (const stack of stackNames()) {
                const text = fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8");
                assert.ok(validate(parse(text)), `${stack}: ${ajv.errorsText(validate.errors)}`);
                assert.strictEqual(text.split("\n")[0], "# yaml-language-server: $schema=./schema/stack-config.schema.json", stack);
            }
        });

        it("an editor sees the same mistakes: a misspelt field or key (aws: too), an unsupported Kafka version, a region the provider does not know", () => {
            const doc = parse(kr());
            doc.config["fms-iot:provisioning"].serialPrefix = ["297468"];
            doc.config["aws:region"] = "ap-northeast-9";
            doc.config["aws:profle"] = "fms-kr";
            doc.config["fms-iot:routng"] = {};
            doc.config["fms-iot:routing"].msk = { mode: "create", vpcCidr: "10.40.0.0/16", subnetCidrs: ["10.40.1.0/24", "10.40.2.0/24"], kafkaVersion: "3.6.0" };
            assert.ok(!validate(doc));
            const paths = validate.errors!.map((e) => `${e.instancePath} ${e.keyword}`).join("\n");
            assert.match(paths, /\/config\/fms-iot:provisioning additionalProperties/);
            assert.match(paths, /\/config\/aws:region enum/);
            const extra = validate.errors!.filter((e) => e.instancePath === "/config" && e.keyword === "additionalProperties").map((e) => (e.params as { additionalProperty: string }).additionalProperty);
            assert.deepStrictEqual(extra.sort(), ["aws:profle", "fms-iot:routng"], "misspelt keys flagged as the program refuses them");
            assert.match(paths, /\/config\/fms-iot:routing\/msk\/kafkaVersion enum/);
        });
    });

    it("config/serviceRegions.ts (regions with an IoT Core, Greengrass V2 and MSK endpoint) is what botocore's endpoint data says", function () {
        // The data behind "a region where AWS IoT Core has no endpoint": botocore's data/endpoints.json,
        // the AWS CLI's own (the JS SDK v3 packages here ship only partition rules). Checked where botocore is installed.
        const found = findBotocore();
        if (!found) this.skip();
        assert.strictEqual(fs.readFileSync(SERVICE_REGIONS_FILE, "utf8"), serviceRegionsText(found!.file, found!.version), "run npm run service-regions");
    });

    it("Pulumi.yaml declares the project's scalar keys with the types Pulumi's project schema allows, each with a description", () => {
        const decl = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")).config as Record<string, { type: string; description: string }>;
        // Pulumi's project schema (sdk/go/common/workspace/project.json): a declaration's type is string, integer, boolean or array.
        for (const [key, d] of Object.entries(decl)) {
            assert.ok(stackKeys().includes(key), `${key} is a key the program reads`);
            assert.ok(["string", "integer", "boolean", "array"].includes(d.type), key);
            assert.ok(d.description.length > 10, key);
            assert.ok(!("default" in d), `${key}: no default (every stack sets it)`);
        }
        assert.deepStrictEqual(Object.keys(decl).sort(), ["country", "environment", "namePrefix"]);
    });

    it("project-level config in Pulumi.yaml is every stack's default, as Pulumi applies it; the stack file wins", () => {
        const pulumiYaml = `name: fms-iot\nruntime: nodejs\nconfig:\n  logRetentionDays:\n    type: integer\n    default: 30\n  aws:region: eu-west-1\n  protect: true\n`;
        const noRegion = kr().replace(/^ {2}aws:region: .*$/m, "").replace(/^ {2}fms-iot:logRetentionDays: .*$/m, "");
        const f = readStackFile("x", tmp(noRegion, "x", pulumiYaml));
        assert.strictEqual(f.config["aws:region"], "eu-west-1", "not a false 'missing' region");
        assert.strictEqual(f.config["fms-iot:logRetentionDays"], "30");
        assert.strictEqual(f.config["fms-iot:protect"], "true", "the kr file sets protect: true itself");
        const withRegion = readStackFile("x", tmp(kr(), "x", pulumiYaml));
        assert.strictEqual(withRegion.config["aws:region"], "ap-northeast-2");
        assert.strictEqual(withRegion.config["fms-iot:logRetentionDays"], "365", "the stack file's value wins");
    });

    describe("ESC environments (environment: in the stack file)", () => {
        // jp: no region-bound identifiers (an MSK cluster ARN would not fit a stand-in region).
        const escFile = () => fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.jp.yaml"), "utf8").replace(/^ {2}aws:region: .*$/m, "").replace(/^config:/m, "environment:\n  - fms/kr\nconfig:");

        it("with the Pulumi CLI, the values the environment provides come from `pulumi config --json`", () => {
            const dir = tmp(escFile(), "x");
            const calls: string[] = [];
            const f = readStackFile("x", dir, (stack) => { calls.push(stack); return { "aws:region": { value: "ap-northeast-1", secret: false }, "fms-iot:mskPassword": { secret: true } }; });
            assert.deepStrictEqual(calls, ["x"]);
            assert.strictEqual(f.config["aws:region"], "ap-northeast-1");
            assert.ok(f.secureKeys.includes("fms-iot:mskPassword"), "a secret from the environment is planned as a placeholder secret");
            assert.deepStrictEqual(f.placeholders, []);
        });

        it("without the CLI, a named placeholder (not a 'missing' error); npm run plan says where the value really comes from", async () => {
            const dir = tmp(escFile(), "x");
            const f = readStackFile("x", dir, () => undefined);
            assert.deepStrictEqual(f.placeholders, [{ key: "aws:region", value: PLACEHOLDER_REGION, from: "ESC environment fms/kr" }]);
            const r = await plan(["--stack", "x"], dir);
            assert.ok(r.exit === 0 || r.exit === 1, r.stderr);
            assert.match(r.stdout, /note: aws:region comes from ESC environment fms\/kr, which only the Pulumi CLI can open \(pulumi login\); planned with us-east-1/);
        });
    });

    it("a YAML syntax error is one line naming Pulumi.<stack>.yaml:line:col (tab indentation here)", async () => {
        const dir = tmp(kr().replace("  fms-iot:namePrefix: fms-kr", "\tfms-iot:namePrefix: fms-kr"), "bad");
        const r = await plan(["--stack", "bad"], dir);
        assert.strictEqual(r.exit, 2);
        const line = kr().split("\n").findIndex((l) => l.startsWith("  fms-iot:namePrefix")) + 1;
        assert.strictEqual(r.stderr, `Pulumi.bad.yaml:${line}:1: Tabs are not allowed as indentation\n`);
        assert.strictEqual(r.stdout, "");
    });

    it("a config error from a stack file names that file", async () => {
        const dir = tmp(kr().replace("kafkaVersion", "kafkaVersion").replace("fms-iot:environment: production", "fms-iot:environment: prod"), "typo");
        const r = await plan(["--stack", "typo"], dir);
        assert.strictEqual(r.stderr, 'Pulumi.typo.yaml: Invalid stack config fms-iot:environment = "prod": one of dev, staging, production\n');
    });
});
