import * as assert from "assert";
import { createPublicKey } from "crypto";
import {
    CreateCertificateFromCsrCommand, CreateKeysAndCertificateCommand, DeleteCertificateCommand, DescribeCertificateCommand,
    IoTClient, UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { iot } from "./support/iotMock";
import { sts } from "./support/sts";
import { ClaimCertificateInputs, ClaimCertificateOutputs, claimCertificateProvider as provider, THROTTLE_RETRY } from "../components/provisioning/claimCertificateProvider";
import { CryptoKeyPair, makeCertificate, makeCsr } from "./support/x509";
import { engineUpdate, nextStep, withCode } from "./support/dynamicEngine";
import { ClaimCertificateResource } from "../components/provisioning/claimCertificate";

const ID = "f".repeat(64);
const ARN = `arn:aws:iot:ap-northeast-2:123456789012:cert/${ID}`;
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const inputs: ClaimCertificateInputs = { region: "ap-northeast-2", rotation: "2026-11", status: "ACTIVE" };

function awsError(name: string, message = name): Error {
    return Object.assign(new Error(message), { name, $metadata: {} });
}

async function created(over: Partial<ClaimCertificateInputs> = {}): Promise<ClaimCertificateOutputs> {
    iot.on(CreateKeysAndCertificateCommand).resolves({
        certificateId: ID, certificateArn: ARN, certificatePem: "CERT-PEM",
        keyPair: { PublicKey: "PUBLIC-PEM", PrivateKey: "PRIVATE-PEM" },
    });
    iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { status: "ACTIVE", validity: { notAfter: new Date("2049-12-31T23:59:59Z") } } });
    const r = await provider.create({ ...inputs, ...over });
    return r.outs as ClaimCertificateOutputs;
}

/** A certificate created earlier: the calls of its creation are history, not part of what the test watches. */
async function existing(over: Partial<ClaimCertificateInputs> = {}): Promise<ClaimCertificateOutputs> {
    iot.on(UpdateCertificateCommand).resolves({});
    const outs = await created(over);
    iot.resetHistory();
    return outs;
}

