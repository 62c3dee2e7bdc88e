/**
 * Adding countries as the README says, in a copy of the repository: one stack from the README's own "Adding a
 * country" snippet (with the routing and Greengrass sections it mentions), one copied from a production stack into
 * another region and account by `npm run country -- new`. The program's checks run on them (config validation, the
 * rules across stack files, the offline plan of every stack) and every place that lists stacks must list them:
 * stackNames, the PR workflow's matrix (country list --github-matrix), plan --all, the diagrams section.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { checkAcrossStacks } from "../config/crossStack";
import { stackConfigFromEngine } from "../config/stackConfig";
import { PROJECT_ROOT, readStackFile, stackNames } from "../config/stackFile";
import { main as country } from "../fleet/country";
import { main as plan, parseArgs, planStack } from "../plan/cli";
import { readmeSection, stackDiagrams } from "../plan/diagrams";
import { ProgramRun } from "../plan/program";

/** The README's "Adding a country" yaml block, and the stack it names (`# Pulumi.<stack>.yaml`). */
export function readmeCountrySnippet(readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8")): { stack: string; text: string } {
    const section = readme.split(/^## /m).find((s) => s.startsWith("Adding a country"));
    assert.ok(section, "the README has an Adding a country section");
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(block, "with a yaml block");
    const stack = /^# Pulumi\.([^.]+)\.yaml$/m.exec(block)?.[1];
    assert.ok(stack, "naming its file (# Pulumi.<stack>.yaml)");
    return { stack, text: block };
}

/** A copy of the repository's files (tracked and new, not ignored), node_modules linked. */
function copyRepository(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-new-country-"));
    const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: PROJECT_ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
    for (const f of files) {
        if (!fs.existsSync(path.join(PROJECT_ROOT, f))) continue; // deleted in the work tree
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(dir, f));
    }
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    return dir;
}

/** The routing and Greengrass sections the README mentions beside its snippet, for the snippet's stack. */
const edgeSections = (stack: string) => `  fms-iot:routing:
    kafka:
      username: fms-iot
    msk:
      mode: create
      vpcCidr: 10.50.0.0/16
      subnetCidrs: [10.50.1.0/24, 10.50.2.0/24]
    routes:
      - key: telemetry
  fms-iot:greengrass:
    serialPrefixes: ["297469"]
    templateName: fms-${stack}-edge-core
    telemetry:
      componentVersion: "1.0"
      route: telemetry
`;

