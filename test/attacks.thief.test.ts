/**
 * Issue 26's attacks: a thief holding a unit's CURRENT key (vehicle or Greengrass core), racing the operator and the
 * sweep. Real handlers (pre-provisioning hook, rotation confirm and sweep), the runbooks' own command lines from
 * docs/provisioning-security.md through the device CLI (`npm run device -- quarantine|rearm --stack kr ...`), a real
 * DynamoDB (dynalite) and the attack suite's model of AWS IoT (test/support/fleetModel.ts, its rules cited there).
 * Each of these succeeded on main before issue 26; each fails now, and the honest unit keeps (or gets back) a
 * working certificate.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { DetachThingPrincipalCommand, UpdateCertificateCommand } from "@aws-sdk/client-iot";
import { createHandler, HookConfig } from "../components/provisioning/lambda/provisioningHook";
import { confirm, RotationDeps, sweep } from "../components/provisioning/lambda/certificateRotation";
import { EVICTION_SIGNAL_PATTERN } from "../components/operations/operations";
import { matchesFilter } from "./support/filterPattern";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { PROJECT_ROOT } from "../config/stackFile";
import { run as device } from "../device/cli";
import { makeKeyAndCsr, makePrivateKey } from "../device/credentials";
import { registerSerials } from "../device/fleetOps";
import { LocalDynamo } from "./support/dynalite";
import { certArn, FleetModel } from "./support/fleetModel";

const REGISTRY = "kr-registry";
const ROTATION = "kr-rotation";
const CLAIM = "c".repeat(64);
const HOUR = 3600_000;
const deviceParameters = ["SerialNumber"];

interface Kind { kind: "vehicle" | "core"; provision: string; rotate: string; prefix: string; serialPrefix: string }
const VEHICLE: Kind = { kind: "vehicle", provision: "fms-kr-vehicle", rotate: "fms-kr-rotate", prefix: "kr-vehicle-", serialPrefix: "297468" };
const CORE: Kind = { kind: "core", provision: "fms-kr-edge-core", rotate: "fms-kr-edge-rotate", prefix: "kr-core-", serialPrefix: "297469" };
const templates: HookConfig["templates"] = Object.fromEntries([VEHICLE, CORE].flatMap((k) => [
    [k.provision, { purpose: "provision" as const, thingNamePrefix: k.prefix, serialPrefixes: [k.serialPrefix], deviceParameters }],
    [k.rotate, { purpose: "rotate" as const, thingNamePrefix: k.prefix, serialPrefixes: [k.serialPrefix], deviceParameters }],
]));
/** `pulumi stack output --json --stack kr`, as the runbooks read it (index.ts exports these names). */
const OUTPUTS = {
    registryTableName: REGISTRY, rotationScheduleTable: ROTATION, awsRegion: "ap-northeast-2",
    thingNamePrefix: VEHICLE.prefix, provisioningTemplateName: VEHICLE.provision, edgeCoreTemplateName: CORE.provision, edgeCoreThingNamePrefix: CORE.prefix,
};
const DOC = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "provisioning-security.md"), "utf8");

/** The runbook block's command line (docs/provisioning-security.md), as argv after `npm run -s device --`. */
function runbook(name: string): string[] {
    const m = new RegExp(`<!-- runbook:${name} -->\\n\`\`\`bash\\nnpm run -s device -- ([^\\n]+)\\n\`\`\``).exec(DOC);
    if (!m) throw new Error(`docs/provisioning-security.md has no runbook:${name} block`);
    return m[1].split(/\s+/);
}

interface Unit { key: string; fingerprint: string }

