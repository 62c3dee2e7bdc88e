/**
 * Pulumi dynamic provider for the fleet's shared claim certificate (AWS SDK v3, AWS IoT).
 *
 * What it does that `aws.iot.Certificate` does not:
 * - CreateKeysAndCertificate, or CreateCertificateFromCsr when a factory HSM holds the key (then
 *   no private key exists on our side);
 * - `rotation` forces a new certificate, created before the old one is deleted;
 * - `status` ACTIVE/INACTIVE is an in-place update (the claim kill switch);
 * - `read` reflects drift: deleted by hand (gone from state) or deactivated/revoked by hand;
 * - `delete` deactivates, then force-deletes, and succeeds if the certificate is already gone;
 * - a failure after the certificate exists deletes it before rethrowing (no orphans);
 * - every operation is bounded as a whole (iotSdk OPERATION_BUDGET, about a minute): a call that never
 *   answers ends it, keeping back time to delete what it created, and the error names what is left;
 * - `read` refuses credentials for an account the stack does not allow (it would otherwise find no
 *   such certificate there and drop it from state); a change of the provider code is an update that
 *   calls nothing but the account check, so the state's delete and read run the new code.
 *
 * The provider is serialized with its closures and runs in the Pulumi engine's process, without
 * the `aws:` provider's region or credentials: region, profile and role are inputs, and the SDK is
 * `require`d inside each method (a client captured from module scope cannot be serialized).
 */
import type { IoTClient } from "@aws-sdk/client-iot";
import { providerCodeChanged } from "../dynamicResource";
import { assertAllowedAccount, AwsTarget, errorName, explain, iotClient, operationDeadlines } from "../iotSdk";
import type * as dynamic from "@pulumi/pulumi/dynamic";

export type CertificateStatus = "ACTIVE" | "INACTIVE";

export interface ClaimCertificateInputs extends AwsTarget {
    rotation: string;
    status: CertificateStatus;
    csrPem?: string;
}

export interface ClaimCertificateOutputs extends Omit<ClaimCertificateInputs, "status"> {
    /** Desired status after create/update; the observed one after `read` (may be REVOKED, ...). */
    status: string;
    certificateId: string;
    certificateArn: string;
    certificatePem: string;
    publicKeyPem: string;
    /** Only in CreateKeysAndCertificate mode; a secret output. */
    privateKeyPem?: string;
    mode: "create-keys" | "csr";
    notAfter?: string;
}

/** Input keys whose change needs a new certificate. */
const REPLACE_KEYS = ["region", "rotation", "csrPem"] as const;
/** What the engine passes for a value not known during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const RESOURCE = "ClaimCertificate";
const client = (target: AwsTarget, deadline: number, maxAttempts?: number) => iotClient(target, "fms-claim-certificate", maxAttempts === undefined ? { deadline } : { maxAttempts, deadline });

/**
 * Throttled create calls are retried, and only those: a throttling error means AWS IoT refused the
 * request (nothing was created), so another attempt cannot leave a second certificate; any other error
 * (a lost answer above all) is not retried. Full-jitter exponential backoff, bounded.
 */
export const THROTTLE_RETRY = { attempts: 5, baseMs: 500, maxMs: 8_000 };

export function isThrottle(err: unknown): boolean {
    return ["ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"].includes((err as { name?: string })?.name ?? "");
}

/** The request may have reached AWS IoT without its answer reaching us (a timeout, a dropped connection). */
export function answerMayBeLost(err: unknown): boolean {
    const e = err as { name?: string; code?: string; message?: string };
    return e?.name === "TimeoutError" || e?.name === "RequestTimeout" || e?.name === "AbortError"
        || ["ECONNRESET", "ETIMEDOUT", "EPIPE"].includes(e?.code ?? "") || /socket hang up/i.test(e?.message ?? "");
}

/**
 * A create call that failed. When its answer may have been lost (a timeout or a dropped connection
 * rather than an error from AWS IoT), the certificate may exist without our knowing its id: it is
 * INACTIVE (created with setAsActive false), and the error lists the INACTIVE certificates created
 * since the call started, with the command that deletes one.
 */
