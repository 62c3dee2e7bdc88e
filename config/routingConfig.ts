import { ConfigError } from "./errors";
import { readBoolean, readEnum, readObject, readString, readStringList } from "./validate";

/** The `routing` section of stack config: topic rules from Basic Ingest to Kafka on Amazon MSK. */

export interface RouteConfig {
    key: string;
    /** `<namePrefix with _>_<key>`: `^[a-zA-Z0-9_]+$`, at most 128 characters. */
    ruleName: string;
    sql: string;
    kafkaTopic: string;
    /** Kafka message key (substitution template); default the sending Thing's name. */
    kafkaKey: string;
}

export interface CrossAccountConfig {
    /** Role in the MSK account that the second `aws` provider assumes. */
    roleArn: string;
    mskAccountId: string;
    mskVpcCidr: string;
    /** Route tables of the MSK subnets: they get a route back to the IoT VPC. */
    mskRouteTableIds: string[];
    /** The IoT account's VPC for the rule destination, peered with the MSK VPC. */
    iotVpcCidr: string;
    iotSubnetCidrs: string[];
}

export interface ExistingMskConfig {
    mode: "existing";
    clusterArn: string;
    bootstrapServers: string[];
    /** The SASL/SCRAM port, taken from the bootstrap servers. */
    port: number;
    vpcId: string;
    subnetIds: string[];
    securityGroupId: string;
    /** The cluster is ours to change: associate the secret and open the broker security group. */
    manageCluster: boolean;
    crossAccount?: CrossAccountConfig;
}

export interface CreatedMskConfig {
    mode: "create";
    vpcCidr: string;
    subnetCidrs: string[];
    kafkaVersion: string;
    brokerInstanceType: string;
    brokerVolumeGiB: number;
    port: number;
}

export interface RoutingConfig {
    kafka: { username: string; acks?: string; compressionType?: string };
    msk: ExistingMskConfig | CreatedMskConfig;
    routes: RouteConfig[];
}

/** SASL/SCRAM with TLS: the brokers' port inside the VPC. */
export const SCRAM_PORT = 9096;
/** Default Kafka message key: the MQTT client id, which the device policy forces to equal the Thing name. */
export const THING_NAME_KEY = "${clientid()}";

const KEY = /^[A-Za-z0-9_]{1,64}$/;
const RULE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-8])$/;
const VPC = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const SG = /^sg-[0-9a-f]{8,17}$/;
const RTB = /^rtb-[0-9a-f]{8,17}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const BOOTSTRAP = /^[a-zA-Z0-9.-]{1,253}:(\d{2,5})$/;
const SCRAM_USER = /^[A-Za-z0-9_.@-]{1,64}$/;

/** The Basic Ingest topic for a route: its FROM filter with `+` as the Thing name and `#` as `status`. */
export function basicIngestTopicFor(ruleName: string, sql: string): string {
    const from = /\sFROM\s+'([^']+)'/i.exec(sql)?.[1] ?? "";
    const topic = from.split("/").map((level) => (level === "+" ? "{thingName}" : level === "#" ? "status" : level)).join("/");
    return `$aws/rules/${ruleName}/${topic}`;
}

/** Rule key of the certificate-confirmation rule (reserved: no route may use it). */
export const CONFIRM_RULE_KEY = "cert_confirm";

export function ruleNameFor(namePrefix: string, key: string): string {
    return `${namePrefix.replace(/-/g, "_")}_${key}`;
}

export function parseRouting(key: string, value: unknown, namePrefix: string, region: string): RoutingConfig | undefined {
    if (value === undefined) return undefined;
    const r = readObject(key, value, ["kafka", "msk", "routes"]);
    const kafka = readObject(`${key}.kafka`, r.kafka, ["username", "acks", "compressionType"]);
    return {
        kafka: {
            username: readString(`${key}.kafka.username`, kafka.username, { pattern: SCRAM_USER, allowed: "1-64 characters from A-Z a-z 0-9 _ . @ -" }),
            acks: kafka.acks === undefined ? undefined : readEnum(`${key}.kafka.acks`, String(kafka.acks), ["0", "1", "all"]),
            compressionType: kafka.compressionType === undefined ? undefined
                : readEnum(`${key}.kafka.compressionType`, kafka.compressionType, ["none", "gzip", "snappy", "lz4", "zstd"]),
        },
        msk: parseMsk(`${key}.msk`, r.msk, region),
        routes: parseRoutes(`${key}.routes`, r.routes, namePrefix),
    };
}

