import * as net from "net";
import { z } from "zod";
import { ConfigError } from "./errors";
import { topicFilterProblem } from "./mqttTopics";
import { flag, list, oneOf, says, section, text, wholeNumber } from "./schema";

/** The `routing` section of stack config: topic rules from Basic Ingest to Kafka on Amazon MSK. */

/** SASL/SCRAM with TLS: the brokers' port inside the VPC (MSK: 9092 plaintext, 9094 TLS, 9096 SASL/SCRAM, 9098 IAM). */
export const SCRAM_PORT = 9096;
/** Default Kafka message key: the MQTT client id, which the device policy forces to equal the Thing name. */
export const THING_NAME_KEY = "${clientid()}";

/**
 * Kafka versions MSK accepts for a new cluster (Amazon MSK Developer Guide, "Supported Apache Kafka
 * versions", checked 2026-11-23): 3.6.0 reached end of support on 2026-06-01 and earlier ones before;
 * 3.8.x is AWS's recommended version.
 */
export const KAFKA_VERSIONS = ["3.7.x", "3.8.x", "3.9.x", "4.0.x"] as const;
export const DEFAULT_KAFKA_VERSION = "3.8.x";

/**
 * Standard broker sizes MSK offers for a provisioned cluster (Amazon MSK Developer Guide, "Broker
 * types" / "Standard broker sizes", checked 2026-12). Express brokers (express.m7g.*) are left out:
 * they take no EBS volume, which this program sets.
 */
export const MSK_BROKER_TYPES = [
    "kafka.t3.small",
    ...["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge"].map((s) => `kafka.m5.${s}`),
    ...["large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge"].map((s) => `kafka.m7g.${s}`),
] as const;

const KEY = /^[A-Za-z0-9_]{1,64}$/;
const RULE_NAME = /^[a-zA-Z0-9_]{1,128}$/;
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const CIDR_SYNTAX = /^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-8])$/;
const VPC = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const SG = /^sg-[0-9a-f]{8,17}$/;
const RTB = /^rtb-[0-9a-f]{8,17}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const BOOTSTRAP = /^([a-zA-Z0-9.-]{1,253}):(\d{1,5})$/;
const SCRAM_USER = /^[A-Za-z0-9_.@-]{1,64}$/;

/** The first and last address of an IPv4 CIDR (Node's net module parses the address: 10.400.1.0 is not one). */
function cidrBounds(cidr: string): { network: number; size: number; bits: number; first: string; last: string } | undefined {
    const [ip, bitsText] = cidr.split("/");
    if (!net.isIPv4(ip)) return undefined;
    const bits = Number(bitsText);
    const value = ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
    const size = 2 ** (32 - bits);
    const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
    return { network: value, size, bits, first: toIp(value), last: toIp(value - (value % size) + size - 1) };
}

/** An IPv4 CIDR of /16-/28 whose address is its network address (AWS refuses 10.0.1.5/24). */
const cidr = (what = "an IPv4 CIDR of /16-/28") => text(what, CIDR_SYNTAX).superRefine((v, ctx) => {
    const b = cidrBounds(v);
    if (!b) ctx.addIssue({ code: "custom", input: v, message: `${what}: ${v.split("/")[0]} is not an IPv4 address` });
    else if (b.network % b.size !== 0) ctx.addIssue({ code: "custom", input: v, message: `${what}: ${v} is not a network address (the host bits must be zero)` });
});

/** `inner` lies wholly inside `outer` (checked with Node's net.BlockList). */
export function cidrContains(outer: string, inner: string): boolean {
    const o = cidrBounds(outer);
    const i = cidrBounds(inner);
    if (!o || !i) return false;
    const block = new net.BlockList();
    block.addSubnet(o.first, o.bits, "ipv4");
    return block.check(i.first, "ipv4") && block.check(i.last, "ipv4");
}

export function cidrsOverlap(a: string, b: string): boolean {
    return cidrContains(a, b) || cidrContains(b, a);
}

const SQL_ALLOWED = "an AWS IoT SQL statement: SELECT ... FROM '<topic filter>' ...";

