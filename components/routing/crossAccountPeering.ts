import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CrossAccountConfig } from "../../config/routingConfig";

export interface CrossAccountPeeringArgs {
    namePrefix: string;
    region: string;
    cross: CrossAccountConfig;
    mskVpcId: string;
    mskSecurityGroupId: string;
    port: number;
    /** The `aws` provider of the MSK account (assumes `cross.roleArn`). */
    mskProvider: aws.Provider;
    /** Open the brokers' security group to the IoT VPC. */
    manageCluster: boolean;
}

/**
 * Seed 002: the IoT rule destination lives in a VPC of the IoT account, peered with the MSK
 * account's VPC. Requests the peering from the IoT account, accepts it in the MSK account, and
 * routes both ways; opens the brokers' SCRAM port to the IoT VPC only.
 */
export class CrossAccountPeering extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly subnetIds: pulumi.Output<string>[];
    public readonly destinationSecurityGroupId: pulumi.Output<string>;
    public readonly peeringConnectionId: pulumi.Output<string>;

    constructor(name: string, args: CrossAccountPeeringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:msk:CrossAccountPeering", name, {}, opts);
        const parent = { parent: this };
        const inMsk = { parent: this, provider: args.mskProvider };
        const c = args.cross;

        const vpc = new aws.ec2.Vpc(`${name}-iot-vpc`, {
            cidrBlock: c.iotVpcCidr, enableDnsSupport: true, enableDnsHostnames: true, tags: { Name: `${args.namePrefix}-iot-rules` },
        }, parent);
        const zones = aws.getAvailabilityZonesOutput({ state: "available" }, parent);
        const routeTable = new aws.ec2.RouteTable(`${name}-iot-routes`, { vpcId: vpc.id }, parent);
        const subnets = c.iotSubnetCidrs.map((cidr, i) => {
            const subnet = new aws.ec2.Subnet(`${name}-iot-private-${i}`, {
                vpcId: vpc.id, cidrBlock: cidr, availabilityZone: zones.names[i], mapPublicIpOnLaunch: false,
            }, parent);
            new aws.ec2.RouteTableAssociation(`${name}-iot-private-${i}`, { subnetId: subnet.id, routeTableId: routeTable.id }, parent);
            return subnet;
        });

        const peering = new aws.ec2.VpcPeeringConnection(`${name}-peering`, {
            vpcId: vpc.id,
            peerVpcId: args.mskVpcId,
            peerOwnerId: c.mskAccountId,
            peerRegion: args.region,
            autoAccept: false,
            tags: { Name: `${args.namePrefix}-iot-to-msk` },
        }, parent);
        const accepter = new aws.ec2.VpcPeeringConnectionAccepter(`${name}-peering-accept`, {
            vpcPeeringConnectionId: peering.id,
            autoAccept: true,
            tags: { Name: `${args.namePrefix}-iot-to-msk` },
        }, inMsk);

        new aws.ec2.Route(`${name}-to-msk`, {
            routeTableId: routeTable.id, destinationCidrBlock: c.mskVpcCidr, vpcPeeringConnectionId: peering.id,
        }, { parent: this, dependsOn: [accepter] });
        c.mskRouteTableIds.forEach((rtb, i) => new aws.ec2.Route(`${name}-to-iot-${i}`, {
            routeTableId: rtb, destinationCidrBlock: c.iotVpcCidr, vpcPeeringConnectionId: accepter.id,
        }, inMsk));

        const destination = new aws.ec2.SecurityGroup(`${name}-destination`, {
            vpcId: vpc.id, description: `IoT rule destination of ${args.namePrefix}: to the MSK brokers' SCRAM port only`,
        }, parent);
        new aws.vpc.SecurityGroupEgressRule(`${name}-to-brokers`, {
            securityGroupId: destination.id, ipProtocol: "tcp", fromPort: args.port, toPort: args.port, cidrIpv4: c.mskVpcCidr,
            description: "Kafka SASL/SCRAM over TLS to the peered MSK VPC",
        }, parent);
        if (args.manageCluster) {
            new aws.vpc.SecurityGroupIngressRule(`${name}-brokers-from-iot`, {
                securityGroupId: args.mskSecurityGroupId, ipProtocol: "tcp", fromPort: args.port, toPort: args.port, cidrIpv4: c.iotVpcCidr,
                description: `Kafka SASL/SCRAM from the IoT rule destination of ${args.namePrefix}`,
            }, inMsk);
        }

        this.vpcId = vpc.id;
        this.subnetIds = subnets.map((s) => s.id);
        this.destinationSecurityGroupId = destination.id;
        this.peeringConnectionId = peering.id;
        this.registerOutputs({ vpcId: this.vpcId, peeringConnectionId: this.peeringConnectionId });
    }
}
