import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { trustedBy } from "../arnContext";
import * as random from "@pulumi/random";
import { basicIngestTopicFor, RouteConfig, RoutingConfig } from "../../config/routingConfig";
import { ArnContext } from "../../policies/document";
import { ruleRolePolicy } from "../../policies/ruleEngine";
import { CrossAccountPeering } from "./crossAccountPeering";
import { MskCluster } from "./mskCluster";
import { metricNamespace, ruleFailureMetricFilter } from "../operations/operations";
import { PasswordSource, ScramSecret } from "./scramSecret";

export interface RuleRoutingArgs {
    ctx: pulumi.Input<ArnContext>;
    namePrefix: string;
    region: string;
    routing: RoutingConfig;
    /** From `pulumi config set --secret mskPassword`; generated (and kept secret) when absent. */
    password?: pulumi.Input<string>;
    /** False when mskPassword sits in the stack file in plain text (it is still handled as a secret here). */
    passwordIsConfigSecret?: boolean;
    /** The stack key: error logs, and a created cluster's storage and broker logs. */
    stackKeyArn: pulumi.Input<string>;
    logRetentionDays: number;
    protect: boolean;
    /** `aws` provider of the MSK account, for cross-account routing. */
    mskProvider?: aws.Provider;
}

/** `${get_secret(...)}` substitution that reads one field of the SCRAM secret with the rule role. */
export function getSecretTemplate(secretName: string, field: "username" | "password", roleArn: string): string {
    return `\${get_secret('${secretName}', 'SecretString', '${field}', '${roleArn}')}`;
}

export interface KafkaClientPropertiesArgs {
    bootstrapServers: string;
    secretName: string;
    roleArn: string;
    acks?: string;
    compressionType?: string;
}

/** The Kafka action's client properties: SASL_SSL with SCRAM-SHA-512, credentials read from the secret. */
export function kafkaClientProperties(a: KafkaClientPropertiesArgs): Record<string, string> {
    return {
        "bootstrap.servers": a.bootstrapServers,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.scram.username": getSecretTemplate(a.secretName, "username", a.roleArn),
        "sasl.scram.password": getSecretTemplate(a.secretName, "password", a.roleArn),
        ...(a.acks ? { acks: a.acks } : {}),
        ...(a.compressionType ? { "compression.type": a.compressionType } : {}),
    };
}

/**
 * Topic rules from Basic Ingest (`$aws/rules/<ruleName>/...`) to Kafka on Amazon MSK through a VPC
 * rule destination, with SCRAM credentials in Secrets Manager under a customer-managed key. Every
 * rule has an error action into an encrypted CloudWatch log group.
 */
export class RuleRouting extends pulumi.ComponentResource {
    public readonly ruleNames: string[];
    /** Per route, the topic a vehicle publishes to (`{thingName}` where the rule's FROM has `+`). */
    public readonly basicIngestTopics: string[];
    public readonly secretName: pulumi.Output<string>;
    public readonly secretArn: pulumi.Output<string>;
    public readonly roleArn: pulumi.Output<string>;
    public readonly destinationArn: pulumi.Output<string>;
    /** Whether the destination watch re-enables a disabled destination (`routing.reenableDestination`). */
    public readonly reenableDestination: boolean;
    public readonly bootstrapServers: pulumi.Output<string>;
    public readonly errorLogGroupName: pulumi.Output<string>;
    public readonly clusterArn: pulumi.Output<string>;

