import * as path from "path";
import * as aws from "@pulumi/aws";
import * as awsnative from "@pulumi/aws-native";
import * as pulumi from "@pulumi/pulumi";
import { ArnContext } from "../../policies/document";
import { certificateProviderArn, certificateProviderRolePolicy } from "../../policies/privateCa";
import { SigningAlgorithm } from "../../config/privateCaValues";
import { handlerArchive } from "../lambdaBundle";
import { nodeLambda } from "../nodeLambda";
import { topicAlarm } from "../topicAlarm";
import { FUNCTION_TIMEOUT_SECONDS } from "./lambda/certificateProvider";

export const CERTIFICATE_PROVIDER_ENTRY = path.join(__dirname, "lambda", "certificateProvider.ts");

/** The only operation AWS IoT's certificate provider serves (CreateCertificateProvider, accountDefaultForOperations). */
export const CERTIFICATE_PROVIDER_OPERATIONS = [awsnative.types.enums.iot.CertificateProviderOperation.CreateCertificateFromCsr];

export interface PrivateCaIssuerArgs {
    ctx: pulumi.Input<ArnContext>;
    /** Physical names: `<namePrefix>-certificate-provider` (the function and the certificate provider). */
    namePrefix: string;
    /** The maker's AWS Private CA, in the stack's account and region. */
    certificateAuthorityArn: string;
    templateArn: string;
    signingAlgorithm: SigningAlgorithm;
    validityDays: number;
    /** The O= of every certificate's subject. */
    organization: string;
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    /** Where the signer's metrics go (the stack's namespace) and its alarms notify (the operations topic). */
    metricNamespace: string;
    alarmTopicArn: pulumi.Input<string>;
    /** Certificates the signer may issue in an hour before an alarm (the factory's hourly output with headroom). */
    issuedPerHour: number;
}

/** The signer's decision lines (components/provisioning/lambda/certificateProvider.ts), as metric filter patterns. */
export const ISSUED_PATTERN = '{ $.event = "certificate-provider-decision" && $.issued IS TRUE }';
export const REFUSED_PATTERN = '{ $.event = "certificate-provider-decision" && $.issued IS FALSE }';

/** Why the CA cannot issue what the stack asks (DescribeCertificateAuthority's Status and UsageMode), or undefined. */
export function certificateAuthorityProblem(args: { certificateAuthorityArn: string; validityDays: number }, ca: { status: string; usageMode: string }): string | undefined {
    if (ca.status !== "ACTIVE") return `provisioning.identity.privateCa.certificateAuthorityArn: ${args.certificateAuthorityArn} is ${ca.status}; it must be ACTIVE to issue (aws acm-pca describe-certificate-authority)`;
    // AWS Private CA user guide, "CA modes": a short-lived certificate CA issues certificates valid for at most 7 days.
    if (ca.usageMode === "SHORT_LIVED_CERTIFICATE" && args.validityDays > 7) {
        return `provisioning.identity.privateCa.validityDays: ${args.validityDays}, but ${args.certificateAuthorityArn} is a short-lived-certificate CA (at most 7 days)`;
    }
    return undefined;
}

/**
 * `privateCa` identity mode, in the stack that owns the account's and region's certificate provider
 * (`provisioning.identity.privateCa.certificateProviderOwner`): AWS IoT's certificate provider, the Lambda it invokes
 * for every fleet-provisioning CreateCertificateFromCsr (components/provisioning/lambda/certificateProvider.ts), the
 * permission for AWS IoT to invoke it (on behalf of this provider in this account only), and the Private CA's
 * certificate registered with AWS IoT so that device certificates chain to the maker's CA.
 *
 * - `AWS::IoT::CertificateProvider` is an account-and-region singleton ("You can only create one certificate provider
 *   per AWS account", AWS IoT developer guide, "Self-managed certificate signing using AWS IoT Core certificate
 *   provider"): once it exists, every CreateCertificateFromCsr of fleet provisioning in the account and region goes
 *   through its Lambda, whichever stack's vehicle asks. Only the owner stack creates it.
 * - The CA certificate is read from AWS Private CA (its private key never leaves it) and registered in SNI_ONLY mode
 *   (RegisterCACertificate: no verification certificate, so nothing here needs the CA's key; the same CA may be
 *   registered by other accounts, AWS IoT developer guide, "Register a CA certificate (SNI_ONLY)"); without
 *   auto-registration: a certificate becomes AWS IoT's through fleet provisioning only, never by connecting. It outlives
 *   the stack (`retainOnDelete`) as the device policy does: the vehicles' certificates were issued under it.
 * - Each decision the signer logs is a metric (CertificatesIssued, CertificateRequestsRefused): any refusal alarms, and
 *   so does issuance beyond `operations.alarms.provisioningsPerHour` in an hour.
 * - The CA must be ACTIVE, and a short-lived-certificate CA (validity of at most 7 days, AWS Private CA user guide,
 *   "CA modes") cannot issue a longer validity: both are checked at preview from DescribeCertificateAuthority.
 */
