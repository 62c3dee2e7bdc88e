/**
 * What the burst bench (bench/burst.ts) measures with, checked on a scripted clock: the account rate limiter's
 * "admitted while saturated" rate (the figure the done-when compares with AWS's rate), and the double's RSA keys
 * made before power-on (each handed out once, each certificate bound to its own key). No timing asserted.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import { AccountRateLimiter } from "./support/rateLimiter";
import { TestCa } from "./support/x509";
import { LocalDynamo } from "./support/dynalite";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";

describe("the burst bench's measures", () => {
    it("the limiter admits its rate while demand is above it, and saturatedRate reports that rate (edges left out)", () => {
        let now = 0;
        const limiter = new AccountRateLimiter({ RegisterThing: 10 }, () => now);
        // 20 s at 50 requests a second (demand 5x the rate), a second of quiet, then 5 s at 2 a second (below it).
        for (let ms = 0; ms < 20_000; ms += 20) { now = ms; limiter.take("RegisterThing"); }
        for (let ms = 21_000; ms < 26_000; ms += 500) { now = ms; limiter.take("RegisterThing"); }
        const sat = limiter.saturatedRate("RegisterThing")!;
        assert.strictEqual(sat.seconds, 18, "the 20 throttled seconds less the first and last");
        assert.ok(Math.abs(sat.perSecond - 10) < 0.6, `admitted ${sat.perSecond}/s while saturated`);
        assert.strictEqual(limiter.throttled.RegisterThing, 1000 - limiter.admitted.RegisterThing + 10, "every request either admitted or throttled");
        limiter.reset();
        assert.strictEqual(limiter.saturatedRate("RegisterThing"), undefined);
        assert.deepStrictEqual(limiter.admitted, {});
    });

    it("a starved limiter (requests arriving slower than the rate) is never called saturated", () => {
        let now = 0;
        const limiter = new AccountRateLimiter({ RegisterThing: 10 }, () => now);
        for (let ms = 0; ms < 20_000; ms += 200) { now = ms; assert.ok(limiter.take("RegisterThing")); }
        assert.strictEqual(limiter.saturatedRate("RegisterThing"), undefined);
    });

    it("RSA keys made before power-on are each handed out once, each certificate carrying its own key", async function () {
        this.timeout(20_000);
        const ca = await TestCa.create();
        await ca.prepareRsaKeys(2);
        const issued = [await ca.issueRsa(), await ca.issueRsa(), await ca.issueRsa()]; // the third is made on demand
        const spki = (pem: string) => crypto.createPublicKey(pem).export({ type: "spki", format: "der" }).toString("hex");
        for (const i of issued) {
            assert.match(i.keyPem, /^-----BEGIN RSA PRIVATE KEY-----/);
            assert.strictEqual(crypto.createPrivateKey(i.keyPem).asymmetricKeyDetails?.modulusLength, 2048);
            assert.strictEqual(spki(new crypto.X509Certificate(i.certPem).publicKey.export({ type: "spki", format: "pem" }).toString()), spki(i.keyPem));
            assert.ok(new crypto.X509Certificate(i.certPem).verify(crypto.createPublicKey(ca.certPem)), "signed by the double's CA");
        }
        assert.strictEqual(new Set(issued.map((i) => spki(i.keyPem))).size, 3, "no key handed out twice");
    });

    it("dynalite in a child process serves the same API and stops with its parent's stop()", async function () {
        this.timeout(20_000);
        const local = await LocalDynamo.start({ childProcess: true });
        try {
            await local.table("burst-table", "k");
            await local.client.send(new PutItemCommand({ TableName: "burst-table", Item: { k: { S: "a" }, v: { S: "1" } } }));
            assert.strictEqual((await local.client.send(new GetItemCommand({ TableName: "burst-table", Key: { k: { S: "a" } }, ConsistentRead: true }))).Item?.v?.S, "1");
        } finally {
            await local.stop();
        }
    });
});
