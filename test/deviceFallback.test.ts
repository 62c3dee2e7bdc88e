/**
 * A unit always comes back (issue 26, item 3): every confirmation is dropped (the confirmation rule's action does
 * nothing), so the stack retires the rotated certificate after `confirmTimeoutHours`; the simulator's reconnect
 * (device/fallback.ts, the documented device algorithm) finds it refused at connect, falls back to `*.previous`, and
 * the unit is connected at the end. The kr plan, the broker double (it refuses a connection whose certificate is not
 * ACTIVE, as AWS IoT does: developer guide, "X.509 client certificates", only ACTIVE certificates authenticate), the
 * real hook and sweep on dynalite, and the device CLI for keygen, register, provision and rotate.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { run as device } from "../device/cli";
import { reconnect } from "../device/fallback";
import { sweep } from "../components/provisioning/lambda/certificateRotation";
import { configFromEnv as rotationConfig } from "../components/provisioning/lambda/certificateRotation";
import { runStack } from "../plan/program";
import { close, Fleet, fleet } from "./support/registryFleet";

describe("a unit always comes back: every confirmation dropped, the simulator falls back to *.previous (kr)", function () {
    this.timeout(60_000);
    let f: Fleet;
    const cli = async (argv: string[]) => {
        const out: string[] = [];
        const err: string[] = [];
        const outputs = { ...f.run.outputs, iotEndpoint: "localhost", registryTableName: f.env.REGISTRY_TABLE, rotationScheduleTable: f.env.ROTATION_TABLE };
        const code = await device(argv, { out: (l) => out.push(l), err: (l) => err.push(l), stackOutputs: () => outputs, aws: () => ({ iot: f.double.iotApi() as never, dynamo: f.local.client }) });
        return { code, out, err };
    };

    before(async () => { f = await fleet(await runStack("kr")); });
    after(async () => close(f));

    it("the rotated certificate is retired unconfirmed; reconnect falls back to the previous one and connects", async () => {
        const serial = "297468200001";
        const thing = `kr-vehicle-${serial}`;
        const dir = path.join(f.dir, "unit");
        const ca = path.join(f.dir, "ca.pem");
        fs.writeFileSync(ca, f.double.ca.certPem);
        const claim = path.join(f.dir, "claim");
        fs.mkdirSync(claim, { recursive: true });
        fs.writeFileSync(path.join(claim, "certificate.pem.crt"), f.claim.cert, { mode: 0o600 });
        fs.writeFileSync(path.join(claim, "private.pem.key"), f.claim.key, { mode: 0o600 });
        const keygen = await cli(["keygen", "--stack", "kr", "--serial", serial, "--out", path.join(f.dir, "key")]);
        assert.strictEqual(keygen.code, 0, keygen.err.join("\n"));
        fs.writeFileSync(path.join(f.dir, "reg.csv"), `serial,publicKey,template\n${keygen.out[0]}\n`);
        assert.strictEqual((await cli(["register", "--stack", "kr", "--csv", path.join(f.dir, "reg.csv")])).code, 0);
        const net = ["--stack", "kr", "--port", String(f.double.port), "--ca", ca, "--timeout", "3"];
        const p = await cli(["provision", ...net, "--serial", serial, "--claim-dir", claim, "--out", dir, "--key", path.join(f.dir, "key", "unit-key.pem")]);
        assert.strictEqual(p.code, 0, p.err.join("\n"));
        const original = fs.readFileSync(path.join(dir, "certificate.pem.crt"), "utf8");
        // Every confirmation is dropped: the rule fires, its action does nothing.
        f.double.ruleActions.set(String(f.run.outputs.certificateConfirmRuleName), async () => undefined);
        const r = await cli(["rotate", ...net, "--dir", dir, "--thing", thing, "--serial", serial]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.notStrictEqual(fs.readFileSync(path.join(dir, "certificate.pem.crt"), "utf8"), original);
        // The sweep, past confirmTimeoutHours: the unconfirmed certificate joins the replaced ones, then is retired.
        const env = f.run.one("aws:lambda/function:Function", "-rotation-sweep").inputs.environment.variables;
        const later = new Date(Date.now() + 25 * 3600_000);
        const deps = { config: rotationConfig(env), dynamo: f.local.client, iot: f.double.iotApi() as never, cloudwatch: { send: async () => ({}) } as never, now: () => later, log: () => undefined };
        await sweep(deps);
        assert.deepStrictEqual((await sweep(deps)).retired.map((a) => a.split("/").pop()), [r.out[0]]);
        const o = { endpoint: "localhost", port: f.double.port, ca, dir, thing, confirmRule: String(f.run.outputs.certificateConfirmRuleName), timeoutMs: 3000 };
        assert.deepStrictEqual(await reconnect(o), { fellBack: true, confirmed: true });
        assert.strictEqual(fs.readFileSync(path.join(dir, "certificate.pem.crt"), "utf8"), original, "the previous certificate is the current one again");
        assert.ok(fs.existsSync(path.join(dir, "certificate.pem.crt.refused")));
        // Connected at the end, and again on the next start (no fall-back needed).
        assert.deepStrictEqual(await reconnect(o), { fellBack: false, confirmed: true });
        assert.ok(f.double.refusals.some((x) => x.action === "iot:Connect" && x.resource === `client/${thing}`), "the retired certificate was refused at connect");
    });
});
