import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import {
    CreateCertificateFromCsrCommand, CreateKeysAndCertificateCommand, DeleteCertificateCommand, DescribeCertificateCommand,
    IoTClient, ListCertificatesCommand, UpdateCertificateCommand,
} from "@aws-sdk/client-iot";
import { answerMayBeLost, ClaimCertificateInputs, ClaimCertificateOutputs, claimCertificateProvider as provider, THROTTLE_RETRY } from "../components/provisioning/claimCertificateProvider";
import { iotClient, OPERATION_BUDGET } from "../components/iotSdk";
import { iot } from "./support/iotMock";
import { makeCertificate, makeCsr } from "./support/x509";

/**
 * Fault injection for the claim-certificate provider: every AWS IoT call of create, update, read and
 * delete fails, is throttled, has its answer lost after AWS acted, or hangs until the SDK's request
 * timeout (also after AWS acted). A small model of AWS IoT's certificates (what each call does to
 * them, as the API reference says) tells what is left in AWS afterwards.
 */
type Fault = "fail" | "throttle" | "lost" | "hang" | "blackhole";
const FAULTS: Fault[] = ["fail", "throttle", "lost", "hang"];

interface Cert { id: string; status: "ACTIVE" | "INACTIVE" | "REVOKED"; createdAt: Date }

class AwsIotCertificates {
    readonly certs = new Map<string, Cert>();
    /** What AWS signs for a CSR (a real certificate: the provider reads its public key). */
    csrCertificatePem = "";
    private faults = new Map<string, Fault>();
    private next = 0;

    inject(operation: string, fault: Fault): void { this.faults.set(operation, fault); }
    clear(): void { this.faults.clear(); }

    private async call<T>(operation: string, effect: () => T): Promise<T> {
        const fault = this.faults.get(operation);
        if (fault === "fail") throw Object.assign(new Error("User is not authorized"), { name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } });
        if (fault === "throttle") throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $metadata: { httpStatusCode: 429 } });
        const result = effect();
        // AWS acted, and the answer never comes (a fault proxy that swallows it): only the provider's budget ends it.
        if (fault === "blackhole") return new Promise<T>(() => undefined);
        if (fault === "lost") throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        // What NodeHttpHandler raises when requestTimeout passes (throwOnRequestTimeout): AWS may have acted.
        if (fault === "hang") throw Object.assign(new Error("Request timed out"), { name: "TimeoutError" });
        return result;
    }

    private get(id: string): Cert {
        const c = this.certs.get(id);
        if (!c) throw Object.assign(new Error("not found"), { name: "ResourceNotFoundException", $metadata: { httpStatusCode: 404 } });
        return c;
    }

    install(): void {
        const create = (setAsActive: boolean | undefined) => {
            const id = (++this.next).toString(16).padStart(64, "c");
            this.certs.set(id, { id, status: setAsActive ? "ACTIVE" : "INACTIVE", createdAt: new Date() });
            return { certificateId: id, certificateArn: `arn:aws:iot:ap-northeast-2:123456789012:cert/${id}`, certificatePem: "CERT-PEM" };
        };
        iot.on(CreateKeysAndCertificateCommand).callsFake((i) => this.call("CreateKeysAndCertificate", () => ({ ...create(i.setAsActive), keyPair: { PublicKey: "PUB", PrivateKey: "PRIV" } })));
        iot.on(CreateCertificateFromCsrCommand).callsFake((i) => this.call("CreateCertificateFromCsr", () => ({ ...create(i.setAsActive), certificatePem: this.csrCertificatePem })));
        iot.on(DescribeCertificateCommand).callsFake((i) => this.call("DescribeCertificate", () => {
            const c = this.get(i.certificateId);
            return { certificateDescription: { certificateId: c.id, status: c.status, validity: { notAfter: new Date("2049-12-31T23:59:59Z") } } };
        }));
        iot.on(UpdateCertificateCommand).callsFake((i) => this.call("UpdateCertificate", () => {
            const c = this.get(i.certificateId);
            if (c.status === "REVOKED") throw Object.assign(new Error("revoked"), { name: "CertificateStateException" });
            c.status = i.newStatus;
            return {};
        }));
        // "You can't delete a certificate that is ACTIVE" (DeleteCertificate: CertificateStateException).
        iot.on(DeleteCertificateCommand).callsFake((i) => this.call("DeleteCertificate", () => {
            const c = this.get(i.certificateId);
            if (c.status === "ACTIVE") throw Object.assign(new Error("certificate is active"), { name: "CertificateStateException" });
            this.certs.delete(c.id);
            return {};
        }));
        iot.on(ListCertificatesCommand).callsFake(() => this.call("ListCertificates", () => ({
            certificates: [...this.certs.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
                .map((c) => ({ certificateId: c.id, status: c.status, creationDate: c.createdAt })),
        })));
    }

    active(): Cert[] { return [...this.certs.values()].filter((c) => c.status === "ACTIVE"); }
    inactive(): Cert[] { return [...this.certs.values()].filter((c) => c.status === "INACTIVE"); }
}