const routeSchema = section({
    key: text("1-64 characters from A-Z a-z 0-9 _ (it becomes part of the rule name, which allows no '-')", KEY),
    sql: text(SQL_ALLOWED, /^\s*SELECT\s+\S[\s\S]*\sFROM\s+'[^']+'/i, 4096)
        .superRefine((sql, ctx) => {
            // The FROM is a topic filter AWS IoT checks when the rule is created: checked here, before any resource.
            const problem = topicFilterProblem(/\sFROM\s+'([^']*)'/i.exec(sql)?.[1] ?? "");
            if (problem) ctx.addIssue({ code: "custom", input: sql, message: `${SQL_ALLOWED}; ${problem}` });
        }).optional(),
    kafkaTopic: text("a Kafka topic: 1-249 characters from a-z A-Z 0-9 . _ -", KAFKA_TOPIC).optional(),
    kafkaKey: text("a non-empty substitution template such as ${clientid()}", /^\S.{0,255}$/).optional(),
    ruleName: text("1-128 characters from a-z A-Z 0-9 _ (an AWS IoT rule name: vehicles publish to $aws/rules/<ruleName>/...)", RULE_NAME).optional()
        .meta({ description: "the rule's name when it is not <namePrefix with _>_<key>: keep an adopted rule's name, which vehicles in the field publish to" }),
}, "a topic rule: Basic Ingest to a Kafka topic");

const crossAccountSchema = section({
    roleArn: text("an IAM role ARN in the MSK account", ROLE_ARN),
    mskVpcCidr: cidr(),
    mskRouteTableIds: list(text("a route table id (rtb-...)", RTB), 1, "a route table id (rtb-...)"),
    iotVpcCidr: cidr(),
    iotSubnetCidrs: list(cidr("an IPv4 CIDR of /16-/28 inside iotVpcCidr"), 1, "an IPv4 CIDR of /16-/28 inside iotVpcCidr"),
}, "an MSK cluster in another account of the same region, reached through VPC peering");

const existingSchema = section({
    mode: z.literal("existing"),
    clusterArn: text("an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>)", /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9-]+\/[0-9a-f-]+(-\d+)?$/),
    bootstrapServers: list(text("host:port of a broker's SASL/SCRAM listener", BOOTSTRAP), 1, "host:port of a broker's SASL/SCRAM listener"),
    vpcId: text("a VPC id (vpc-...)", VPC),
    subnetIds: list(text("a subnet id (subnet-...)", SUBNET), 1, "a subnet id (subnet-...)"),
    securityGroupId: text("a security group id (sg-...)", SG),
    manageCluster: flag.optional(),
    crossAccount: crossAccountSchema.optional(),
}, "an MSK cluster that already exists");

const createSchema = section({
    mode: z.literal("create"),
    vpcCidr: cidr(),
    subnetCidrs: list(cidr(), 2, "an IPv4 CIDR of /16-/28").refine((l) => l.length <= 3, { error: "2 or 3 subnets: MSK puts one broker in each, in two or three Availability Zones" }),
    kafkaVersion: oneOf(KAFKA_VERSIONS).optional(),
    brokerInstanceType: oneOf(MSK_BROKER_TYPES).optional(),
    brokerVolumeGiB: wholeNumber(1, 16384).optional(),
}, "an MSK cluster this stack creates");

/** What an msk section is, in either mode: said when it is missing or its mode is. */
const MSK_MODES = "mode existing (with clusterArn, bootstrapServers, vpcId, subnetIds, securityGroupId: a cluster that exists) or mode create (with vpcCidr, subnetCidrs: a cluster of this stack's own)";

const mskSchema = z.discriminatedUnion("mode", [existingSchema, createSchema], {
    error: (issue) => (issue.input === undefined ? `required; an object with ${MSK_MODES}`
        : issue.code === "invalid_union" ? `one of existing, create: ${MSK_MODES}`
            : issue.code === "invalid_type" ? `an object with ${MSK_MODES}` : undefined),
}).meta({ description: "the MSK cluster: mode existing (its identifiers) or create (a cluster of this stack's own)" });

export const routingSchema = section({
    kafka: section({
        username: text("1-64 characters from A-Z a-z 0-9 _ . @ -", SCRAM_USER),
        acks: z.union([z.number(), z.string()], says("one of 0, 1, all")).transform(String).pipe(oneOf(["0", "1", "all"])).optional(),
        compressionType: oneOf(["none", "gzip", "snappy", "lz4", "zstd"]).optional(),
    }, "the Kafka client the rules use (SASL/SCRAM)"),
    msk: mskSchema,
    routes: z.array(routeSchema, { error: "a non-empty list of routes, each {key, sql?, kafkaTopic?, kafkaKey?}" })
        .min(1, { error: "a non-empty list of routes, each {key, sql?, kafkaTopic?, kafkaKey?}" }),
    reenableDestination: flag.optional().meta({ description: "set the VPC rule destination back to ENABLED when AWS IoT disables it after 30 days without traffic (default true)" }),
}, "topic rules from Basic Ingest to Kafka on Amazon MSK").optional();

