import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArnContext } from "../../policies/document";
import { claimPolicy, DeviceKeys } from "../../policies/iotClaimPolicy";
import { policyJson } from "../arnContext";
import { CertificateStatus, claimCertificateProvider } from "./claimCertificateProvider";
import { refuseImport } from "../dynamicResource";
import { SecureBucket } from "../secureBucket";

/** Prefix under which the claim-certificate PEMs are delivered. */
export const CLAIM_PREFIX = "claim-certificate";

type DynamicInputs = {
    region: pulumi.Input<string>;
    profile?: pulumi.Input<string>;
    assumeRoleArn?: pulumi.Input<string>;
    rotation: pulumi.Input<string>;
    status: pulumi.Input<CertificateStatus>;
    csrPem?: pulumi.Input<string>;
};

/** The dynamic resource: `pulumi-nodejs:dynamic/iot:ClaimCertificate`. `privateKeyPem` is a secret output. */
export class ClaimCertificateResource extends pulumi.dynamic.Resource {
    declare public readonly certificateId: pulumi.Output<string>;
    declare public readonly certificateArn: pulumi.Output<string>;
    declare public readonly certificatePem: pulumi.Output<string>;
    declare public readonly publicKeyPem: pulumi.Output<string>;
    declare public readonly privateKeyPem: pulumi.Output<string | undefined>;
    declare public readonly status: pulumi.Output<string>;
    declare public readonly notAfter: pulumi.Output<string | undefined>;

    constructor(name: string, args: DynamicInputs, opts?: pulumi.CustomResourceOptions) {
        refuseImport("ClaimCertificate", opts, "the private key cannot be recovered; pulumi up creates a certificate (provisioning.claimCertificate.rotation replaces it)");
        const outputs = { certificateId: undefined, certificateArn: undefined, certificatePem: undefined, publicKeyPem: undefined, privateKeyPem: undefined, notAfter: undefined };
        super(claimCertificateProvider, name, { ...args, ...outputs }, {
            ...opts,
            additionalSecretOutputs: ["privateKeyPem"],
        }, "iot", "ClaimCertificate");
    }
}

export interface ClaimCertificateArgs {
    ctx: pulumi.Input<ArnContext>;
    namePrefix: string;
    /** Region, profile and role for the dynamic provider (it does not inherit the `aws:` provider's). */
    region: string;
    profile?: string;
    assumeRoleArn?: string;
    /** The accounts this stack may change: the provider checks its credentials against them first. */
    allowedAccountIds?: string[];
    rotation: string;
    status: CertificateStatus;
    /** With a CSR, AWS signs it and no private key exists on our side. */
    csrPem?: string;
    /** Templates the claim certificate may call. */
    templateNames: pulumi.Input<string>[];
    clientIdPrefix: string;
    /** `device`: the claim policy allows CreateCertificateFromCsr only; `aws`: CreateKeysAndCertificate only. */
    deviceKeys: DeviceKeys;
    kmsKeyArn: pulumi.Input<string>;
    protect: boolean;
}

export interface ClaimObjectKeys {
    certificate: pulumi.Output<string>;
    publicKey: pulumi.Output<string>;
    /** Absent in CSR mode. */
    privateKey?: pulumi.Output<string>;
}

/**
 * The fleet's shared claim certificate: made by the dynamic provider, limited by the claim policy,
 * and delivered as PEMs to a private, KMS-encrypted bucket under `claim-certificate/<id>/`.
 */
export class ClaimCertificate extends pulumi.ComponentResource {
    public readonly certificateId: pulumi.Output<string>;
    public readonly certificateArn: pulumi.Output<string>;
    public readonly status: pulumi.Output<string>;
    public readonly privateKeyPem: pulumi.Output<string | undefined>;
    public readonly policyName: pulumi.Output<string>;
    public readonly bucketName: pulumi.Output<string>;
    public readonly objectKeys: ClaimObjectKeys;
    public readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: ClaimCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:ClaimCertificate", name, {}, opts);
        const parent = { parent: this };