    constructor(name: string, args: RuleRoutingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fms:iot:RuleRouting", name, {}, opts);
        const parent = { parent: this };
        const ctx = pulumi.output(args.ctx);
        const { msk, kafka, routes } = args.routing;
        const cross = msk.mode === "existing" ? msk.crossAccount : undefined;
        if (cross && !args.mskProvider) throw new Error("RuleRouting: cross-account routing needs the MSK account's provider");

        const password = args.password ?? new random.RandomPassword(`${name}-scram-password`, { length: 32, special: false }, parent).result;
        const passwordSource: PasswordSource = !args.password ? "generated" : args.passwordIsConfigSecret === false ? "plain-config" : "secret-config";
        const secretName = `AmazonMSK_${args.namePrefix}`;
        const recoveryWindowInDays = args.protect ? 30 : 0;

        const role = new aws.iam.Role(`${name}-rule-role`, {
            description: `IoT rule engine of ${args.namePrefix}: VPC destination, MSK secret, rule errors`,
            assumeRolePolicy: trustedBy("iot.amazonaws.com", ctx),
        }, parent);

        const secret = new ScramSecret(`${name}-scram`, {
            ctx, secretName, username: kafka.username, password, readerRoleArns: [role.arn], recoveryWindowInDays, passwordSource,
        }, parent);

        // The cluster: created here, or an existing one (in this account or, cross-account, in another).
        let clusterArn: pulumi.Input<string>;
        let bootstrapServers: pulumi.Input<string>;
        let vpcId: pulumi.Input<string>;
        let subnetIds: pulumi.Input<string>[];
        let destinationSg: pulumi.Input<string>;
        if (msk.mode === "create") {
            const cluster = new MskCluster(`${name}-msk`, {
                namePrefix: args.namePrefix, msk, kmsKeyArn: args.stackKeyArn, logRetentionDays: args.logRetentionDays,
            }, parent);
            ({ clusterArn, bootstrapServers, vpcId, subnetIds } = cluster);
            destinationSg = this.destinationSecurityGroup(name, vpcId, cluster.securityGroupId, msk.port, true);
            new aws.msk.ScramSecretAssociation(`${name}-scram-association`, {
                clusterArn, secretArnLists: [secret.arn],
            }, { parent: this, dependsOn: [secret.version] });
        } else if (cross) {
            const peering = new CrossAccountPeering(`${name}-peering`, {
                namePrefix: args.namePrefix, region: args.region, cross, mskVpcId: msk.vpcId, mskSecurityGroupId: msk.securityGroupId,
                port: msk.port, mskProvider: args.mskProvider!, manageCluster: msk.manageCluster,
            }, parent);
            ({ clusterArn, vpcId, subnetIds } = { clusterArn: msk.clusterArn, vpcId: peering.vpcId, subnetIds: peering.subnetIds });
            bootstrapServers = msk.bootstrapServers.join(",");
            destinationSg = peering.destinationSecurityGroupId;
            // The cluster reads SCRAM secrets from its own account: a matching secret and key there.
            const mskCtx = ctx.apply((c) => ({ ...c, accountId: cross.mskAccountId }));
            const mskSecret = new ScramSecret(`${name}-msk-scram`, {
                ctx: mskCtx, secretName, username: kafka.username, password, readerRoleArns: [], recoveryWindowInDays, passwordSource,
            }, { parent: this, provider: args.mskProvider });
            if (msk.manageCluster) {
                new aws.msk.SingleScramSecretAssociation(`${name}-msk-scram-association`, {
                    clusterArn, secretArn: mskSecret.arn,
                }, { parent: this, provider: args.mskProvider, dependsOn: [mskSecret.version] });
            }
        } else {
            ({ clusterArn, vpcId, subnetIds } = msk);
            bootstrapServers = msk.bootstrapServers.join(",");
            destinationSg = this.destinationSecurityGroup(name, vpcId, msk.securityGroupId, msk.port, msk.manageCluster);
            if (msk.manageCluster) {
                // Not the authoritative association: other secrets on a shared cluster stay associated.
                new aws.msk.SingleScramSecretAssociation(`${name}-scram-association`, {
                    clusterArn, secretArn: secret.arn,
                }, { parent: this, dependsOn: [secret.version] });
            }
        }

        const errorLogs = new aws.cloudwatch.LogGroup(`${name}-rule-errors`, {
            name: `/aws/iot/rules/${args.namePrefix}-errors`,
            retentionInDays: args.logRetentionDays,
            kmsKeyId: args.stackKeyArn,
        }, parent);

        const rolePolicy = new aws.iam.RolePolicy(`${name}-rule-policy`, {
            role: role.id,
            policy: pulumi.all([secret.arn, secret.keyArn, errorLogs.arn]).apply(([secretArn, secretKeyArn, errorLogGroupArn]) =>
                JSON.stringify(ruleRolePolicy({ region: args.region, secretArn, secretKeyArn, errorLogGroupArn }))),
        }, parent);

        // Created after the role's policy, deleted before it: a destination whose role is gone strands its interfaces.
        const destination = new aws.iot.TopicRuleDestination(`${name}-destination`, {
            enabled: true,
            vpcConfiguration: { roleArn: role.arn, vpcId, subnetIds, securityGroups: [destinationSg] },
        }, { parent: this, dependsOn: [rolePolicy], customTimeouts: { create: "30m", update: "30m", delete: "45m" } });

        const clientProperties = pulumi.all([bootstrapServers, secret.secretName, role.arn]).apply(([servers, sName, roleArn]) =>
            kafkaClientProperties({ bootstrapServers: servers, secretName: sName, roleArn, acks: kafka.acks, compressionType: kafka.compressionType }));

        for (const route of routes) this.rule(name, route, destination.arn, clientProperties, errorLogs.name, role.arn, [rolePolicy, secret.version]);
        // Every failed action writes an error document here: counted into the stack's RuleActionFailures metric.
        ruleFailureMetricFilter(`${name}-rule-failures`, errorLogs.name, metricNamespace(args.namePrefix), this);

        this.ruleNames = routes.map((r) => r.ruleName);
        this.basicIngestTopics = routes.map((r) => basicIngestTopicFor(r.ruleName, r.sql));
        this.secretName = secret.secretName;
        this.secretArn = secret.arn;
        this.roleArn = role.arn;
        this.destinationArn = destination.arn;
        this.reenableDestination = args.routing.reenableDestination;
        this.bootstrapServers = pulumi.output(bootstrapServers);
        this.errorLogGroupName = errorLogs.name;
        this.clusterArn = pulumi.output(clusterArn);
        this.registerOutputs({
            ruleNames: this.ruleNames, secretName: this.secretName, destinationArn: this.destinationArn,
            bootstrapServers: this.bootstrapServers, errorLogGroupName: this.errorLogGroupName,
        });
    }

