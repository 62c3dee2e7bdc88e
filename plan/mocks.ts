import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT_ID = "123456789012";

function hex(seed: string, length: number): string {
    return crypto.createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/**
 * Pulumi mocks that answer like AWS would: ARNs in the stack's region and the example account
 * 123456789012, generated names with a suffix, the IoT endpoint, MSK brokers, and claim-certificate
 * outputs. Used by the tests and by `npm run plan`.
 */
export class AwsMocks implements pulumi.runtime.Mocks {
    /**
     * `previewUpdate`: answer a dynamic resource as the engine does in the preview of an update: its id (kept by an
     * update) and its new inputs as its state, nothing the provider would compute (a dynamic provider has no preview;
     * pulumi/pulumi v3.248.0 sdk/go/common/resource/plugin/provider_plugin.go, Update).
     */
    constructor(private readonly region: string, private readonly previewUpdate = false) {}

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        const state = this.stateFor(args);
        if (this.previewUpdate && args.type.startsWith("pulumi-nodejs:dynamic/")) return { id: state.id ?? `${args.name}-id`, state: { ...args.inputs } };
        return { id: state.id ?? `${args.name}-id`, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        switch (args.token) {
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/ci`, userId: "AIDAEXAMPLE", id: ACCOUNT_ID };
            case "aws:index/getPartition:getPartition":
                return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
            case "aws:index/getRegion:getRegion":
                return { name: this.region, region: this.region, id: this.region };
            case "aws:index/getAvailabilityZones:getAvailabilityZones":
                return { names: ["a", "b", "c", "d"].map((z) => `${this.region}${z}`), zoneIds: [], id: this.region };
            case "aws:cloudwatch/getLogGroup:getLogGroup":
                // The region's Greengrass system log group, as its owning stack created it.
                return { name: args.inputs.name, arn: `arn:aws:logs:${this.region}:${ACCOUNT_ID}:log-group:${args.inputs.name}`, retentionInDays: 365, kmsKeyId: "", id: args.inputs.name };
            case "aws:iot/getEndpoint:getEndpoint":
                return args.inputs.endpointType === "iot:CredentialProvider"
                    ? { endpointAddress: `c1b2c3d4e5f6g7.credentials.iot.${this.region}.amazonaws.com`, id: this.region }
                    : { endpointAddress: `a1b2c3d4e5f6g7-ats.iot.${this.region}.amazonaws.com`, id: this.region };
            case "aws:acmpca/getCertificateAuthority:getCertificateAuthority":
                // DescribeCertificateAuthority + GetCertificateAuthorityCertificate of an active general-purpose CA.
                return {
                    arn: args.inputs.arn, id: args.inputs.arn, status: "ACTIVE", type: "SUBORDINATE", usageMode: "GENERAL_PURPOSE",
                    certificate: "-----BEGIN CERTIFICATE-----\nMOCK-PRIVATE-CA\n-----END CERTIFICATE-----\n", certificateChain: "",
                    keyStorageSecurityStandard: "FIPS_140_2_LEVEL_3_OR_HIGHER", notBefore: "2026-01-01T00:00:00Z", notAfter: "2036-01-01T00:00:00Z",
                };
            default:
                return args.inputs;
        }
    }

    private stateFor(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
        const i = args.inputs;
        const r = this.region;
        const a = ACCOUNT_ID;
        const suffix = hex(args.name, 7);
        const named = i.name ?? `${args.name}-${suffix}`;
        switch (args.type) {
            case "aws:kms/key:Key": {
                const keyId = `${hex(args.name, 8)}-1234-5678-9abc-${hex(args.name, 12)}`;
                return { ...i, id: keyId, keyId, arn: `arn:aws:kms:${r}:${a}:key/${keyId}` };
            }
            case "aws:kms/alias:Alias":
                return { ...i, arn: `arn:aws:kms:${r}:${a}:${i.name}` };
            case "aws:s3/bucket:Bucket": {
                const bucket = `${i.bucketPrefix ?? args.name}${suffix}`;
                return { ...i, id: bucket, bucket, arn: `arn:aws:s3:::${bucket}` };
            }
            case "aws:dynamodb/table:Table":
                return { ...i, id: named, name: named, arn: `arn:aws:dynamodb:${r}:${a}:table/${named}` };
            case "aws:cloudwatch/logGroup:LogGroup":
                return { ...i, id: named, name: named, arn: `arn:aws:logs:${r}:${a}:log-group:${named}` };
            case "aws:iam/role:Role":
                return { ...i, id: named, name: named, arn: `arn:aws:iam::${a}:role/${named}` };
            case "aws:lambda/function:Function":
                return { ...i, id: named, name: named, arn: `arn:aws:lambda:${r}:${a}:function:${named}` };
            case "aws:iot/policy:Policy":
                return { ...i, id: i.name, arn: `arn:aws:iot:${r}:${a}:policy/${i.name}` };
            case "aws:iot/thingType:ThingType":
                return { ...i, id: i.name, arn: `arn:aws:iot:${r}:${a}:thingtype/${i.name}` };
            case "aws:iot/thingGroup:ThingGroup":
                return { ...i, id: i.name, arn: `arn:aws:iot:${r}:${a}:thinggroup/${i.name}` };
            case "aws:iot/provisioningTemplate:ProvisioningTemplate":
                return { ...i, id: i.name, arn: `arn:aws:iot:${r}:${a}:provisioningtemplate/${i.name}` };
            case "aws:secretsmanager/secret:Secret": {
                const arn = `arn:aws:secretsmanager:${r}:${a}:secret:${i.name}-${suffix.slice(0, 6)}`;
                return { ...i, id: arn, arn };
            }
            case "aws:secretsmanager/secretVersion:SecretVersion":
                return { ...i, id: `${i.secretId}|v1`, versionId: "v1" };
            case "aws:iot/caCertificate:CaCertificate": {
                // AWS IoT's CA certificate id is the SHA-256 of the certificate's DER encoding (64 hex digits).
                // The aws provider marks caCertificatePem sensitive: the mock sees it as a secret-wrapped value.
                const raw = i.caCertificatePem;
                const pem = typeof raw === "string" ? raw : typeof raw?.value === "string" ? raw.value as string : undefined;
                // A stand-in PEM (the Private CA lookup's mock certificate) is hashed as text.
                const der = (text: string) => { try { return new crypto.X509Certificate(text).raw; } catch { return Buffer.from(text); } };
                const id = crypto.createHash("sha256").update(pem ? der(pem) : Buffer.from(args.name)).digest("hex");
                return { ...i, id, arn: `arn:aws:iot:${r}:${a}:cacert/${id}`, customerVersion: 1, generationId: "g1" };
            }
            case "aws:iot/topicRule:TopicRule":
                return { ...i, id: i.name, arn: `arn:aws:iot:${r}:${a}:rule/${i.name}` };
            case "aws:iot/topicRuleDestination:TopicRuleDestination": {
                const arn = `arn:aws:iot:${r}:${a}:ruledestination/vpc/${hex(args.name, 8)}-aaaa-bbbb-cccc-${hex(args.name, 12)}`;
                return { ...i, id: arn, arn };
            }
            case "aws:ec2/vpc:Vpc":
                return { ...i, id: `vpc-${hex(args.name, 17)}`, arn: `arn:aws:ec2:${r}:${a}:vpc/vpc-${hex(args.name, 17)}` };
            case "aws:ec2/subnet:Subnet":
                return { ...i, id: `subnet-${hex(args.name, 17)}` };
            case "aws:ec2/securityGroup:SecurityGroup":
                return { ...i, id: `sg-${hex(args.name, 17)}`, arn: `arn:aws:ec2:${r}:${a}:security-group/sg-${hex(args.name, 17)}` };
            case "aws:ec2/routeTable:RouteTable":
                return { ...i, id: `rtb-${hex(args.name, 17)}` };
            case "aws:ec2/vpcPeeringConnection:VpcPeeringConnection":
                return { ...i, id: `pcx-${hex(args.name, 17)}` };
            case "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter":
                return { ...i, id: i.vpcPeeringConnectionId };
            case "aws:msk/configuration:Configuration":
                return { ...i, arn: `arn:aws:kafka:${r}:${a}:configuration/${args.name}/${hex(args.name, 8)}`, latestRevision: 1 };
            case "aws:msk/cluster:Cluster": {
                const arn = `arn:aws:kafka:${r}:${a}:cluster/${i.clusterName}/${hex(args.name, 8)}-1234-5678-9abc-${hex(args.name, 12)}-2`;
                const brokers = Array.from({ length: i.numberOfBrokerNodes }, (_, n) => `b-${n + 1}.${i.clusterName}.abc123.c2.kafka.${r}.amazonaws.com`);
                return {
                    ...i, id: arn, arn,
                    bootstrapBrokersSaslScram: brokers.map((b) => `${b}:9096`).join(","),
                    bootstrapBrokersTls: brokers.map((b) => `${b}:9094`).join(","),
                };
            }
            case "aws:iot/roleAlias:RoleAlias":
                return { ...i, id: i.alias, arn: `arn:aws:iot:${r}:${a}:rolealias/${i.alias}` };
            case "aws-native:greengrassv2:ComponentVersion": {
                const recipe = JSON.parse(i.inlineRecipe ?? "{}");
                const arn = `arn:aws:greengrass:${r}:${a}:components:${recipe.ComponentName}:versions:${recipe.ComponentVersion}`;
                return { ...i, id: arn, arn, componentName: recipe.ComponentName, componentVersion: recipe.ComponentVersion };
            }
            case "aws-native:greengrassv2:Deployment": {
                const deploymentId = `${hex(args.name, 8)}-${hex(args.name + "1", 4)}-${hex(args.name + "2", 4)}-${hex(args.name + "3", 4)}-${hex(args.name + "4", 12)}`;
                return { ...i, id: deploymentId, deploymentId };
            }
            case "aws:sqs/queue:Queue":
                // As AWS names them: the queue's id is its URL, the ARN is arn:aws:sqs:<region>:<account>:<name>.
                return { ...i, id: `https://sqs.${r}.amazonaws.com/${a}/${i.name}`, url: `https://sqs.${r}.amazonaws.com/${a}/${i.name}`, arn: `arn:aws:sqs:${r}:${a}:${i.name}` };
            case "aws:sns/topic:Topic":
                return { ...i, id: `arn:aws:sns:${r}:${a}:${i.name}`, arn: `arn:aws:sns:${r}:${a}:${i.name}` };
            case "aws:cloudwatch/eventRule:EventRule":
                // A rule on the default event bus: arn:aws:events:<region>:<account>:rule/<name>.
                return { ...i, id: named, name: named, arn: `arn:aws:events:${r}:${a}:rule/${named}` };
            case "aws:cloudwatch/metricAlarm:MetricAlarm":
                return { ...i, id: i.name, arn: `arn:aws:cloudwatch:${r}:${a}:alarm:${i.name}` };
            case "aws-native:iot:SecurityProfile":
                return { ...i, id: i.securityProfileName, securityProfileArn: `arn:aws:iot:${r}:${a}:securityprofile/${i.securityProfileName}` };
            case "aws-native:iot:ScheduledAudit":
                return { ...i, id: i.scheduledAuditName, scheduledAuditArn: `arn:aws:iot:${r}:${a}:scheduledaudit/${i.scheduledAuditName}` };
            case "aws-native:iot:CertificateProvider":
                return { ...i, id: i.certificateProviderName, arn: `arn:aws:iot:${r}:${a}:certprovider/${i.certificateProviderName}` };
            case "aws-native:iot:FleetMetric":
                return { ...i, id: i.metricName, metricArn: `arn:aws:iot:${r}:${a}:fleetmetric/${i.metricName}` };
            case "random:index/randomPassword:RandomPassword":
                return { ...i, id: "none", result: "generated-password-0123456789abcdef" };
            case "pulumi-nodejs:dynamic/iot:ClaimCertificate": {
                const certificateId = hex(args.name, 64);
                return {
                    ...i,
                    id: certificateId,
                    certificateId,
                    certificateArn: `arn:aws:iot:${r}:${a}:cert/${certificateId}`,
                    certificatePem: "-----BEGIN CERTIFICATE-----\nMOCK\n-----END CERTIFICATE-----\n",
                    publicKeyPem: "-----BEGIN PUBLIC KEY-----\nMOCK\n-----END PUBLIC KEY-----\n",
                    ...(i.csrPem ? {} : { privateKeyPem: "-----BEGIN RSA PRIVATE KEY-----\nMOCK-SECRET\n-----END RSA PRIVATE KEY-----\n" }),
                    mode: i.csrPem ? "csr" : "create-keys",
                };
            }
            default:
                return { ...i, id: `${args.name}-${suffix}`, arn: `arn:aws:mock:${r}:${a}:${args.type}/${args.name}` };
        }
    }
}