export class PrivateCaIssuer extends pulumi.ComponentResource {
    public readonly functionName: pulumi.Output<string>;
    public readonly functionArn: pulumi.Output<string>;
    public readonly logGroupName: pulumi.Output<string>;
    public readonly certificateProviderArn: pulumi.Output<string>;
    public readonly caCertificateId: pulumi.Output<string>;
    /** Its alarms (refusals, issuance above the hourly budget): on the stack's dashboard. */
    public readonly alarmArns: pulumi.Output<string>[];

    constructor(name: string, args: PrivateCaIssuerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:PrivateCaIssuer", name, {}, opts);
        const ctx = pulumi.output(args.ctx);
        const providerName = `${args.namePrefix}-certificate-provider`;

        const { fn, logGroup } = nodeLambda(`${name}-fn`, this, {
            ctx,
            functionName: providerName,
            description: "AWS IoT certificate provider: signs fleet-provisioning CSRs with the maker's AWS Private CA",
            roleDescription: "AWS IoT certificate provider: its logs, and issuing from one Private CA with one template",
            code: handlerArchive(CERTIFICATE_PROVIDER_ENTRY),
            handler: "index.handler",
            timeout: FUNCTION_TIMEOUT_SECONDS,
            environment: {
                CA_ARN: args.certificateAuthorityArn,
                TEMPLATE_ARN: args.templateArn,
                SIGNING_ALGORITHM: args.signingAlgorithm,
                VALIDITY_DAYS: String(args.validityDays),
                ORGANIZATION: args.organization,
            },
            kmsKeyArn: args.kmsKeyArn,
            logRetentionDays: args.logRetentionDays,
            policyInputs: {},
            policy: (_c, logGroupArn) => certificateProviderRolePolicy({
                logGroupArn, certificateAuthorityArn: args.certificateAuthorityArn, templateArn: args.templateArn,
            }),
        });

        // AWS IoT invokes the function on behalf of this certificate provider in this account only.
        const permission = new aws.lambda.Permission(`${name}-invoke`, {
            function: fn.name,
            action: "lambda:InvokeFunction",
            principal: "iot.amazonaws.com",
            sourceAccount: ctx.accountId,
            sourceArn: ctx.apply((c) => certificateProviderArn(c, providerName)),
        }, { parent: this });

        const provider = new awsnative.iot.CertificateProvider(`${name}-provider`, {
            certificateProviderName: providerName,
            lambdaFunctionArn: fn.arn,
            accountDefaultForOperations: CERTIFICATE_PROVIDER_OPERATIONS,
        }, { parent: this, dependsOn: [permission] });

        const ca = aws.acmpca.getCertificateAuthorityOutput({ arn: args.certificateAuthorityArn }, { parent: this });
        const caCertificatePem = pulumi.all([ca.status, ca.usageMode, ca.certificate]).apply(([status, usageMode, certificate]) => {
            const problem = certificateAuthorityProblem(args, { status, usageMode });
            if (problem) throw new Error(problem);
            return certificate;
        });
        const registered = new aws.iot.CaCertificate(`${name}-ca`, {
            caCertificatePem,
            certificateMode: "SNI_ONLY",
            active: true,
            allowAutoRegistration: false,
        }, { parent: this, retainOnDelete: true });

        // Every issuance and refusal is a metric: refusals (a CA request, a foreign subject, a weak key, the CA failing)
        // alarm at once; issuance beyond the factory's hourly output suggests the claim certificate in other hands.
        const metric = (suffix: string, metricName: string, pattern: string) => new aws.cloudwatch.LogMetricFilter(`${name}-${suffix}`, {
            logGroupName: logGroup.name,
            pattern,
            metricTransformation: { namespace: args.metricNamespace, name: metricName, value: "1", defaultValue: "0", unit: "Count" },
        }, { parent: this });
        metric("issued", "CertificatesIssued", ISSUED_PATTERN);
        metric("refused", "CertificateRequestsRefused", REFUSED_PATTERN);
        const refusals = topicAlarm(`${name}-refusals`, this, args.alarmTopicArn, {
            name: `${args.namePrefix}-certificate-provider-refusals`,
            alarmDescription: "The certificate provider refused a CSR (a CA request, a foreign subject, a weak key) or AWS Private CA failed: see its decision log (docs/identity.md, privateCa)",
            namespace: args.metricNamespace, metricName: "CertificateRequestsRefused", statistic: "Sum", period: 300, threshold: 1,
        });
        const issuedPerHour = topicAlarm(`${name}-issued-per-hour`, this, args.alarmTopicArn, {
            name: `${args.namePrefix}-certificate-provider-issued-per-hour`,
            alarmDescription: "AWS Private CA issued more vehicle certificates in an hour than the factory makes: the claim certificate may be in other hands (docs/identity.md, privateCa)",
            namespace: args.metricNamespace, metricName: "CertificatesIssued", statistic: "Sum", period: 3600, threshold: args.issuedPerHour,
        });

        this.functionName = fn.name;
        this.functionArn = fn.arn;
        this.logGroupName = logGroup.name;
        this.certificateProviderArn = provider.arn;
        this.caCertificateId = registered.id;
        this.alarmArns = [refusals.arn, issuedPerHour.arn];
        this.registerOutputs({
            functionName: this.functionName,
            certificateProviderArn: this.certificateProviderArn,
            caCertificateId: this.caCertificateId,
        });
    }
}