async function createFailed(iot: IoTClient, region: string, operation: string, err: unknown, since: Date): Promise<Error> {
    const base = explain(RESOURCE, operation, region, err);
    if (!answerMayBeLost(err)) return base;
    try {
        const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
        const page = await iot.send(new sdk.ListCertificatesCommand({ ascendingOrder: false, pageSize: 50 }));
        const candidates = (page.certificates ?? [])
            .filter((c) => c.status === "INACTIVE" && c.creationDate && new Date(c.creationDate) >= since)
            .map((c) => c.certificateId);
        const found = candidates.length > 0 ? `INACTIVE certificates created since then: ${candidates.join(", ")}` : "none is listed yet";
        return new Error(`${base.message} The answer was lost: AWS IoT may have created an INACTIVE certificate (${found}); ` +
            `delete it with: aws iot delete-certificate --certificate-id <id> --force-delete --region ${region}`);
    } catch {
        return new Error(`${base.message} The answer was lost: AWS IoT may have created an INACTIVE certificate; list them with ` +
            `aws iot list-certificates --no-ascending-order --region ${region} and delete it with aws iot delete-certificate --certificate-id <id> --force-delete`);
    }
}

/** Deactivate, then force-delete; a certificate that is already gone counts as deleted. */
async function removeCertificate(iot: IoTClient, certificateId: string, region: string): Promise<void> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const left = (operation: string, err: unknown) => {
        const e = explain(RESOURCE, operation, region, err);
        return new Error(`${e.message} Certificate ${certificateId} is still in AWS IoT${operation === "DeleteCertificate" ? " (INACTIVE)" : ""}.`);
    };
    try {
        await iot.send(new sdk.UpdateCertificateCommand({ certificateId, newStatus: "INACTIVE" }));
    } catch (err) {
        if (errorName(err) === "ResourceNotFoundException") return;
        // A revoked certificate cannot change status; it can still be deleted.
        if (errorName(err) !== "CertificateStateException") throw left("UpdateCertificate", err);
    }
    try {
        await iot.send(new sdk.DeleteCertificateCommand({ certificateId, forceDelete: true }));
    } catch (err) {
        if (errorName(err) === "ResourceNotFoundException") return;
        throw left("DeleteCertificate", err);
    }
}

function publicKeyOf(certificatePem: string): string {
    const crypto: typeof import("crypto") = require("crypto");
    return new crypto.X509Certificate(certificatePem).publicKey.export({ type: "spki", format: "pem" }).toString();
}

function inputsOf(props: ClaimCertificateInputs): ClaimCertificateInputs {
    const out: ClaimCertificateInputs = { region: props.region, rotation: props.rotation, status: props.status };
    if (props.profile) out.profile = props.profile;
    if (props.assumeRoleArn) out.assumeRoleArn = props.assumeRoleArn;
    if (props.csrPem) out.csrPem = props.csrPem;
    if (props.allowedAccountIds?.length) out.allowedAccountIds = props.allowedAccountIds;
    return out;
}

