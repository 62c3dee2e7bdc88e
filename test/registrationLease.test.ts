/**
 * A registration AWS gave up on (issue 29): the hook allowed it and claimed the serial, but no Thing was made (the
 * hook answered past its budget after the claim landed, or a later template step failed). AWS's behaviour this
 * relies on, from its pages (not from our doubles):
 * - the hook must answer within 5 s, and a hook that fails or does not answer `allowProvisioning` fails the
 *   provisioning request (developer guide, "Pre-provisioning hooks":
 *   https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html; the 5 s in config/awsQuotas.ts);
 * - a certificate made by CreateCertificateFromCsr is PENDING_ACTIVATION until a RegisterThing with it completes,
 *   which sets the status the template names (developer guide, "Device provisioning MQTT API":
 *   https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html): a claim whose certificate is
 *   on no Thing left the unit without an identity;
 * - RegisterThing calls other control-plane APIs and may fail on their throttling (API reference, RegisterThing:
 *   https://docs.aws.amazon.com/iot/latest/apireference/API_RegisterThing.html): a template step can fail after the hook allowed.
 * Run against dynalite (the condition expressions evaluated by a DynamoDB implementation) and an IoT double holding
 * Things and their certificates (ListThingPrincipals / DescribeCertificate as the AWS IoT API reference shapes them).
 */
import * as assert from "assert";
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { DescribeCertificateCommand, DescribeThingCommand, ListThingPrincipalsCommand, ResourceNotFoundException } from "@aws-sdk/client-iot";
import { createHandler, HookConfig, REGISTRATION_LEASE_SECONDS } from "../components/provisioning/lambda/provisioningHook";
import { certificateKeyFingerprint } from "../components/runtime/keyFingerprint";
import { LocalDynamo } from "./support/dynalite";
import { event, hookConfig, pem, pemKey } from "./support/hookEvents";
import { makeCertificate, makeKeys } from "./support/x509";

const TABLE = "fms-kr-lease-registry";
const ROTATION = "fms-kr-lease-rotation";
const cert = (i: number) => i.toString(16).padStart(64, "0");
const certArn = (id: string) => `arn:aws:iot:ap-northeast-2:123456789012:cert/${id}`;

/** Things and their certificates, as AWS IoT would hold them after the registrations that completed. */
class IotDouble {
    readonly things = new Map<string, { id: string; status: string }[]>();
    async send(command: unknown): Promise<unknown> {
        if (command instanceof ListThingPrincipalsCommand) {
            const certs = this.things.get(command.input.thingName!);
            if (!certs) throw new ResourceNotFoundException({ message: "thing not found", $metadata: {} });
            return { principals: certs.map((c) => certArn(c.id)) };
        }
        if (command instanceof DescribeCertificateCommand) {
            const c = [...this.things.values()].flat().find((x) => x.id === command.input.certificateId);
            return { certificateDescription: { certificateId: c?.id, status: c?.status ?? "PENDING_ACTIVATION", creationDate: new Date(0) } };
        }
        if (command instanceof DescribeThingCommand) {
            if (!this.things.has(command.input.thingName!)) throw new ResourceNotFoundException({ message: "thing not found", $metadata: {} });
            return { thingName: command.input.thingName };
        }
        throw new Error(`unexpected IoT call ${(command as object).constructor.name}`);
    }
}