/** Rule key of the certificate-confirmation rule (reserved: no route may use it). */
export const CONFIRM_RULE_KEY = "cert_confirm";

export function ruleNameFor(namePrefix: string, key: string): string {
    return `${namePrefix.replace(/-/g, "_")}_${key}`;
}

/** The Basic Ingest topic for a route: its FROM filter with `+` as the Thing name and `#` as `status`. */
export function basicIngestTopicFor(ruleName: string, sql: string): string {
    const from = /\sFROM\s+'([^']+)'/i.exec(sql)?.[1] ?? "";
    const topic = from.split("/").map((level) => (level === "+" ? "{thingName}" : level === "#" ? "status" : level)).join("/");
    return `$aws/rules/${ruleName}/${topic}`;
}

type RawRouting = NonNullable<z.output<typeof routingSchema>>;
type RawCreate = z.output<typeof createSchema>;
type RawExisting = z.output<typeof existingSchema>;

/** Defaults and the checks that involve more than one field (names, ports, regions, address ranges). */
export function resolveRouting(key: string, r: z.output<typeof routingSchema>, namePrefix: string, region: string) {
    if (!r) return undefined;
    const seen = new Set<string>();
    const ruleNames = new Set<string>([ruleNameFor(namePrefix, CONFIRM_RULE_KEY)]);
    const routes = r.routes.map((route, i) => {
        const k = `${key}.routes[${i}]`;
        if (seen.has(route.key)) throw new ConfigError(`${k}.key`, route.key, "route keys must be unique");
        if (route.key === CONFIRM_RULE_KEY) throw new ConfigError(`${k}.key`, route.key, `another key: ${CONFIRM_RULE_KEY} names the certificate-confirmation rule`);
        seen.add(route.key);
        const ruleName = route.ruleName ?? ruleNameFor(namePrefix, route.key);
        if (!RULE_NAME.test(ruleName)) throw new ConfigError(`${k}.key`, route.key, `the rule name ${ruleName} must match ^[a-zA-Z0-9_]+$ and be at most 128 characters`);
        if (ruleNames.has(ruleName)) throw new ConfigError(`${k}.ruleName`, ruleName, "a rule name no other route (nor the certificate-confirmation rule) has");
        ruleNames.add(ruleName);
        return {
            key: route.key,
            /** `ruleName` if set, else `<namePrefix with _>_<key>`: `^[a-zA-Z0-9_]+$`, at most 128 characters. */
            ruleName,
            sql: route.sql ?? `SELECT * FROM 'test-rule/${route.key}'`,
            kafkaTopic: route.kafkaTopic ?? `test-msk-topic.${route.key}`,
            /** Kafka message key (substitution template); default the sending Thing's name. */
            kafkaKey: route.kafkaKey ?? THING_NAME_KEY,
        };
    });
    return {
        kafka: { username: r.kafka.username, acks: r.kafka.acks, compressionType: r.kafka.compressionType },
        msk: r.msk.mode === "create" ? resolveCreate(`${key}.msk`, r.msk as RawCreate, region) : resolveExisting(`${key}.msk`, r.msk as RawExisting, region),
        routes,
        /** An hourly watch sets the VPC rule destination back to ENABLED if AWS IoT disabled it. */
        reenableDestination: r.reenableDestination ?? true,
    };
}

