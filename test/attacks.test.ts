/**
 * The attacks of issue 19, run as an attacker would: one holds the shared claim certificate (it ships
 * in every vehicle), another one stolen vehicle key. Real handlers (pre-provisioning hook, rotation
 * confirm and sweep), the real operator commands (register, quarantine, rearm), a real DynamoDB
 * (dynalite) and a model of AWS IoT that is not the one the handlers are unit-tested with
 * (test/support/fleetModel.ts: its rules are cited there). Each attack fails; each honest path works.
 * The README's threat-model table points here, row by row.
 */
import * as assert from "assert";
import { GetItemCommand, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { ListThingPrincipalsCommand } from "@aws-sdk/client-iot";
import { createHandler, HookConfig } from "../components/provisioning/lambda/provisioningHook";
import { confirm, RotationDeps, sweep, SWEEP_METRICS } from "../components/provisioning/lambda/certificateRotation";
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
    const rotation = (dynamo: RotationDeps["dynamo"] = local.client): RotationDeps => ({
        config: { tableName: ROTATION, thingNamePrefixes: ["kr-vehicle-"], gracePeriodHours: 72, metricNamespace: "FMS/IoT/fms-kr", registryTable: REGISTRY },
        dynamo, iot, cloudwatch: { send: async () => ({}) } as never, now: () => now, log: () => undefined,
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
    async function confirmWith(certificateId: string, serial: string, dynamo?: RotationDeps["dynamo"]) {
        if (!iot.canActAs(certificateId, thing(serial))) return { confirmed: false as const, reason: "AWS IoT refuses the connection" };
        return confirm({ certificateId, thingName: thing(serial) }, rotation(dynamo));
    }
    const rotationItem = async (serial: string) => (await local.client.send(new GetItemCommand({ TableName: ROTATION, Key: { thingName: { S: thing(serial) } }, ConsistentRead: true }))).Item;
    const activeCertificates = (serial: string) => [...(iot.things.get(thing(serial)) ?? [])].filter((c) => iot.canActAs(c, thing(serial)));
    const target = (serial: string) => ({ registryTable: REGISTRY, rotationTable: ROTATION, thingName: thing(serial), serial });

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
            const retired = await rearm(iot, local.client, { ...target(serial), fingerprint: replacement.fingerprint }, 0);
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

        it("cannot win a re-arm's race: a key checked on the read must still be the registered one when the claim lands", async () => {
            const serial = newSerial();
            const old = await newUnit();
            await register(serial, old);
            const replacement = await newUnit();
            // The old (stolen) unit asks; between the hook's read and its conditional write the operator re-arms.
            const racing = { send: async (cmd: any) => {
                const out = await local.client.send(cmd);
                if (cmd instanceof GetItemCommand && cmd.input.TableName === REGISTRY) {
                    await local.client.send(new UpdateItemCommand({
                        TableName: REGISTRY, Key: { serialNumber: { S: serial } }, UpdateExpression: "SET publicKeyFingerprint = :fp",
                        ExpressionAttributeValues: { ":fp": { S: replacement.fingerprint } },
                    }));
                }
                return out;
            } };
            hook = createHandler({ config: config(), dynamo: racing as never, iot, now: () => now, log: (l) => decisions.push(JSON.parse(l)), registryTimeoutMs: 3000 });
            assert.strictEqual((await byClaim(serial, old.key)).ok, false);
            assert.strictEqual(lastReason(), "serial-already-provisioned", "the conditional claim failed: the key changed under it");
            assert.strictEqual((await registry(serial)).status.S, "active", "the serial is still the replacement's to claim");
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
            assert.deepStrictEqual(await confirmWith(old, serial), { confirmed: true, thingName: thing(serial), retiring: [], current: false, evictionSignal: "replaced-certificate-in-use" }, "an older certificate confirms nothing, and is seen");
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
            const retired = await quarantine(iot, local.client, target(serial), 0);
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
            const logged: string[] = [];
            const first = await sweep({ ...rotation(), log: (line: string) => logged.push(line) });
            assert.deepStrictEqual(first.retired, [], "first it joins the replaced certificates, due now");
            // Counted, as numbers on the sweep's log line: the fields its log metric filters sum (SWEEP_METRICS).
            assert.strictEqual(first.unconfirmed, 1);
            const line = JSON.parse(logged.find((l) => l.includes('"rotation-sweep"'))!);
            assert.deepStrictEqual(Object.values(SWEEP_METRICS).map((field) => line[field]), [0, 0, 1]);
            const second = await sweep(rotation());
            assert.deepStrictEqual(second.retired, [certArn(lost.certificateId!)], "the next sweep retires it");
            assert.strictEqual(second.unconfirmed, 0);
            assert.strictEqual(iot.canActAs(cert, thing(serial)), true, "the certificate in use is untouched");
            assert.strictEqual((await rotateWith(cert, serial, await makePrivateKey())).ok, true, lastReason());
        });
    });
    describe("a stolen key racing the vehicle, and the operator (found by a red-team review)", () => {
        it("a stolen current key cannot overtake a rotation the vehicle started by re-registering through the claim", async () => {
            const { serial, unit, cert: c1 } = await provisioned();
            const c2 = await rotateWith(c1, serial, await makePrivateKey());
            assert.ok(c2.ok, lastReason());
            const thief = await byClaim(serial, unit.key);
            assert.strictEqual(thief.ok, false);
            assert.strictEqual(lastReason(), "thing-has-other-certificates");
            assert.strictEqual((await confirmWith(c2.certificateId!, serial)).confirmed, true);
            now = new Date(now.getTime() + 73 * HOUR);
            await sweep(rotation());
            assert.deepStrictEqual(activeCertificates(serial), [c2.certificateId], "the vehicle's rotation won");
        });

        it("a re-registration landing between confirm's two writes is refused (the rotation state is pending)", async () => {
            const { serial, unit, cert: c1 } = await provisioned();
            const c2 = (await rotateWith(c1, serial, await makePrivateKey())).certificateId!;
            let thief: { ok: boolean } | undefined;
            const between = { send: async (cmd: any) => {
                if (cmd instanceof UpdateItemCommand && cmd.input.TableName === REGISTRY && !thief) thief = await byClaim(serial, unit.key);
                return local.client.send(cmd);
            } } as RotationDeps["dynamo"];
            assert.strictEqual((await confirmWith(c2, serial, between)).confirmed, true);
            assert.strictEqual(thief?.ok, false);
            now = new Date(now.getTime() + 73 * HOUR);
            await sweep(rotation());
            assert.deepStrictEqual(activeCertificates(serial), [c2]);
            assert.strictEqual((await rotateWith(c2, serial, await makePrivateKey())).ok, true, lastReason());
        });

        for (const runbook of ["quarantine", "rearm"] as const) {
            it(`${runbook}: a registration the hook allowed just before the revoke, attached after it, is retired too`, async () => {
                const { serial, unit } = await provisioned();
                const replacement = await newUnit();
                let ran: Promise<string[]> | undefined;
                const real = hook;
                // AWS IoT attaches the certificate only after the hook answers. The runbook starts in between, and the
                // attach lands after the runbook's first look at the Thing: only its watching catches it.
                let firstLook!: () => void;
                const looked = new Promise<void>((r) => { firstLook = r; });
                const watched = { send: async (c: unknown) => { const out = await iot.send(c); if (c instanceof ListThingPrincipalsCommand) firstLook(); return out; } };
                hook = async (e) => {
                    const answer = await real(e);
                    ran = runbook === "rearm" ? rearm(watched, local.client, { ...target(serial), fingerprint: replacement.fingerprint }, 40) : quarantine(watched, local.client, target(serial), 40);
                    await looked;
                    return answer;
                };
                const thief = await byClaim(serial, unit.key); // attached now, while the runbook watches the Thing
                hook = real;
                assert.strictEqual(thief.ok, true, "the hook had allowed it");
                const retired = await ran!;
                assert.ok(retired.includes(certArn(thief.certificateId)), "the late certificate is retired");
                assert.deepStrictEqual(activeCertificates(serial), []);
                if (runbook === "rearm") {
                    const fresh = await byClaim(serial, replacement.key);
                    assert.ok(fresh.ok, lastReason());
                    assert.strictEqual((await rotateWith(fresh.certificateId, serial, await makePrivateKey())).ok, true, "the replacement can rotate");
                }
            });
        }

        it("rearm on a serial that was never provisioned (no Thing) binds it to the new key; register never reports a revoked serial as done", async () => {
            const serial = newSerial();
            const unit = await newUnit();
            await register(serial, unit);
            const replacement = await newUnit();
            assert.deepStrictEqual(await rearm(iot, local.client, { ...target(serial), fingerprint: replacement.fingerprint }, 0), []);
            assert.strictEqual((await registry(serial)).status.S, "active");
            assert.strictEqual((await byClaim(serial, replacement.key)).ok, true, lastReason());
            const other = newSerial();
            await register(other, unit);
            await quarantine(iot, local.client, target(other), 0);
            const again = await registerSerials(local.client, REGISTRY, [{ serial: other, fingerprint: unit.fingerprint, templates: [VEHICLE] }]);
            assert.deepStrictEqual([again.unchanged, again.conflicts], [[], [{ serial: other, why: "already revoked: use rearm for a replacement unit" }]]);
        });

        it("a late confirmation racing a sweep that scanned before it keeps the vehicle's new certificate", async () => {
            const { serial, cert: c1 } = await provisioned();
            const c2 = (await rotateWith(c1, serial, await makePrivateKey())).certificateId!;
            now = new Date(now.getTime() + 25 * HOUR); // past confirmBy
            let confirmed = false;
            const stale = { send: async (cmd: any) => {
                const out = await local.client.send(cmd);
                if (cmd instanceof ScanCommand && !confirmed) { confirmed = true; await confirmWith(c2, serial); }
                return out;
            } } as RotationDeps["dynamo"];
            await sweep(rotation(stale));
            await sweep(rotation());
            now = new Date(now.getTime() + 73 * HOUR);
            await sweep(rotation());
            assert.deepStrictEqual(activeCertificates(serial), [c2], "the confirmed certificate survives, the old one retires");
        });

        it("repeated confirmations never move the old certificate's retirement later", async () => {
            const { serial, cert: c1 } = await provisioned();
            const c2 = (await rotateWith(c1, serial, await makePrivateKey())).certificateId!;
            await confirmWith(c2, serial);
            const first = (await rotationItem(serial))!.retireAfter.S;
            now = new Date(now.getTime() + 70 * HOUR);
            await confirmWith(c2, serial);
            assert.strictEqual((await rotationItem(serial))!.retireAfter.S, first);
            now = new Date(now.getTime() + 3 * HOUR);
            await sweep(rotation());
            assert.strictEqual(iot.canActAs(c1, thing(serial)), false, "retired at the first confirmation's deadline");
        });
    });
});
