import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ArnContext } from "../../policies/document";
import { secretKeyPolicy } from "../../policies/kms";
import { policyJson } from "../arnContext";

export interface ScramSecretArgs {
    ctx: pulumi.Input<ArnContext>;
    /** Must start with `AmazonMSK_` (MSK refuses any other name for SCRAM). */
    secretName: string;
    username: string;
    password: pulumi.Input<string>;
    /** Roles that read the secret (through Secrets Manager only). */
    readerRoleArns: pulumi.Input<string>[];
    /** 0 deletes at once (dev); 7-30 keeps a recovery window (production). */
    recoveryWindowInDays: number;
    /** Where the password came from; the guardrail msk-password-from-secret-config reads it from the secret's tags. */
    passwordSource: PasswordSource;
}

/** `secret-config`: `pulumi config set --secret`; `plain-config`: a plaintext value in the stack file; `generated`. */
export type PasswordSource = "secret-config" | "plain-config" | "generated";

/**
 * An MSK SASL/SCRAM secret `{username, password}` encrypted with its own customer-managed key
 * (MSK rejects secrets on the AWS-managed key). The password stays a Pulumi secret throughout.
 */
export class ScramSecret extends pulumi.ComponentResource {
    public readonly arn: pulumi.Output<string>;
    public readonly secretName: pulumi.Output<string>;
    public readonly keyArn: pulumi.Output<string>;
    /** Resolves once the value is stored. */
    public readonly version: aws.secretsmanager.SecretVersion;

    constructor(name: string, args: ScramSecretArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:msk:ScramSecret", name, {}, opts);
        if (!args.secretName.startsWith("AmazonMSK_")) throw new Error(`ScramSecret: ${args.secretName} must start with AmazonMSK_`);
        const parent = { parent: this };
        const key = new aws.kms.Key(`${name}-key`, {
            description: `Encrypts MSK SCRAM secret ${args.secretName}`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: policyJson(args.ctx, { readers: args.readerRoleArns }, (c, v) => secretKeyPolicy({ ...c, readerRoleArns: v.readers })),
        }, parent);
        new aws.kms.Alias(`${name}-alias`, { name: `alias/${args.secretName.toLowerCase().replace(/_/g, "-")}`, targetKeyId: key.keyId }, parent);
        const secret = new aws.secretsmanager.Secret(`${name}-secret`, {
            name: args.secretName,
            description: "SASL/SCRAM credentials of the IoT rule engine for Amazon MSK",
            kmsKeyId: key.arn,
            recoveryWindowInDays: args.recoveryWindowInDays,
            tags: { PasswordSource: args.passwordSource },
        }, parent);
        this.version = new aws.secretsmanager.SecretVersion(`${name}-value`, {
            secretId: secret.id,
            secretString: pulumi.secret(pulumi.jsonStringify({ username: args.username, password: args.password })),
        }, parent);
        this.arn = secret.arn;
        this.secretName = secret.name;
        this.keyArn = key.arn;
        this.registerOutputs({ arn: this.arn, secretName: this.secretName, keyArn: this.keyArn });
    }
}