        const policy = new aws.iot.Policy(`${name}-policy`, {
            name: `${args.namePrefix}-claim`,
            policy: policyJson(args.ctx, { templateNames: args.templateNames }, (c, v) => claimPolicy({
                ...c, clientIdPrefix: args.clientIdPrefix, templateNames: v.templateNames, deviceKeys: args.deviceKeys,
            })),
            // Read by the guardrails: a claim policy must allow only the certificate API of its key mode.
            tags: { DeviceKeys: args.deviceKeys },
        }, parent);

        const certificate = new ClaimCertificateResource(`${name}-certificate`, {
            region: args.region,
            rotation: args.rotation,
            status: args.status,
            ...(args.profile ? { profile: args.profile } : {}),
            ...(args.assumeRoleArn ? { assumeRoleArn: args.assumeRoleArn } : {}),
            ...(args.allowedAccountIds?.length ? { allowedAccountIds: args.allowedAccountIds } : {}),
            ...(args.csrPem ? { csrPem: args.csrPem } : {}),
        }, parent);

        // Built from the resource's id, not its outputs: in the preview of an update (the claim switch-off) the id is
        // known, while a dynamic resource's outputs are not (it has no preview: the engine takes its new inputs as its
        // state, pulumi/pulumi v3.248.0 sdk/go/common/resource/plugin/provider_plugin.go:1661-1676, and the host passes
        // no `stables`). From outputs, the attachment and the PEM object keys would preview as replaced although `up`
        // leaves them alone; from the id they preview as they are. A new rotation makes a new id: replaced, rightly.
        const certificateId = certificate.id;
        const certificateArn = pulumi.all([args.ctx, certificate.id]).apply(([c, id]) => `arn:${c.partition}:iot:${c.region}:${c.accountId}:cert/${id}`);
        new aws.iot.PolicyAttachment(`${name}-policy-attachment`, {
            policy: policy.name,
            target: certificateArn,
        }, parent);

        const bucket = new SecureBucket(`${name}-pems`, {
            bucketPrefix: `${args.namePrefix}-claim-`,
            kmsKeyArn: args.kmsKeyArn,
        }, { parent: this, protect: args.protect });

        const pem = (file: string, content: pulumi.Input<string>) => new aws.s3.BucketObjectv2(`${name}-${file}`, {
            bucket: bucket.name,
            key: pulumi.interpolate`${CLAIM_PREFIX}/${certificateId}/${file}`,
            content,
            contentType: "application/x-pem-file",
            serverSideEncryption: "aws:kms",
            kmsKeyId: args.kmsKeyArn,
        }, { parent: this, dependsOn: bucket.ready });

        const certObject = pem("certificate.pem.crt", certificate.certificatePem);
        const publicObject = pem("public.pem.key", certificate.publicKeyPem);
        const privateObject = args.csrPem
            ? undefined
            : pem("private.pem.key", pulumi.secret(certificate.privateKeyPem.apply((k) => k ?? "")));

        this.certificateId = certificateId;
        this.certificateArn = certificateArn;
        this.status = certificate.status;
        this.privateKeyPem = pulumi.secret(certificate.privateKeyPem);
        this.policyName = policy.name;
        this.bucketName = bucket.name;
        this.objectKeys = {
            certificate: certObject.key,
            publicKey: publicObject.key,
            ...(privateObject ? { privateKey: privateObject.key } : {}),
        };
        this.endpoint = aws.iot.getEndpointOutput({ endpointType: "iot:Data-ATS" }, parent).endpointAddress;
        this.registerOutputs({
            certificateId: this.certificateId,
            certificateArn: this.certificateArn,
            bucketName: this.bucketName,
            objectKeys: this.objectKeys,
            endpoint: this.endpoint,
        });
    }
}