describe("attacks with a unit's current key, racing the runbooks and the sweep (issue 26)", function () {
    this.timeout(60_000);
    let local: LocalDynamo;
    let iot: FleetModel;
    let now: Date;
    let serialNo = 0;
    const decisions: Record<string, unknown>[] = [];
    const confirmations: Record<string, unknown>[] = [];
    /** Each log entry's line exactly as the Lambda wrote it (what a metric filter sees). */
    const lines = new WeakMap<object, string>();
    const logged = (l: string) => { const o = JSON.parse(l) as Record<string, unknown>; lines.set(o, l); return o; };
    let hook: ReturnType<typeof createHandler>;
    const lastReason = () => decisions.at(-1)!.reason as string;

    const rotation = (dynamo: RotationDeps["dynamo"] = local.client, send: RotationDeps["iot"] = iot): RotationDeps => ({
        config: { tableName: ROTATION, thingNamePrefixes: [VEHICLE.prefix, CORE.prefix], gracePeriodHours: 72, metricNamespace: "FMS/IoT/fms-kr", registryTable: REGISTRY },
        dynamo, iot: send, cloudwatch: { send: async () => ({}) } as never, now: () => now, log: (l) => confirmations.push(logged(l)),
    });
    const newUnit = async (): Promise<Unit> => { const key = await makePrivateKey(); return { key, fingerprint: publicKeyFingerprint(key) }; };
    const thing = (k: Kind, serial: string) => `${k.prefix}${serial}`;
    const registry = async (serial: string) => (await local.client.send(new GetItemCommand({ TableName: REGISTRY, Key: { serialNumber: { S: serial } }, ConsistentRead: true }))).Item!;
    const rotationItem = async (k: Kind, serial: string) => (await local.client.send(new GetItemCommand({ TableName: ROTATION, Key: { thingName: { S: thing(k, serial) } }, ConsistentRead: true }))).Item;
    const attachedTo = (k: Kind, serial: string) => [...(iot.things.get(thing(k, serial)) ?? [])];
    const working = (k: Kind, serial: string) => attachedTo(k, serial).filter((c) => iot.canActAs(c, thing(k, serial)));

    async function byClaim(k: Kind, serial: string, key: string): Promise<{ ok: boolean; certificateId: string }> {
        const certificateId = await iot.createCertificateFromCsr((await makeKeyAndCsr(`CN=${serial}`, key)).csrPem);
        const ok = await iot.registerThing(hook, { template: k.provision, certificateId, asker: CLAIM, clientId: `claim-${serial}-x`, parameters: { SerialNumber: serial }, thingName: thing(k, serial) });
        return { ok, certificateId };
    }
    /** A rotation over the connection of certificate `asker` (AWS IoT lets it act as the Thing only if ACTIVE and attached). */
    async function rotateWith(k: Kind, asker: string, serial: string): Promise<{ ok: boolean; certificateId: string }> {
        assert.ok(iot.canActAs(asker, thing(k, serial)), "AWS IoT would refuse this connection");
        const certificateId = await iot.createCertificateFromCsr((await makeKeyAndCsr(`CN=${serial}`, await makePrivateKey())).csrPem);
        const ok = await iot.registerThing(hook, { template: k.rotate, certificateId, asker, clientId: thing(k, serial), parameters: { SerialNumber: serial }, thingName: thing(k, serial) });
        return { ok, certificateId };
    }
    /** The confirmation rule's event (principal() and clientid() as AWS IoT sets them). */
    const confirmWith = (k: Kind, certificateId: string, serial: string, deps = rotation()) => confirm({ certificateId, thingName: thing(k, serial) }, deps);

    async function provisioned(k: Kind): Promise<{ serial: string; unit: Unit; cert: string }> {
        const serial = `${k.serialPrefix}${String(++serialNo).padStart(6, "0")}`;
        const unit = await newUnit();
        assert.deepStrictEqual((await registerSerials(local.client, REGISTRY, [{ serial, fingerprint: unit.fingerprint, templates: [k.provision] }])).written, [serial]);
        const first = await byClaim(k, serial, unit.key);
        assert.ok(first.ok, lastReason());
        return { serial, unit, cert: first.certificateId };
    }

    /** The runbook's command line for this serial (and key), through the device CLI, against dynalite and the model. */
    async function cli(name: "quarantine" | "rearm", serial: string, o: { publicKey?: string; extra?: string[]; dynamo?: RotationDeps["dynamo"] } = {}) {
        const argv = runbook(name).map((a, i, all) => (all[i - 1] === "--serial" ? serial : all[i - 1] === "--public-key" && o.publicKey ? o.publicKey : a));
        const out: string[] = [];
        const err: string[] = [];
        const code = await device([...argv, ...(o.extra ?? [])], {
            out: (l) => out.push(l), err: (l) => err.push(l), settleMs: 0,
            stackOutputs: (s) => { assert.strictEqual(s, "kr"); return OUTPUTS; },
            aws: () => ({ iot, dynamo: o.dynamo ?? local.client }),
        });
        return { code, out, err };
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
        confirmations.length = 0;
        hook = createHandler({
            config: { mode: "registry", tableName: REGISTRY, templates, allowReprovisioning: false, bindKeys: true, rotationTable: ROTATION, gracePeriodHours: 72, confirmTimeoutHours: 24, minRotationIntervalHours: 24 },
            dynamo: local.client, iot, now: () => now, log: (l) => decisions.push(logged(l)), registryTimeoutMs: 3000,
        });
    });

    for (const k of [VEHICLE, CORE]) {
        describe(`the runbooks on a ${k.kind} (the Thing from the registry item, not one prefix)`, () => {
            it(`${k.kind}: quarantine with a thief's rotation pending: every certificate off and detached, the thief's confirmation refused`, async () => {
                const { serial, unit, cert } = await provisioned(k);
                const thief = await rotateWith(k, cert, serial); // the thief holds the current key: it acts as `cert`
                assert.ok(thief.ok, lastReason());
                const q = await cli("quarantine", serial);
                assert.strictEqual(q.code, 0, q.err.join("\n"));
                assert.deepStrictEqual(q.out.sort(), [certArn(cert), certArn(thief.certificateId)].sort());
                assert.deepStrictEqual(attachedTo(k, serial), [], "nothing left attached");
                for (const c of [cert, thief.certificateId]) assert.strictEqual(iot.certificates.get(c)!.status, "INACTIVE");
                assert.deepStrictEqual(await confirmWith(k, thief.certificateId, serial), { confirmed: false, reason: "serial-revoked" });
                assert.strictEqual((await byClaim(k, serial, unit.key)).ok, false);
                assert.strictEqual(lastReason(), "serial-revoked");
            });

            it(`${k.kind}: quarantine after a thief's confirmed rotation: the stolen key's certificate is off now, not after the grace period`, async () => {
                const { serial, cert } = await provisioned(k);
                const thief = await rotateWith(k, cert, serial);
                assert.strictEqual((await confirmWith(k, thief.certificateId, serial)).confirmed, true);
                const q = await cli("quarantine", serial);
                assert.strictEqual(q.code, 0, q.err.join("\n"));
                assert.deepStrictEqual(working(k, serial), []);
                assert.deepStrictEqual(attachedTo(k, serial), []);
                assert.strictEqual(iot.certificates.get(cert)!.status, "INACTIVE", "the old certificate (the stolen key) too");
            });

            it(`${k.kind}: a thief's confirmation racing the quarantine (after the revoke) makes nothing the keeper`, async () => {
                const { serial, cert } = await provisioned(k);
                const thief = await rotateWith(k, cert, serial);
                let raced: Awaited<ReturnType<typeof confirm>> | undefined;
                const racing = { send: async (c: any) => {
                    const out = await local.client.send(c);
                    // The confirmation lands right after the serial is revoked, before the runbook empties the Thing.
                    if (c instanceof UpdateItemCommand && c.input.TableName === REGISTRY && !raced) raced = await confirmWith(k, thief.certificateId, serial);
                    return out;
                } } as RotationDeps["dynamo"];
                const q = await cli("quarantine", serial, { dynamo: racing });
                assert.strictEqual(q.code, 0, q.err.join("\n"));
                assert.deepStrictEqual(raced, { confirmed: false, reason: "serial-revoked" });
                assert.strictEqual(await rotationItem(k, serial), undefined, "no rotation state left behind");
                assert.strictEqual((await registry(serial)).certificateId.S, cert, "the registry never names the thief's certificate");
                assert.deepStrictEqual(working(k, serial), []);
            });

            it(`${k.kind}: rearm refuses every key the serial had (--force with a reason overrides), leaves nothing attached, and the replacement rotates`, async () => {
                const { serial, unit, cert } = await provisioned(k);
                const thief = await rotateWith(k, cert, serial);
                assert.strictEqual((await confirmWith(k, thief.certificateId, serial)).confirmed, true);
                const stolen = await cli("rearm", serial, { publicKey: unit.fingerprint });
                assert.strictEqual(stolen.code, 2, stolen.err.join("\n"));
                assert.match(stolen.err[0], new RegExp(`^error: serial ${serial} has had key ${unit.fingerprint} before`));
                assert.strictEqual((await registry(serial)).status.S, "provisioned", "refused before anything changed");
                const thiefKey = (await registry(serial)).publicKeyFingerprint.S!;
                assert.notStrictEqual(thiefKey, unit.fingerprint, "confirm recorded the rotated key");
                assert.strictEqual((await cli("rearm", serial, { publicKey: thiefKey })).code, 2, "the thief's rotated key too");
                const replacement = await newUnit();
                const r = await cli("rearm", serial, { publicKey: replacement.fingerprint });
                assert.strictEqual(r.code, 0, r.err.join("\n"));
                assert.deepStrictEqual(attachedTo(k, serial), [], "nothing attached that could block a rotation");
                assert.strictEqual((await byClaim(k, serial, unit.key)).ok, false, "the stolen key");
                const fresh = await byClaim(k, serial, replacement.key);
                assert.ok(fresh.ok, lastReason());
                assert.strictEqual((await rotateWith(k, fresh.certificateId, serial)).ok, true, `the replacement rotates at once (a rearm resets the interval): ${lastReason()}`);
                // A forced re-arm onto a key it had: allowed, and why is kept in the registry item.
                const forced = await cli("rearm", serial, { publicKey: unit.fingerprint, extra: ["--force", "--reason", "unit repaired, key verified by the workshop"] });
                assert.strictEqual(forced.code, 0, forced.err.join("\n"));
                assert.match((await registry(serial)).rearmForced.S!, /unit repaired, key verified by the workshop$/);
            });
        });
    }

    it("a registry item naming a certificate while no Thing exists is an error, not success; a template the stack has no prefix for too", async () => {
        const { serial, cert } = await provisioned(VEHICLE);
        iot.things.delete(thing(VEHICLE, serial)); // the Thing is not where the registry's template says
        const q = await cli("quarantine", serial);
        assert.strictEqual(q.code, 2);
        assert.match(q.err[0], new RegExp(`^error: serial ${serial} is revoked and its certificate ${cert} deactivated, but no Thing kr-vehicle-${serial} exists`));
        assert.strictEqual(iot.certificates.get(cert)!.status, "INACTIVE");
        const other = `297468${String(++serialNo).padStart(6, "0")}`;
        await registerSerials(local.client, REGISTRY, [{ serial: other, fingerprint: (await newUnit()).fingerprint, templates: ["fms-kr-unknown"] }]);
        const u = await cli("quarantine", other);
        assert.strictEqual(u.code, 2);
        assert.match(u.err[0], /no Thing prefix for fms-kr-unknown; pass --thing <name>$/);
    });

    for (const k of [VEHICLE, CORE]) {
        describe(`races that stranded an honest ${k.kind}`, () => {
            it(`${k.kind}: a late confirmation between the sweep's claim and its deactivation: one wins, the unit keeps a working certificate`, async () => {
                const { serial, cert: c1 } = await provisioned(k);
                const c2 = (await rotateWith(k, c1, serial)).certificateId;
                now = new Date(now.getTime() + 25 * HOUR); // c2 never confirmed in time
                await sweep(rotation()); // c2 joins the replaced certificates, due now
                let late: Awaited<ReturnType<typeof confirm>> | undefined;
                const between = { send: async (c: any) => {
                    // The sweep has claimed c2 and is about to deactivate it: the unit's confirmation lands now.
                    // (c2's own deactivation: the table is shared with the other tests, whose items the sweep may meet first.)
                    if (c instanceof UpdateCertificateCommand && c.input.certificateId === c2 && !late) late = await confirmWith(k, c2, serial);
                    return iot.send(c);
                } };
                await sweep(rotation(local.client, between));
                assert.deepStrictEqual(late, { confirmed: false, reason: "not-pending" });
                now = new Date(now.getTime() + 73 * HOUR);
                await sweep(rotation());
                assert.deepStrictEqual(working(k, serial), [c1], "the certificate in use stays (the unit falls back to it)");
                assert.strictEqual((await rotateWith(k, c1, serial)).ok, true, lastReason());
            });

            it(`${k.kind}: a sweep deactivation failing during a re-arm does not re-create the rotation state: the replacement rotates`, async () => {
                const { serial, cert: c1 } = await provisioned(k);
                const c2 = (await rotateWith(k, c1, serial)).certificateId;
                now = new Date(now.getTime() + 25 * HOUR);
                await sweep(rotation());
                const replacement = await newUnit();
                let rearmed = false;
                const failing = { send: async (c: any) => {
                    if (c instanceof UpdateCertificateCommand && c.input.certificateId === c2 && !rearmed) {
                        rearmed = true;
                        const r = await cli("rearm", serial, { publicKey: replacement.fingerprint });
                        assert.strictEqual(r.code, 0, r.err.join("\n"));
                        throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
                    }
                    return iot.send(c);
                } };
                assert.deepStrictEqual((await sweep(rotation(local.client, failing))).failed.map((f) => f.error), ["ThrottlingException"]);
                assert.strictEqual(await rotationItem(k, serial), undefined, "the item the re-arm dropped stays dropped");
                const fresh = await byClaim(k, serial, replacement.key);
                assert.ok(fresh.ok, lastReason());
                assert.strictEqual((await rotateWith(k, fresh.certificateId, serial)).ok, true, lastReason());
            });

            it(`${k.kind}: a detach AWS denies (iot:thingArn not filled) leaves an INACTIVE leftover that wedges nothing`, async () => {
                const { serial, cert: c1 } = await provisioned(k);
                const c2 = (await rotateWith(k, c1, serial)).certificateId;
                assert.strictEqual((await confirmWith(k, c2, serial)).confirmed, true);
                now = new Date(now.getTime() + 73 * HOUR);
                const denied = { send: async (c: any) => {
                    if (c instanceof DetachThingPrincipalCommand) throw Object.assign(new Error("not authorized to perform: iot:DetachThingPrincipal"), { name: "AccessDeniedException" });
                    return iot.send(c);
                } };
                await sweep(rotation(local.client, denied));
                assert.deepStrictEqual([iot.certificates.get(c1)!.status, attachedTo(k, serial).includes(c1)], ["INACTIVE", true], "deactivated, still attached");
                assert.strictEqual(await rotationItem(k, serial), undefined, "nothing pending");
                assert.strictEqual((await confirmWith(k, c2, serial)).confirmed, true, "the unit's confirmation on connect");
                assert.strictEqual(confirmations.at(-1)!.evictionSignal, undefined, "a leftover raises no eviction signal");
                assert.strictEqual((await rotateWith(k, c2, serial)).ok, true, `the unit rotates again: ${lastReason()}`);
            });

            // Review attacks A and B (issue 26, re-run after the merge): a sweep that dies, or is throttled while another
            // sweep runs, between its claim and AWS's answer. Before: the second sweep deleted the item and its tombstone,
            // the old certificate stayed ACTIVE and attached with nothing recording it, and the unit could never rotate.
            // The next sweep deactivates the claimed certificate again: AWS documents UpdateCertificate as idempotent
            // (https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateCertificate.html); the model (test/support/fleetModel.ts) answers a repeat as AWS does.
            it(`${k.kind}: a sweep that dies between its claim and the deactivation: the next sweep deactivates the old certificate`, async () => {
                const { serial, cert: c1 } = await provisioned(k);
                const c2 = (await rotateWith(k, c1, serial)).certificateId;
                assert.strictEqual((await confirmWith(k, c2, serial)).confirmed, true);
                now = new Date(now.getTime() + 73 * HOUR);
                let die!: (err: Error) => void;
                let reached!: () => void;
                const atDeactivation = new Promise<void>((r) => { reached = r; });
                const dying = { send: (c: any) => {
                    if (c instanceof UpdateCertificateCommand && c.input.certificateId === c1) {
                        reached();
                        return new Promise((_, reject) => { die = reject; }); // the Lambda is cut off here (its timeout)
                    }
                    return iot.send(c);
                } };
                const first = sweep(rotation(local.client, dying));
                await atDeactivation;
                await sweep(rotation()); // the next scheduled sweep
                assert.deepStrictEqual([iot.certificates.get(c1)!.status, attachedTo(k, serial).includes(c1)], ["INACTIVE", false], "the old certificate is retired");
                assert.strictEqual(await rotationItem(k, serial), undefined, "and only then the item goes");
                die(Object.assign(new Error("Task timed out after 300.00 seconds"), { name: "TimeoutError" }));
                await first;
                assert.deepStrictEqual(working(k, serial), [c2]);
                now = new Date(now.getTime() + 25 * HOUR);
                assert.strictEqual((await rotateWith(k, c2, serial)).ok, true, `the unit rotates again: ${lastReason()}`);
            });

            it(`${k.kind}: two overlapping sweeps, the claiming one throttled: the old certificate still ends INACTIVE`, async () => {
                const { serial, cert: c1 } = await provisioned(k);
                const c2 = (await rotateWith(k, c1, serial)).certificateId;
                assert.strictEqual((await confirmWith(k, c2, serial)).confirmed, true);
                now = new Date(now.getTime() + 73 * HOUR);
                let overlapped = false;
                const throttled = { send: async (c: any) => {
                    if (c instanceof UpdateCertificateCommand && c.input.certificateId === c1 && !overlapped) {
                        overlapped = true;
                        await sweep(rotation()); // Lambda's retry of the schedule, overlapping this one
                        throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
                    }
                    return iot.send(c);
                } };
                await sweep(rotation(local.client, throttled));
                await sweep(rotation());
                assert.deepStrictEqual([iot.certificates.get(c1)!.status, attachedTo(k, serial).includes(c1)], ["INACTIVE", false]);
                assert.strictEqual(await rotationItem(k, serial), undefined);
                assert.deepStrictEqual(working(k, serial), [c2]);
            });

            // Review attack C: a thief with the current key rotates to a key of its own and never confirms; the
            // operator quarantines, and a workshop re-arms with the key the recovered unit now carries. Before: rearm
            // accepted it (only confirmed keys were in the history) and the thief's key provisioned the serial again.
            it(`${k.kind}: a key from a rotation never confirmed is in the serial's history: rearm refuses it`, async () => {
                const { serial, cert: c1 } = await provisioned(k);
                const thief = await newUnit();
                const tc = await iot.createCertificateFromCsr((await makeKeyAndCsr(`CN=${serial}`, thief.key)).csrPem);
                assert.ok(await iot.registerThing(hook, { template: k.rotate, certificateId: tc, asker: c1, clientId: thing(k, serial), parameters: { SerialNumber: serial }, thingName: thing(k, serial) }), lastReason());
                const q = await cli("quarantine", serial);
                assert.strictEqual(q.code, 0, q.err.join("\n"));
                const r = await cli("rearm", serial, { publicKey: thief.fingerprint });
                assert.strictEqual(r.code, 2, r.out.concat(r.err).join("\n"));
                assert.match(r.err[0], new RegExp(`^error: serial ${serial} has had key ${thief.fingerprint} before`));
                assert.strictEqual((await byClaim(k, serial, thief.key)).ok, false, "the thief's key provisions nothing");
            });

            // Review findings F1 and F2 (issue 26, second review).
            it(`${k.kind}: a rotation whose registry write fails is refused and leaves nothing pending: the unit's retry rotates`, async () => {
                const { serial, cert } = await provisioned(k);
                let failed = false;
                const throttled = { send: async (c: any) => {
                    if (c instanceof UpdateItemCommand && c.input.TableName === REGISTRY && /rotationStartedAt|#rs/.test(c.input.UpdateExpression ?? "") && !failed) {
                        failed = true;
                        throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
                    }
                    return local.client.send(c);
                } } as RotationDeps["dynamo"];
                const once = createHandler({
                    config: { mode: "registry", tableName: REGISTRY, templates, allowReprovisioning: false, bindKeys: true, rotationTable: ROTATION, gracePeriodHours: 72, confirmTimeoutHours: 24, minRotationIntervalHours: 24 },
                    dynamo: throttled, iot, now: () => now, log: (l) => decisions.push(logged(l)), registryTimeoutMs: 3000,
                });
                const id = await iot.createCertificateFromCsr((await makeKeyAndCsr(`CN=${serial}`, await makePrivateKey())).csrPem);
                assert.strictEqual(await iot.registerThing(once, { template: k.rotate, certificateId: id, asker: cert, clientId: thing(k, serial), parameters: { SerialNumber: serial }, thingName: thing(k, serial) }), false);
                assert.strictEqual(lastReason(), "registry-error:ThrottlingException");
                assert.strictEqual((await rotationItem(k, serial))?.unconfirmedCertificateArn, undefined, "the refused rotation's certificate is not left pending");
                assert.strictEqual((await rotateWith(k, cert, serial)).ok, true, `the unit's retry: ${lastReason()}`);
            });

            it(`${k.kind}: a rotation whose new certificate cannot be read is refused (its key could not join the history)`, async () => {
                const { serial, cert } = await provisioned(k);
                const id = await iot.createCertificateFromCsr((await makeKeyAndCsr(`CN=${serial}`, await makePrivateKey())).csrPem);
                iot.certificates.get(id)!.pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
                assert.strictEqual(await iot.registerThing(hook, { template: k.rotate, certificateId: id, asker: cert, clientId: thing(k, serial), parameters: { SerialNumber: serial }, thingName: thing(k, serial) }), false);
                assert.strictEqual(lastReason(), "certificate-unreadable");
                assert.strictEqual(await rotationItem(k, serial), undefined, "nothing recorded");
            });
        });
    }

    describe("a thief with the current key is seen, and bounded", () => {
        /**
         * Whether the Lambda's exact log line matches the eviction alarm's metric filter, evaluated with CloudWatch Logs'
         * JSON filter pattern rules (test/support/filterPattern.ts; AWS CloudWatch Logs user guide, "Filter pattern
         * syntax for metric filters": https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntaxForMetricFilters.html).
         */
        const alarms = (line: Record<string, unknown>) => matchesFilter(EVICTION_SIGNAL_PATTERN, lines.get(line)!);

        for (const k of [VEHICLE, CORE]) {
            it(`${k.kind}: a same-key re-registration of a provisioned serial (the eviction through the claim) raises the signal`, async () => {
                const { serial, unit } = await provisioned(k);
                assert.ok(!alarms(decisions.at(-1)!), "a first provisioning is quiet");
                assert.strictEqual((await byClaim(k, serial, unit.key)).ok, true);
                assert.deepStrictEqual([decisions.at(-1)!.evictionSignal, alarms(decisions.at(-1)!)], ["same-key-re-registration", true]);
            });

            it(`${k.kind}: a rotation the unit did not start is seen as soon as the unit shows its replaced certificate (confirm on connect, or its own rotation)`, async () => {
                const { serial, cert } = await provisioned(k);
                const thief = await rotateWith(k, cert, serial);
                assert.ok(!alarms(decisions.at(-1)!), "a rotation alone is quiet");
                assert.strictEqual((await confirmWith(k, thief.certificateId, serial)).confirmed, true);
                assert.ok(!alarms(confirmations.at(-1)!), "the thief's confirmation alone is quiet");
                // The unit, still on its (now replaced) certificate, confirms on connect: the signal.
                await confirmWith(k, cert, serial);
                assert.deepStrictEqual([confirmations.at(-1)!.evictionSignal, alarms(confirmations.at(-1)!)], ["replaced-certificate-in-use", true]);
                // And its own rotation attempt: refused, and the signal too.
                assert.strictEqual((await rotateWith(k, cert, serial)).ok, false);
                assert.deepStrictEqual([lastReason(), decisions.at(-1)!.evictionSignal, alarms(decisions.at(-1)!)], ["too-many-certificates", "replaced-certificate-in-use", true]);
            });

            it(`${k.kind}: rotations at least minIntervalHours apart: a thief cannot keep restarting them`, async () => {
                const { serial, cert } = await provisioned(k);
                const first = await rotateWith(k, cert, serial);
                assert.ok(first.ok);
                now = new Date(now.getTime() + 23 * HOUR);
                assert.deepStrictEqual(await sweep(rotation()), { retired: [], failed: [], unconfirmed: 0, expiringCertificates: undefined });
                now = new Date(now.getTime() + 2 * HOUR); // the unconfirmed one times out and is retired
                await sweep(rotation());
                await sweep(rotation());
                assert.deepStrictEqual(working(k, serial), [cert]);
                now = new Date(now.getTime() - 2 * HOUR); // 23 h after the first start
                assert.strictEqual((await rotateWith(k, cert, serial)).ok, false);
                assert.strictEqual(lastReason(), "rotation-too-soon");
                now = new Date(now.getTime() + 2 * HOUR);
                assert.strictEqual((await rotateWith(k, cert, serial)).ok, true, lastReason());
            });
        }
    });
});
