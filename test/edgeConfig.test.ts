import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { run as device } from "../device/cli";
import { CORE_FILES, installerDownload, PLUGIN_PARAMETERS, pluginOutputPaths, pluginValidationErrors } from "../device/edgeConfig";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { ACCOUNT_ID } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import { parsePolicy } from "./support/assertions";
import { isAllowed } from "./support/iotPolicyEvaluator";

async function cli(argv: string[], outputs: Record<string, unknown>): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await device(argv, { out: (l) => out.push(l), err: (l) => err.push(l), stackOutputs: () => outputs });
    return { code, out, err };
}

describe("npm run device -- edge-config: the nucleus config.yaml for fleet provisioning by claim (kr)", function () {
    this.timeout(60_000);
    let run: ProgramRun;
    let dir: string;
    before(async () => {
        run = await runStack("kr");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-edge-config-"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const plugin = (root: string) => parseYaml(fs.readFileSync(path.join(root, "config.yaml"), "utf8")).services["aws.greengrass.FleetProvisioningByClaim"].configuration;

    it("writes the plugin's parameters only (its source's names), every required one, from the stack's outputs", async () => {
        const out = path.join(dir, "a");
        const r = await cli(["edge-config", "--stack", "kr", "--serial", "2974690001", "--out", out], run.outputs);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(r.out, ["fms-kr-core-2974690001"]);
        const config = parseYaml(fs.readFileSync(path.join(out, "config.yaml"), "utf8"));
        assert.deepStrictEqual(config.services["aws.greengrass.Nucleus"], { version: run.outputs.edgeNucleusVersion });
        const p = plugin(out);
        const known: readonly string[] = [...PLUGIN_PARAMETERS.required, ...PLUGIN_PARAMETERS.optional];
        assert.deepStrictEqual(Object.keys(p).filter((k) => !known.includes(k)), [], "no parameter the plugin does not read");
        for (const k of PLUGIN_PARAMETERS.required) assert.ok(typeof p[k] === "string" && p[k].length > 0, `required ${k}`);
        assert.deepStrictEqual(p, {
            rootPath: "/greengrass/v2",
            awsRegion: "ap-northeast-2",
            iotDataEndpoint: "a1b2c3d4e5f6g7-ats.iot.ap-northeast-2.amazonaws.com",
            iotCredentialEndpoint: "c1b2c3d4e5f6g7.credentials.iot.ap-northeast-2.amazonaws.com",
            iotRoleAlias: "fms-kr-gg-token-exchange",
            provisioningTemplate: "fms-kr-edge-core",
            claimCertificatePath: "/greengrass/v2/claim-certs/certificate.pem.crt",
            claimCertificatePrivateKeyPath: "/greengrass/v2/claim-certs/private.pem.key",
            rootCaPath: "/greengrass/v2/AmazonRootCA1.pem",
            deviceId: "kr-claim-2974690001",
            mqttPort: 8883,
            templateParameters: { SerialNumber: "2974690001" },
            csrPath: "/greengrass/v2/core.csr.pem",
            csrPrivateKeyPath: "/greengrass/v2/core.key.pem",
        });
    });

    it("the plugin's own validation passes for each key mode, and is the plugin's (csrPath without csrPrivateKeyPath is refused)", async () => {
        // aws-greengrass-fleet-provisioning-by-claim v1.2.2, FleetProvisioningByClaimPlugin.java
        // L230-248 validateParameters: the six required parameters (L233-239), and
        //   if (!(parameterMap.get(CSR_PATH_PARAMETER_NAME) == null || Utils.isEmpty(...)))
        //       checkRequiredParameterPresent(parameterMap, errors, CSR_PRIVATE_KEY_PATH_PARAMETER_NAME);   (L240-243)
        // errors as "Required parameter %s missing for aws.greengrass.FleetProvisioningByClaim" (L77-78).
        const device = plugin(path.join(dir, "a"));
        assert.deepStrictEqual(pluginValidationErrors(device), []);
        const awsOut = path.join(dir, "aws-valid");
        const r = await cli(["edge-config", "--stack", "kr", "--serial", "2974690004", "--out", awsOut], { ...run.outputs, deviceKeys: "aws" });
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const awsKeys = plugin(awsOut);
        assert.deepStrictEqual(pluginValidationErrors(awsKeys), []);
        assert.deepStrictEqual([awsKeys.csrPath, awsKeys.csrPrivateKeyPath], [undefined, undefined], "neither, in AWS-key mode");
        // What this project wrote before (csrPath alone) is what the plugin throws on: the core ran unprovisioned.
        const { csrPrivateKeyPath: _, ...before } = device;
        assert.deepStrictEqual(pluginValidationErrors(before), ["Required parameter csrPrivateKeyPath missing for aws.greengrass.FleetProvisioningByClaim"]);
        assert.deepStrictEqual(pluginValidationErrors({ ...device, csrPath: "" }).length, 0, "an empty csrPath is no CSR (Utils.isEmpty)");
        assert.deepStrictEqual(pluginValidationErrors({ ...device, rootPath: "" }), ["Required parameter rootPath missing for aws.greengrass.FleetProvisioningByClaim"]);
        // The plugin's README documents certPath/keyPath; its code reads certificatePath/privateKeyPath (L74-75).
        assert.ok(PLUGIN_PARAMETERS.optional.includes("certificatePath") && PLUGIN_PARAMETERS.optional.includes("privateKeyPath"));
        assert.ok(!(PLUGIN_PARAMETERS.optional as readonly string[]).includes("certPath"));
    });

    it("registration.csv: serial, the SHA-256 fingerprint of the core key's SubjectPublicKeyInfo, the core template; on stderr too", async () => {
        const out = path.join(dir, "a");
        const csv = fs.readFileSync(path.join(out, CORE_FILES.registration), "utf8");
        const key = fs.readFileSync(path.join(out, CORE_FILES.csrPrivateKey), "utf8");
        const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
        const fingerprint = crypto.createHash("sha256").update(spki).digest("hex");
        assert.strictEqual(publicKeyFingerprint(key), fingerprint);
        assert.strictEqual(csv, `serial,publicKey,template\n2974690001,${fingerprint},fms-kr-edge-core\n`);
    });

    it("prints the installer download of exactly the stack's nucleus version (the JAR the nucleus will run), and the plugin", async () => {
        const out = path.join(dir, "dl");
        const r = await cli(["edge-config", "--stack", "kr", "--serial", "2974690005", "--out", out], run.outputs);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const version = String(run.outputs.edgeNucleusVersion);
        // AWS developer guide, "Install the AWS IoT Greengrass Core software ...": a specific version is
        // releases/greengrass-<version>.zip. aws-greengrass-nucleus v2.16.1, Kernel.java L755-786
        // (initializeNucleusFromRecipe): the running version is the unpacked zip's conf/recipe.yaml.
        assert.deepStrictEqual(installerDownload(version)[0], `curl -fsS https://d2s8p88vqu9w66.cloudfront.net/releases/greengrass-${version}.zip -o greengrass-${version}.zip`);
        for (const line of installerDownload(version)) assert.ok(r.err.includes(`  ${line}`), line);
        assert.ok(!r.err.join("\n").includes("nucleus-latest"), "never the latest zip");
        assert.ok(r.err.some((l) => l.startsWith("register this unit before it boots") && l.endsWith(fs.readFileSync(path.join(out, "registration.csv"), "utf8").split("\n")[1])));
    });

    it("--stack-outputs: a saved pulumi stack output --json instead of the Pulumi CLI; its errors name that flag", async () => {
        const saved = path.join(dir, "kr-outputs.json");
        fs.writeFileSync(saved, JSON.stringify(run.outputs));
        const out = path.join(dir, "saved");
        const r = await device(["edge-config", "--stack-outputs", saved, "--serial", "2974690006", "--out", out], { out: () => undefined, err: () => undefined });
        assert.strictEqual(r, 0);
        assert.strictEqual(plugin(out).provisioningTemplate, "fms-kr-edge-core");
        const e = async (argv: string[]) => {
            const err: string[] = [];
            const code = await device(argv, { out: () => undefined, err: (l) => err.push(l) });
            return [code, err[0]];
        };
        assert.deepStrictEqual(await e(["edge-config", "--stack-outputs", path.join(dir, "none.json"), "--serial", "2974690007", "--out", path.join(dir, "n")]),
            [2, `error: --stack-outputs ${path.join(dir, "none.json")}: cannot read it (ENOENT)`]);
        const bad = path.join(dir, "bad.json");
        fs.writeFileSync(bad, "Current stack outputs (3):");
        assert.deepStrictEqual(await e(["edge-config", "--stack-outputs", bad, "--serial", "2974690007", "--out", path.join(dir, "n")]),
            [2, `error: --stack-outputs ${bad}: not JSON (save it with pulumi stack output --json --stack <name> > ${bad})`]);
        const jp = path.join(dir, "jp.json");
        fs.writeFileSync(jp, JSON.stringify({ iotEndpoint: "x" }));
        assert.deepStrictEqual(await e(["edge-config", "--stack-outputs", jp, "--serial", "2974690007", "--out", path.join(dir, "n")]),
            [2, `error: --stack-outputs ${jp}: no edgeCoreTemplateName output (a stack without a greengrass section?)`]);
        assert.deepStrictEqual(await e(["edge-config", "--stack", "kr", "--stack-outputs", saved, "--serial", "2974690007", "--out", path.join(dir, "n")]),
            [2, "error: --stack and --stack-outputs: give one"]);
        assert.ok(!fs.existsSync(path.join(dir, "n")));
    });

    it("the client id it sets is one the stack's claim policy lets connect, and the topics of its template are allowed", async () => {
        const p = plugin(path.join(dir, "a"));
        const claim = parsePolicy(run.one("aws:iot/policy:Policy", "-claim-policy").inputs.policy);
        const ctx = { region: "ap-northeast-2", accountId: ACCOUNT_ID, clientId: p.deviceId };
        assert.ok(isAllowed([claim], "iot:Connect", `client/${p.deviceId}`, ctx));
        assert.ok(isAllowed([claim], "iot:Publish", `topic/$aws/provisioning-templates/${p.provisioningTemplate}/provision/json`, ctx));
        assert.ok(isAllowed([claim], "iot:Publish", "topic/$aws/certificates/create-from-csr/json", ctx), "csrPath: CreateCertificateFromCsr");
        const uuid = crypto.randomUUID();
        assert.ok(!isAllowed([claim], "iot:Connect", `client/${uuid}`, { ...ctx, clientId: uuid }), "the plugin's default (a random UUID) would be refused");
    });

    it("device keys: the core's key at csrPrivateKeyPath (0600, PKCS#8) and a CSR for it; the key never in config.yaml", () => {
        const out = path.join(dir, "a");
        assert.deepStrictEqual(fs.readdirSync(out).sort(), ["config.yaml", "core.csr.pem", "core.key.pem", "registration.csv"]);
        assert.strictEqual(fs.statSync(path.join(out, "core.key.pem")).mode & 0o777, 0o600);
        // Where the plugin then leaves the nucleus' key and certificate (v1.2.2 L167-168, L195-197: it copies
        // csrPrivateKeyPath to privateKeyPath, default <rootPath>/privKey.key, L80-81).
        assert.deepStrictEqual(pluginOutputPaths(plugin(out)), { certificate: "/greengrass/v2/thingCert.crt", privateKey: "/greengrass/v2/privKey.key" });
        // Greengrass nucleus EncryptionUtils reads "-----BEGIN PRIVATE KEY-----" (PKCS#8), RSA or EC.
        const keyPem = fs.readFileSync(path.join(out, "core.key.pem"), "utf8");
        assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
        const key = crypto.createPrivateKey(keyPem);
        assert.strictEqual(key.asymmetricKeyType, "ec");
        const csr = fs.readFileSync(path.join(out, "core.csr.pem"), "utf8");
        assert.match(csr, /^-----BEGIN CERTIFICATE REQUEST-----/);
        assert.ok(!fs.readFileSync(path.join(out, "config.yaml"), "utf8").includes("PRIVATE KEY"));
    });

    it("AWS-made keys: no csrPath and no key file (the plugin writes the key AWS sends)", async () => {
        const out = path.join(dir, "aws");
        const r = await cli(["edge-config", "--stack", "kr", "--serial", "2974690002", "--out", out], { ...run.outputs, deviceKeys: "aws" });
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(fs.readdirSync(out), ["config.yaml"]);
        assert.strictEqual(plugin(out).csrPath, undefined);
    });

    it("port 443: the plugin, the nucleus' MQTT and its data plane all on 443 (AWS's 'Connect on port 443')", async () => {
        const out = path.join(dir, "p443");
        const r = await cli(["edge-config", "--stack", "kr", "--serial", "2974690003", "--out", out, "--port", "443"], run.outputs);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const config = parseYaml(fs.readFileSync(path.join(out, "config.yaml"), "utf8"));
        assert.strictEqual(plugin(out).mqttPort, 443);
        assert.deepStrictEqual(config.services["aws.greengrass.Nucleus"].configuration, { mqtt: { port: 443 }, greengrassDataPlanePort: 443 });
    });

    it("refuses: an existing file, a vehicle serial, a port other than 8883/443, a stack without greengrass", async () => {
        const again = await cli(["edge-config", "--stack", "kr", "--serial", "2974690001", "--out", path.join(dir, "a")], run.outputs);
        assert.strictEqual(again.code, 2);
        assert.match(again.err[0], /^error: refusing to overwrite .*config\.yaml/);
        const vehicle = await cli(["edge-config", "--stack", "kr", "--serial", "2974680001", "--out", path.join(dir, "v")], run.outputs);
        assert.deepStrictEqual([vehicle.code, vehicle.err[0]], [2, "error: --serial 2974680001: the core template accepts serials starting with 297469"]);
        assert.ok(!fs.existsSync(path.join(dir, "v")));
        const port = await cli(["edge-config", "--stack", "kr", "--serial", "2974690009", "--out", path.join(dir, "x"), "--port", "1883"], run.outputs);
        assert.deepStrictEqual([port.code, port.err[0]], [2, "error: --port 1883: 8883, or 443 behind firewalls that allow only HTTPS"]);
        const jp = await runStack("jp");
        const none = await cli(["edge-config", "--stack", "jp", "--serial", "2974690001", "--out", path.join(dir, "jp")], jp.outputs);
        assert.strictEqual(none.code, 2);
        assert.strictEqual(none.err[0], "error: this stack has no greengrass section (no edgeCoreTemplateName output)");
    });
});