const inputs: ClaimCertificateInputs = { region: "ap-northeast-2", rotation: "2026-11", status: "ACTIVE" };

describe("claim certificate provider under fault injection: what is left in AWS", () => {
    // A throttled create is retried (AWS refused it); backoff in milliseconds here, the attempts are what count.
    const backoff = { ...THROTTLE_RETRY };
    before(() => Object.assign(THROTTLE_RETRY, { baseMs: 1, maxMs: 2 }));
    after(() => Object.assign(THROTTLE_RETRY, backoff));
    const aws = new AwsIotCertificates();
    before(async () => { aws.csrCertificatePem = await makeCertificate((await makeCsr()).keys); });
    beforeEach(() => { iot.reset(); aws.certs.clear(); aws.clear(); aws.install(); });

    for (const mode of ["create-keys", "csr"] as const) {
        const createOp = mode === "csr" ? "CreateCertificateFromCsr" : "CreateKeysAndCertificate";
        const create = () => provider.create(mode === "csr" ? { ...inputs, csrPem: "-----BEGIN CERTIFICATE REQUEST-----\nx\n-----END CERTIFICATE REQUEST-----\n" } : inputs);
        for (const operation of [createOp, "DescribeCertificate", "UpdateCertificate"]) {
            for (const fault of FAULTS) {
                it(`create (${mode}): ${operation} ${fault}: fails naming ${operation}; at most one INACTIVE certificate, named in the error`, async () => {
                    aws.inject(operation, fault);
                    const err = await create().then(() => undefined, (e: Error) => e);
                    assert.ok(err, "create fails");
                    assert.match(err.message, new RegExp(`^ClaimCertificate: ${operation} failed in ap-northeast-2: `));
                    assert.deepStrictEqual(aws.active(), [], "no ACTIVE certificate outside the stack's state");
                    assert.ok(aws.inactive().length <= 1, "no second certificate (the create is not retried)");
                    for (const left of aws.inactive()) {
                        assert.ok(err.message.includes(left.id), `the error names ${left.id}: ${err.message}`);
                        assert.match(err.message, /aws iot delete-certificate --certificate-id /);
                    }
                    if (operation === createOp && (fault === "fail" || fault === "throttle")) assert.strictEqual(aws.certs.size, 0, "AWS refused: nothing made");
                });
            }
        }
    }

    it("create with every call well: one ACTIVE certificate, the one recorded", async () => {
        const outs = (await provider.create(inputs)).outs as ClaimCertificateOutputs;
        assert.deepStrictEqual(aws.active().map((c) => c.id), [outs.certificateId]);
        assert.strictEqual(aws.certs.size, 1);
    });

    describe("update, read and delete of a recorded certificate", () => {
        let recorded: ClaimCertificateOutputs;
        beforeEach(async () => { recorded = (await provider.create(inputs)).outs as ClaimCertificateOutputs; });

        for (const fault of FAULTS) {
            it(`update (switch off): UpdateCertificate ${fault}: fails naming it; no other certificate appears`, async () => {
                aws.inject("UpdateCertificate", fault);
                await assert.rejects(provider.update!(recorded.certificateId, recorded, { ...inputs, status: "INACTIVE" }), /^Error: ClaimCertificate: UpdateCertificate failed in ap-northeast-2: /);
                assert.deepStrictEqual([...aws.certs.keys()], [recorded.certificateId]);
                // Pulumi keeps the old state: the next `pulumi up` sets the status again (it is idempotent).
                aws.clear();
                await provider.update!(recorded.certificateId, recorded, { ...inputs, status: "INACTIVE" });
                assert.strictEqual(aws.certs.get(recorded.certificateId)!.status, "INACTIVE");
            });

            it(`read: DescribeCertificate ${fault}: fails naming it; nothing changes in AWS`, async () => {
                aws.inject("DescribeCertificate", fault);
                await assert.rejects(provider.read!(recorded.certificateId, recorded), /^Error: ClaimCertificate: DescribeCertificate failed in ap-northeast-2: /);
                assert.strictEqual(aws.certs.get(recorded.certificateId)!.status, "ACTIVE");
            });

            for (const operation of ["UpdateCertificate", "DeleteCertificate"]) {
                it(`delete: ${operation} ${fault}: fails naming it and the certificate still in AWS; a retry finishes`, async () => {
                    aws.inject(operation, fault);
                    const err = await (provider.delete!(recorded.certificateId, recorded) as Promise<void>).then(() => undefined, (e: Error) => e);
                    if (fault === "lost" && operation === "DeleteCertificate") {
                        // Deleted, then the answer was lost: the error says so; a retry finds it gone.
                        assert.ok(err);
                    } else {
                        assert.ok(err, "delete fails");
                        assert.match(err.message, new RegExp(`^ClaimCertificate: ${operation} failed in ap-northeast-2: .*Certificate ${recorded.certificateId} is still in AWS IoT`));
                    }
                    aws.clear();
                    await provider.delete!(recorded.certificateId, recorded);
                    assert.strictEqual(aws.certs.size, 0, "the retry (pulumi destroy again) removes it");
                });
            }
        }
    });

    describe("a black-holed AWS IoT call (the answer never comes): the whole operation ends within its budget and names what it left", function () {
        this.timeout(10_000);
        const saved = { ...OPERATION_BUDGET };
        // 60 s / 15 s in the program; the same arithmetic in milliseconds here.
        before(() => Object.assign(OPERATION_BUDGET, { totalMs: 400, cleanupMs: 150 }));
        after(() => Object.assign(OPERATION_BUDGET, saved));
        const within = async <T>(work: Promise<T>) => {
            const started = Date.now();
            const err = await work.then(() => undefined, (e: Error) => e);
            const took = Date.now() - started;
            assert.ok(took < OPERATION_BUDGET.totalMs + 300, `ended after ${took} ms (budget ${OPERATION_BUDGET.totalMs} ms)`);
            return err;
        };

        it("create: DescribeCertificate after the certificate exists never answers: fails within the budget; the certificate is deleted", async () => {
            aws.inject("DescribeCertificate", "blackhole");
            const err = await within(provider.create(inputs));
            assert.ok(err);
            assert.match(err.message, /^ClaimCertificate: DescribeCertificate failed in ap-northeast-2: TimeoutError: AWS IoT did not answer DescribeCertificate within/);
            assert.strictEqual(aws.certs.size, 0, "the clean-up had its own time and deleted it");
        });

        it("create: DescribeCertificate and the clean-up's calls never answer: fails within the budget, naming the certificate left and how to delete it", async () => {
            aws.inject("DescribeCertificate", "blackhole");
            aws.inject("UpdateCertificate", "blackhole");
            aws.inject("DeleteCertificate", "blackhole");
            const err = await within(provider.create(inputs));
            assert.ok(err);
            const [left] = aws.inactive();
            assert.ok(left, "one INACTIVE certificate is left");
            assert.ok(err.message.includes(`The certificate ${left.id} it had created is left INACTIVE`), err.message);
            assert.match(err.message, /aws iot delete-certificate --certificate-id [0-9a-fc]+ --force-delete --region ap-northeast-2/);
        });

        it("create: the create call itself never answers: fails within the budget, listing what AWS IoT may have made", async () => {
            aws.inject("CreateKeysAndCertificate", "blackhole");
            const err = await within(provider.create(inputs));
            assert.ok(err);
            assert.match(err.message, /The answer was lost: AWS IoT may have created an INACTIVE certificate \(INACTIVE certificates created since then: [0-9a-fc]+\)/);
        });

        it("update, read and delete: a call that never answers ends each within the budget", async () => {
            aws.clear();
            const recorded = (await provider.create(inputs)).outs as ClaimCertificateOutputs;
            aws.inject("UpdateCertificate", "blackhole");
            assert.match(String((await within(provider.update!(recorded.certificateId, recorded, { ...inputs, status: "INACTIVE" })))?.message), /UpdateCertificate failed .*TimeoutError/);
            aws.inject("DescribeCertificate", "blackhole");
            assert.match(String((await within(provider.read!(recorded.certificateId, recorded)))?.message), /DescribeCertificate failed .*TimeoutError/);
            aws.clear();
            aws.inject("DeleteCertificate", "blackhole");
            assert.match(String((await within(provider.delete!(recorded.certificateId, recorded) as Promise<void>))?.message), new RegExp(`DeleteCertificate failed .*TimeoutError.*Certificate ${recorded.certificateId} is still in AWS IoT`));
        });
    });

    it("a lost answer is told from an answered error", () => {
        assert.strictEqual(answerMayBeLost(Object.assign(new Error("x"), { name: "TimeoutError" })), true);
        assert.strictEqual(answerMayBeLost(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })), true);
        assert.strictEqual(answerMayBeLost(Object.assign(new Error("no"), { name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } })), false);
    });
});