function parseRoutes(key: string, value: unknown, namePrefix: string): RouteConfig[] {
    if (!Array.isArray(value) || value.length === 0) throw new ConfigError(key, value, "a non-empty list of routes, each {key, sql?, kafkaTopic?, kafkaKey?}");
    const seen = new Set<string>();
    return value.map((item, i) => {
        const k = `${key}[${i}]`;
        const route = readObject(k, item, ["key", "sql", "kafkaTopic", "kafkaKey"]);
        const routeKey = readString(`${k}.key`, route.key, { pattern: KEY, allowed: "1-64 characters from A-Z a-z 0-9 _ (it becomes part of the rule name, which allows no '-')" });
        if (seen.has(routeKey)) throw new ConfigError(`${k}.key`, routeKey, "route keys must be unique");
        if (routeKey === CONFIRM_RULE_KEY) throw new ConfigError(`${k}.key`, routeKey, `another key: ${CONFIRM_RULE_KEY} names the certificate-confirmation rule`);
        seen.add(routeKey);
        const ruleName = ruleNameFor(namePrefix, routeKey);
        if (!RULE_NAME.test(ruleName)) throw new ConfigError(`${k}.key`, routeKey, `the rule name ${ruleName} must match ^[a-zA-Z0-9_]+$ and be at most 128 characters`);
        const sql = readString(`${k}.sql`, route.sql, { pattern: /^\s*SELECT\s+\S[\s\S]*\sFROM\s+'[^']+'/i, maxLength: 4096, allowed: "an AWS IoT SQL statement: SELECT ... FROM '<topic filter>' ..." }, `SELECT * FROM 'test-rule/${routeKey}'`);
        return {
            key: routeKey,
            ruleName,
            sql,
            kafkaTopic: readString(`${k}.kafkaTopic`, route.kafkaTopic, { pattern: KAFKA_TOPIC, allowed: "a Kafka topic: 1-249 characters from a-z A-Z 0-9 . _ -" }, `test-msk-topic.${routeKey}`),
            kafkaKey: readString(`${k}.kafkaKey`, route.kafkaKey, { pattern: /^\S.{0,255}$/, allowed: "a non-empty substitution template such as ${clientid()}" }, THING_NAME_KEY),
        };
    });
}

function parseMsk(key: string, value: unknown, region: string): ExistingMskConfig | CreatedMskConfig {
    const mode = readEnum(`${key}.mode`, (value as Record<string, unknown> | undefined)?.mode, ["existing", "create"] as const);
    if (mode === "create") {
        const m = readObject(key, value, ["mode", "vpcCidr", "subnetCidrs", "kafkaVersion", "brokerInstanceType", "brokerVolumeGiB"]);
        const subnetCidrs = readStringList(`${key}.subnetCidrs`, m.subnetCidrs, { minItems: 2, pattern: CIDR, allowed: "an IPv4 CIDR of /16-/28" });
        const volume = Number(m.brokerVolumeGiB ?? 10);
        if (!Number.isInteger(volume) || volume < 1 || volume > 16384) throw new ConfigError(`${key}.brokerVolumeGiB`, m.brokerVolumeGiB, "a whole number of GiB from 1 to 16384");
        return {
            mode,
            vpcCidr: readString(`${key}.vpcCidr`, m.vpcCidr, { pattern: CIDR, allowed: "an IPv4 CIDR of /16-/28" }),
            subnetCidrs,
            kafkaVersion: readString(`${key}.kafkaVersion`, m.kafkaVersion, { pattern: /^\d+\.\d+\.\d+(\.x)?$/, allowed: "an MSK Kafka version such as 3.6.0" }, "3.6.0"),
            brokerInstanceType: readString(`${key}.brokerInstanceType`, m.brokerInstanceType, { pattern: /^kafka\.[a-z0-9]+\.[a-z0-9]+$/, allowed: "an MSK broker type such as kafka.t3.small" }, "kafka.t3.small"),
            brokerVolumeGiB: volume,
            port: SCRAM_PORT,
        };
    }
    const m = readObject(key, value, ["mode", "clusterArn", "bootstrapServers", "vpcId", "subnetIds", "securityGroupId", "manageCluster", "crossAccount"]);
    const bootstrapServers = readStringList(`${key}.bootstrapServers`, m.bootstrapServers, { minItems: 1, pattern: BOOTSTRAP, allowed: "host:port of a broker's SASL/SCRAM listener" });
    const ports = new Set(bootstrapServers.map((b) => Number(BOOTSTRAP.exec(b)![1])));
    if (ports.size !== 1) throw new ConfigError(`${key}.bootstrapServers`, bootstrapServers, "all brokers must use the same SASL/SCRAM port");
    const crossAccount = m.crossAccount === undefined ? undefined : parseCrossAccount(`${key}.crossAccount`, m.crossAccount);
    const clusterArn = readString(`${key}.clusterArn`, m.clusterArn, {
        pattern: new RegExp(`^arn:aws[a-z-]*:kafka:${region}:\\d{12}:cluster/[A-Za-z0-9-]+/[0-9a-f-]+(-\\d+)?$`),
        allowed: `an MSK cluster ARN in ${region} (arn:aws:kafka:${region}:<account>:cluster/<name>/<uuid>)`,
    });
    if (crossAccount && !clusterArn.includes(`:${crossAccount.mskAccountId}:`)) {
        throw new ConfigError(`${key}.crossAccount.roleArn`, crossAccount.roleArn, "must be a role in the account that owns clusterArn");
    }
    return {
        mode,
        clusterArn,
        bootstrapServers,
        port: [...ports][0],
        vpcId: readString(`${key}.vpcId`, m.vpcId, { pattern: VPC, allowed: "a VPC id (vpc-...)" }),
        subnetIds: readStringList(`${key}.subnetIds`, m.subnetIds, { minItems: 1, pattern: SUBNET, allowed: "a subnet id (subnet-...)" }),
        securityGroupId: readString(`${key}.securityGroupId`, m.securityGroupId, { pattern: SG, allowed: "a security group id (sg-...)" }),
        manageCluster: readBoolean(`${key}.manageCluster`, m.manageCluster, true),
        crossAccount,
    };
}

function parseCrossAccount(key: string, value: unknown): CrossAccountConfig {
    const c = readObject(key, value, ["roleArn", "mskVpcCidr", "mskRouteTableIds", "iotVpcCidr", "iotSubnetCidrs"]);
    const roleArn = readString(`${key}.roleArn`, c.roleArn, { pattern: ROLE_ARN, allowed: "an IAM role ARN in the MSK account" });
    const mskVpcCidr = readString(`${key}.mskVpcCidr`, c.mskVpcCidr, { pattern: CIDR, allowed: "an IPv4 CIDR of /16-/28" });
    const iotVpcCidr = readString(`${key}.iotVpcCidr`, c.iotVpcCidr, { pattern: CIDR, allowed: "an IPv4 CIDR of /16-/28" });
    if (cidrsOverlap(mskVpcCidr, iotVpcCidr)) {
        throw new ConfigError(`${key}.iotVpcCidr`, iotVpcCidr, `must not overlap mskVpcCidr ${mskVpcCidr} (peered VPCs need distinct ranges)`);
    }
    return {
        roleArn,
        mskAccountId: roleArn.split(":")[4],
        mskVpcCidr,
        mskRouteTableIds: readStringList(`${key}.mskRouteTableIds`, c.mskRouteTableIds, { minItems: 1, pattern: RTB, allowed: "a route table id (rtb-...)" }),
        iotVpcCidr,
        iotSubnetCidrs: readStringList(`${key}.iotSubnetCidrs`, c.iotSubnetCidrs, { minItems: 1, pattern: CIDR, allowed: "an IPv4 CIDR of /16-/28 inside iotVpcCidr" }),
    };
}

function cidrRange(cidr: string): [number, number] {
    const [ip, bits] = cidr.split("/");
    const base = ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
    const size = 2 ** (32 - Number(bits));
    const start = base - (base % size);
    return [start, start + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
    const [a0, a1] = cidrRange(a);
    const [b0, b1] = cidrRange(b);
    return a0 <= b1 && b0 <= a1;
}
