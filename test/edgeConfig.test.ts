import * as assert from "assert";
import { coreCheckMinutes } from "../device/coreScripts";
import { keygenOnUnit, runCoreScript } from "./support/coreUnit";
import { csrProblem } from "../config/csr";
import { NUCLEUS_CONNECTED } from "../device/coreRotation";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { run as device } from "../device/cli";
import { CORE_FILES, installerDownload, PLUGIN_PARAMETERS, PLUGIN_SOURCE, PLUGIN_VERSION, pluginOutputPaths, pluginValidationErrors } from "../device/edgeConfig";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { ACCOUNT_ID } from "../plan/mocks";
import { ProgramRun, runStack } from "../plan/program";
import { parsePolicy } from "./support/assertions";
import { isAllowed } from "./support/iotPolicyEvaluator";
import { AwsIotDouble } from "./support/awsIotDouble";
import { provisionWithOfficialSdk, provisionWithOfficialSdkAwsKeys } from "./support/officialSdk";
import { PolicyDocument } from "../policies/document";
import { claimPolicy } from "../policies/iotClaimPolicy";

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
        // The client id: claim prefix, serial, and a random suffix nobody else holding the claim certificate can guess.
        assert.match(String(p.deviceId), /^kr-claim-2974690001-[0-9a-f]{8}$/);
        assert.deepStrictEqual({ ...p, deviceId: "kr-claim-2974690001" }, {
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

    it("device keys: the station writes no key; fms-core-keygen.sh makes it on the unit (0600, PKCS#8 EC P-256) and prints the registration line: serial, SHA-256 of the key's SubjectPublicKeyInfo, the core template", async () => {
        const out = path.join(dir, "a");
        assert.ok(!fs.existsSync(path.join(out, CORE_FILES.csrPrivateKey)) && !fs.existsSync(path.join(out, CORE_FILES.csr)), "nothing secret made on the station");
        const line = keygenOnUnit(out);
        const key = fs.readFileSync(path.join(out, CORE_FILES.csrPrivateKey), "utf8");
        assert.strictEqual(fs.statSync(path.join(out, CORE_FILES.csrPrivateKey)).mode & 0o777, 0o600);
        assert.match(key, /^-----BEGIN PRIVATE KEY-----\n/);
        assert.deepStrictEqual([crypto.createPrivateKey(key).asymmetricKeyType, crypto.createPrivateKey(key).asymmetricKeyDetails?.namedCurve], ["ec", "prime256v1"]);
        const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
        const fingerprint = crypto.createHash("sha256").update(spki).digest("hex");
        assert.strictEqual(publicKeyFingerprint(key), fingerprint);
        assert.strictEqual(line, `2974690001,${fingerprint},fms-kr-edge-core`);
        assert.strictEqual(fs.readFileSync(path.join(out, CORE_FILES.registration), "utf8"), `serial,publicKey,template\n${line}\n`);
        // The CSR at csrPath is whole and for that key; the station computes the same line from it alone.
        const csr = fs.readFileSync(path.join(out, CORE_FILES.csr), "utf8");
        assert.strictEqual(csrProblem(csr), undefined);
        const fromCsr = await cli(["edge-register", "--stack", "kr", "--serial", "2974690001", "--csr-file", path.join(out, CORE_FILES.csr)], run.outputs);
        assert.deepStrictEqual([fromCsr.code, fromCsr.out], [0, [line]]);
        // Run again on the unit: a registered key is never remade.
        assert.strictEqual(runCoreScript(out, "keygen").code, 1);
        assert.strictEqual(fs.readFileSync(path.join(out, CORE_FILES.csrPrivateKey), "utf8"), key);
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
        // The plugin too: its parameters were read in aws-greengrass-fleet-provisioning-by-claim v1.2.2
        // (FleetProvisioningByClaimPlugin.java L54-75, PLUGIN_SOURCE), so exactly that release's JAR.
        assert.ok(PLUGIN_SOURCE.includes(`v${PLUGIN_VERSION},`));
        assert.ok(!r.err.join("\n").includes("-latest"), "never a latest JAR or zip");
        assert.ok(r.err.some((l) => l.includes(`fleetprovisioningbyclaim-${PLUGIN_VERSION}.jar -o GreengrassInstaller/aws.greengrass.FleetProvisioningByClaim.jar`)));
        assert.ok(r.err.some((l) => l.startsWith("the core makes its own key: on the unit, as root, before it first boots: sh /greengrass/v2/fms-core-keygen.sh")));
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
        // No Pulumi CLI on this machine (as on a factory station): --stack says what to pass instead, in edge-config's own flags.
        const noCli = await e(["edge-config", "--stack", "kr", "--serial", "2974690007", "--out", path.join(dir, "n")]);
        if (spawnSync("pulumi", ["version"]).error) assert.deepStrictEqual(noCli, [2, "error: --stack needs the Pulumi CLI on PATH; pass --stack-outputs <file> (pulumi stack output --json, saved where the CLI is) or --region --endpoint --credential-endpoint --role-alias --template --client-id-prefix --nucleus-version --core-prefix instead"]);
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

    it("device keys: the core's key at csrPrivateKeyPath (0600, PKCS#8, made on the unit) and a CSR for it; the key never in config.yaml", () => {
        const out = path.join(dir, "a");
        assert.deepStrictEqual(fs.readdirSync(out).sort(), ["config.yaml", "core.csr.pem", "core.key.pem", "fms-core-check.service", "fms-core-check.timer", "fms-core-cleanup.sh", "fms-core-keygen.sh", "fms-core-rotate.json", "fms-core-rotate.py", "registration.csv"]);
        // The rotation on the core: its settings from the stack's outputs, nothing secret in them.
        const settings = JSON.parse(fs.readFileSync(path.join(out, "fms-core-rotate.json"), "utf8"));
        assert.deepStrictEqual([settings.thingName, settings.serial, settings.rotationTemplate, settings.confirmRule, settings.csr],
            ["fms-kr-core-2974690001", "2974690001", run.outputs.edgeCoreRotationTemplateName, run.outputs.certificateConfirmRuleName, true]);
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

    // Issue 26, item 3 for cores: a core comes back by itself. The timer re-runs the script's --confirm (confirm in place,
    // or fall back to *.previous when AWS IoT refuses the current certificate: test/deviceFallback.test.ts runs it) four
    // times within the stack's confirmation window, so a lost confirmation is sent again before the sweep retires the
    // new certificate. systemd.timer(5): OnBootSec, OnUnitActiveSec (relative to the unit's last activation),
    // RandomizedDelaySec; systemd.service(5): Type=oneshot.
    it("ships a systemd timer that runs fms-core-rotate.py --confirm within the stack's confirmation window", () => {
        const out = path.join(dir, "a");
        const service = fs.readFileSync(path.join(out, "fms-core-check.service"), "utf8");
        const timer = fs.readFileSync(path.join(out, "fms-core-check.timer"), "utf8");
        assert.match(service, /^Type=oneshot$/m);
        assert.match(service, /^ExecStart=\/usr\/bin\/env python3 \/greengrass\/v2\/fms-core-rotate\.py --confirm$/m);
        const every = Number(/^OnUnitActiveSec=(\d+)min$/m.exec(timer)![1]);
        const jitter = Number(/^RandomizedDelaySec=(\d+)min$/m.exec(timer)![1]);
        const window = Number(run.outputs.certificateConfirmTimeoutHours) * 60;
        assert.strictEqual(window, 24 * 60, "kr's confirmTimeoutHours, read from the stack output");
        assert.ok(4 * (every + jitter) <= window + every, `${every} + ${jitter} min, at least 3 runs inside ${window} min`);
        assert.match(timer, /^WantedBy=timers\.target$/m);
        for (const hours of [1, 2, 6, 24, 72, 720]) {
            const m = coreCheckMinutes(hours);
            assert.ok(m >= 15 && m <= 360 && 2 * (m + Math.floor(m / 4)) <= hours * 60, `${hours} h: every ${m} min, twice within the window`);
        }
    });

    it("AWS-made keys: no csrPath and no key file (the plugin writes the key AWS sends)", async () => {
        const out = path.join(dir, "aws");
        const r = await cli(["edge-config", "--stack", "kr", "--serial", "2974690002", "--out", out], { ...run.outputs, deviceKeys: "aws" });
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(fs.readdirSync(out).sort(), ["config.yaml", "fms-core-check.service", "fms-core-check.timer", "fms-core-cleanup.sh", "fms-core-rotate.json", "fms-core-rotate.py"]);
        assert.strictEqual(JSON.parse(fs.readFileSync(path.join(out, "fms-core-rotate.json"), "utf8")).csr, false, "AWS-made keys: CreateKeysAndCertificate, as the rotation policy allows");
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

    describe("a core brought up as the README says, against the broker double: AWS's device SDK, the per-core policy enforced", function () {
        const doubles: AwsIotDouble[] = [];
        after(async () => { for (const d of doubles) await d.close(); });

        /** A double of AWS IoT with kr's templates and policies (the claim policy for this key mode) and a hook that admits. */
        async function start(deviceKeys: "device" | "aws"): Promise<{ double: AwsIotDouble; claim: { cert: string; key: string } }> {
            const policies: Record<string, PolicyDocument> = {};
            for (const p of run.ofType("aws:iot/policy:Policy")) policies[p.inputs.name] = JSON.parse(p.inputs.policy);
            const templates: Record<string, object> = {};
            for (const t of run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate")) templates[t.inputs.name] = JSON.parse(t.inputs.templateBody);
            const claimName = run.one("aws:iot/policy:Policy", "-claim-policy").inputs.name as string;
            policies[claimName] = claimPolicy({ partition: "aws", region: "ap-northeast-2", accountId: ACCOUNT_ID, clientIdPrefix: "kr-claim-", templateNames: Object.keys(templates), deviceKeys });
            // The hook is not under test here (test/provisioningHook.test.ts, registry.dynalite.test.ts): it admits
            // and sets the parameters the template takes from it.
            const double = await AwsIotDouble.start({ region: "ap-northeast-2", accountId: ACCOUNT_ID, templates, policies, claimPolicyName: claimName,
                hook: async () => ({ allowProvisioning: true, parameterOverrides: { CertDate: "20261203", CertExpiry: "20491231" } }) });
            doubles.push(double);
            const issued = await double.issueClaimCertificate();
            return { double, claim: { cert: issued.certPem, key: issued.keyPem } };
        }

        /** edge-config for a serial, then what the plugin does with the file: the SDK's calls, then the files it leaves. */
        async function bringUp(d: { double: AwsIotDouble; claim: { cert: string; key: string } }, serial: string, deviceKeys: "device" | "aws") {
            // 1. the stack's outputs, saved where the Pulumi CLI is (here: the plan's, the endpoint the double's).
            const saved = path.join(dir, `outputs-${serial}.json`);
            fs.writeFileSync(saved, JSON.stringify({ ...run.outputs, iotEndpoint: "localhost", deviceKeys }));
            // 2. edge-config for the serial.
            const root = path.join(dir, `core-${serial}`);
            const r = await cli(["edge-config", "--stack-outputs", saved, "--serial", serial, "--out", root], {});
            assert.strictEqual(r.code, 0, r.err.join("\n"));
            assert.deepStrictEqual(r.out, [`fms-kr-core-${serial}`]);
            const p = plugin(root);
            assert.deepStrictEqual(pluginValidationErrors(p), [], "the plugin's validateParameters passes");
            // 3. device keys: the unit makes its key (fms-core-keygen.sh) and prints what the factory registers.
            if (deviceKeys === "device") {
                const line = keygenOnUnit(root);
                assert.strictEqual(line, `${serial},${publicKeyFingerprint(fs.readFileSync(path.join(root, CORE_FILES.csrPrivateKey), "utf8"))},fms-kr-edge-core`);
            }
            // 4. onto the device: <out> is the root; the claim certificate and key, and the root CA (the double's
            // stands in for Amazon Root CA 1), where config.yaml says.
            const onDevice = (f: string) => path.join(root, path.posix.relative(p.rootPath, f));
            fs.mkdirSync(path.dirname(onDevice(p.claimCertificatePath)), { recursive: true });
            fs.writeFileSync(onDevice(p.claimCertificatePath), d.claim.cert);
            fs.writeFileSync(onDevice(p.claimCertificatePrivateKeyPath), d.claim.key, { mode: 0o600 });
            fs.writeFileSync(onDevice(p.rootCaPath), d.double.ca.certPem);
            // 5-6. the plugin: connect with the claim certificate as deviceId, then the provisioning calls.
            const common = {
                host: p.iotDataEndpoint, port: d.double.port, caPem: fs.readFileSync(onDevice(p.rootCaPath), "utf8"),
                claimCertPem: fs.readFileSync(onDevice(p.claimCertificatePath), "utf8"), claimKeyPem: fs.readFileSync(onDevice(p.claimCertificatePrivateKeyPath), "utf8"),
                clientId: p.deviceId, template: p.provisioningTemplate, serial: p.templateParameters.SerialNumber, parameters: p.templateParameters, timeoutMs: 10_000,
            };
            const nucleus = pluginOutputPaths(p);
            // FleetProvisioningByClaimPlugin v1.2.2 L171-201: without csrPath CreateKeysAndCertificate and the
            // key AWS sends written to privateKeyPath; with it CreateCertificateFromCsr(csrPath) and
            // csrPrivateKeyPath copied to privateKeyPath; the certificate to certificatePath either way.
            const got = p.csrPath
                ? await provisionWithOfficialSdk({ ...common, csrPem: fs.readFileSync(onDevice(p.csrPath), "utf8") })
                : await provisionWithOfficialSdkAwsKeys(common);
            fs.writeFileSync(onDevice(nucleus.certificate), got.certificatePem, { mode: 0o600 });
            if (p.csrPath) fs.copyFileSync(onDevice(p.csrPrivateKeyPath), onDevice(nucleus.privateKey));
            else fs.writeFileSync(onDevice(nucleus.privateKey), got.privateKeyPem, { mode: 0o600 });
            const cert = fs.readFileSync(onDevice(nucleus.certificate), "utf8");
            const key = fs.readFileSync(onDevice(nucleus.privateKey), "utf8");
            assert.ok(new crypto.X509Certificate(cert).checkPrivateKey(crypto.createPrivateKey(key)), "the nucleus' key matches its certificate");
            assert.strictEqual(got.thingName, `fms-kr-core-${serial}`);
            return { thingName: got.thingName, cert, key, certificateId: got.certificateId };
        }

        const connect = async (double: AwsIotDouble, id: { cert: string; key: string }, clientId: string) => {
            const mqtt = await import("mqtt");
            const client = mqtt.connect({ protocol: "mqtts", host: "localhost", port: double.port, clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000, cert: id.cert, key: id.key, ca: double.ca.certPem });
            // MQTT 3.1.1: AWS IoT (and the double) close a CONNECT they refuse without a CONNACK.
            return new Promise<typeof client>((resolve, reject) => {
                client.once("connect", () => resolve(client));
                client.once("error", (err) => { client.end(true); reject(err); });
                client.once("close", () => { client.end(true); reject(new Error(`connection of ${clientId} closed`)); });
            });
        };

        // What provisioning leaves on every core (FleetProvisioningByClaimPlugin v1.2.2 L195-197: csrPrivateKeyPath is
        // copied to privKey.key, not moved; the claim stays where it was put) and rotation's *.previous: removed by
        // fms-core-cleanup.sh once the nucleus has connected (AwsIotMqttClient.java L284, v2.16.1), never before.
        it("fms-core-cleanup.sh: after the nucleus has connected, the claim certificate, the key copy, the CSR and *.previous are gone; privKey.key stays root-only", async () => {
            const d = await start("device");
            const serial = "2974690109";
            await bringUp(d, serial, "device");
            const root = path.join(dir, `core-${serial}`);
            fs.writeFileSync(path.join(root, "thingCert.crt.previous"), "old");
            fs.writeFileSync(path.join(root, "privKey.key.previous"), "old", { mode: 0o600 });
            const leftovers = ["claim-certs/certificate.pem.crt", "claim-certs/private.pem.key", "core.key.pem", "core.csr.pem", "registration.csv", "thingCert.crt.previous", "privKey.key.previous"];
            for (const f of leftovers) assert.ok(fs.existsSync(path.join(root, f)), `${f} is there after bring-up`);
            // Not yet connected: nothing removed (the claim may still be needed to provision).
            const early = runCoreScript(root, "cleanup");
            assert.strictEqual(early.code, 1);
            assert.match(early.stderr, /has not logged a connection/);
            for (const f of leftovers) assert.ok(fs.existsSync(path.join(root, f)), `${f} kept`);
            fs.mkdirSync(path.join(root, "logs"), { recursive: true });
            fs.writeFileSync(path.join(root, "logs", "greengrass.log"), `${JSON.stringify({ level: "INFO", message: NUCLEUS_CONNECTED })}\n`);
            fs.chmodSync(path.join(root, "privKey.key"), 0o644);
            const done = runCoreScript(root, "cleanup");
            assert.strictEqual(done.code, 0, done.stderr);
            for (const f of leftovers) assert.ok(!fs.existsSync(path.join(root, f)), `${f} removed`);
            assert.ok(!fs.existsSync(path.join(root, "claim-certs")), "the emptied claim directory too");
            assert.ok(fs.existsSync(path.join(root, "thingCert.crt")) && fs.existsSync(path.join(root, "privKey.key")));
            assert.strictEqual(fs.statSync(path.join(root, "privKey.key")).mode & 0o777, 0o600);
        });

        it("both key modes provision with the generated config.yaml; each core gets its own policy from the core template", async () => {
            const device = await start("device");
            const a = await bringUp(device, "2974690101", "device");
            const b = await bringUp(device, "2974690102", "device");
            // The per-core policy (created by the template); the shared core-rotation policy beside it is attached by name.
            const policyOf = (d: AwsIotDouble, certificateId: string) => d.certificates.get(certificateId)!.policyNames.filter((n) => !n.endsWith("-core-rotation"));
            assert.strictEqual(policyOf(device.double, a.certificateId).length, 1);
            assert.deepStrictEqual(device.double.certificates.get(a.certificateId)!.policyNames.filter((n) => n.endsWith("-core-rotation")), ["fms-kr-core-rotation"]);
            assert.notDeepStrictEqual(policyOf(device.double, a.certificateId), policyOf(device.double, b.certificateId), "one policy per core");
            assert.deepStrictEqual(device.double.createdPolicies, [...policyOf(device.double, a.certificateId), ...policyOf(device.double, b.certificateId)]);
            assert.deepStrictEqual(device.double.things.get(a.thingName)!.thingGroups, ["fms-kr-edge-cores"]);

            const awsKeys = await start("aws");
            const c = await bringUp(awsKeys, "2974690103", "aws");
            assert.ok(awsKeys.double.sent.some((m) => m.topic === "$aws/certificates/create/json/accepted"), "AWS made the key");
            const conn = await connect(awsKeys.double, c, c.thingName);
            await conn.endAsync();
        });

        it("one core cannot reach another core's shadow or jobs, nor connect as it; its own, and the nucleus' <thing>#2, work", async () => {
            const d = await start("device");
            const double = d.double;
            const a = await bringUp(d, "2974690201", "device");
            const b = await bringUp(d, "2974690202", "device");
            const asA = await connect(double, a, a.thingName);
            try {
                // SUBACK return code per topic; mqtt.js rejects a SUBACK of 0x80 (Failure), which is the refusal.
                const granted = async (topic: string) => {
                    try {
                        return (await asA.subscribeAsync(topic, { qos: 1 }))[0].qos;
                    } catch (err) {
                        if ((err as Error).name === "ErrorWithSubackPacket") return 128;
                        throw err;
                    }
                };
                // The nucleus' own subscriptions (AWS's minimal core policy: jobs and shadow topics of its Thing).
                assert.strictEqual(await granted(`$aws/things/${a.thingName}/jobs/notify-next`), 1);
                assert.strictEqual(await granted(`$aws/things/${a.thingName}/shadow/update/delta`), 1);
                // Another core's: refused (SUBACK 0x80).
                assert.strictEqual(await granted(`$aws/things/${b.thingName}/jobs/notify-next`), 128);
                assert.strictEqual(await granted(`$aws/things/${b.thingName}/shadow/update/delta`), 128);
                assert.strictEqual(await granted(`$aws/things/${b.thingName}/shadow/name/config/get/accepted`), 128);
                await asA.publishAsync(`$aws/things/${a.thingName}/shadow/update`, JSON.stringify({ state: { reported: { ok: true } } }), { qos: 1 });
            } finally {
                await asA.endAsync();
            }
            const second = await connect(double, a, `${a.thingName}#2`);
            await second.endAsync();
            // aws-greengrass-nucleus v2.16.1 MqttClient.java L983-987: <thing>, <thing>#2, ... and nothing else.
            for (const clientId of [b.thingName, `${b.thingName}#2`, `${a.thingName}0`, "fms-kr-core-"]) {
                await assert.rejects(connect(double, a, clientId), () => true, `core A's certificate connects as ${clientId}`);
                assert.ok(double.refusals.some((r) => r.clientId === clientId && r.action === "iot:Connect"));
            }
            // A publish to another core's shadow or jobs: refused, and AWS IoT closes the connection.
            for (const topic of [`$aws/things/${b.thingName}/shadow/update`, `$aws/things/${b.thingName}/jobs/start-next`]) {
                const c = await connect(double, a, a.thingName);
                await assert.rejects(Promise.race([
                    c.publishAsync(topic, "{}", { qos: 1 }),
                    new Promise((_, reject) => c.once("close", () => reject(new Error("closed")))),
                ]));
                c.end(true);
                assert.ok(double.refusals.some((r) => r.action === "iot:Publish" && r.resource === `topic/${topic}`), topic);
            }
        });
    });
});
