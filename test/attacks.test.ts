/**
 * The attacks of issue 19, run as an attacker would: one holds the shared claim certificate (it ships
 * in every vehicle), another one stolen vehicle key. Real handlers (pre-provisioning hook, rotation
 * confirm and sweep), the real operator commands (register, quarantine, rearm), a real DynamoDB
 * (dynalite) and a model of AWS IoT that is not the one the handlers are unit-tested with
 * (test/support/fleetModel.ts: its rules are cited there). Each attack fails; each honest path works.
 * The README's threat-model table points here, row by row.
 */
import * as assert from "assert";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { createHandler, HookConfig } from "../components/provisioning/lambda/provisioningHook";
import { confirm, RotationDeps, sweep } from "../components/provisioning/lambda/certificateRotation";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { makeKeyAndCsr, makePrivateKey } from "../device/credentials";
import { quarantine, rearm, registerSerials } from "../device/fleetOps";
import { LocalDynamo } from "./support/dynalite";
import { certArn, FleetModel } from "./support/fleetModel";

const REGISTRY = "kr-registry";
const ROTATION = "kr-rotation";
const VEHICLE = "fms-kr-vehicle";
const ROTATE = "fms-kr-rotate";
const CORE = "fms-kr-edge-core";
const CLAIM = "c".repeat(64);
const deviceParameters = ["SerialNumber"];
const templates: HookConfig["templates"] = {
    [VEHICLE]: { purpose: "provision", thingNamePrefix: "kr-vehicle-", serialPrefixes: ["297468"], deviceParameters },
    [ROTATE]: { purpose: "rotate", thingNamePrefix: "kr-vehicle-", serialPrefixes: ["297468"], deviceParameters },
    // Overlapping prefixes on purpose: the template a serial is bound to must be what decides.
    [CORE]: { purpose: "provision", thingNamePrefix: "kr-core-", serialPrefixes: ["297468", "297469"], deviceParameters },
};
const HOUR = 3600_000;

interface Unit { key: string; fingerprint: string }

