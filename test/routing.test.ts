import * as assert from "assert";
import { ProgramRun, runStack } from "../plan/program";
import { ACCOUNT_ID } from "../plan/mocks";
import { assertStackConfigError, assertLeastPrivilege, isSecretValue, parsePolicy, statement } from "./support/assertions";

const REGION = "ap-northeast-2";

function editRouting(change: (r: any) => void): (c: Record<string, string>) => void {
    return (c) => {
        const r = JSON.parse(c["fms-iot:routing"]);
        change(r);
        c["fms-iot:routing"] = JSON.stringify(r);
    };
}

const CROSS = {
    roleArn: "arn:aws:iam::210987654321:role/fms-msk-peering",
    mskVpcCidr: "10.20.0.0/16",
    mskRouteTableIds: ["rtb-0a1b2c3d4e5f60718", "rtb-0b1c2d3e4f5a60718"],
    iotVpcCidr: "10.30.0.0/24",
    iotSubnetCidrs: ["10.30.0.0/26", "10.30.0.64/26"],
};
const CROSS_CLUSTER = "arn:aws:kafka:ap-northeast-2:210987654321:cluster/fms-msk/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-2";

for (const stack of ["kr", "dev"]) {
    describe(`routing on the ${stack} stack`, function () {
        this.timeout(60_000);
        let run: ProgramRun;
        const prefix = `fms_${stack}`;
        before(async () => { run = await runStack(stack); });

        it("one rule per route, named from the stack prefix and key, with the seed's SQL and Kafka topics", () => {
            const rules = routeRules(run);
            assert.deepStrictEqual(rules.map((r) => r.inputs.name), [`${prefix}_rule1`, `${prefix}_rule2`, `${prefix}_rule3`]);
            for (const [i, r] of rules.entries()) {
                assert.match(r.inputs.name, /^[a-zA-Z0-9_]+$/);
                assert.strictEqual(r.inputs.sql, `SELECT * FROM 'test-rule/rule${i + 1}'`);
                assert.strictEqual(r.inputs.sqlVersion, "2016-03-23");
                assert.strictEqual(r.inputs.enabled, true);
                assert.strictEqual(r.inputs.kafkas.length, 1);
                assert.strictEqual(r.inputs.kafkas[0].topic, `test-msk-topic.rule${i + 1}`);
                assert.strictEqual(r.inputs.kafkas[0].key, "${clientid()}", "each vehicle's messages stay in one partition");
            }
            assert.deepStrictEqual(run.outputs.basicIngestTopics, [1, 2, 3].map((n) => `$aws/rules/${prefix}_rule${n}/test-rule/rule${n}`));
        });

        it("Kafka client properties: SASL_SSL, SCRAM-SHA-512, credentials from the actual secret with the actual role", () => {
            const secret = run.one("aws:secretsmanager/secret:Secret");
            const role = run.one("aws:iam/role:Role", "-rule-role");
            const destination = run.one("aws:iot/topicRuleDestination:TopicRuleDestination");
            for (const r of routeRules(run)) {
                const kafka = r.inputs.kafkas[0];
                assert.strictEqual(kafka.destinationArn, destination.state.arn);
                assert.deepStrictEqual(kafka.clientProperties, {
                    "bootstrap.servers": run.outputs.mskBootstrapServers,
                    "security.protocol": "SASL_SSL",
                    "sasl.mechanism": "SCRAM-SHA-512",
                    "sasl.scram.username": `\${get_secret('${secret.inputs.name}', 'SecretString', 'username', '${role.state.arn}')}`,
                    "sasl.scram.password": `\${get_secret('${secret.inputs.name}', 'SecretString', 'password', '${role.state.arn}')}`,
                    ...(stack === "kr" ? { acks: "all" } : {}),
                });
                assert.match(String(run.outputs.mskBootstrapServers), /^(b-\d\.[a-z0-9.-]+:9096,?)+$/);
            }
        });

        it("every rule has an error action into an encrypted log group with retention", () => {
            const logs = run.one("aws:cloudwatch/logGroup:LogGroup", "-rule-errors");
            assert.strictEqual(logs.inputs.name, `/aws/iot/rules/fms-${stack}-errors`);
            assert.ok(logs.inputs.retentionInDays > 0);
            assert.strictEqual(logs.inputs.kmsKeyId, run.one("aws:kms/key:Key", "-key-key").state.arn);
            for (const r of routeRules(run)) {
                assert.deepStrictEqual(r.inputs.errorAction, { cloudwatchLogs: { logGroupName: logs.state.name, roleArn: run.one("aws:iam/role:Role", "-rule-role").state.arn } });
            }
        });

        it("rule role: VPC-destination interfaces under AWS's conditions, this secret and this key only", () => {
            const role = run.one("aws:iam/role:Role", "-rule-role");
            assert.deepStrictEqual(parsePolicy(role.inputs.assumeRolePolicy).Statement[0].Principal, { Service: "iot.amazonaws.com" });
            const doc = parsePolicy(run.one("aws:iam/rolePolicy:RolePolicy", "-rule-policy").inputs.policy);
            assertLeastPrivilege({ ...doc, Statement: doc.Statement.filter((s) => !s.Action.some((a) => a.startsWith("ec2:"))) });
            for (const s of doc.Statement) assert.ok(!s.Action.some((a) => a.endsWith(":*") || a === "*"), s.Sid);
            assert.deepStrictEqual(statement(doc, "PermissionOnTaggedInterfacesOnly").Condition, { StringEquals: { "ec2:ResourceTag/VPCDestinationENI": "true" } });
            assert.deepStrictEqual(statement(doc, "TagOnlyNewDestinationInterfaces").Condition, {
                StringEquals: { "ec2:CreateAction": "CreateNetworkInterface", "aws:RequestTag/VPCDestinationENI": "true" },
            });
            assert.deepStrictEqual(statement(doc, "ReadMskSecret").Resource, [run.one("aws:secretsmanager/secret:Secret").state.arn]);
            const decrypt = statement(doc, "DecryptMskSecret");
            assert.deepStrictEqual(decrypt.Action, ["kms:Decrypt"]);
            assert.deepStrictEqual(decrypt.Resource, [run.one("aws:kms/key:Key", "-scram-key").state.arn]);
            const errors = run.one("aws:cloudwatch/logGroup:LogGroup", "-rule-errors").state.arn;
            assert.deepStrictEqual(statement(doc, "WriteRuleErrors").Resource, [errors, `${errors}:*`]);
        });

        it("secret: AmazonMSK_<prefix>, on its own customer-managed key that the root administers and the rule role decrypts", () => {
            const secret = run.one("aws:secretsmanager/secret:Secret");
            const key = run.one("aws:kms/key:Key", "-scram-key");
            assert.strictEqual(secret.inputs.name, `AmazonMSK_fms-${stack}`);
            assert.strictEqual(secret.inputs.kmsKeyId, key.state.arn);
            assert.strictEqual(key.inputs.enableKeyRotation, true);
            const policy = parsePolicy(key.inputs.policy);
            assert.deepStrictEqual(statement(policy, "AccountRootAdministersKey").Principal, { AWS: `arn:aws:iam::${ACCOUNT_ID}:root` });
            const readers = statement(policy, "ReadersDecryptThroughSecretsManager");
            assert.deepStrictEqual(readers.Principal, { AWS: [run.one("aws:iam/role:Role", "-rule-role").state.arn] });
            assert.deepStrictEqual(readers.Condition, { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } });
        });

        it("the SCRAM password is generated, a secret in state, and in no output", () => {
            const version = run.one("aws:secretsmanager/secretVersion:SecretVersion");
            assert.ok(isSecretValue(version.inputs.secretString));
            const value = JSON.parse(String(version.inputs.secretString.value));
            assert.deepStrictEqual(Object.keys(value).sort(), ["password", "username"]);
            assert.strictEqual(value.username, "fms-iot");
            assert.strictEqual(value.password, run.one("random:index/randomPassword:RandomPassword").state.result);
            assert.ok(!JSON.stringify(run.outputs).includes(value.password));
        });

        it("VPC destination in the MSK subnets, and security groups that reach exactly the brokers' SCRAM port", () => {
            const destination = run.one("aws:iot/topicRuleDestination:TopicRuleDestination");
            const sg = run.one("aws:ec2/securityGroup:SecurityGroup", "-destination-sg");
            const vpc = destination.inputs.vpcConfiguration;
            assert.strictEqual(vpc.roleArn, run.one("aws:iam/role:Role", "-rule-role").state.arn);
            assert.deepStrictEqual(vpc.securityGroups, [sg.state.id]);
            const egress = run.one("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").inputs;
            const ingress = run.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs;
            const brokerSg = stack === "kr" ? "sg-0a1b2c3d4e5f60718" : run.one("aws:ec2/securityGroup:SecurityGroup", "-msk-brokers").state.id;
            assert.deepStrictEqual([egress.securityGroupId, egress.referencedSecurityGroupId, egress.fromPort, egress.toPort, egress.ipProtocol], [sg.state.id, brokerSg, 9096, 9096, "tcp"]);
            assert.deepStrictEqual([ingress.securityGroupId, ingress.referencedSecurityGroupId, ingress.fromPort, ingress.toPort], [brokerSg, sg.state.id, 9096, 9096]);
            if (stack === "kr") {
                assert.strictEqual(vpc.vpcId, "vpc-0a1b2c3d4e5f60718");
                assert.deepStrictEqual(vpc.subnetIds, ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718"]);
            } else {
                assert.strictEqual(vpc.vpcId, run.one("aws:ec2/vpc:Vpc").state.id);
                assert.deepStrictEqual(vpc.subnetIds, run.ofType("aws:ec2/subnet:Subnet").map((s) => s.state.id));
            }
        });

        it("the device policy allows Basic Ingest to exactly these rules", () => {
            const doc = parsePolicy(run.one("aws:iot/policy:Policy", "-device-policy").inputs.policy);
            assert.deepStrictEqual(statement(doc, "BasicIngest").Resource,
                [...[1, 2, 3].map((n) => `${prefix}_rule${n}`), `${prefix}_cert_confirm`].map((r) => `arn:aws:iot:${REGION}:${ACCOUNT_ID}:topic/$aws/rules/${r}/*`));
        });

        it(stack === "kr" ? "IoT logging is on for the region, with its own role" : "IoT logging is kr's (the owner of the region's settings)", () => {
            if (stack !== "kr") {
                assert.strictEqual(run.ofType("pulumi-nodejs:dynamic/iot:RegionSettings").length, 0);
                return;
            }
            const settings = run.one("pulumi-nodejs:dynamic/iot:RegionSettings");
            assert.deepStrictEqual(settings.inputs.logging, { roleArn: run.one("aws:iam/role:Role", "-logging-role").state.arn, defaultLogLevel: "ERROR" });
            const logs = run.one("aws:cloudwatch/logGroup:LogGroup", "-logging-log-group");
            assert.strictEqual(logs.inputs.name, "AWSIotLogsV2");
            assert.ok(logs.inputs.kmsKeyId);
        });
    });
}