function resolveCreate(key: string, m: RawCreate, region: string) {
    // MSK CreateCluster, BrokerNodeGroupInfo.ClientSubnets: "If you use the US West (N. California) Region,
    // specify exactly two subnets"; the broker count (one per subnet here) must be a multiple of it.
    if (region === "us-west-1" && m.subnetCidrs.length !== 2) {
        throw new ConfigError(`${key}.subnetCidrs`, m.subnetCidrs, "exactly 2 subnets in us-west-1 (MSK: it has two Availability Zones for brokers)");
    }
    m.subnetCidrs.forEach((s, i) => {
        if (!cidrContains(m.vpcCidr, s)) throw new ConfigError(`${key}.subnetCidrs[${i}]`, s, `a subnet inside vpcCidr ${m.vpcCidr}`);
        const other = m.subnetCidrs.findIndex((t, j) => j < i && cidrsOverlap(s, t));
        if (other >= 0) throw new ConfigError(`${key}.subnetCidrs[${i}]`, s, `a range that does not overlap subnetCidrs[${other}] ${m.subnetCidrs[other]}`);
    });
    return {
        mode: "create" as const,
        vpcCidr: m.vpcCidr,
        subnetCidrs: m.subnetCidrs,
        kafkaVersion: m.kafkaVersion ?? DEFAULT_KAFKA_VERSION,
        brokerInstanceType: m.brokerInstanceType ?? "kafka.t3.small",
        brokerVolumeGiB: m.brokerVolumeGiB ?? 10,
        port: SCRAM_PORT,
    };
}

function resolveExisting(key: string, m: RawExisting, region: string) {
    if (!m.clusterArn.includes(`:kafka:${region}:`)) {
        throw new ConfigError(`${key}.clusterArn`, m.clusterArn, `an MSK cluster ARN in ${region} (arn:aws:kafka:${region}:<account>:cluster/<name>/<uuid>)`);
    }
    m.bootstrapServers.forEach((b, i) => {
        const [, host, port] = BOOTSTRAP.exec(b)!;
        if (Number(port) !== SCRAM_PORT) {
            throw new ConfigError(`${key}.bootstrapServers[${i}]`, b, `a broker's SASL/SCRAM listener, port ${SCRAM_PORT} (MSK: 9092 plaintext, 9094 TLS, 9098 IAM; the rule authenticates with SASL/SCRAM)`);
        }
        if (/\.kafka\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(host) && !host.includes(`.kafka.${region}.`)) {
            throw new ConfigError(`${key}.bootstrapServers[${i}]`, b, `a broker in ${region} (the VPC rule destination reaches brokers in the stack's region only)`);
        }
    });
    const crossAccount = m.crossAccount && resolveCrossAccount(`${key}.crossAccount`, m.crossAccount);
    if (crossAccount && !m.clusterArn.includes(`:${crossAccount.mskAccountId}:`)) {
        throw new ConfigError(`${key}.crossAccount.roleArn`, crossAccount.roleArn, "must be a role in the account that owns clusterArn");
    }
    return {
        mode: "existing" as const,
        clusterArn: m.clusterArn,
        bootstrapServers: m.bootstrapServers,
        /** The SASL/SCRAM port. */
        port: SCRAM_PORT,
        vpcId: m.vpcId,
        subnetIds: m.subnetIds,
        securityGroupId: m.securityGroupId,
        /** The cluster is ours to change: associate the secret and open the broker security group. */
        manageCluster: m.manageCluster ?? true,
        crossAccount,
    };
}

function resolveCrossAccount(key: string, c: NonNullable<RawExisting["crossAccount"]>) {
    if (cidrsOverlap(c.mskVpcCidr, c.iotVpcCidr)) {
        throw new ConfigError(`${key}.iotVpcCidr`, c.iotVpcCidr, `must not overlap mskVpcCidr ${c.mskVpcCidr} (peered VPCs need distinct ranges)`);
    }
    c.iotSubnetCidrs.forEach((s, i) => {
        if (!cidrContains(c.iotVpcCidr, s)) throw new ConfigError(`${key}.iotSubnetCidrs[${i}]`, s, `a subnet inside iotVpcCidr ${c.iotVpcCidr}`);
    });
    return {
        /** Role in the MSK account that the second `aws` provider assumes. */
        roleArn: c.roleArn,
        mskAccountId: c.roleArn.split(":")[4],
        mskVpcCidr: c.mskVpcCidr,
        /** Route tables of the MSK subnets: they get a route back to the IoT VPC. */
        mskRouteTableIds: c.mskRouteTableIds,
        /** The IoT account's VPC for the rule destination, peered with the MSK VPC. */
        iotVpcCidr: c.iotVpcCidr,
        iotSubnetCidrs: c.iotSubnetCidrs,
    };
}

export type RoutingConfig = NonNullable<ReturnType<typeof resolveRouting>>;
export type RouteConfig = RoutingConfig["routes"][number];
export type ExistingMskConfig = ReturnType<typeof resolveExisting>;
export type CreatedMskConfig = ReturnType<typeof resolveCreate>;
export type CrossAccountConfig = ReturnType<typeof resolveCrossAccount>;
export type { RawRouting };