describe("claim certificate dynamic provider", () => {
    beforeEach(() => iot.reset());
    // Backoff in milliseconds, not seconds: the retries are counted, not timed.
    const backoff = { ...THROTTLE_RETRY };
    before(() => Object.assign(THROTTLE_RETRY, { baseMs: 1, maxMs: 2 }));
    after(() => Object.assign(THROTTLE_RETRY, backoff));

    describe("create", () => {
        it("CreateKeysAndCertificate in the region it is given, INACTIVE until everything else worked, then activated", async () => {
            iot.on(UpdateCertificateCommand).resolves({});
            const outs = await created();
            const call = iot.commandCalls(CreateKeysAndCertificateCommand)[0];
            assert.deepStrictEqual(call.args[0].input, { setAsActive: false });
            assert.deepStrictEqual(iot.calls().map((c) => c.args[0].constructor.name), ["CreateKeysAndCertificateCommand", "DescribeCertificateCommand", "UpdateCertificateCommand"]);
            assert.deepStrictEqual(iot.commandCalls(UpdateCertificateCommand)[0].args[0].input, { certificateId: ID, newStatus: "ACTIVE" });
            assert.strictEqual(await (call.thisValue as IoTClient).config.maxAttempts(), 1, "no SDK retry of a create (not idempotent)");
            assert.strictEqual(await (call.thisValue as IoTClient).config.region(), "ap-northeast-2");
            assert.strictEqual(outs.certificateId, ID);
            assert.strictEqual(outs.certificateArn, ARN);
            assert.strictEqual(outs.privateKeyPem, "PRIVATE-PEM");
            assert.strictEqual(outs.publicKeyPem, "PUBLIC-PEM");
            assert.strictEqual(outs.mode, "create-keys");
            assert.strictEqual(outs.notAfter, "2049-12-31T23:59:59.000Z");
            assert.strictEqual(outs.status, "ACTIVE");
        });

        it("creates an INACTIVE certificate when asked to (and never activates it)", async () => {
            await created({ status: "INACTIVE" });
            assert.deepStrictEqual(iot.commandCalls(CreateKeysAndCertificateCommand)[0].args[0].input, { setAsActive: false });
            assert.strictEqual(iot.commandCalls(UpdateCertificateCommand).length, 0);
        });

        it("CSR mode: AWS signs the factory's CSR and no private key exists on our side", async () => {
            const { csrPem, keys } = await makeCsr();
            const certificatePem = await makeCertificate(keys);
            iot.on(CreateCertificateFromCsrCommand).resolves({ certificateId: ID, certificateArn: ARN, certificatePem });
            iot.on(UpdateCertificateCommand).resolves({});
            iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { status: "ACTIVE" } });
            const outs = (await provider.create({ ...inputs, csrPem })).outs as ClaimCertificateOutputs;
            assert.deepStrictEqual(iot.commandCalls(CreateCertificateFromCsrCommand)[0].args[0].input, { certificateSigningRequest: csrPem, setAsActive: false });
            assert.strictEqual(iot.commandCalls(CreateKeysAndCertificateCommand).length, 0);
            assert.strictEqual(outs.privateKeyPem, undefined);
            assert.ok(!("privateKeyPem" in outs));
            assert.strictEqual(outs.mode, "csr");
            const expected = createPublicKey(await makeCertificateKeyPem(keys)).export({ type: "spki", format: "pem" });
            assert.strictEqual(outs.publicKeyPem, expected);
        });

        it("deletes the certificate it made when a later step fails (no orphan), then fails", async () => {
            iot.on(CreateKeysAndCertificateCommand).resolves({ certificateId: ID, certificateArn: ARN, certificatePem: "P", keyPair: { PublicKey: "a", PrivateKey: "b" } });
            iot.on(DescribeCertificateCommand).rejects(awsError("ServiceUnavailableException", "try later"));
            await assert.rejects(provider.create(inputs), /^Error: ClaimCertificate: DescribeCertificate failed in ap-northeast-2: ServiceUnavailableException: try later\.$/);
            assert.deepStrictEqual(iot.commandCalls(UpdateCertificateCommand)[0].args[0].input, { certificateId: ID, newStatus: "INACTIVE" });
            assert.deepStrictEqual(iot.commandCalls(DeleteCertificateCommand)[0].args[0].input, { certificateId: ID, forceDelete: true });
        });

        it("AccessDenied names the permission and region", async () => {
            iot.on(CreateKeysAndCertificateCommand).rejects(awsError("AccessDeniedException", "User is not authorized"));
            await assert.rejects(provider.create(inputs), (err: Error) => {
                assert.match(err.message, /^ClaimCertificate: CreateKeysAndCertificate failed in ap-northeast-2: AccessDeniedException: User is not authorized\./);
                assert.match(err.message, /needs iot:CreateKeysAndCertificate in ap-northeast-2/);
                return true;
            });
        });

        // A throttle is AWS refusing the request (nothing created), so another attempt is safe; the SDK client for
        // the create makes one attempt (maxAttempts 1, above), so the provider retries exactly that error itself.
        it("a throttled create is retried with backoff, and only a throttle: then it succeeds", async () => {
            iot.on(UpdateCertificateCommand).resolves({});
            iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { status: "ACTIVE" } });
            iot.on(CreateKeysAndCertificateCommand)
                .rejectsOnce(awsError("ThrottlingException", "Rate exceeded"))
                .rejectsOnce(awsError("TooManyRequestsException", "Too many requests"))
                .resolves({ certificateId: ID, certificateArn: ARN, certificatePem: "CERT-PEM", keyPair: { PublicKey: "PUBLIC-PEM", PrivateKey: "PRIVATE-PEM" } });
            const outs = (await provider.create(inputs)).outs as ClaimCertificateOutputs;
            assert.strictEqual(outs.certificateId, ID);
            assert.strictEqual(iot.commandCalls(CreateKeysAndCertificateCommand).length, 3);
        });

        it("throttling on every attempt: a true message (how many attempts, nothing created), no claim of SDK retries", async () => {
            iot.on(CreateCertificateFromCsrCommand).rejects(awsError("ThrottlingException", "Rate exceeded"));
            await assert.rejects(provider.create({ ...inputs, csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nx\n-----END CERTIFICATE REQUEST-----\n" }),
                /^Error: ClaimCertificate: CreateCertificateFromCsr failed in ap-northeast-2: ThrottlingException: Rate exceeded\. AWS IoT throttled all 5 attempts \(a throttled request is refused: nothing was created\); run the update again in a minute\.$/);
            assert.strictEqual(iot.commandCalls(CreateCertificateFromCsrCommand).length, THROTTLE_RETRY.attempts);
        });

        it("any other create error is not retried (a lost answer may have made a certificate)", async () => {
            iot.on(CreateKeysAndCertificateCommand).rejects(awsError("InternalFailureException", "Internal failure"));
            await assert.rejects(provider.create(inputs), /InternalFailureException/);
            assert.strictEqual(iot.commandCalls(CreateKeysAndCertificateCommand).length, 1);
        });
    });

    describe("read", () => {
        it("reflects a certificate deactivated by hand", async () => {
            const outs = await existing();
            iot.reset();
            iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { status: "INACTIVE" } });
            const r = await provider.read!(ID, outs);
            assert.strictEqual(r.id, ID);
            assert.strictEqual(r.props?.status, "INACTIVE");
            assert.strictEqual(r.props?.privateKeyPem, "PRIVATE-PEM", "keeps the key it cannot read back");
            assert.strictEqual((r.inputs as unknown as ClaimCertificateInputs).rotation, "2026-11");
        });

        it("a certificate deleted by hand is gone from state", async () => {
            const outs = await existing();
            iot.on(DescribeCertificateCommand).rejects(awsError("ResourceNotFoundException"));
            assert.deepStrictEqual(await provider.read!(ID, outs), {});
        });

        it("other errors surface", async () => {
            const outs = await existing();
            iot.on(DescribeCertificateCommand).rejects(awsError("AccessDeniedException"));
            await assert.rejects(provider.read!(ID, outs), /DescribeCertificate failed in ap-northeast-2: AccessDeniedException.*iot:DescribeCertificate/);
        });
    });

    describe("diff", () => {
        it("is stable when nothing changed (a second `pulumi up` changes nothing)", async () => {
            const outs = await existing();
            const d = await provider.diff!(ID, outs, { ...inputs });
            assert.strictEqual(d.changes, false);
            assert.deepStrictEqual(d.replaces, []);
        });

        it("a new rotation replaces the certificate, creating the new one first", async () => {
            const d = await provider.diff!(ID, await existing(), { ...inputs, rotation: "2027-05" });
            assert.strictEqual(d.changes, true);
            assert.deepStrictEqual(d.replaces, ["rotation"]);
            assert.strictEqual(d.deleteBeforeReplace, false);
        });

        it("switching to INACTIVE is an in-place update, not a replacement", async () => {
            const d = await provider.diff!(ID, await existing(), { ...inputs, status: "INACTIVE" });
            assert.strictEqual(d.changes, true);
            assert.deepStrictEqual(d.replaces, []);
            // The host never reads `stables`, so none is claimed (README "Day two": what the preview shows).
            assert.strictEqual(d.stables, undefined);
        });

        it("a certificate revoked by hand is replaced (REVOKED is final)", async () => {
            const d = await provider.diff!(ID, { ...(await existing()), status: "REVOKED" }, inputs);
            assert.deepStrictEqual(d.replaces, ["status"]);
        });

        it("a region or CSR change replaces; an unknown rotation during preview is a replacement", async () => {
            const outs = await existing();
            assert.deepStrictEqual((await provider.diff!(ID, outs, { ...inputs, region: "ap-northeast-1" })).replaces, ["region"]);
            assert.deepStrictEqual((await provider.diff!(ID, outs, { ...inputs, csrPem: "-----BEGIN CERTIFICATE REQUEST-----" })).replaces, ["csrPem"]);
            assert.deepStrictEqual((await provider.diff!(ID, outs, { ...inputs, rotation: UNKNOWN })).replaces, ["rotation"]);
        });
    });

    describe("check", () => {
        it("rejects a bad region, status or CSR, and lets unknown values through", async () => {
            const r = await provider.check!(inputs, { region: "Seoul", rotation: "", status: "REVOKED" as never, csrPem: "hello" });
            assert.deepStrictEqual(r.failures?.map((f) => f.property), ["rotation", "region", "status", "csrPem"]);
            const u = await provider.check!(inputs, { region: UNKNOWN, rotation: UNKNOWN, status: UNKNOWN as never, csrPem: UNKNOWN });
            assert.deepStrictEqual(u.failures, []);
            const missing = await provider.check!(inputs, { region: "ap-northeast-2" } as never);
            assert.deepStrictEqual(missing.failures, [{ property: "rotation", reason: "required" }, { property: "status", reason: "required" }], "a missing status would create an INACTIVE certificate silently");
        });
    });

    describe("update", () => {
        it("sets the new status in place and keeps the certificate and key", async () => {
            const olds = await existing();
            iot.on(UpdateCertificateCommand).resolves({});
            const r = await provider.update!(ID, olds, { ...inputs, status: "INACTIVE" });
            assert.deepStrictEqual(iot.commandCalls(UpdateCertificateCommand)[0].args[0].input, { certificateId: ID, newStatus: "INACTIVE" });
            assert.strictEqual(r.outs?.status, "INACTIVE");
            assert.strictEqual(r.outs?.privateKeyPem, "PRIVATE-PEM");
            assert.strictEqual(r.outs?.certificateId, ID);
        });

        it("does not call AWS when only the credentials source changed", async () => {
            const olds = await existing();
            const r = await provider.update!(ID, olds, { ...inputs, profile: "fms-admin" });
            assert.strictEqual(iot.commandCalls(UpdateCertificateCommand).length, 0);
            assert.strictEqual(r.outs?.profile, "fms-admin");
        });
    });

    describe("delete", () => {
        it("deactivates, then force-deletes", async () => {
            const outs = await existing();
            await provider.delete!(ID, outs);
            assert.deepStrictEqual(iot.commandCalls(UpdateCertificateCommand)[0].args[0].input, { certificateId: ID, newStatus: "INACTIVE" });
            assert.deepStrictEqual(iot.commandCalls(DeleteCertificateCommand)[0].args[0].input, { certificateId: ID, forceDelete: true });
        });

        it("succeeds when the certificate is already gone", async () => {
            const outs = await existing();
            iot.on(UpdateCertificateCommand).rejects(awsError("ResourceNotFoundException"));
            await provider.delete!(ID, outs);
            assert.strictEqual(iot.commandCalls(DeleteCertificateCommand).length, 0);
            iot.on(UpdateCertificateCommand).resolves({});
            iot.on(DeleteCertificateCommand).rejects(awsError("ResourceNotFoundException"));
            await provider.delete!(ID, outs);
        });

        it("still deletes a revoked certificate (its status cannot change)", async () => {
            const outs = await existing();
            iot.on(UpdateCertificateCommand).rejects(awsError("CertificateStateException"));
            await provider.delete!(ID, outs);
            assert.strictEqual(iot.commandCalls(DeleteCertificateCommand).length, 1);
        });

        it("surfaces other failures with the operation and region", async () => {
            const outs = await existing();
            iot.on(DeleteCertificateCommand).rejects(awsError("DeleteConflictException", "attached to a thing"));
            await assert.rejects(provider.delete!(ID, outs), /DeleteCertificate failed in ap-northeast-2: DeleteConflictException: attached to a thing/);
        });
    });
});