describe("the SDK client the providers use: a call that connects but never answers fails, it does not hang", function () {
    this.timeout(20_000);
    let server: http.Server;
    const sockets = new Set<import("net").Socket>();
    before(async () => {
        // Accepts the connection and the request, and never answers.
        server = http.createServer(() => undefined);
        server.on("connection", (s) => sockets.add(s));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    });
    after(async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
    });

    it("the request timeout (throwOnRequestTimeout) ends the call with TimeoutError, which the provider reports as a lost answer", async () => {
        const previous = process.env.AWS_ENDPOINT_URL_IOT;
        process.env.AWS_ENDPOINT_URL_IOT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = process.env;
        process.env.AWS_ACCESS_KEY_ID = "AKIAEXAMPLEEXAMPLE00";
        process.env.AWS_SECRET_ACCESS_KEY = "example";
        try {
            const client = iotClient({ region: "ap-northeast-2" }, "test", { maxAttempts: 1, timeouts: { connectionTimeout: 1000, requestTimeout: 500 } });
            // The base client's send: the IoTClient class's own is stubbed by this run's SDK mock.
            const realSend = Object.getPrototypeOf(IoTClient.prototype).send as (command: unknown) => Promise<unknown>;
            const started = Date.now();
            const err = await realSend.call(client, new DescribeCertificateCommand({ certificateId: "c".repeat(64) })).then(() => undefined, (e: Error) => e);
            assert.ok(err, "the call fails");
            assert.ok(Date.now() - started < 5000, `within the timeout, not forever (${Date.now() - started} ms)`);
            assert.strictEqual(answerMayBeLost(err), true, `${err.name}: ${err.message}`);
        } finally {
            if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_IOT; else process.env.AWS_ENDPOINT_URL_IOT = previous;
            if (AWS_ACCESS_KEY_ID === undefined) delete process.env.AWS_ACCESS_KEY_ID; else process.env.AWS_ACCESS_KEY_ID = AWS_ACCESS_KEY_ID;
            if (AWS_SECRET_ACCESS_KEY === undefined) delete process.env.AWS_SECRET_ACCESS_KEY; else process.env.AWS_SECRET_ACCESS_KEY = AWS_SECRET_ACCESS_KEY;
        }
    });

    it("every provider client has those limits by default", async () => {
        const client = iotClient({ region: "ap-northeast-2" }, "test");
        const handler = client.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> };
        const config = await handler.configProvider;
        assert.deepStrictEqual([config.connectionTimeout, config.requestTimeout, config.throwOnRequestTimeout], [5000, 30000, true]);
    });
});