describe("adding countries the README's way, in a copy of the repository", function () {
    this.timeout(120_000);
    let dir: string;
    const snippet = readmeCountrySnippet();
    const copied = "fr";
    let countryOut: ReturnType<typeof country>;
    const runs: Record<string, ProgramRun> = {};

    before(() => {
        dir = copyRepository();
        assert.ok(!fs.existsSync(path.join(dir, `Pulumi.${snippet.stack}.yaml`)), `the README's example stack ${snippet.stack} is not a shipped one`);
        fs.writeFileSync(path.join(dir, `Pulumi.${snippet.stack}.yaml`), `${snippet.text}${edgeSections(snippet.stack)}`);
        countryOut = country(["new", copied, "--from", "kr", "--region", "eu-west-1", "--account", "345678901234"], dir);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the README's snippet starts with the schema line and pins the account, as the shipped stacks do", () => {
        assert.strictEqual(snippet.text.split("\n")[0], "# yaml-language-server: $schema=./schema/stack-config.schema.json");
        const config = parse(snippet.text).config;
        assert.match(config["aws:allowedAccountIds"][0], /^\d{12}$/);
        // Every name it owns carries the stack's name (nothing left from the stack it was copied from).
        for (const v of [config["fms-iot:namePrefix"], config["fms-iot:provisioning"].templateName, config["fms-iot:provisioning"].thingNamePrefix, config["fms-iot:provisioning"].claimClientIdPrefix]) {
            assert.ok(String(v).includes(snippet.stack), `${v} carries ${snippet.stack}`);
        }
    });

    it("npm run country -- new wrote the copied stack, and says what is still to decide", () => {
        assert.strictEqual(countryOut.exit, 0, countryOut.stderr);
        assert.match(countryOut.stdout, new RegExp(`^wrote Pulumi\\.${copied}\\.yaml from Pulumi\\.kr\\.yaml`));
        for (const d of ["provisioning.serialPrefixes", "routing.msk", "operations.regionSettingsOwner"]) assert.ok(countryOut.stdout.includes(`- ${d}`), d);
    });

    it("both validate, with the rules across every stack file", () => {
        for (const stack of [snippet.stack, copied]) {
            const f = readStackFile(stack, dir, () => undefined);
            const config = stackConfigFromEngine(f.project, stack, f.config, `Pulumi.${stack}.yaml`, { stacks: stackNames(dir) });
            assert.deepStrictEqual(checkAcrossStacks(config, dir), [], `${stack}: no warning (production, pinned)`);
        }
    });

    it("the stack files are the list: stackNames, the PR workflow's matrix and plan --all hold both, and the offline plan passes on them", async () => {
        const stacks = stackNames(dir);
        for (const s of [snippet.stack, copied]) assert.ok(stacks.includes(s), s);
        assert.deepStrictEqual(stacks, [...stackNames(), snippet.stack, copied].sort());
        const matrix = JSON.parse(country(["list", "--github-matrix"], dir).stdout.replace(/^matrix=/, "")).include;
        assert.deepStrictEqual(matrix.map((m: { stack: string }) => m.stack), stacks);
        assert.deepStrictEqual(matrix.find((m: { stack: string }) => m.stack === copied), { stack: copied, region: "eu-west-1" });
        assert.deepStrictEqual(matrix.find((m: { stack: string }) => m.stack === snippet.stack).region, parse(snippet.text).config["aws:region"]);
        // plan --all plans what the stack files list; the two new ones are planned here (the shipped ones by plan.test.ts).
        assert.deepStrictEqual(parseArgs(["--all"], dir).stacks, stacks);
        for (const s of [snippet.stack, copied]) {
            const p = await planStack(s, dir);
            assert.strictEqual(p.exit, 0, p.configError ?? p.error ?? JSON.stringify(p.document?.violations));
            assert.ok(p.run!.resources.length > 50, `${s} planned`);
            runs[s] = p.run!;
        }
        assert.ok(runs[snippet.stack].ofType("aws:greengrassv2/deployment:Deployment").length + runs[snippet.stack].ofType("aws-native:greengrassv2:Deployment").length > 0, "the snippet's stack has its Greengrass deployment");
        assert.ok(runs[snippet.stack].ofType("aws:iot/topicRule:TopicRule").length > 0, "and its routing rules");
    });

    it("the diagrams section draws them without a browser", async () => {
        const section = readmeSection(await stackDiagrams(runs, [snippet.stack, copied]), () => false);
        for (const s of [snippet.stack, copied]) assert.ok(section.includes(`**${s}** (`) && section.includes(`${s}-provisioning`), s);
    });

    it("a hand copy that forgets a name is one line naming both files; so is a second npm run country -- new of the same name", async () => {
        fs.writeFileSync(path.join(dir, "Pulumi.xx.yaml"), fs.readFileSync(path.join(dir, `Pulumi.${copied}.yaml`), "utf8").replace("country: FR", "country: DE"));
        const planned = await plan(["--stack", "xx"], dir);
        assert.strictEqual(planned.exit, 2);
        assert.strictEqual(planned.stderr, `Pulumi.xx.yaml and Pulumi.${copied}.yaml: both have namePrefix "fms-${copied}" (eu-west-1, account 345678901234): every physical name (and cost tag) of one would be the other's; give each stack its own namePrefix\n`);
        fs.rmSync(path.join(dir, "Pulumi.xx.yaml"));
        const again = country(["new", copied, "--from", "jp", "--region", "eu-west-1", "--account", "345678901234"], dir);
        assert.deepStrictEqual([again.exit, again.stderr], [2, `npm run country: Pulumi.${copied}.yaml exists: choose another stack name (a new country is a new file)\n`]);
    });
});