async function makeCertificateKeyPem(keys: CryptoKeyPair): Promise<string> {
    const { webcrypto } = await import("crypto");
    const spki = Buffer.from(await webcrypto.subtle.exportKey("spki", keys.publicKey));
    return `-----BEGIN PUBLIC KEY-----\n${spki.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

describe("claim certificate provider: the account check (aws:allowedAccountIds)", () => {
    beforeEach(() => { iot.reset(); sts.reset(); });

    it("stops on credentials for another account before any AWS IoT call: nothing created, nothing deleted", async () => {
        sts.on(GetCallerIdentityCommand).resolves({ Account: "210987654321" });
        const guarded = { ...inputs, allowedAccountIds: ["123456789012"] };
        await assert.rejects(provider.create(guarded),
            /^Error: ClaimCertificate: the credentials are for account 210987654321, not one this stack allows \(aws:allowedAccountIds: 123456789012\); nothing was changed$/);
        assert.strictEqual(iot.calls().length, 0);
        await assert.rejects(provider.delete!(ID, guarded as ClaimCertificateOutputs), /account 210987654321/);
        assert.strictEqual(iot.calls().length, 0);
    });

    it("the stack's account proceeds, and the allowed accounts are kept in state for delete", async () => {
        sts.on(GetCallerIdentityCommand).resolves({ Account: "123456789012" });
        const outs = await created({ allowedAccountIds: ["123456789012"] });
        assert.deepStrictEqual(outs.allowedAccountIds, ["123456789012"]);
        assert.strictEqual(sts.commandCalls(GetCallerIdentityCommand).length, 1);
    });
});

describe("claim certificate provider: day two with the real engine", () => {
    beforeEach(() => { iot.reset(); sts.reset(); });

    // On another account's credentials DescribeCertificate answers ResourceNotFoundException, and `read` returning {}
    // makes the engine drop the resource from state (pulumi/pulumi v3.248.0 sdk/nodejs/cmd/dynamic-provider/index.ts
    // L268-298 read: the provider's answer is the new state). The explicit providers refuse such credentials
    // (aws:allowedAccountIds); so does read, before any AWS IoT call.
    it("refresh with credentials for another account is refused, not taken as \"the certificate is gone\"", async () => {
        sts.on(GetCallerIdentityCommand).resolves({ Account: "210987654321" });
        iot.on(DescribeCertificateCommand).rejects(Object.assign(new Error("not found"), { name: "ResourceNotFoundException", $metadata: {} }));
        const recorded = { ...inputs, allowedAccountIds: ["123456789012"], certificateId: ID, certificateArn: `arn:aws:iot:ap-northeast-2:123456789012:cert/${ID}`, certificatePem: "x", publicKeyPem: "y", mode: "create-keys" } as ClaimCertificateOutputs;
        await assert.rejects(provider.read!(ID, recorded), /ClaimCertificate: the credentials are for account 210987654321, not one this stack allows/);
        assert.strictEqual(iot.calls().length, 0, "nothing read with the wrong account");
        // With the stack's account, a certificate deleted by hand does drop out (the drift refresh is for).
        sts.reset();
        sts.on(GetCallerIdentityCommand).resolves({ Account: "123456789012" });
        assert.deepStrictEqual(await provider.read!(ID, recorded), {});
    });

    // The host runs the state's `__provider` for read and delete (index.ts L253, L273, L336) and takes no action of its
    // own when the code changed (L200-208): the diff reports it, so a fix reaches refresh and destroy.
    it("a change of the provider code is a diff, and its update makes no AWS IoT call (cheap)", async () => {
        const recorded = { ...inputs, certificateId: ID, certificateArn: `arn:aws:iot:ap-northeast-2:123456789012:cert/${ID}`, certificatePem: "x", publicKeyPem: "y", mode: "create-keys", __provider: "code-1" } as ClaimCertificateOutputs;
        const state = { id: ID, outputs: recorded as unknown as Record<string, unknown>, initErrors: [] };
        assert.strictEqual(await nextStep(provider, state, withCode(inputs, "code-1") as never), "same");
        assert.strictEqual(await nextStep(provider, state, withCode(inputs, "code-2") as never), "update", "not a replacement: the certificate stays");
        const r = await engineUpdate(provider, state, withCode(inputs, "code-2") as never);
        assert.strictEqual(r.error, undefined);
        assert.strictEqual(iot.calls().length, 0);
        assert.deepStrictEqual([r.state.outputs.certificateId, r.state.outputs.certificatePem, r.state.outputs.__provider], [ID, "x", "code-2"]);
    });

    it("pulumi import (the import option) is refused with this resource's reason, not the host's \"code must be a string\"", () => {
        assert.throws(() => new ClaimCertificateResource("claim", { region: "ap-northeast-2", rotation: "1", status: "ACTIVE" }, { import: ID }),
            /^Error: ClaimCertificate: import is not supported; the private key cannot be recovered/);
    });
});