/** The rules of the routes (the certificate-confirmation rule belongs to rotation). */
function routeRules(run: ProgramRun) {
    return run.ofType("aws:iot/topicRule:TopicRule").filter((r) => !r.inputs.name.endsWith("_cert_confirm"));
}

describe("routing modes", function () {
    this.timeout(60_000);

    it("create (dev): SASL/SCRAM only, TLS in transit, encrypted at rest, broker logs, secret associated", async () => {
        const run = await runStack("dev");
        const cluster = run.one("aws:msk/cluster:Cluster").inputs;
        assert.deepStrictEqual(cluster.clientAuthentication, { sasl: { scram: true }, unauthenticated: false });
        assert.deepStrictEqual(cluster.encryptionInfo.encryptionInTransit, { clientBroker: "TLS", inCluster: true });
        assert.strictEqual(cluster.encryptionInfo.encryptionAtRestKmsKeyArn, run.one("aws:kms/key:Key", "-key-key").state.arn);
        assert.strictEqual(cluster.loggingInfo.brokerLogs.cloudwatchLogs.enabled, true);
        assert.strictEqual(cluster.brokerNodeGroupInfo.instanceType, "kafka.t3.small");
        assert.strictEqual(cluster.numberOfBrokerNodes, 2);
        const association = run.one("aws:msk/scramSecretAssociation:ScramSecretAssociation").inputs;
        assert.strictEqual(association.clusterArn, run.one("aws:msk/cluster:Cluster").state.arn);
        assert.deepStrictEqual(association.secretArnLists, [run.one("aws:secretsmanager/secret:Secret").state.arn]);
    });

    it("existing (kr): associates the secret without taking over the cluster's other secrets", async () => {
        const run = await runStack("kr");
        assert.strictEqual(run.ofType("aws:msk/cluster:Cluster").length, 0);
        assert.strictEqual(run.ofType("aws:msk/scramSecretAssociation:ScramSecretAssociation").length, 0);
        const a = run.one("aws:msk/singleScramSecretAssociation:SingleScramSecretAssociation").inputs;
        assert.strictEqual(a.clusterArn, "arn:aws:kafka:ap-northeast-2:123456789012:cluster/fms-kr/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-2");
        assert.strictEqual(a.secretArn, run.one("aws:secretsmanager/secret:Secret").state.arn);
    });

    it("existing, not ours to change: no association and no rule on the brokers' security group", async () => {
        const run = await runStack("kr", { edit: editRouting((r) => { r.msk.manageCluster = false; }) });
        assert.strictEqual(run.ofType("aws:msk/singleScramSecretAssociation:SingleScramSecretAssociation").length, 0);
        assert.strictEqual(run.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").length, 0);
    });

    it("a password from encrypted config replaces the generated one and stays secret", async () => {
        const run = await runStack("kr", { edit: (c) => { c["fms-iot:mskPassword"] = "from-encrypted-config-9f8e7d"; }, secretKeys: ["fms-iot:mskPassword"] });
        assert.strictEqual(run.ofType("random:index/randomPassword:RandomPassword").length, 0);
        const version = run.one("aws:secretsmanager/secretVersion:SecretVersion");
        assert.ok(isSecretValue(version.inputs.secretString));
        assert.strictEqual(JSON.parse(String(version.inputs.secretString.value)).password, "from-encrypted-config-9f8e7d");
    });

    it("cross-account: a second provider, peering requested and accepted, routes both ways, the secret in both accounts", async () => {
        const run = await runStack("kr", { edit: editRouting((r) => { r.msk.clusterArn = CROSS_CLUSTER; r.msk.crossAccount = CROSS; }) });
        const providers = run.ofType("pulumi:providers:aws");
        assert.strictEqual(providers.length, 2);
        const msk = providers.find((p) => p.name === "fms-kr-msk-aws")!;
        assert.strictEqual(JSON.parse(msk.inputs.assumeRoles)[0].roleArn, CROSS.roleArn);
        const inMsk = (r: { provider?: string }) => (r.provider ?? "").includes("fms-kr-msk-aws");

        const peering = run.one("aws:ec2/vpcPeeringConnection:VpcPeeringConnection");
        assert.strictEqual(peering.inputs.peerOwnerId, "210987654321");
        assert.strictEqual(peering.inputs.peerVpcId, "vpc-0a1b2c3d4e5f60718");
        assert.strictEqual(peering.inputs.vpcId, run.one("aws:ec2/vpc:Vpc").state.id);
        assert.ok(!inMsk(peering));
        const accepter = run.one("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter");
        assert.ok(inMsk(accepter));
        assert.strictEqual(accepter.inputs.autoAccept, true);
        assert.strictEqual(accepter.inputs.vpcPeeringConnectionId, peering.state.id);

        const routes = run.ofType("aws:ec2/route:Route");
        const toMsk = routes.filter((r) => r.inputs.destinationCidrBlock === CROSS.mskVpcCidr);
        const toIot = routes.filter((r) => r.inputs.destinationCidrBlock === CROSS.iotVpcCidr);
        assert.strictEqual(toMsk.length, 1);
        assert.ok(!inMsk(toMsk[0]));
        assert.deepStrictEqual(toIot.map((r) => r.inputs.routeTableId), CROSS.mskRouteTableIds);
        assert.ok(toIot.every(inMsk));

        const secrets = run.ofType("aws:secretsmanager/secret:Secret");
        assert.deepStrictEqual(secrets.map((s) => [s.inputs.name, inMsk(s)]).sort(), [["AmazonMSK_fms-kr", false], ["AmazonMSK_fms-kr", true]]);
        const mskSecret = secrets.find(inMsk)!;
        const mskKey = run.one("aws:kms/key:Key", "-msk-scram-key");
        assert.ok(inMsk(mskKey));
        assert.strictEqual(mskSecret.inputs.kmsKeyId, mskKey.state.arn);
        assert.deepStrictEqual(statement(parsePolicy(mskKey.inputs.policy), "AccountRootAdministersKey").Principal, { AWS: "arn:aws:iam::210987654321:root" });
        const association = run.one("aws:msk/singleScramSecretAssociation:SingleScramSecretAssociation");
        assert.ok(inMsk(association));
        assert.strictEqual(association.inputs.secretArn, mskSecret.state.arn);

        const destination = run.one("aws:iot/topicRuleDestination:TopicRuleDestination").inputs.vpcConfiguration;
        assert.strictEqual(destination.vpcId, run.one("aws:ec2/vpc:Vpc").state.id, "the destination lives in the IoT account's VPC");
        const ingress = run.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
        assert.ok(inMsk(ingress));
        assert.deepStrictEqual([ingress.inputs.securityGroupId, ingress.inputs.cidrIpv4, ingress.inputs.fromPort], ["sg-0a1b2c3d4e5f60718", CROSS.iotVpcCidr, 9096]);
    });

    it("995 routes (with the certificate-confirmation rule and kr's four rules in the same account and region: AWS's default quota of 1,000 rules) evaluate, and the device policy stays within AWS IoT's size limit", async () => {
        const keys = Array.from({ length: 995 }, (_, i) => `r${i}`);
        const run = await runStack("dev", { edit: editRouting((r) => { r.routes = keys.map((key) => ({ key })); r.routes[0].key = "rule1"; }) });
        assert.strictEqual(routeRules(run).length, 995);
        assert.strictEqual(run.ofType("aws:iot/topicRule:TopicRule").length, 996);
        const policy = run.one("aws:iot/policy:Policy", "-device-policy").inputs.policy as string;
        assert.ok(policy.replace(/\s/g, "").length <= 2048);
        assert.deepStrictEqual(statement(parsePolicy(policy), "BasicIngest").Resource, [`arn:aws:iot:${REGION}:${ACCOUNT_ID}:topic/$aws/rules/fms_dev_*`]);
    });

    const BAD: [string, (r: any) => void, string, RegExp][] = [
        ["duplicate route keys", (r) => { r.routes = [{ key: "rule1" }, { key: "rule1" }]; }, "fms-iot:routing.routes[1].key", /unique/],
        ["a key that cannot become a rule name", (r) => { r.routes = [{ key: "rule-1" }]; }, "fms-iot:routing.routes[0].key", /no '-'/],
        ["empty SQL", (r) => { r.routes = [{ key: "rule1", sql: "" }]; }, "fms-iot:routing.routes[0].sql", /AWS IoT SQL/],
        ["SQL that is not a SELECT", (r) => { r.routes = [{ key: "rule1", sql: "DELETE FROM 'x'" }]; }, "fms-iot:routing.routes[0].sql", /SELECT/],
        ["no routes", (r) => { r.routes = []; }, "fms-iot:routing.routes", /non-empty list/],
        ["a missing bootstrap list in existing mode", (r) => { delete r.msk.bootstrapServers; }, "fms-iot:routing.msk.bootstrapServers", /at least 1/],
        ["a broker on the TLS port instead of SASL/SCRAM's", (r) => { r.msk.bootstrapServers = ["b-1.x:9096", "b-2.x:9094"]; }, "fms-iot:routing.msk.bootstrapServers[1]", /a broker's SASL\/SCRAM listener, port 9096 \(MSK: 9092 plaintext, 9094 TLS, 9098 IAM/],
        ["a broker in another region", (r) => { r.msk.bootstrapServers = ["b-1.fmskr.abc123.c2.kafka.us-east-1.amazonaws.com:9096"]; }, "fms-iot:routing.msk.bootstrapServers[0]", /a broker in ap-northeast-2/],
        ["a cluster in another region", (r) => { r.msk.clusterArn = r.msk.clusterArn.replace("ap-northeast-2", "us-east-1"); }, "fms-iot:routing.msk.clusterArn", /in ap-northeast-2/],
        ["an unknown MSK mode", (r) => { r.msk.mode = "serverless"; }, "fms-iot:routing.msk.mode", /existing, create/],
        ["overlapping peered VPCs", (r) => { r.msk.clusterArn = CROSS_CLUSTER; r.msk.crossAccount = { ...CROSS, iotVpcCidr: "10.20.128.0/24" }; }, "fms-iot:routing.msk.crossAccount.iotVpcCidr", /must not overlap/],
        ["a cross-account role outside the cluster's account", (r) => { r.msk.crossAccount = CROSS; }, "fms-iot:routing.msk.crossAccount.roleArn", /account that owns clusterArn/],
        ["an unknown Kafka version", (r) => { r.msk = { mode: "create", vpcCidr: "10.40.0.0/16", subnetCidrs: ["10.40.1.0/24", "10.40.2.0/24"], kafkaVersion: "3.6.0" }; }, "fms-iot:routing.msk.kafkaVersion", /one of 3\.7\.x, 3\.8\.x, 3\.9\.x, 4\.0\.x$/],
        ["a CIDR that is not an address", (r) => { r.msk = { mode: "create", vpcCidr: "10.400.0.0/16", subnetCidrs: ["10.40.1.0/24", "10.40.2.0/24"] }; }, "fms-iot:routing.msk.vpcCidr", /10\.400\.0\.0 is not an IPv4 address/],
        ["a CIDR with host bits", (r) => { r.msk = { mode: "create", vpcCidr: "10.40.0.0/16", subnetCidrs: ["10.40.1.5/24", "10.40.2.0/24"] }; }, "fms-iot:routing.msk.subnetCidrs[0]", /10\.40\.1\.5\/24 is not a network address/],
        ["a subnet outside the VPC", (r) => { r.msk = { mode: "create", vpcCidr: "10.40.0.0/16", subnetCidrs: ["10.40.1.0/24", "10.41.2.0/24"] }; }, "fms-iot:routing.msk.subnetCidrs[1]", /a subnet inside vpcCidr 10\.40\.0\.0\/16$/],
        ["overlapping subnets", (r) => { r.msk = { mode: "create", vpcCidr: "10.40.0.0/16", subnetCidrs: ["10.40.0.0/23", "10.40.1.0/24"] }; }, "fms-iot:routing.msk.subnetCidrs[1]", /does not overlap subnetCidrs\[0\] 10\.40\.0\.0\/23/],
        ["a peered subnet outside the IoT VPC", (r) => { r.msk.clusterArn = CROSS_CLUSTER; r.msk.crossAccount = { ...CROSS, iotSubnetCidrs: ["10.31.0.0/26"] }; }, "fms-iot:routing.msk.crossAccount.iotSubnetCidrs[0]", /a subnet inside iotVpcCidr/],
        ["an invalid Kafka topic", (r) => { r.routes = [{ key: "rule1", kafkaTopic: "a topic" }]; }, "fms-iot:routing.routes[0].kafkaTopic", /Kafka topic/],
    ];
    for (const [label, change, key, allowed] of BAD) {
        it(`config error: ${label}`, async () => {
            assertStackConfigError("kr", editRouting(change), key, allowed);
        });
    }

    it("operations.regionSettingsOwner naming another stack (one with a stack file here) leaves the region's IoT logging to it", async () => {
        // dev names kr (same region; an owner in another region or account is refused across stack files: config/crossStack.ts).
        const run = await runStack("dev");
        assert.strictEqual(run.ofType("pulumi-nodejs:dynamic/iot:RegionSettings").length, 0);
        assert.strictEqual(run.ofType("aws:cloudwatch/logGroup:LogGroup").filter((l) => l.inputs.name === "AWSIotLogsV2").length, 0);
    });

    it("a stack without routing has no route rules; its device policy's Basic Ingest is the certificate confirmation alone", async () => {
        const run = await runStack("jp");
        assert.strictEqual(routeRules(run).length, 0);
        assert.deepStrictEqual(run.outputs.ruleNames, []);
        assert.deepStrictEqual(statement(parsePolicy(run.one("aws:iot/policy:Policy", "-device-policy").inputs.policy), "BasicIngest").Resource,
            [`arn:aws:iot:ap-northeast-1:${ACCOUNT_ID}:topic/$aws/rules/fms_jp_cert_confirm/*`]);
    });
});