    /** The rule destination's security group, and (when the cluster is ours to change) the brokers' ingress from it. */
    private destinationSecurityGroup(name: string, vpcId: pulumi.Input<string>, brokerSg: pulumi.Input<string>, port: number, openBrokers: boolean): pulumi.Output<string> {
        const parent = { parent: this };
        const sg = new aws.ec2.SecurityGroup(`${name}-destination-sg`, {
            vpcId, description: "IoT rule destination: to the MSK brokers' SCRAM port only",
        }, parent);
        new aws.vpc.SecurityGroupEgressRule(`${name}-destination-to-brokers`, {
            securityGroupId: sg.id, ipProtocol: "tcp", fromPort: port, toPort: port, referencedSecurityGroupId: brokerSg,
            description: "Kafka SASL/SCRAM over TLS to the MSK brokers",
        }, parent);
        if (openBrokers) {
            new aws.vpc.SecurityGroupIngressRule(`${name}-brokers-from-destination`, {
                securityGroupId: brokerSg, ipProtocol: "tcp", fromPort: port, toPort: port, referencedSecurityGroupId: sg.id,
                description: "Kafka SASL/SCRAM from the IoT rule destination",
            }, parent);
        }
        return sg.id;
    }

    private rule(
        name: string, route: RouteConfig, destinationArn: pulumi.Input<string>, clientProperties: pulumi.Input<Record<string, string>>,
        errorLogGroupName: pulumi.Input<string>, roleArn: pulumi.Input<string>, dependsOn: pulumi.Resource[],
    ): aws.iot.TopicRule {
        return new aws.iot.TopicRule(`${name}-${route.key}`, {
            name: route.ruleName,
            description: `Basic Ingest $aws/rules/${route.ruleName}/... to Kafka topic ${route.kafkaTopic}`,
            enabled: true,
            sql: route.sql,
            sqlVersion: "2016-03-23",
            kafkas: [{ destinationArn, topic: route.kafkaTopic, key: route.kafkaKey, clientProperties }],
            errorAction: { cloudwatchLogs: { logGroupName: errorLogGroupName, roleArn } },
        }, { parent: this, dependsOn });
    }
}
