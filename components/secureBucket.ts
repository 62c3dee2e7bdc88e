import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketPolicy } from "../policies/s3";

export interface SecureBucketArgs {
    /** Customer-managed KMS key for SSE-KMS. */
    kmsKeyArn: pulumi.Input<string>;
    /** Bucket names are `<bucketPrefix><random suffix>`. */
    bucketPrefix: string;
    /** Keep noncurrent object versions (default true). */
    versioning?: boolean;
}

/**
 * A private S3 bucket with secure defaults: all public access blocked, bucket-owner-enforced
 * ownership (no ACLs), SSE-KMS with a customer-managed key and bucket keys, versioning, and a
 * bucket policy that denies any request not made over TLS.
 */
export class SecureBucket extends pulumi.ComponentResource {
    public readonly bucket: aws.s3.Bucket;
    public readonly name: pulumi.Output<string>;
    public readonly arn: pulumi.Output<string>;
    /** Resolves once encryption, ownership, public-access block and policy are in place. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:storage:SecureBucket", name, {}, opts);
        const parent = { parent: this };
        // bucketPrefix forces a new bucket, and an imported bucket has none (terraform-provider-aws
        // internal/service/s3/bucket.go at 4c72bcc, schema "bucket_prefix": ForceNew; the import reads only `bucket`): without
        // ignoreChanges the first `up` after adopting a bucket (README "Adopting a CDK country") would replace
        // it (on a protected stack: "unable to replace resource"). The prefix names new buckets only; a bucket
        // keeps its name, so a later namePrefix change does not replace (and empty) it either.
        this.bucket = new aws.s3.Bucket(`${name}-bucket`, { bucketPrefix: args.bucketPrefix, forceDestroy: false }, { parent: this, ignoreChanges: ["bucketPrefix"] });
        const publicAccess = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, {
            bucket: this.bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        }, parent);
        const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
            bucket: this.bucket.id,
            rule: { objectOwnership: "BucketOwnerEnforced" },
        }, parent);
        const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-encryption`, {
            bucket: this.bucket.id,
            rules: [{
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
                bucketKeyEnabled: true,
            }],
        }, parent);
        const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, {
            bucket: this.bucket.id,
            versioningConfiguration: { status: args.versioning === false ? "Suspended" : "Enabled" },
        }, parent);
        const policy = new aws.s3.BucketPolicy(`${name}-tls-only`, {
            bucket: this.bucket.id,
            policy: this.bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))),
        }, { parent: this, dependsOn: [publicAccess] });
        this.name = this.bucket.bucket;
        this.arn = this.bucket.arn;
        this.ready = [publicAccess, ownership, encryption, versioning, policy];
        this.registerOutputs({ name: this.name, arn: this.arn });
    }
}
