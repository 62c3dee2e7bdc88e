/**
 * The device retry policy (device/retry.ts) against the throttling broker double: a burst of units through the
 * kr plan's real policies and templates, the real hook on dynalite, AWS's per-account rates enforced (lowered
 * here so a handful of units is a burst). Without backoff the burst fails; with it every unit gets its identity.
 * Small and untimed: the heavy run is `npm run bench -- --burst N`.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FILES } from "../device/credentials";
import { rotate } from "../device/rotate";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { registerSerials } from "../device/fleetOps";
import { claimClientId, Identity, obtainIdentity, RequestSession } from "../device/provision";
import { backoffMs, DEFAULT_RETRY, GaveUp, ProvisioningRejected, retryable, RetryPolicy } from "../device/retry";
import { ConnectThrottled } from "../device/mqttSession";
import { runStack } from "../plan/program";
import { THROTTLED } from "./support/awsIotDouble";
import { AccountRateLimiter } from "./support/rateLimiter";
import { close, Fleet, fleet } from "./support/registryFleet";

describe("the device retry policy", () => {
    describe("the policy itself", () => {
        it("full jitter: each wait is uniform in [0, min(cap, base * 2^(n-1))]; none without backoff", () => {
            // AWS Architecture Blog, "Exponential Backoff And Jitter" (Full Jitter: sleep = random_between(0, min(cap, base * 2 ** attempt))).
            const p: RetryPolicy = { ...DEFAULT_RETRY, baseMs: 1000, capMs: 120_000 };
            assert.deepStrictEqual([1, 2, 3, 8, 30].map((n) => backoffMs(p, n, () => 0.999999)), [999, 1999, 3999, 119_999, 119_999]);
            assert.strictEqual(backoffMs(p, 5, () => 0), 0);
            assert.strictEqual(backoffMs({ ...p, backoff: false }, 5, () => 0.9), 0);
        });

        it("retries what AWS says may pass (429/Throttling, 500, 503, a throttled MQTT 5 CONNECT), never a refusal", () => {
            // fleet-provision-api.html: every rejection is {statusCode, errorCode, errorMessage} on `<request>/rejected`.
            const rejected = (status: number, code: string) => new ProvisioningRejected("RegisterThing", status, code, "");
            assert.strictEqual(retryable(rejected(THROTTLED.statusCode, THROTTLED.errorCode)), "throttled");
            assert.strictEqual(retryable(rejected(400, "ThrottlingException")), "throttled", "the error code alone says so");
            assert.strictEqual(retryable(rejected(503, "ServiceUnavailable")), "aws-error");
            assert.strictEqual(retryable(new ConnectThrottled("CONNACK 0x97")), "throttled");
            for (const [s, c] of [[403, "AccessDenied"], [400, "InvalidCertificateOwnershipToken"], [400, "InvalidCertificateSigningRequest"], [404, "ResourceNotFoundException"]] as const) {
                assert.strictEqual(retryable(rejected(s, c)), undefined, c);
            }
            assert.strictEqual(retryable(new Error("the broker closed the connection of x")), undefined, "a drop may be a refused publish: not retried");
        });

        it("keeps the ownership token only while it has the margin to live, then asks for a new certificate", async () => {
            // fleet-provision-api.html: the certificateOwnershipToken expires after one hour; RegisterThing must come before.
            let now = 0;
            const clock = { now: () => now, sleep: async (ms: number) => { now += ms; } };
            const asked: string[] = [];
            let registers = 0;
            let answer: ((m: { topic: string; payload: Buffer }) => void) | undefined;
            const reply = (topic: string, body: object) => answer!({ topic, payload: Buffer.from(JSON.stringify(body)) });
            const session: RequestSession = {
                subscribe: async () => undefined,
                // Our flow waits for the answer (next) before it publishes, as AWS asks: answer on publish.
                next: () => new Promise((resolve) => { answer = resolve; }),
                publish: async (topic) => {
                    asked.push(topic);
                    if (topic.startsWith("$aws/certificates/create/")) {
                        return reply(`${topic}/accepted`, { certificateId: `c${asked.length}`, certificatePem: "pem", privateKey: "key", certificateOwnershipToken: `t${asked.length}` });
                    }
                    // RegisterThing: throttled twice, each answer 40 minutes after the last; then accepted.
                    if (++registers <= 2) {
                        now += 40 * 60_000;
                        return reply(`${topic}/rejected`, THROTTLED);
                    }
                    reply(`${topic}/accepted`, { thingName: "t-1" });
                },
                end: async () => undefined,
            };
            const got = await obtainIdentity(async () => session, { template: "tpl", serial: "1", csr: false }, { ...DEFAULT_RETRY, baseMs: 1, capMs: 1 }, clock, () => 0);
            assert.deepStrictEqual(asked.map((t) => t.split("/")[1]), ["certificates", "provisioning-templates", "provisioning-templates", "certificates", "provisioning-templates"],
                "the second retry finds the token 80 minutes old and starts over with a new certificate");
            assert.deepStrictEqual([got.certificateId, got.counts.newCertificates, got.counts.throttles], ["c4", 1, 2]);
        });
    });

    describe("a burst against the throttling double (kr plan, real hook on dynalite, AWS's rates lowered to 2/s)", function () {
        this.timeout(90_000);
        let f: Fleet;
        let limiter: AccountRateLimiter;
        const units = (from: number, n: number) => Array.from({ length: n }, (_, i) => {
            const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
            return { serial: `297468${String(from + i).padStart(6, "0")}`, key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), fingerprint: publicKeyFingerprint(publicKey) };
        });
        const claimId = () => new crypto.X509Certificate(f.claim.cert).fingerprint256.replace(/:/g, "").toLowerCase();
        const burst = async (us: ReturnType<typeof units>, policy: RetryPolicy) => {
            const template = String(f.run.outputs.provisioningTemplateName);
            await registerSerials(f.local.client, f.env.REGISTRY_TABLE, us.map((u) => ({ serial: u.serial, fingerprint: u.fingerprint, templates: [template] })));
            return Promise.all(us.map((u) => obtainIdentity(
                () => f.double.connectInProcess(claimClientId(String(f.run.outputs.claimClientIdPrefix), u.serial), claimId()),
                { template, serial: u.serial, csr: true, unitKey: u.key }, policy,
            ).then((got): Identity | Error => got, (err: Error) => err)));
        };

        before(async () => {
            limiter = new AccountRateLimiter({ Connect: 100, CreateCertificateFromCsr: 2, CreateKeysAndCertificate: 2, RegisterThing: 2 });
            f = await fleet(await runStack("kr"), { limiter, keepLogs: false });
        });
        after(async () => close(f));

        // The same ceiling (the default 100 attempts in a row) for both; only the backoff differs (windows shortened).
        const policy: RetryPolicy = { ...DEFAULT_RETRY, baseMs: 250, capMs: 4000 };

        it("without backoff (immediate retries) units give up, throttled", async () => {
            const results = await burst(units(1, 12), { ...policy, backoff: false });
            const gaveUp = results.filter((r): r is GaveUp => r instanceof GaveUp);
            assert.ok(gaveUp.length >= 4, `${gaveUp.length} of 12 gave up`);
            assert.ok(gaveUp.every((g) => g.last instanceof ProvisioningRejected && g.last.statusCode === THROTTLED.statusCode));
            assert.ok((limiter.throttled.RegisterThing ?? 0) + (limiter.throttled.CreateCertificateFromCsr ?? 0) > 100);
        });

        it("with the policy's full-jitter backoff every unit gets one Thing and one ACTIVE certificate for its own key", async () => {
            const us = units(101, 12);
            const results = await burst(us, policy);
            for (const [i, r] of results.entries()) {
                assert.ok(!(r instanceof Error), `${us[i].serial}: ${(r as Error).message}`);
                const thing = f.double.things.get(`kr-vehicle-${us[i].serial}`)!;
                assert.deepStrictEqual(thing.principals, [r.certificateId]);
                assert.strictEqual(f.double.certificates.get(r.certificateId)!.status, "ACTIVE");
            }
            assert.ok(results.some((r) => !(r instanceof Error) && r.counts.throttles > 0), "the burst was throttled");
        });

        // Rotation (device/rotate.ts, and core rotation through it) asks the same fleet-provisioning API with the unit's
        // own certificate: the same retry policy. A herd rotating at once (a campaign) against the same lowered rates.
        // The herd is provisioned with the provisioning rates lifted (what is measured is its rotation, not a second
        // provisioning burst); the lowered rates are back before it rotates.
        const provisionedUnthrottled = async (us: ReturnType<typeof units>) => {
            const lowered = { ...limiter.rates };
            Object.assign(limiter.rates, { CreateCertificateFromCsr: 1000, RegisterThing: 1000 });
            try {
                return await burst(us, policy);
            } finally {
                Object.assign(limiter.rates, lowered);
            }
        };
        const dirs: string[] = [];
        after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
        const rotateHerd = async (from: number, policy_: RetryPolicy) => {
            const us = units(from, 8);
            const got = await provisionedUnthrottled(us);
            const template = String(f.run.outputs.rotationTemplateName);
            return Promise.all(got.map(async (g, i) => {
                assert.ok(!(g instanceof Error), (g as Error).message);
                const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rotate-retry-"));
                dirs.push(dir);
                fs.writeFileSync(path.join(dir, FILES.certificate), g.certificatePem);
                fs.writeFileSync(path.join(dir, FILES.privateKey), g.privateKeyPem, { mode: 0o600 });
                return rotate({
                    endpoint: "in-process", port: 0, dir, thing: g.thingName, serial: us[i].serial, template, csr: true, confirmRule: "unused", timeoutMs: 30_000,
                    confirm: false, retry: policy_, connectSession: () => f.double.connectInProcess(g.thingName, g.certificateId),
                }).then((r) => ({ r, before: g.certificateId }), (err: Error) => err);
            }));
        };

        it("rotation: without backoff a herd rotating at once gives up, throttled", async () => {
            const results = await rotateHerd(301, { ...policy, backoff: false });
            const gaveUp = results.filter((r): r is GaveUp => r instanceof GaveUp);
            assert.ok(gaveUp.length >= 2, `${gaveUp.length} of 8 gave up`);
            assert.ok(gaveUp.every((g) => g.last instanceof ProvisioningRejected && g.last.statusCode === THROTTLED.statusCode));
        });

        it("rotation: with the policy's backoff every unit of the herd gets its new certificate on its own Thing", async () => {
            const throttledBefore = (limiter.throttled.RegisterThing ?? 0) + (limiter.throttled.CreateCertificateFromCsr ?? 0);
            const results = await rotateHerd(401, policy);
            for (const res of results) {
                assert.ok(!(res instanceof Error), (res as Error).message);
                const thing = f.double.things.get(res.r.thingName)!;
                assert.deepStrictEqual([...thing.principals].sort(), [res.before, res.r.certificateId].sort(), "the old certificate and its successor");
                assert.strictEqual(f.double.certificates.get(res.r.certificateId)!.status, "ACTIVE");
            }
            assert.ok((limiter.throttled.RegisterThing ?? 0) + (limiter.throttled.CreateCertificateFromCsr ?? 0) > throttledBefore, "the rotations were throttled");
        });
    });
});
