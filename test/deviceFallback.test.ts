/**
 * A unit always comes back (issue 26, item 3), through the device CLI on the kr plan: the broker double with the real
 * hook on dynalite, the real confirm handler behind the confirmation rule (whose action the test can drop: fault
 * injection), the real sweep. Every confirmation is dropped, the sweep retires the unconfirmed new certificate, and the
 * unit (a vehicle AND a Greengrass core) is connected at the end on its previous certificate, then rotates successfully.
 * The attacker's side: after `quarantine` the fall-back brings nothing back, and a thief holding only the old key after
 * a confirmed rotation gains nothing from it.
 *
 * AWS behaviour relied on: a certificate that is not ACTIVE cannot connect ("Certificates must be in the ACTIVE state to
 * authenticate devices ... Devices cannot use a certificate that is not in the ACTIVE state to reconnect": AWS IoT API
 * reference, UpdateCertificate, https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html; "AWS IoT
 * verifies that a client certificate is active when it authenticates a connection": developer guide,
 * https://docs.aws.amazon.com/iot/latest/developerguide/activate-or-deactivate-device-cert.html). The double refuses a
 * CONNECT whose certificate is not ACTIVE (test/support/awsIotDouble.ts, allowed()). How the refusal looks on the wire
 * (TLS alert or closed connection) AWS does not document: the device treats any answer that is not a timeout, a
 * throttle or a network error as a refusal (device/mqttSession.ts, ConnectRefused), and falls back only to a
 * certificate that then connects, so a wrong guess costs nothing.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFile, spawn } from "child_process";
import { promisify } from "util";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { CORE_ROTATE_SOURCE, CORE_SCRIPTS } from "../device/coreScripts";
import { makeKeyAndCsr, makePrivateKey } from "../device/credentials";
import { CORE_FILES } from "../device/edgeConfig";
import { nucleusLog, NUCLEUS_CONNECTED } from "../device/coreRotation";
import { MqttSession } from "../device/mqttSession";
import { readIdentity } from "../device/provision";
import { registerSerials } from "../device/fleetOps";
import { configFromEnv as rotationConfig, confirm, sweep } from "../components/provisioning/lambda/certificateRotation";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { runStack } from "../plan/program";
import { provisionWithOfficialSdk } from "./support/officialSdk";
import { close, Fleet, fleet } from "./support/registryFleet";
import { fleetCli } from "./support/fleetCli";

describe("a unit always comes back: every confirmation dropped, the device falls back to *.previous (kr, device CLI)", function () {
    this.timeout(120_000);
    let f: Fleet;
    let ca: string;
    let net: string[];
    /** Fault injection: the confirmation rule fires, its action does nothing (every confirmation lost after its PUBACK). */
    let dropConfirmations = false;
    const confirmations: Record<string, unknown>[] = [];
    /** Rule actions run after the PUBACK, as AWS IoT's do: the confirm handler's invocations still running. */
    const inFlight: Promise<unknown>[] = [];
    const settled = async () => { while (inFlight.length) await inFlight.shift(); };
    /** The confirm handler's log lines, once every invocation has finished. */
    const confirmLog = async () => { await settled(); return confirmations.filter((c) => c.event === "rotation-confirm"); };
    const rotationEnv = () => f.run.one("aws:lambda/function:Function", "-rotation-sweep").inputs.environment.variables;
    const deps = (now: Date) => ({
        config: rotationConfig(rotationEnv()), dynamo: f.local.client, iot: f.double.iotApi() as never,
        cloudwatch: { send: async () => ({}) } as never, now: () => now, log: (l: string) => { confirmations.push(JSON.parse(l)); },
    });
    /** The scheduled sweep, run twice `hours` from now (an unconfirmed certificate joins the replaced ones, then is retired). */
    const sweepAt = async (hours: number) => {
        await settled(); // confirmations already published have landed (AWS IoT runs rule actions after the PUBACK)
        const later = new Date(Date.now() + hours * 3600_000);
        const first = await sweep(deps(later));
        const second = await sweep(deps(later));
        return { retired: [...first.retired, ...second.retired] };
    };
    /** The nucleus double: on restart it connects as <thing> with its root's files (as the nucleus does) and logs it. */
    const restartNucleus = async (root: string) => {
        const thing = fs.readFileSync(path.join(root, "thing-name"), "utf8");
        try {
            const s = await MqttSession.connect({ host: "localhost", port: f.double.port, clientId: thing, timeoutMs: 3000,
                identity: readIdentity(path.join(root, CORE_FILES.certificate), path.join(root, CORE_FILES.privateKey), ca) });
            await s.end();
        } catch {
            return; // refused: nothing logged, as a nucleus that cannot connect logs no connection
        }
        fs.mkdirSync(path.join(root, "logs"), { recursive: true });
        // The nucleus' line on its first connection (aws-greengrass-nucleus v2.16.1, AwsIotMqttClient.java L284).
        fs.appendFileSync(nucleusLog(root), `${JSON.stringify({ level: "INFO", message: NUCLEUS_CONNECTED })}\n`);
    };
    const cli = fleetCli(() => f, { restartNucleus, settleMs: 0, clock: { now: () => Date.now(), sleep: async () => undefined } });
    const read = (file: string) => fs.readFileSync(file, "utf8");
    const status = (certificatePem: string) => [...f.double.certificates.values()].find((c) => c.certificatePem === certificatePem)?.status;
    /** Time passes for the hook too: the last rotation started `provisioning.rotation.minIntervalHours` (24) ago. */
    const intervalPassed = (serial: string) => f.local.client.send(new UpdateItemCommand({
        TableName: f.env.REGISTRY_TABLE, Key: { serialNumber: { S: serial } }, UpdateExpression: "SET rotationStartedAt = :t",
        ExpressionAttributeValues: { ":t": { S: new Date(Date.now() - 25 * 3600_000).toISOString() } },
    }));

    before(async () => {
        f = await fleet(await runStack("kr"));
        ca = path.join(f.dir, "ca.pem");
        fs.writeFileSync(ca, f.double.ca.certPem);
        net = ["--stack", "kr", "--port", String(f.double.port), "--ca", ca, "--timeout", "3"];
        const env = f.run.one("aws:lambda/function:Function", "-rotation-confirm").inputs.environment.variables;
        f.double.ruleActions.set(String(f.run.outputs.certificateConfirmRuleName), async (m) => {
            if (dropConfirmations) return;
            const done = confirm({ certificateId: m.principal, thingName: m.clientId }, { ...deps(new Date()), config: rotationConfig(env) });
            inFlight.push(done);
            await done;
        });
    });
    after(async () => close(f));
    afterEach(() => { dropConfirmations = false; });

    /** A vehicle as the factory makes it: keygen, register, provision with its registered key (all through the CLI). */
    async function vehicle(serial: string): Promise<{ dir: string; thing: string; cert: string; key: string }> {
        const keyDir = path.join(f.dir, `key-${serial}`);
        const keygen = await cli(["keygen", "--stack", "kr", "--serial", serial, "--out", keyDir]);
        assert.strictEqual(keygen.code, 0, keygen.err.join("\n"));
        fs.writeFileSync(path.join(f.dir, `reg-${serial}.csv`), `serial,publicKey,template\n${keygen.out[0]}\n`);
        assert.strictEqual((await cli(["register", "--stack", "kr", "--csv", path.join(f.dir, `reg-${serial}.csv`)])).code, 0);
        const claim = path.join(f.dir, `claim-${serial}`);
        fs.mkdirSync(claim);
        fs.writeFileSync(path.join(claim, "certificate.pem.crt"), f.claim.cert, { mode: 0o600 });
        fs.writeFileSync(path.join(claim, "private.pem.key"), f.claim.key, { mode: 0o600 });
        const dir = path.join(f.dir, `unit-${serial}`);
        const p = await cli(["provision", ...net, "--serial", serial, "--claim-dir", claim, "--out", dir, "--key", path.join(keyDir, "unit-key.pem")]);
        assert.strictEqual(p.code, 0, p.err.join("\n"));
        return { dir, thing: p.out[0], cert: path.join(dir, "certificate.pem.crt"), key: path.join(dir, "private.pem.key") };
    }

    /** A core provisioned as the plugin does it (a CSR for its registered key), its nucleus files in its root. */
    async function core(serial: string): Promise<{ root: string; thing: string }> {
        const key = await makePrivateKey();
        const template = String(f.run.outputs.edgeCoreTemplateName);
        await registerSerials(f.local.client, f.env.REGISTRY_TABLE, [{ serial, fingerprint: publicKeyFingerprint(key), templates: [template] }]);
        const got = await provisionWithOfficialSdk({
            host: "localhost", port: f.double.port, caPem: f.double.ca.certPem, claimCertPem: f.claim.cert, claimKeyPem: f.claim.key,
            clientId: `${f.run.outputs.claimClientIdPrefix}${serial}`, template, serial, timeoutMs: 10_000, csrPem: (await makeKeyAndCsr(`CN=${serial}`, key)).csrPem,
        });
        const root = path.join(f.dir, `core-${serial}`);
        fs.mkdirSync(root, { recursive: true });
        fs.writeFileSync(path.join(root, CORE_FILES.certificate), got.certificatePem, { mode: 0o600 });
        fs.writeFileSync(path.join(root, CORE_FILES.privateKey), key, { mode: 0o600 });
        fs.writeFileSync(path.join(root, "thing-name"), got.thingName);
        return { root, thing: got.thingName };
    }

    it("a vehicle: rotated, its confirmation dropped, the new certificate retired; publish falls back, confirms, and the vehicle rotates again", async () => {
        const serial = "297468200001";
        const v = await vehicle(serial);
        const original = read(v.cert);
        dropConfirmations = true;
        const r = await cli(["rotate", ...net, "--dir", v.dir, "--thing", v.thing, "--serial", serial]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const rotated = read(v.cert);
        assert.notStrictEqual(rotated, original);
        // Past confirmTimeoutHours (24 on kr): the unconfirmed certificate is retired; the previous one was never scheduled.
        assert.deepStrictEqual((await sweepAt(25)).retired.map((a) => a.split("/").pop()), [r.out[0]]);
        assert.deepStrictEqual([status(rotated), status(original)], ["INACTIVE", "ACTIVE"]);
        dropConfirmations = false;
        const before = (await confirmLog()).length;
        const pub = await cli(["publish", ...net, "--cert", v.cert, "--key", v.key, "--thing", v.thing, "--count", "2"]);
        assert.strictEqual(pub.code, 0, pub.err.join("\n"));
        assert.match(pub.err.join("\n"), /AWS IoT refused .*certificate\.pem\.crt: fell back to .*certificate\.pem\.crt\.previous .*; confirmed it again/);
        assert.match(pub.out[0], /^2\/2 messages acknowledged on /);
        assert.strictEqual(read(v.cert), original, "the previous certificate is the current one again");
        assert.strictEqual(read(`${v.cert}.previous`), rotated, "the refused one is kept as *.previous (a wrong fall-back is undone by the next)");
        assert.ok(f.double.refusals.some((x) => x.action === "iot:Connect" && x.resource === `client/${v.thing}`), "the retired certificate was refused at connect");
        assert.deepStrictEqual((await confirmLog()).slice(before).map((c) => [c.confirmed, c.current, c.evictionSignal]), [[true, true, undefined]],
            "the confirmation again: the certificate in use, nothing older, no eviction signal");
        // Connected on the next start without a fall-back; then the next rotation goes through and is confirmed.
        const again = await cli(["confirm", ...net, "--dir", v.dir, "--thing", v.thing]);
        assert.deepStrictEqual([again.code, again.err.some((l) => /fell back/.test(l))], [0, false]);
        await intervalPassed(serial);
        const next = await cli(["rotate", ...net, "--dir", v.dir, "--thing", v.thing, "--serial", serial]);
        assert.strictEqual(next.code, 0, next.err.join("\n"));
        const last = (await confirmLog()).at(-1)!;
        assert.deepStrictEqual([last.certificateId, last.confirmed, last.current], [next.out[0], true, true], "the new rotation confirmed");
        assert.strictEqual((last.retiring as string[]).length, 1, "the previous certificate scheduled for retirement");
    });

    it("a core: rotate --core-root, its confirmation dropped, the new certificate retired; confirm --core-root falls back, restarts the nucleus on the previous files, confirms; the core rotates again", async () => {
        const serial = "297469300101";
        const c = await core(serial);
        const certFile = path.join(c.root, CORE_FILES.certificate);
        const original = read(certFile);
        dropConfirmations = true;
        const as = ["--core-root", c.root, "--thing", c.thing];
        const r = await cli(["rotate", ...net, ...as, "--serial", serial, "--connect-timeout", "5"]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const rotated = read(certFile);
        assert.deepStrictEqual((await sweepAt(25)).retired.map((a) => a.split("/").pop()), [r.out[0]]);
        assert.deepStrictEqual([status(rotated), status(original)], ["INACTIVE", "ACTIVE"]);
        dropConfirmations = false;
        const logBefore = read(nucleusLog(c.root)).length;
        const back = await cli(["confirm", ...net, ...as, "--connect-timeout", "5"]);
        assert.strictEqual(back.code, 0, back.err.join("\n"));
        assert.match(back.err.join("\n"), /fell back to .*thingCert\.crt\.previous/);
        assert.strictEqual(read(certFile), original, "the nucleus' files are the previous ones again");
        assert.ok(read(nucleusLog(c.root)).slice(logBefore).includes(NUCLEUS_CONNECTED), "the nucleus restarted on them and connected");
        assert.ok(f.double.refusals.some((x) => x.resource === `client/${c.thing}#rotate`), "the retired certificate was refused at connect");
        const confirmed = (await confirmLog()).at(-1)!;
        assert.deepStrictEqual([confirmed.thingName, confirmed.confirmed, confirmed.current], [c.thing, true, true]);
        await intervalPassed(serial);
        const next = await cli(["rotate", ...net, ...as, "--serial", serial, "--connect-timeout", "5"]);
        assert.strictEqual(next.code, 0, next.err.join("\n"));
        const last = (await confirmLog()).at(-1)!;
        assert.deepStrictEqual([last.certificateId, last.confirmed, (last.retiring as string[]).length], [next.out[0], true, 1]);
    });

    it("a core on its own (fms-core-rotate.py, python3 and openssl): rotated, its confirmation dropped, the new certificate retired; --confirm falls back, the nucleus restarts on the previous files; the core rotates again", async () => {
        const serial = "297469300103";
        const c = await core(serial);
        fs.copyFileSync(CORE_ROTATE_SOURCE, path.join(c.root, CORE_SCRIPTS.rotate));
        fs.writeFileSync(path.join(c.root, "AmazonRootCA1.pem"), f.double.ca.certPem);
        fs.writeFileSync(path.join(c.root, CORE_SCRIPTS.rotateSettings), JSON.stringify({
            endpoint: "localhost", port: f.double.port, thingName: c.thing, serial, rotationTemplate: f.run.outputs.edgeCoreRotationTemplateName,
            confirmRule: f.run.outputs.certificateConfirmRuleName, csr: true, timeoutSeconds: 5, connectTimeoutSeconds: 10,
        }));
        const script = async (...args: string[]) => {
            try {
                const r = await promisify(execFile)("python3", [path.join(c.root, CORE_SCRIPTS.rotate), ...args], {
                    env: { ...process.env, FMS_CORE_ROOT: c.root, FMS_RESTART_COMMAND: `${process.execPath} ${path.join(__dirname, "support", "nucleusRestart.js")}` }, timeout: 60_000,
                });
                return { code: 0, stdout: r.stdout, stderr: r.stderr };
            } catch (err) {
                const e = err as { code?: number; stdout?: string; stderr?: string };
                return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
            }
        };
        const certFile = path.join(c.root, CORE_FILES.certificate);
        const original = read(certFile);
        dropConfirmations = true;
        const r = await script();
        assert.strictEqual(r.code, 0, r.stderr);
        const rotated = read(certFile);
        assert.deepStrictEqual((await sweepAt(25)).retired.map((a) => a.split("/").pop()), [r.stdout.trim()]);
        assert.deepStrictEqual([status(rotated), status(original)], ["INACTIVE", "ACTIVE"]);
        dropConfirmations = false;
        const back = await script("--confirm");
        assert.strictEqual(back.code, 0, back.stderr);
        assert.match(back.stderr, /fell back to .*thingCert\.crt\.previous .*the nucleus connected, confirmed again/);
        assert.strictEqual(read(certFile), original);
        assert.strictEqual(read(`${certFile}.previous`), rotated);
        const confirmed = (await confirmLog()).at(-1)!;
        assert.deepStrictEqual([confirmed.thingName, confirmed.confirmed, confirmed.current], [c.thing, true, true]);
        await intervalPassed(serial);
        const next = await script();
        assert.strictEqual(next.code, 0, next.stderr);
        const last = (await confirmLog()).at(-1)!;
        assert.deepStrictEqual([last.certificateId, last.confirmed, (last.retiring as string[]).length], [next.stdout.trim(), true, 1]);
        // After quarantine neither of its certificates connects: the script says so and swaps nothing.
        assert.strictEqual((await cli(["quarantine", "--stack", "kr", "--serial", serial])).code, 0);
        const now = read(certFile);
        const dead = await script("--confirm");
        assert.strictEqual(dead.code, 1);
        assert.match(dead.stderr, /refused both .* quarantined or both certificates are retired/);
        assert.strictEqual(read(certFile), now);
    });

    it("fms-core-rotate.py runs one at a time: while another run holds the core's lock (the timer's --confirm), a second exits 75 and changes nothing", async () => {
        const root = fs.mkdtempSync(path.join(f.dir, "lock-"));
        fs.copyFileSync(CORE_ROTATE_SOURCE, path.join(root, CORE_SCRIPTS.rotate));
        fs.writeFileSync(path.join(root, CORE_FILES.certificate), "unchanged");
        // The first run, as fcntl.flock sees it (the script takes the same exclusive lock on the same file).
        const holder = spawn("python3", ["-c", "import fcntl,sys,time; f=open(sys.argv[1],'w'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)", path.join(root, ".fms-core-rotate.lock")]);
        try {
            await new Promise<void>((resolve, reject) => { holder.stdout.once("data", () => resolve()); holder.once("error", reject); });
            const second = await promisify(execFile)("python3", [path.join(root, CORE_SCRIPTS.rotate), "--confirm"], { env: { ...process.env, FMS_CORE_ROOT: root } })
                .then(() => ({ code: 0, stderr: "" }), (e: { code?: number; stderr?: string }) => ({ code: e.code ?? 1, stderr: e.stderr ?? "" }));
            assert.deepStrictEqual(second.code, 75, second.stderr);
            assert.match(second.stderr, /another run is in progress on this core/);
            assert.strictEqual(fs.readFileSync(path.join(root, CORE_FILES.certificate), "utf8"), "unchanged");
        } finally {
            holder.kill();
        }
    });

    describe("the attacker's side", () => {
        it("after quarantine (both certificates deactivated) the fall-back brings neither a vehicle nor a core back", async () => {
            const v = await vehicle("297468200002");
            const c = await core("297469300102");
            dropConfirmations = true; // a rotation pending on each: two live certificates, the new one unconfirmed
            assert.strictEqual((await cli(["rotate", ...net, "--dir", v.dir, "--thing", v.thing, "--serial", "297468200002"])).code, 0);
            assert.strictEqual((await cli(["rotate", ...net, "--core-root", c.root, "--thing", c.thing, "--serial", "297469300102", "--connect-timeout", "5"])).code, 0);
            for (const serial of ["297468200002", "297469300102"]) {
                const q = await cli(["quarantine", "--stack", "kr", "--serial", serial]);
                assert.strictEqual(q.code, 0, q.err.join("\n"));
                assert.strictEqual(q.out.length, 2, "both certificates deactivated");
            }
            const files = [[v.cert, read(v.cert)], [path.join(c.root, CORE_FILES.certificate), read(path.join(c.root, CORE_FILES.certificate))]];
            for (const argv of [
                ["confirm", ...net, "--dir", v.dir, "--thing", v.thing],
                ["publish", ...net, "--cert", v.cert, "--key", v.key, "--thing", v.thing, "--count", "1"],
                ["rotate", ...net, "--dir", v.dir, "--thing", v.thing, "--serial", "297468200002"],
                ["confirm", ...net, "--core-root", c.root, "--thing", c.thing, "--connect-timeout", "1"],
                ["rotate", ...net, "--core-root", c.root, "--thing", c.thing, "--serial", "297469300102", "--connect-timeout", "1"],
            ]) {
                const r = await cli(argv);
                assert.strictEqual(r.code, 1, `${argv[0]} ${argv.join(" ")}: ${r.err.join("\n")}`);
            }
            const nothing = await cli(["confirm", ...net, "--dir", v.dir, "--thing", v.thing]);
            assert.match(nothing.err[0], /AWS IoT refused both .*certificate\.pem\.crt and .*\.previous .*quarantined or both certificates are retired/);
            for (const [file, pem] of files) assert.strictEqual(read(file), pem, "nothing swapped: neither certificate connects");
        });

        it("a thief holding only the old key after a confirmed rotation gains nothing from the fall-back", async () => {
            const serial = "297468200003";
            const v = await vehicle(serial);
            const old = { cert: read(v.cert), key: read(v.key) };
            assert.strictEqual((await cli(["rotate", ...net, "--dir", v.dir, "--thing", v.thing, "--serial", serial])).code, 0);
            // The grace period (72 h on kr) ends: the old certificate is retired.
            await sweepAt(73); // (the other tests' replaced certificates retire too)
            assert.strictEqual(status(old.cert), "INACTIVE");
            // The thief's unit: the old key as current and as previous (it may arrange its files as it likes).
            const thief = path.join(f.dir, "thief");
            fs.mkdirSync(thief);
            for (const suffix of ["", ".previous"]) {
                fs.writeFileSync(path.join(thief, `certificate.pem.crt${suffix}`), old.cert);
                fs.writeFileSync(path.join(thief, `private.pem.key${suffix}`), old.key);
            }
            const ingested = f.double.ingested.length;
            for (const argv of [
                ["confirm", ...net, "--dir", thief, "--thing", v.thing],
                ["publish", ...net, "--cert", path.join(thief, "certificate.pem.crt"), "--key", path.join(thief, "private.pem.key"), "--thing", v.thing, "--count", "1"],
                ["rotate", ...net, "--dir", thief, "--thing", v.thing, "--serial", serial],
            ]) assert.strictEqual((await cli(argv)).code, 1, argv[0]);
            assert.strictEqual(f.double.ingested.length, ingested, "nothing reached AWS IoT from the thief");
            // The vehicle itself is unaffected and needs no fall-back.
            const ok = await cli(["confirm", ...net, "--dir", v.dir, "--thing", v.thing]);
            assert.deepStrictEqual([ok.code, ok.err.some((l) => /fell back/.test(l))], [0, false]);
        });
    });
});
