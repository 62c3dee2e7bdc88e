import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CreatedMskConfig } from "../../config/routingConfig";

export interface MskClusterArgs {
    namePrefix: string;
    msk: CreatedMskConfig;
    /** Customer-managed key for encryption at rest and the broker logs. */
    kmsKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
}

/**
 * A small provisioned MSK cluster for stacks that have none (seed 002): a VPC with private subnets,
 * SASL/SCRAM client authentication only, TLS in transit (client-broker and in-cluster), encryption
 * at rest with the stack key, and broker logs in an encrypted CloudWatch log group.
 */
export class MskCluster extends pulumi.ComponentResource {
    public readonly clusterArn: pulumi.Output<string>;
    public readonly bootstrapServers: pulumi.Output<string>;
    public readonly vpcId: pulumi.Output<string>;
    public readonly subnetIds: pulumi.Output<string>[];
    public readonly securityGroupId: pulumi.Output<string>;

    constructor(name: string, args: MskClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:msk:Cluster", name, {}, opts);
        const parent = { parent: this };
        const m = args.msk;
        const vpc = new aws.ec2.Vpc(`${name}-vpc`, {
            cidrBlock: m.vpcCidr,
            enableDnsSupport: true,
            enableDnsHostnames: true,
            tags: { Name: `${args.namePrefix}-msk` },
        }, parent);
        const zones = aws.getAvailabilityZonesOutput({ state: "available" }, parent);
        const subnets = m.subnetCidrs.map((cidr, i) => new aws.ec2.Subnet(`${name}-private-${i}`, {
            vpcId: vpc.id,
            cidrBlock: cidr,
            availabilityZone: zones.names[i],
            mapPublicIpOnLaunch: false,
            tags: { Name: `${args.namePrefix}-msk-private-${i}` },
        }, parent));
        const brokers = new aws.ec2.SecurityGroup(`${name}-brokers`, {
            vpcId: vpc.id,
            description: `MSK brokers of ${args.namePrefix}: SASL/SCRAM over TLS from the IoT rule destination only`,
        }, parent);
        const logGroup = new aws.cloudwatch.LogGroup(`${name}-broker-logs`, {
            name: `/aws/msk/${args.namePrefix}`,
            retentionInDays: args.logRetentionDays,
            kmsKeyId: args.kmsKeyArn,
        }, parent);
        const configuration = new aws.msk.Configuration(`${name}-config`, {
            kafkaVersions: [m.kafkaVersion],
            serverProperties: [
                "auto.create.topics.enable=true",
                `default.replication.factor=${Math.min(3, m.subnetCidrs.length)}`,
                `min.insync.replicas=${Math.max(1, Math.min(3, m.subnetCidrs.length) - 1)}`,
                "allow.everyone.if.no.acl.found=true",
            ].join("\n"),
        }, parent);
        const cluster = new aws.msk.Cluster(`${name}-cluster`, {
            clusterName: `${args.namePrefix}-fms`,
            kafkaVersion: m.kafkaVersion,
            numberOfBrokerNodes: m.subnetCidrs.length,
            brokerNodeGroupInfo: {
                instanceType: m.brokerInstanceType,
                clientSubnets: subnets.map((s) => s.id),
                securityGroups: [brokers.id],
                storageInfo: { ebsStorageInfo: { volumeSize: m.brokerVolumeGiB } },
            },
            clientAuthentication: { sasl: { scram: true }, unauthenticated: false },
            encryptionInfo: {
                encryptionAtRestKmsKeyArn: args.kmsKeyArn,
                encryptionInTransit: { clientBroker: "TLS", inCluster: true },
            },
            configurationInfo: { arn: configuration.arn, revision: configuration.latestRevision },
            loggingInfo: { brokerLogs: { cloudwatchLogs: { enabled: true, logGroup: logGroup.name } } },
        }, { parent: this, customTimeouts: { create: "120m", update: "120m", delete: "120m" } });
        this.clusterArn = cluster.arn;
        this.bootstrapServers = cluster.bootstrapBrokersSaslScram;
        this.vpcId = vpc.id;
        this.subnetIds = subnets.map((s) => s.id);
        this.securityGroupId = brokers.id;
        this.registerOutputs({ clusterArn: this.clusterArn, bootstrapServers: this.bootstrapServers });
    }
}