describe("attacks with a leaked claim certificate or a stolen vehicle key (issue 19)", function () {
    this.timeout(30_000);
    let local: LocalDynamo;
    let iot: FleetModel;
    let now: Date;
    const decisions: { serial?: string; reason: string }[] = [];
    let hook: ReturnType<typeof createHandler>;
    let serialNo = 0;

    const config = (mode: "registry" | "prefix" = "registry"): HookConfig => ({
        mode, tableName: REGISTRY, templates, allowReprovisioning: false, bindKeys: mode === "registry", rotationTable: ROTATION, gracePeriodHours: 72, confirmTimeoutHours: 24,
    });
    const rotation = (): RotationDeps => ({
        config: { tableName: ROTATION, thingNamePrefixes: ["kr-vehicle-"], gracePeriodHours: 72, metricNamespace: "FMS/IoT/fms-kr", registryTable: REGISTRY },
        dynamo: local.client, iot, cloudwatch: { send: async () => ({}) } as never, now: () => now, log: () => undefined,
    });
    const lastReason = () => decisions.at(-1)!.reason;
    const newUnit = async (): Promise<Unit> => { const key = await makePrivateKey(); return { key, fingerprint: publicKeyFingerprint(key) }; };
    const newSerial = () => `297468${String(++serialNo).padStart(6, "0")}`;
    const thing = (serial: string) => `kr-vehicle-${serial}`;
    const registry = async (serial: string) => (await local.client.send(new GetItemCommand({ TableName: REGISTRY, Key: { serialNumber: { S: serial } }, ConsistentRead: true }))).Item!;
    const register = async (serial: string, unit: Unit, t = [VEHICLE]) => {
        const r = await registerSerials(local.client, REGISTRY, [{ serial, fingerprint: unit.fingerprint, templates: t }]);
        assert.deepStrictEqual(r.written, [serial]);
    };

    /** Fleet provisioning by claim, as a vehicle (or an attacker) does it: a CSR for `key`, then RegisterThing. */
    async function byClaim(serial: string, key: string, template = VEHICLE, thingPrefix = "kr-vehicle-"): Promise<{ ok: boolean; certificateId: string }> {
        const certificateId = await iot.createCertificateFromCsr((await makeKeyAndCsr(`CN=${serial}`, key)).csrPem);
        const ok = await iot.registerThing(hook, { template, certificateId, asker: CLAIM, clientId: `claim-${serial}`, parameters: { SerialNumber: serial }, thingName: `${thingPrefix}${serial}` });
        return { ok, certificateId };
    }

    /** Rotation with certificate `asker`: AWS IoT lets the connection act as the Thing only if ACTIVE and attached. */
    async function rotateWith(asker: string, serial: string, newKey: string): Promise<{ ok: boolean; certificateId?: string; why?: string }> {
        if (!iot.canActAs(asker, thing(serial))) return { ok: false, why: "AWS IoT refuses the connection (policy)" };
        const certificateId = await iot.createCertificateFromCsr((await makeKeyAndCsr(`CN=${serial}`, newKey)).csrPem);
        const ok = await iot.registerThing(hook, { template: ROTATE, certificateId, asker, clientId: thing(serial), parameters: { SerialNumber: serial }, thingName: thing(serial) });
        return { ok, certificateId };
    }

    /** The confirmation rule's event, if AWS IoT lets that certificate connect as the Thing at all. */
    async function confirmWith(certificateId: string, serial: string) {
        if (!iot.canActAs(certificateId, thing(serial))) return { confirmed: false as const, reason: "AWS IoT refuses the connection" };
        return confirm({ certificateId, thingName: thing(serial) }, rotation());
    }

    /** A provisioned vehicle: registered, provisioned with its own key. */
    async function provisioned(): Promise<{ serial: string; unit: Unit; cert: string }> {
        const serial = newSerial();
        const unit = await newUnit();
        await register(serial, unit);
        const first = await byClaim(serial, unit.key);
        assert.ok(first.ok, lastReason());
        return { serial, unit, cert: first.certificateId };
    }

    before(async () => {
        local = await LocalDynamo.start();
        await local.table(REGISTRY, "serialNumber");
        await local.table(ROTATION, "thingName");
    });
    after(async () => local?.stop());
    beforeEach(async () => {
        now = new Date("2026-12-01T00:00:00Z");
        iot = await FleetModel.create(() => now);
        decisions.length = 0;
        hook = createHandler({ config: config(), dynamo: local.client, iot, now: () => now, log: (l) => decisions.push(JSON.parse(l)), registryTimeoutMs: 3000 });
    });

    describe("a leaked claim certificate", () => {
        it("cannot squat a registered serial without the unit's key; the real unit then provisions", async () => {
            const serial = newSerial();
            const unit = await newUnit();
            await register(serial, unit);
            const attacker = await newUnit();
            assert.strictEqual((await byClaim(serial, attacker.key)).ok, false);
            assert.strictEqual(lastReason(), "device-key-mismatch");
            assert.strictEqual(iot.things.has(thing(serial)), false, "no Thing for the attacker");
            assert.strictEqual((await byClaim(serial, unit.key)).ok, true);
        });

        it("cannot squat a Greengrass core serial (the core template) without the core's key: no core policy, no role alias", async () => {
            const serial = newSerial();
            const core = await newUnit();
            await register(serial, core, [CORE]);
            assert.strictEqual((await byClaim(serial, (await newUnit()).key, CORE, "kr-core-")).ok, false);
            assert.strictEqual(lastReason(), "device-key-mismatch");
            assert.strictEqual((await byClaim(serial, core.key, CORE, "kr-core-")).ok, true);
        });

        it("gains nothing from a serial that is not registered, or registered for another template", async () => {
            assert.strictEqual((await byClaim(newSerial(), (await newUnit()).key)).ok, false);
            assert.strictEqual(lastReason(), "serial-not-registered");
            const { serial, unit } = await provisioned();
            // The same unit's key, the same serial, through the core template (prefixes overlap): refused.
            assert.strictEqual((await byClaim(serial, unit.key, CORE, "kr-core-")).ok, false);
            assert.strictEqual(lastReason(), "serial-template-not-allowed");
        });

        it("cannot take over a re-armed serial: only the replacement unit's key provisions it, onto the existing Thing", async () => {
            const { serial, unit, cert } = await provisioned();
            const replacement = await newUnit();
            const retired = await rearm(iot, local.client, { registryTable: REGISTRY, rotationTable: ROTATION, thingName: thing(serial), serial, fingerprint: replacement.fingerprint });
            assert.deepStrictEqual(retired, [certArn(cert)]);
            assert.strictEqual(iot.canActAs(cert, thing(serial)), false, "the old unit's certificate no longer works");
            assert.deepStrictEqual([(await registry(serial)).status.S, (await registry(serial)).previousCertificateId.S], ["active", cert]);
            assert.strictEqual((await byClaim(serial, (await newUnit()).key)).ok, false, "a claim-certificate holder");
            assert.strictEqual(lastReason(), "device-key-mismatch");
            assert.strictEqual((await byClaim(serial, unit.key)).ok, false, "the old (stolen) unit");
            const fresh = await byClaim(serial, replacement.key);
            assert.strictEqual(fresh.ok, true);
            assert.deepStrictEqual([...iot.things.get(thing(serial))!], [fresh.certificateId], "the replacement is the Thing's only certificate");
        });

        it("cannot use a template-crossing retry: a certificate registered through one template is not a retry through another", async () => {
            const serial = newSerial();
            const unit = await newUnit();
            await register(serial, unit, [VEHICLE, CORE]);
            const first = await byClaim(serial, unit.key);
            assert.ok(first.ok);
            // AWS's retry exception (same certificate) through the other template: refused.
            const again = await iot.registerThing(hook, { template: CORE, certificateId: first.certificateId, asker: CLAIM, clientId: `claim-${serial}`, parameters: { SerialNumber: serial }, thingName: `kr-core-${serial}` });
            assert.strictEqual(again, false);
            assert.strictEqual(lastReason(), "serial-already-provisioned");
            assert.strictEqual(iot.things.has(`kr-core-${serial}`), false);
        });

        it("cannot smuggle parameters the template does not declare", async () => {
            const serial = newSerial();
            const unit = await newUnit();
            await register(serial, unit);
            const certificateId = await iot.createCertificateFromCsr((await makeKeyAndCsr(`CN=${serial}`, unit.key)).csrPem);
            assert.strictEqual(await iot.registerThing(hook, { template: VEHICLE, certificateId, asker: CLAIM, clientId: `claim-${serial}`, parameters: { SerialNumber: serial, CertExpiry: "20991231" }, thingName: thing(serial) }), false);
            assert.strictEqual(lastReason(), "unexpected-parameter");
        });

        it("prefix mode (dev): of two concurrent first provisionings of one serial exactly one wins", async () => {
            hook = createHandler({ config: config("prefix"), dynamo: local.client, iot, now: () => now, log: (l) => decisions.push(JSON.parse(l)), registryTimeoutMs: 3000 });
            const serial = newSerial();
            const [a, b] = await Promise.all([byClaim(serial, (await newUnit()).key), byClaim(serial, (await newUnit()).key)]);
            assert.deepStrictEqual([a.ok, b.ok].sort(), [false, true]);
            assert.strictEqual(iot.things.get(thing(serial))!.size, 1, "one certificate on the Thing");
        });
    });

    describe("a stolen vehicle key", () => {
        it("a rotated-out key cannot rotate, confirm anything or evict the vehicle, and stops working after the grace period", async () => {
            const { serial, cert: old } = await provisioned();
            const next = await rotateWith(old, serial, await makePrivateKey());
            assert.ok(next.ok, lastReason());
            assert.strictEqual((await confirmWith(next.certificateId!, serial)).confirmed, true);
            // The thief holds the old key, still ACTIVE for the grace period.
            const stolen = await rotateWith(old, serial, await makePrivateKey());
            assert.strictEqual(stolen.ok, false);
            assert.strictEqual(lastReason(), "too-many-certificates");
            assert.deepStrictEqual(await confirmWith(old, serial), { confirmed: true, thingName: thing(serial), retiring: [], current: false }, "an older certificate confirms nothing");
            now = new Date(now.getTime() + 73 * HOUR);
            const swept = await sweep(rotation());
            assert.ok(swept.retired.includes(certArn(old)));
            assert.ok(!swept.retired.includes(certArn(next.certificateId!)), "the vehicle's new certificate is never the one retired");
            assert.strictEqual(iot.canActAs(old, thing(serial)), false);
            assert.strictEqual(iot.canActAs(next.certificateId!, thing(serial)), true);
            assert.strictEqual((await registry(serial)).certificateId.S, next.certificateId, "the registry names the current certificate");
            // The vehicle's next rotation works.
            assert.strictEqual((await rotateWith(next.certificateId!, serial, await makePrivateKey())).ok, true, lastReason());
        });

        it("the old key cannot rotate before the vehicle confirms either (two certificates, one rotation pending)", async () => {
            const { serial, cert: old } = await provisioned();
            assert.ok((await rotateWith(old, serial, await makePrivateKey())).ok);
            assert.strictEqual((await rotateWith(old, serial, await makePrivateKey())).ok, false);
            assert.strictEqual(lastReason(), "too-many-certificates");
        });

        it("one vehicle's key cannot rotate another vehicle", async () => {
            const a = await provisioned();
            const b = await provisioned();
            // AWS IoT would refuse the connection as b's Thing already; even the hook, asked directly, refuses.
            assert.strictEqual((await rotateWith(a.cert, b.serial, await makePrivateKey())).ok, false);
            const certificateId = await iot.createCertificateFromCsr((await makeKeyAndCsr("CN=x", await makePrivateKey())).csrPem);
            assert.strictEqual(await iot.registerThing(hook, { template: ROTATE, certificateId, asker: a.cert, clientId: thing(b.serial), parameters: { SerialNumber: b.serial }, thingName: thing(b.serial) }), false);
            assert.strictEqual(lastReason(), "requester-not-attached-to-thing");
        });

        it("the compromise runbook (quarantine) leaves the thief nothing: every certificate off, the serial revoked", async () => {
            const { serial, unit, cert } = await provisioned();
            const rotated = await rotateWith(cert, serial, await makePrivateKey());
            assert.ok(rotated.ok);
            const retired = await quarantine(iot, local.client, { registryTable: REGISTRY, rotationTable: ROTATION, thingName: thing(serial), serial });
            assert.deepStrictEqual(retired.sort(), [certArn(cert), certArn(rotated.certificateId!)].sort());
            for (const c of [cert, rotated.certificateId!]) assert.deepStrictEqual([iot.certificates.get(c)!.status, iot.canActAs(c, thing(serial))], ["INACTIVE", false]);
            assert.strictEqual((await byClaim(serial, unit.key)).ok, false, "not even with the unit's key");
            assert.strictEqual(lastReason(), "serial-revoked");
        });
    });

    describe("honest units finish what they started", () => {
        it("a lost RegisterThing answer: the unit retries with its key, and the first certificate retires after the grace period", async () => {
            const { serial, unit, cert: lost } = await provisioned(); // accepted, but the answer never reached the unit
            const retry = await byClaim(serial, unit.key);
            assert.strictEqual(retry.ok, true, lastReason());
            assert.deepStrictEqual([(await registry(serial)).certificateId.S, (await registry(serial)).previousCertificateId.S], [retry.certificateId, lost]);
            now = new Date(now.getTime() + 73 * HOUR);
            assert.ok((await sweep(rotation())).retired.includes(certArn(lost)));
            assert.deepStrictEqual([...iot.things.get(thing(serial))!], [retry.certificateId]);
        });

        it("the Greengrass plugin re-sending the same CSR (a new certificate id for the same key) completes", async () => {
            const serial = newSerial();
            const core = await newUnit();
            await register(serial, core, [CORE]);
            const csr = (await makeKeyAndCsr(`CN=${serial}`, core.key)).csrPem;
            const first = await iot.createCertificateFromCsr(csr);
            const second = await iot.createCertificateFromCsr(csr);
            assert.notStrictEqual(first, second);
            const reg = (certificateId: string) => iot.registerThing(hook, { template: CORE, certificateId, asker: CLAIM, clientId: `claim-${serial}`, parameters: { SerialNumber: serial }, thingName: `kr-core-${serial}` });
            assert.strictEqual(await reg(first), true);
            assert.strictEqual(await reg(second), true, lastReason());
            assert.strictEqual(await reg(second), true, "and AWS's own retry of it");
        });

        it("a failed confirmation is retried; meanwhile the vehicle cannot start another rotation", async () => {
            const { serial, cert } = await provisioned();
            const next = await rotateWith(cert, serial, await makePrivateKey());
            assert.ok(next.ok);
            // The confirmation was lost (the device kept its new credentials): nothing retires yet.
            assert.strictEqual((await sweep(rotation())).retired.length, 0);
            assert.strictEqual((await rotateWith(next.certificateId!, serial, await makePrivateKey())).ok, false);
            assert.strictEqual(lastReason(), "too-many-certificates");
            const confirmed = await confirmWith(next.certificateId!, serial);
            assert.deepStrictEqual(confirmed, { confirmed: true, thingName: thing(serial), retiring: [certArn(cert)], retireAfter: new Date(now.getTime() + 72 * HOUR).toISOString(), current: true });
        });

        it("a rotation never confirmed (the new key lost) is retired after its timeout, and the vehicle rotates again with its old certificate", async () => {
            const { serial, cert } = await provisioned();
            const lost = await rotateWith(cert, serial, await makePrivateKey());
            assert.ok(lost.ok);
            now = new Date(now.getTime() + 25 * HOUR);
            assert.deepStrictEqual((await sweep(rotation())).retired, [certArn(lost.certificateId!)]);
            assert.strictEqual(iot.canActAs(cert, thing(serial)), true, "the certificate in use is untouched");
            assert.strictEqual((await rotateWith(cert, serial, await makePrivateKey())).ok, true, lastReason());
        });
    });
});