export const claimCertificateProvider: dynamic.ResourceProvider<ClaimCertificateInputs, ClaimCertificateOutputs> = {
    async check(_olds, news) {
        const failures: dynamic.CheckFailure[] = [];
        const known = (v: unknown) => v !== undefined && v !== UNKNOWN;
        // Required: a missing status would otherwise create an INACTIVE certificate without a word.
        for (const key of ["region", "rotation", "status"] as const) {
            if (news[key] === undefined || news[key] === null || (news[key] as unknown) === "") failures.push({ property: key, reason: "required" });
        }
        if (known(news.region) && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(news.region)) {
            failures.push({ property: "region", reason: `"${news.region}" is not an AWS region` });
        }
        if (known(news.rotation) && news.rotation !== "" && typeof news.rotation !== "string") {
            failures.push({ property: "rotation", reason: "must be a non-empty string" });
        }
        if (known(news.status) && news.status !== "ACTIVE" && news.status !== "INACTIVE") {
            failures.push({ property: "status", reason: "must be ACTIVE or INACTIVE" });
        }
        if (known(news.csrPem) && news.csrPem !== "" && !/^-----BEGIN CERTIFICATE REQUEST-----/.test(String(news.csrPem))) {
            failures.push({ property: "csrPem", reason: "must be a PEM certificate signing request" });
        }
        return { inputs: news, failures };
    },

    async diff(_id, olds, news) {
        const replaces: string[] = REPLACE_KEYS.filter((k) => (olds[k] ?? "") !== (news[k] ?? ""));
        // A revoked (or otherwise stuck) certificate cannot be switched back: replace it.
        const statusStuck = olds.status !== "ACTIVE" && olds.status !== "INACTIVE";
        if (statusStuck && news.status !== olds.status) replaces.push("status");
        const updates = (["status", "profile", "assumeRoleArn"] as const).filter((k) => (olds[k] ?? "") !== (news[k] ?? ""));
        const changes = replaces.length > 0 || updates.length > 0 || providerCodeChanged(olds, news);
        // No `stables`: the dynamic-provider host never passes them on (@pulumi/pulumi v3.248.0
        // sdk/nodejs/cmd/dynamic-provider/index.ts:195-232, diff sets changes, replaces and deleteBeforeReplace only),
        // and a dynamic provider does not support preview, so a previewed update returns the new inputs as its
        // state (sdk/go/common/resource/plugin/provider_plugin.go:1661-1676, Update: "If the provider does not support
        // previews, return the inputs as the state"): certificateId and the PEMs are unknown in that preview, and
        // what depends on them previews as replaced although `up` updates in place (README "Day two").
        return { changes, replaces, deleteBeforeReplace: false };
    },

    async create(inputs) {
        const deadlines = operationDeadlines();
        await assertAllowedAccount(inputs, RESOURCE, deadlines.main);
        const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
        const iot = client(inputs, deadlines.main);
        // What undoes a failure gets the time kept back for it: the error can then say what is left.
        const cleanup = client(inputs, deadlines.cleanup);
        // The create calls are not idempotent: no SDK retry (a retried, lost answer would make a second
        // certificate nobody holds the key of), and INACTIVE until everything else has worked.
        const once = client(inputs, deadlines.main, 1);
        const operation = inputs.csrPem ? "CreateCertificateFromCsr" : "CreateKeysAndCertificate";
        const started = new Date(Date.now() - 5_000);
        let certificateId: string | undefined;
        let certificateArn: string | undefined;
        let certificatePem: string | undefined;
        let privateKeyPem: string | undefined;
        let publicKeyPem: string | undefined;
        for (let attempt = 1; ; attempt++) {
            try {
                if (inputs.csrPem) {
                    const r = await once.send(new sdk.CreateCertificateFromCsrCommand({ certificateSigningRequest: inputs.csrPem, setAsActive: false }));
                    ({ certificateId, certificateArn, certificatePem } = r);
                } else {
                    const r = await once.send(new sdk.CreateKeysAndCertificateCommand({ setAsActive: false }));
                    ({ certificateId, certificateArn, certificatePem } = r);
                    privateKeyPem = r.keyPair?.PrivateKey;
                    publicKeyPem = r.keyPair?.PublicKey;
                }
                break;
            } catch (err) {
                if (isThrottle(err) && attempt < THROTTLE_RETRY.attempts) {
                    const cap = Math.min(THROTTLE_RETRY.maxMs, THROTTLE_RETRY.baseMs * 2 ** (attempt - 1));
                    await new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
                    continue;
                }
                if (isThrottle(err)) throw explain(RESOURCE, operation, inputs.region, err, attempt);
                throw await createFailed(cleanup, inputs.region, operation, err, started);
            }
        }
        if (!certificateId) throw new Error(`${RESOURCE}: ${operation} in ${inputs.region} returned no certificate id`);
        let step = operation;
        try {
            if (!certificateArn || !certificatePem) throw new Error(`${RESOURCE}: ${operation} in ${inputs.region} returned no certificate ARN or PEM.`);
            if (!inputs.csrPem && (!privateKeyPem || !publicKeyPem)) throw new Error(`${RESOURCE}: ${operation} in ${inputs.region} returned no key pair.`);
            const publicKey = publicKeyPem ?? publicKeyOf(certificatePem);
            step = "DescribeCertificate";
            const described = await iot.send(new sdk.DescribeCertificateCommand({ certificateId }));
            const outs: ClaimCertificateOutputs = {
                ...inputsOf(inputs),
                certificateId,
                certificateArn,
                certificatePem,
                publicKeyPem: publicKey,
                mode: inputs.csrPem ? "csr" : "create-keys",
            };
            if (privateKeyPem) outs.privateKeyPem = privateKeyPem;
            const notAfter = described.certificateDescription?.validity?.notAfter;
            if (notAfter) outs.notAfter = new Date(notAfter).toISOString();
            if (inputs.status === "ACTIVE") {
                // Last: everything the resource records is in hand.
                step = "UpdateCertificate";
                await iot.send(new sdk.UpdateCertificateCommand({ certificateId, newStatus: "ACTIVE" }));
            }
            return { id: certificateId, outs };
        } catch (err) {
            // The certificate exists but the resource will not be recorded: delete it, then fail, naming both.
            const cause = err instanceof Error && err.message.startsWith(`${RESOURCE}:`) ? err : explain(RESOURCE, step, inputs.region, err);
            try {
                await removeCertificate(cleanup, certificateId, inputs.region);
            } catch (cleanup) {
                throw new Error(`${cause.message} The certificate ${certificateId} it had created is left INACTIVE (deleting it failed: ${(cleanup as Error).message}); ` +
                    `delete it with: aws iot delete-certificate --certificate-id ${certificateId} --force-delete --region ${inputs.region}`);
            }
            throw cause;
        }
    },

    async read(id, props) {
        if (!props) throw new Error("ClaimCertificate: import is not supported; the private key cannot be recovered");
        const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
        const deadline = operationDeadlines().cleanup;
        // Wrong credentials find no such certificate: refused before the answer could drop it from state.
        await assertAllowedAccount(props, RESOURCE, deadline);
        try {
            const r = await client(props, deadline).send(new sdk.DescribeCertificateCommand({ certificateId: id }));
            const status = r.certificateDescription?.status ?? props.status;
            const observed: ClaimCertificateOutputs = { ...props, status };
            // The SDK types `inputs` as Outputs; the engine takes the resource's inputs here.
            const inputs = { ...inputsOf(props as ClaimCertificateInputs), status } as unknown as ClaimCertificateOutputs;
            return { id, props: observed, inputs };
        } catch (err) {
            if (errorName(err) === "ResourceNotFoundException") return {};
            throw explain(RESOURCE, "DescribeCertificate", props.region, err);
        }
    },

    async update(id, olds, news) {
        const deadline = operationDeadlines().cleanup;
        await assertAllowedAccount(news, RESOURCE, deadline);
        const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
        if (olds.status !== news.status) {
            try {
                await client(news, deadline).send(new sdk.UpdateCertificateCommand({ certificateId: id, newStatus: news.status }));
            } catch (err) {
                throw explain(RESOURCE, "UpdateCertificate", news.region, err);
            }
        }
        const outs: ClaimCertificateOutputs = { ...olds, ...inputsOf(news) };
        if (!news.profile) delete outs.profile;
        if (!news.assumeRoleArn) delete outs.assumeRoleArn;
        return { outs };
    },

    async delete(id, props) {
        const deadline = operationDeadlines().cleanup;
        await assertAllowedAccount(props, RESOURCE, deadline);
        await removeCertificate(client(props, deadline), id, props.region);
    },
};