describe("a registration AWS gave up on: the claim's lease (dynalite)", function () {
    this.timeout(30_000);
    let local: LocalDynamo;
    let client: DynamoDBClient;
    let attackerPem = "";
    let clock = Date.parse("2026-11-22T10:00:00Z");
    const advance = (seconds: number) => { clock += seconds * 1000; };

    const run = (config: HookConfig, iot: IotDouble, dynamo: { send: (c: never) => Promise<unknown> } = client as never, registryTimeoutMs = 3000) => {
        const lines: Record<string, unknown>[] = [];
        const h = createHandler({ config, dynamo: dynamo as never, iot, now: () => new Date(clock), log: (l) => lines.push(JSON.parse(l)), registryTimeoutMs });
        const ask = async (serial: string, certificateId: string, certificatePem = pem(), template = "fms-kr-vehicle") =>
            (await h(event({ SerialNumber: serial }, template, { certificateId, certificatePem }))).allowProvisioning;
        return { ask, lines, last: () => lines.at(-1)! };
    };
    const bound = () => hookConfig({ tableName: TABLE, rotationTable: ROTATION });
    const unbound = () => hookConfig({ tableName: TABLE, rotationTable: ROTATION, bindKeys: false });
    const register = (serial: string, key: string | undefined = pemKey()) => client.send(new PutItemCommand({
        TableName: TABLE, Item: { serialNumber: { S: serial }, status: { S: "active" }, templates: { SS: ["fms-kr-vehicle"] }, ...(key ? { publicKeyFingerprint: { S: key } } : {}) },
    }));
    const registry = async (serial: string) => (await client.send(new GetItemCommand({ TableName: TABLE, Key: { serialNumber: { S: serial } }, ConsistentRead: true }))).Item!;
    const rotationItems = async () => (await client.send(new ScanCommand({ TableName: ROTATION }))).Items ?? [];
    /** AWS completing the registration of `certificateId`: the template made the Thing and attached the ACTIVE certificate. */
    const complete = (iot: IotDouble, serial: string, certificateId: string) =>
        iot.things.set(`test-thing-${serial}`, [...(iot.things.get(`test-thing-${serial}`) ?? []), { id: certificateId, status: "ACTIVE" }]);

    before(async () => {
        local = await LocalDynamo.start();
        client = local.client;
        await local.table(TABLE, "serialNumber");
        await local.table(ROTATION, "thingName");
        attackerPem = await makeCertificate(await makeKeys());
        assert.notStrictEqual(certificateKeyFingerprint(attackerPem), pemKey());
    });
    after(async () => local?.stop());

    describe("the unit itself", () => {
        it("the hook's budget runs out after its claim landed: the same certificate retries at once, a new one after the lease, with no eviction signal", async () => {
            await register("297468100001");
            const iot = new IotDouble();
            // The claim write lands in DynamoDB, its answer comes after the hook's budget (the burst's registry-error:RegistryTimeout).
            const slow = { send: async (c: never) => { const out = await client.send(c); if ((c as object) instanceof UpdateItemCommand) await new Promise((r) => setTimeout(r, 1500)); return out; } };
            const late = run(bound(), iot, slow, 600);
            assert.strictEqual(await late.ask("297468100001", cert(1)), false);
            assert.strictEqual(late.last().reason, "registry-error:RegistryTimeout");
            assert.deepStrictEqual([(await registry("297468100001")).status.S, (await registry("297468100001")).certificateId.S], ["provisioned", cert(1)], "the claim landed");
            const hook = run(bound(), iot);
            // Within the ownership token's hour the device retries RegisterThing with the same certificate: allowed.
            assert.strictEqual(await hook.ask("297468100001", cert(1)), true);
            // The unit restarts instead and asks with a new certificate for its own key: while the lease runs, refused.
            advance(30);
            assert.strictEqual(await hook.ask("297468100001", cert(2)), false);
            assert.strictEqual(hook.last().reason, "registration-in-progress");
            advance(REGISTRATION_LEASE_SECONDS);
            assert.strictEqual(await hook.ask("297468100001", cert(2)), true);
            assert.deepStrictEqual([hook.last().reason, hook.last().resumedRegistration, hook.last().evictionSignal], ["allowed", true, undefined], "a resumption, not a re-registration");
            const item = await registry("297468100001");
            assert.deepStrictEqual([item.certificateId.S, item.previousCertificateId.S, item.claimKeyFingerprint.S], [cert(2), cert(1), pemKey()]);
            assert.deepStrictEqual((await rotationItems()).filter((i) => i.thingName.S === "test-thing-297468100001"), [], "nothing to retire: no Thing held the earlier certificate");
        });

        it("a template step fails after the hook allowed (no Thing): after the lease the unit resumes; once its Thing exists, a new certificate is a re-registration again (signalled)", async () => {
            await register("297468100002");
            const iot = new IotDouble();
            const hook = run(bound(), iot);
            assert.strictEqual(await hook.ask("297468100002", cert(10)), true);
            advance(REGISTRATION_LEASE_SECONDS + 1);
            assert.strictEqual(await hook.ask("297468100002", cert(11)), true);
            assert.strictEqual(hook.last().evictionSignal, undefined);
            complete(iot, "297468100002", cert(11));
            // Its Thing holds cert 11: a further certificate for the same key (a lost answer, or a thief) evicts it, and is seen.
            advance(REGISTRATION_LEASE_SECONDS + 1);
            assert.strictEqual(await hook.ask("297468100002", cert(12)), true);
            assert.strictEqual(hook.last().evictionSignal, "same-key-re-registration");
        });

        it("a second request while the first registration may still be in flight is refused, and only one of two resumptions wins", async () => {
            await register("297468100003");
            const iot = new IotDouble();
            const hook = run(bound(), iot);
            const first = await Promise.all([hook.ask("297468100003", cert(20)), hook.ask("297468100003", cert(21))]);
            assert.deepStrictEqual(first.filter(Boolean).length, 1);
            const holder = first[0] ? cert(20) : cert(21);
            // AWS is still creating the Thing (no certificate attached yet): still the lease's.
            iot.things.set("test-thing-297468100003", []);
            advance(REGISTRATION_LEASE_SECONDS - 1);
            assert.strictEqual(await hook.ask("297468100003", cert(22)), false);
            assert.strictEqual(hook.last().reason, "registration-in-progress");
            assert.strictEqual((await registry("297468100003")).certificateId.S, holder);
            advance(2);
            const resumed = await Promise.all([hook.ask("297468100003", cert(23)), hook.ask("297468100003", cert(24))]);
            assert.strictEqual(resumed.filter(Boolean).length, 1);
            assert.ok(hook.lines.slice(-2).some((l) => l.reason === "serial-changed-concurrently" || l.reason === "registration-in-progress"));
        });

        it("without key binding (deviceKeys: aws), the key that claimed resumes after the lease; the serial is never burnt for it", async () => {
            await register("297468100004", undefined);
            const iot = new IotDouble();
            const hook = run(unbound(), iot);
            assert.strictEqual(await hook.ask("297468100004", cert(30)), true);
            assert.strictEqual((await registry("297468100004")).claimKeyFingerprint.S, pemKey(), "the lease's holder is recorded");
            advance(REGISTRATION_LEASE_SECONDS + 1);
            assert.strictEqual(await hook.ask("297468100004", cert(31)), true);
            assert.strictEqual(hook.last().resumedRegistration, true);
            // Its registration completed: without binding nothing tells another request from this unit: refused, as before.
            complete(iot, "297468100004", cert(31));
            advance(REGISTRATION_LEASE_SECONDS + 1);
            assert.strictEqual(await hook.ask("297468100004", cert(32)), false);
            assert.strictEqual(hook.last().reason, "serial-already-provisioned");
        });

        it("prefix mode (development): the key that claimed resumes a claim whose Thing was never made, after the lease", async () => {
            const iot = new IotDouble();
            const hook = run(hookConfig({ mode: "prefix", bindKeys: false, tableName: TABLE, rotationTable: ROTATION }), iot);
            assert.strictEqual(await hook.ask("297468100005", cert(40)), true);
            advance(30);
            assert.strictEqual(await hook.ask("297468100005", cert(41)), false);
            assert.strictEqual(hook.last().reason, "serial-already-provisioned");
            advance(REGISTRATION_LEASE_SECONDS);
            assert.strictEqual(await hook.ask("297468100005", cert(41)), true);
            assert.strictEqual((await registry("297468100005")).certificateId.S, cert(41));
        });
    });

    describe("an attacker with the claim certificate (its own key; it knows the serial)", () => {
        it("key-bound: cannot take, hold or extend a failed unit's claim, during or after the lease; the unit then resumes", async () => {
            await register("297468200001");
            const iot = new IotDouble();
            const hook = run(bound(), iot);
            assert.strictEqual(await hook.ask("297468200001", cert(50)), true);
            const before = await registry("297468200001");
            for (const wait of [10, REGISTRATION_LEASE_SECONDS]) {
                advance(wait);
                assert.strictEqual(await hook.ask("297468200001", cert(51), attackerPem), false);
                assert.strictEqual(hook.last().reason, "device-key-mismatch");
            }
            assert.deepStrictEqual(await registry("297468200001"), before, "nothing written: the lease is neither taken nor extended");
            assert.strictEqual(await hook.ask("297468200001", cert(52)), true, "the unit's own key resumes");
        });

        it("key-bound: cannot burn an active serial (its request writes nothing, so the unit's first registration is unaffected)", async () => {
            await register("297468200002");
            const iot = new IotDouble();
            const hook = run(bound(), iot);
            assert.strictEqual(await hook.ask("297468200002", cert(60), attackerPem), false);
            assert.strictEqual((await registry("297468200002")).status.S, "active");
            assert.strictEqual(await hook.ask("297468200002", cert(61)), true);
        });

        it("unbound (deviceKeys: aws): cannot take a failed unit's claim with its own key, during or after the lease; the unit's key resumes", async () => {
            await register("297468200003", undefined);
            const iot = new IotDouble();
            const hook = run(unbound(), iot);
            assert.strictEqual(await hook.ask("297468200003", cert(70)), true);
            const before = await registry("297468200003");
            assert.strictEqual(await hook.ask("297468200003", cert(71), attackerPem), false);
            advance(REGISTRATION_LEASE_SECONDS + 1);
            assert.strictEqual(await hook.ask("297468200003", cert(72), attackerPem), false);
            assert.deepStrictEqual(hook.lines.slice(-2).map((l) => l.reason), ["serial-already-provisioned", "serial-already-provisioned"]);
            assert.deepStrictEqual(await registry("297468200003"), before);
            assert.strictEqual(await hook.ask("297468200003", cert(73)), true);
        });

        it("prefix mode: cannot take a failed unit's claim after the lease with its own key", async () => {
            const iot = new IotDouble();
            const hook = run(hookConfig({ mode: "prefix", bindKeys: false, tableName: TABLE, rotationTable: ROTATION }), iot);
            assert.strictEqual(await hook.ask("297468200004", cert(80)), true);
            advance(REGISTRATION_LEASE_SECONDS + 1);
            assert.strictEqual(await hook.ask("297468200004", cert(81), attackerPem), false);
            assert.strictEqual((await registry("297468200004")).certificateId.S, cert(80));
        });
    });

    describe("a thief with the unit's stolen key", () => {
        it("cannot pass a working unit's serial off as a failed claim: a Thing holding a live certificate is never resumed over", async () => {
            await register("297468300001");
            const iot = new IotDouble();
            const hook = run(bound(), iot);
            assert.strictEqual(await hook.ask("297468300001", cert(90)), true);
            // The registry's certificate is not on the Thing, but another live one is (a rotation whose confirmation the registry has not recorded).
            iot.things.set("test-thing-297468300001", [{ id: cert(91), status: "ACTIVE" }]);
            advance(REGISTRATION_LEASE_SECONDS + 1);
            assert.strictEqual(await hook.ask("297468300001", cert(92)), false);
            assert.strictEqual(hook.last().reason, "thing-has-other-certificates");
            assert.strictEqual((await registry("297468300001")).certificateId.S, cert(90));
        });
    });
});
