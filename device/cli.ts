/**
 * npm run device -- <command> [options]: a vehicle on the command line, for a deployed stack.
 *
 *   provision --endpoint <host> --template <name> --serial <n> --claim-dir <dir> --out <dir> [--csr]
 *   publish   --cert <file> --key <file> --thing <name> --rule <ruleName> [--topic <t>] --count <N>
 *   rotate    --dir <dir> --thing <name> --serial <n> --template <rotation template> --rule <confirm rule> [--csr]
 *   confirm   --dir <dir> --thing <name> --rule <confirm rule>
 *   keygen    --serial <n> --template <name> --out <dir>
 *   register  --table <registry> --csv <file> [--region <r>]
 *   quarantine / rearm --stack <name> --serial <n> [--public-key <fp>] [--force --reason "<why>"]
 *             (without --stack: --table <registry> --rotation-table <t> --region <r> --thing <name>)
 *   edge-register --stack <name> | --template <core template> --serial <n> --csr-file <core.csr.pem>
 *   factory-ca --out <dir> [--days 30]; factory-issue --ca-dir <dir> --csr <file> --serial <n> --out <file>; csr --key <file> --out <file>
 *   edge-config --stack <name> | --stack-outputs <file> --serial <n> --out <dir> [--root /greengrass/v2] [--claim-path <dir>] [--port 8883|443]
 *
 * Common: --port (8883), --ca <file> (default: Node's root store, which holds Amazon Root CA 1),
 * --timeout <seconds> (each wait; 10), --stack <name> (endpoint, template, rule and topic from
 * `pulumi stack output`). Exit status: 0 done, 1 failed or rejected, 2 bad usage.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IoTClient } from "@aws-sdk/client-iot";
import { makePrivateKey } from "./credentials";
import { CORE_FILES, EdgeConfigError, EdgeStack, REGISTRATION_HEADER, registrationFromCsr, writeEdgeConfig } from "./edgeConfig";
import { fingerprintOf, quarantine, readRegistrations, rearm, registerSerials, RegistrationError } from "./fleetOps";
import { FactoryError, issueFromCsr, makeFactoryCa, unitCsr } from "./factory";
import { provision, ProvisioningRejected } from "./provision";
import { publishTelemetry } from "./publish";
import { coreRotationClientId, rotate } from "./rotate";
import { logWatchingNucleus, nucleusLog, rotateCore } from "./coreRotation";
import { FILES } from "./credentials";
import { filesIn, hasPrevious, reconnect, ReconnectOptions } from "./fallback";
import { ConnectRefused } from "./mqttSession";
import { Clock } from "./retry";
import { publicKeyFingerprint } from "../components/runtime/keyFingerprint";

/** The unit's own key, as `keygen` writes it: what the factory registers by fingerprint. */
export const UNIT_KEY_FILE = "unit-key.pem";

export const USAGE = `usage: npm run device -- <command> [options]

commands:
  keygen     --serial <n> --template <name> --out <dir>
             End of line: makes the unit's own key (<out>/unit-key.pem, mode 0600, never leaves the unit)
             and prints the registration line serial,publicKey,template (publicKey: the key's SHA-256
             SubjectPublicKeyInfo fingerprint) for register. --stack fills --template.
  register   --table <registry table> --csv <file> [--region <region>]
             Registers serials in bulk from a CSV of serial,publicKey,template lines (what keygen prints;
             a header line is optional and may repeat): BatchWriteItem, idempotent and resumable; a serial
             registered otherwise is reported, never overwritten. --stack fills --table and --region.
  provision  --endpoint <host> --template <name> --serial <n> --claim-dir <dir> --out <dir>
             [--client-id-prefix claim-] [--csr [--key <unit-key.pem>]]
             Fleet provisioning by claim: trades the claim certificate in <claim-dir>
             (certificate.pem.crt, private.pem.key) for the vehicle's own, written to <out> (mode 0600);
             prints the Thing name. --csr: only a CSR is sent (CreateCertificateFromCsr; the stack's
             deviceKeys: device), for the unit's registered key (--key) or a new one. Without it AWS IoT
             makes the key and sends it (CreateKeysAndCertificate; deviceKeys: aws). --stack picks the mode.
  publish    --cert <file> --key <file> --thing <name> --rule <ruleName> --count <N>
             [--topic <topic after the rule name>] [--interval-ms 0] [--connect-attempts 1]
             Connects as the Thing and publishes N messages with QoS 1 to $aws/rules/<rule>/<topic>
             (Basic Ingest); the topic defaults to the stack's (--stack) or test-rule/<rule key>.
             --connect-attempts: connect again (2 s apart) while the broker closes the connection: a unit
             with the maker's certificate (oemCa) is registered on its first connection, which AWS IoT
             closes; --stack sets 5 for an oemCa stack. A certificate AWS IoT refuses while <cert>.previous
             and <key>.previous exist: falls back to them (the two swap places), confirms them again with
             --confirm-rule <confirm rule> (--stack fills it), and publishes.
  factory-ca --out <dir> [--days 30]
             A THROWAWAY test CA for trying oemCa (<out>/ca.pem, <out>/ca.key.pem mode 0600): never for
             production (the maker's CA key stays in its HSM) and never to be committed.
  csr        --key <unit-key.pem> --out <file>
             The unit's certificate signing request for its own (registered) key; the key stays where it is.
  factory-issue --ca-dir <dir> --csr <file> --serial <n> --out <file>
             [--serial-field CN|serialNumber] [--country <CC>] [--days 365]
             Signs a unit's CSR as the factory's CA does: the subject carries the serial (in CN, or in
             serialNumber) and the country (C) the factory decides, the key is the CSR's (its signature is
             checked). --stack fills --serial-field and --country from an oemCa stack.
  rotate     --dir <dir> --thing <name> --serial <n> --template <rotation template> --rule <confirm rule> [--csr]
             Certificate rotation with the vehicle's own certificate in <dir>: a new certificate through
             the rotation template, then a connection with the new one that confirms it (the stack
             retires the old one after its grace period). The new files replace the old, which stay
             as *.previous. --stack fills --template and --rule. A confirmation that fails is retried;
             the new certificate is kept either way (run confirm later). A Greengrass core: --core-root
             <root> (/greengrass/v2) instead of --dir: its thingCert.crt and privKey.key, the stack's core
             rotation template, client id <thing>#rotate; then it restarts the nucleus (systemctl), waits
             until the nucleus logs its connection (--connect-timeout <s>, 300) and only then confirms; if
             it does not connect, the previous files are put back and the nucleus restarted on them.
             First it connects with the current certificate: if AWS IoT refuses it (a rotated certificate
             retired unconfirmed) it falls back to *.previous (for a core, restarting the nucleus on them)
             and confirms that one again before rotating.
  confirm    --dir <dir> | --core-root <root> --thing <name> --rule <confirm rule>
             Publishes the rotation confirmation with the certificate in <dir> (again), falling back to
             *.previous when the current certificate is refused at connect (a core: the nucleus restarts on
             them, --connect-timeout <s>); retried with backoff. Exit 1 when neither connects.
  quarantine --stack <name> --serial <n>
             A suspected key compromise: sets the serial revoked, deactivates and detaches every
             certificate of its Thing (vehicle or core: the template its registry item names) and drops
             its pending rotation. Without --stack: --table <registry> --rotation-table <table>
             --region <r> --thing <name>.
  rearm      (quarantine's flags) --public-key <fingerprint or base64 SubjectPublicKeyInfo>
             [--force --reason "<why>"]
             A replacement unit: quarantine, then the serial active again, bound to the new unit's key.
             A key the serial ever had is refused unless --force (the reason is kept in the registry).

  edge-register --stack <name> | --template <core template> --serial <n> --csr-file <core.csr.pem>
             The registration line (serial,publicKey,template) of a core that made its key itself
             (fms-core-keygen.sh), from its CSR: the station never sees the key.
  edge-config --stack <name> | --stack-outputs <file> --serial <n> --out <dir> [--root /greengrass/v2]
             [--claim-path <root>/claim-certs] [--port 8883|443]
             Writes the Greengrass nucleus config.yaml for a core device of this serial to <out> (the
             device's --root): the FleetProvisioningByClaim plugin with deviceId <claim prefix><serial>-<random>,
             the core template, the data and credential endpoints, the role alias, SerialNumber, and
             fms-core-cleanup.sh (run on the core once its nucleus has connected: removes the claim
             certificate, the key copy, the CSR and rotation leftovers). With the stack's deviceKeys:
             device, fms-core-keygen.sh: run on the unit as root, it makes the key there (core.key.pem,
             0600: csrPrivateKeyPath, which the plugin copies to privKey.key) and its CSR (csrPath), and
             prints the registration line; the station never holds the key.
             Prints the Thing name; on stderr, the download of exactly the stack's nucleus version.
             --stack-outputs: a saved \`pulumi stack output --json\` (no Pulumi CLI needed; no output it reads is secret).
             Without either: --region --endpoint --credential-endpoint --role-alias --template
             --client-id-prefix --nucleus-version --core-prefix [--csr]. Never overwrites.

options:
  --stack <name>     fill what the command needs from \`pulumi stack output\` (needs the Pulumi CLI): the endpoint,
                     templates, rules, topic, tables and region
  --stack-outputs <file>  the same from a saved \`pulumi stack output --json\` file
  --port <n>         MQTT over TLS port: 8883 (default), or 443 (ALPN x-amzn-mqtt-ca, for networks that
                     allow only HTTPS); edge-config takes 8883 or 443 only, the vehicle commands any
                     port 1-65535 (a test broker)
  --mqtt5            MQTT 5 instead of MQTT 3.1.1
  --ca <file>        CA bundle for the server (default: Node's roots, which include Amazon Root CA 1)
  --timeout <s>      seconds to wait for each answer (10)
  (register, quarantine and rearm call AWS with your credentials, in --region or the stack's region)
  --help`;

export interface Io {
    out: (line: string) => void;
    err: (line: string) => void;
    /** `pulumi stack output --json --stack <name>`; replaceable in tests. */
    stackOutputs?: (stack: string) => Record<string, unknown>;
    /** AWS clients of the operator commands, for a region; replaceable in tests. */
    aws?: (region: string) => { iot: Pick<IoTClient, "send">; dynamo: Pick<DynamoDBClient, "send"> };
    /** How long quarantine watches the Thing for a request already in flight (fleetOps IN_FLIGHT_MS); tests shorten it. */
    settleMs?: number;
    /** Restarts a core's nucleus (`systemctl restart greengrass.service`); replaceable in tests. */
    restartNucleus?: (root: string) => Promise<void>;
    /** The pause between publish's connection attempts (2000 ms); tests shorten it. */
    reconnectDelayMs?: number;
    /** The clock of the device's retries (device/fallback.ts); tests replace it. */
    clock?: Clock;
}

/** The nucleus' system service (installed with --setup-system-service true: AWS's install steps, docs/greengrass.md). */
async function systemctlRestart(): Promise<void> {
    execFileSync("systemctl", ["restart", "greengrass.service"], { stdio: ["ignore", "pipe", "pipe"] });
}

class UsageError extends Error {}

const FLAGS = new Set(["ca-dir", "serial-field", "country", "days", "connect-attempts", "endpoint", "template", "serial", "claim-dir", "out", "client-id-prefix", "cert", "key", "thing", "rule", "topic", "count", "interval-ms", "stack", "port", "ca", "timeout", "dir",
    "root", "claim-path", "region", "credential-endpoint", "role-alias", "nucleus-version", "core-prefix", "stack-outputs", "key", "table", "rotation-table", "csv", "public-key", "core-root", "reason", "connect-timeout", "csr-file", "rotation-template", "confirm-rule", "confirm-timeout-hours"]);
/** Flags that take no value. */
const SWITCHES = new Set(["csr", "mqtt5", "force"]);

function parse(argv: string[]): { command: string; flags: Map<string, string> } {
    const [command, ...rest] = argv;
    // factory-issue --csr <file>: there --csr names the CSR to sign (elsewhere it is a switch).
    const switches = command === "factory-issue" ? new Set([...SWITCHES].filter((s) => s !== "csr")) : SWITCHES;
    const flagNames = command === "factory-issue" ? new Set([...FLAGS, "csr"]) : FLAGS;
    const flags = new Map<string, string>();
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (a === "--help" || a === "-h") throw new UsageError("");
        const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
        if (m && switches.has(m[1]) && m[2] === undefined) {
            flags.set(m[1], "true");
            continue;
        }
        if (!m || !flagNames.has(m[1])) throw new UsageError(`unknown argument ${a}`);
        const value = m[2] ?? rest[++i];
        if (value === undefined || (m[2] === undefined && value.startsWith("--"))) throw new UsageError(`--${m[1]} needs a value`);
        flags.set(m[1], value);
    }
    return { command: command ?? "", flags };
}

function pulumiStackOutputs(stack: string, command = ""): Record<string, unknown> {
    try {
        return JSON.parse(execFileSync("pulumi", ["stack", "output", "--json", "--stack", stack], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }));
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
            throw new UsageError(`--stack needs the Pulumi CLI on PATH; pass --stack-outputs <file> (pulumi stack output --json, saved where the CLI is) or ${STACK_FILLS[command] ?? "the flags it fills"} instead`);
        }
        throw new UsageError(`pulumi stack output --stack ${stack} failed: ${((err as { stderr?: string }).stderr ?? String(err)).trim().split("\n")[0]}`);
    }
}

/** What --stack fills, per command (fromStack): what to pass instead without the Pulumi CLI. */
const STACK_FILLS: Record<string, string> = {
    provision: "--endpoint, --template and --client-id-prefix (and --csr for deviceKeys: device)",
    publish: "--endpoint, --rule and --topic",
    rotate: "--endpoint, --template and --rule",
    confirm: "--endpoint and --rule",
    keygen: "--template",
    register: "--table and --region",
    quarantine: "--table, --rotation-table, --region and --thing",
    rearm: "--table, --rotation-table, --region and --thing",
    "edge-config": "--region --endpoint --credential-endpoint --role-alias --template --client-id-prefix --nucleus-version --core-prefix",
};

/** A saved `pulumi stack output --json`: errors name the flag and the file. */
function savedStackOutputs(file: string): Record<string, unknown> {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new UsageError(`--stack-outputs ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new UsageError(`--stack-outputs ${file}: not JSON (save it with pulumi stack output --json --stack <name> > ${file})`);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`--stack-outputs ${file}: not a JSON object of stack outputs (pulumi stack output --json)`);
    return parsed as Record<string, unknown>;
}

/** Fills flags the user did not give from the stack's outputs. */
function fromStack(command: string, flags: Map<string, string>, outputs: Record<string, unknown>): void {
    const setDefault = (flag: string, value: unknown) => { if (!flags.has(flag) && typeof value === "string" && value) flags.set(flag, value); };
    setDefault("endpoint", outputs.iotEndpoint);
    if (command === "factory-issue") {
        setDefault("serial-field", outputs.oemCaSerialField);
        setDefault("country", outputs.oemCaSubjectCountry);
        return;
    }
    if (outputs.identityMode === "oemCa") setDefault("connect-attempts", "5");
    if (outputs.deviceKeys === "device") setDefault("csr", "true");
    if (command === "edge-register") {
        setDefault("template", outputs.edgeCoreTemplateName);
        return;
    }
    if (command === "edge-config") {
        if (!outputs.edgeCoreTemplateName) {
            const file = flags.get("stack-outputs");
            throw new UsageError(file ? `--stack-outputs ${file}: no edgeCoreTemplateName output (a stack without a greengrass section?)` : "this stack has no greengrass section (no edgeCoreTemplateName output)");
        }
        setDefault("region", outputs.awsRegion);
        setDefault("credential-endpoint", outputs.iotCredentialEndpoint);
        setDefault("role-alias", outputs.edgeRoleAliasName);
        setDefault("template", outputs.edgeCoreTemplateName);
        setDefault("client-id-prefix", outputs.claimClientIdPrefix);
        setDefault("nucleus-version", outputs.edgeNucleusVersion);
        setDefault("core-prefix", outputs.edgeCoreThingNamePrefix);
        setDefault("rotation-template", outputs.edgeCoreRotationTemplateName);
        setDefault("rule", outputs.certificateConfirmRuleName);
        if (typeof outputs.certificateConfirmTimeoutHours === "number") setDefault("confirm-timeout-hours", String(outputs.certificateConfirmTimeoutHours));
        if (Array.isArray(outputs.edgeSerialPrefixes)) serialPrefixes.set(flags, outputs.edgeSerialPrefixes as string[]);
        return;
    }
    if (command === "rotate" || command === "confirm") {
        setDefault("template", flags.has("core-root") ? outputs.edgeCoreRotationTemplateName : outputs.rotationTemplateName);
        setDefault("rule", outputs.certificateConfirmRuleName);
        return;
    }
    if (["register", "quarantine", "rearm"].includes(command)) {
        setDefault("table", outputs.registryTableName);
        setDefault("rotation-table", outputs.rotationScheduleTable);
        setDefault("region", outputs.awsRegion);
        // The Thing comes from the serial's registry item (its template: vehicle or core), never from one prefix.
        const prefixes: Record<string, string> = {};
        // An oemCa stack's registry items name its fleet (oemCaFleetName) where a claim stack's name a template.
        for (const [template, prefix] of [[outputs.provisioningTemplateName, outputs.thingNamePrefix], [outputs.oemCaFleetName, outputs.thingNamePrefix], [outputs.edgeCoreTemplateName, outputs.edgeCoreThingNamePrefix]]) {
            if (typeof template === "string" && template && typeof prefix === "string") prefixes[template] = prefix;
        }
        thingPrefixes.set(flags, prefixes);
        return;
    }
    if (command === "publish") setDefault("confirm-rule", outputs.certificateConfirmRuleName);
    // An oemCa stack has no template: its registration CSV names the fleet instead (keygen's --template).
    setDefault("template", outputs.provisioningTemplateName ?? outputs.oemCaFleetName);
    setDefault("client-id-prefix", outputs.claimClientIdPrefix);
    const topics = Array.isArray(outputs.basicIngestTopics) ? outputs.basicIngestTopics as string[] : [];
    const rule = flags.get("rule") ?? (Array.isArray(outputs.ruleNames) ? (outputs.ruleNames as string[])[0] : undefined);
    if (rule) setDefault("rule", rule);
    const full = topics.find((t) => t.startsWith(`$aws/rules/${rule}/`));
    if (full) setDefault("topic", full.slice(`$aws/rules/${rule}/`.length));
}

/** Thing-name prefix of each of the stack's provisioning templates (from --stack), for quarantine and rearm. */
const thingPrefixes = new WeakMap<Map<string, string>, Record<string, string>>();

/** Serial prefixes the stack's core template accepts (from --stack), checked before anything is written. */
const serialPrefixes = new WeakMap<Map<string, string>, string[]>();

function port(flags: Map<string, string>): number {
    const p = positive(flags, "port", 8883);
    if (p > 65535) throw new UsageError(`--port ${p}: a TCP port is 1-65535 (AWS IoT: 8883, or 443 with ALPN)`);
    return p;
}

function required(flags: Map<string, string>, name: string): string {
    const v = flags.get(name);
    if (!v) throw new UsageError(`--${name} is required`);
    return v;
}

function positive(flags: Map<string, string>, name: string, fallback: number, min = 1): number {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number of at least ${min}`);
    return n;
}

const COMMANDS = ["provision", "publish", "rotate", "confirm", "keygen", "register", "quarantine", "rearm", "edge-config", "edge-register", "factory-ca", "factory-issue", "csr"];

/** Writes a new file (never over an existing one), creating its directory. */
function writeNew(file: string, text: string, mode: number): void {
    if (fs.existsSync(file)) throw new UsageError(`${file} exists: not overwritten`);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, text, { mode, flag: "wx" });
}

function readFile(file: string, flag: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        throw new UsageError(`--${flag} ${file}: cannot read it`);
    }
}

/** AWS clients for the operator commands (the caller's credentials, the given region). */
function realAwsClients(region: string): { iot: IoTClient; dynamo: DynamoDBClient } {
    return { iot: new IoTClient({ region, maxAttempts: 5 }), dynamo: new DynamoDBClient({ region, maxAttempts: 5 }) };
}

export async function run(argv: string[], io: Io): Promise<number> {
    let command: string;
    let flags: Map<string, string>;
    try {
        ({ command, flags } = parse(argv));
        if (command === "--help" || command === "-h" || command === "help") throw new UsageError("");
        if (!COMMANDS.includes(command)) throw new UsageError(command ? `unknown command ${command}` : "no command");
        const stack = flags.get("stack");
        const saved = flags.get("stack-outputs");
        if (stack && saved) throw new UsageError("--stack and --stack-outputs: give one");
        if (stack) fromStack(command, flags, (io.stackOutputs ?? ((s: string) => pulumiStackOutputs(s, command)))(stack));
        if (saved) fromStack(command, flags, savedStackOutputs(saved));
    } catch (err) {
        if (err instanceof UsageError) {
            if (!err.message) {
                io.out(USAGE); // asked for: stdout, exit 0
                return 0;
            }
            io.err(`error: ${err.message}`);
            io.err(USAGE);
            return 2;
        }
        throw err;
    }
    const common = () => ({
        endpoint: required(flags, "endpoint"),
        port: port(flags),
        mqttVersion: (flags.get("mqtt5") === "true" ? 5 : 4) as 4 | 5,
        ca: flags.get("ca"),
        timeoutMs: positive(flags, "timeout", 10) * 1000,
    });
    /**
     * The unit a connecting command speaks for, with the device algorithm's fall-back (device/fallback.ts): a vehicle's
     * files in --dir, or a core's nucleus files in --core-root (client id <thing>#rotate; after a fall-back the nucleus
     * restarts on the previous files and the confirmation waits until it has connected).
     */
    const unit = (confirm: ReconnectOptions["confirm"], confirmRule?: string): ReconnectOptions => {
        const coreRoot = flags.get("core-root");
        const thing = required(flags, "thing");
        const base = { ...common(), thing, confirm, confirmRule, clock: io.clock };
        if (!coreRoot) return { ...base, clientId: thing, files: filesIn(required(flags, "dir"), FILES) };
        const timeoutMs = positive(flags, "connect-timeout", 300) * 1000;
        const nucleus = logWatchingNucleus(coreRoot, () => (io.restartNucleus ?? systemctlRestart)(coreRoot));
        return {
            ...base, clientId: coreRotationClientId(thing), files: filesIn(coreRoot, CORE_FILES),
            onFallBack: async () => {
                const mark = nucleus.mark();
                await nucleus.restart();
                if (!(await nucleus.connectedSince(mark, timeoutMs))) {
                    throw new Error(`fell back to the previous certificate and restarted the nucleus on it, but it has not connected within ${timeoutMs / 1000} s: see ${nucleusLog(coreRoot)}`);
                }
            },
        };
    };
    const fellBackLine = (files: { certificate: string }) =>
        `AWS IoT refused ${files.certificate}: fell back to ${files.certificate}.previous (now the current one; the refused one is kept as *.previous)`;
    try {
        if (command === "edge-register") {
            // The line that registers a core whose key was made on it: from its CSR, never its key.
            const file = required(flags, "csr-file");
            if (!fs.existsSync(file)) throw new UsageError(`--csr-file ${file}: no such file`);
            const line = registrationFromCsr(fs.readFileSync(file, "utf8"), required(flags, "serial"), required(flags, "template"));
            io.err(`register this unit before it boots (${REGISTRATION_HEADER}; append it to the registration CSV): ${line}`);
            io.out(line);
            return 0;
        }
        if (command === "edge-config") {
            const root = flags.get("root") ?? "/greengrass/v2";
            const stack: EdgeStack = {
                region: required(flags, "region"),
                dataEndpoint: required(flags, "endpoint"),
                credentialEndpoint: required(flags, "credential-endpoint"),
                roleAlias: required(flags, "role-alias"),
                coreTemplate: required(flags, "template"),
                claimClientIdPrefix: flags.get("client-id-prefix") ?? "claim-",
                deviceKeys: flags.get("csr") === "true" ? "device" : "aws",
                nucleusVersion: required(flags, "nucleus-version"),
                coreThingNamePrefix: required(flags, "core-prefix"),
                serialPrefixes: serialPrefixes.get(flags) ?? [],
                rotationTemplate: flags.get("rotation-template"),
                confirmRule: flags.get("rule"),
                confirmTimeoutHours: positive(flags, "confirm-timeout-hours", 24),
            };
            const result = await writeEdgeConfig({
                ...stack,
                serial: required(flags, "serial"),
                rootPath: root,
                claimDir: flags.get("claim-path") ?? `${root}/claim-certs`,
                mqttPort: positive(flags, "port", 8883),
                outDir: required(flags, "out"),
            });
            io.err(`wrote ${result.files.join(", ")}; the core provisions as Thing ${result.thingName}`);
            io.err(stack.deviceKeys === "device"
                ? `the core makes its own key: on the unit, as root, before it first boots: sh ${root}/fms-core-keygen.sh (it prints the registration line; or bring back ${root}/core.csr.pem and run edge-register --csr-file <it> --serial ${flags.get("serial")})`
                : "deviceKeys: aws: AWS makes the core's key, so there is no key fingerprint to register");
            io.err(`after the nucleus has connected with its own certificate: sh ${root}/fms-core-cleanup.sh removes the claim certificate and the key copy`);
            io.err(result.files.some((f) => f.endsWith("fms-core-rotate.py"))
                ? `to rotate the core's certificate on the core: sudo python3 ${root}/fms-core-rotate.py (python3 and openssl only); so that the core confirms again and falls back by itself: sudo cp ${root}/fms-core-check.service ${root}/fms-core-check.timer /etc/systemd/system/ && sudo systemctl enable --now fms-core-check.timer`
                : "no fms-core-rotate.py: give --rotation-template and --rule (or --stack) to ship it");
            io.err(`installer for nucleus ${stack.nucleusVersion} (the version the stack's deployment pins) and the provisioning plugin:`);
            for (const line of result.download) io.err(`  ${line}`);
            io.out(result.thingName);
            return 0;
        }
        if (command === "factory-ca") {
            const dir = required(flags, "out");
            const ca = await makeFactoryCa({ days: positive(flags, "days", 30) });
            writeNew(path.join(dir, "ca.key.pem"), ca.keyPem, 0o600);
            writeNew(path.join(dir, "ca.pem"), ca.certPem, 0o644);
            io.err(`wrote ${path.join(dir, "ca.pem")} and ${path.join(dir, "ca.key.pem")} (mode 0600): a THROWAWAY test CA, never for production and never to be committed`);
            io.out(path.join(dir, "ca.pem"));
            return 0;
        }
        if (command === "csr") {
            const out = required(flags, "out");
            writeNew(out, await unitCsr(readFile(required(flags, "key"), "key")), 0o644);
            io.out(out);
            return 0;
        }
        if (command === "factory-issue") {
            const dir = required(flags, "ca-dir");
            const field = flags.get("serial-field") ?? "CN";
            if (field !== "CN" && field !== "serialNumber") throw new UsageError(`--serial-field ${field}: CN or serialNumber`);
            const certPem = await issueFromCsr({
                caCertPem: readFile(path.join(dir, "ca.pem"), "ca-dir"), caKeyPem: readFile(path.join(dir, "ca.key.pem"), "ca-dir"),
                csrPem: readFile(required(flags, "csr"), "csr"), serial: required(flags, "serial"), serialField: field,
                country: flags.get("country"), days: positive(flags, "days", 365),
            });
            const out = required(flags, "out");
            writeNew(out, certPem, 0o644);
            io.out(out);
            return 0;
        }
        if (command === "keygen") {
            const serial = required(flags, "serial");
            const template = required(flags, "template");
            const file = path.join(required(flags, "out"), UNIT_KEY_FILE);
            if (fs.existsSync(file)) throw new UsageError(`${file} exists: a unit keeps the key it was registered with (remove it only for a new unit)`);
            const key = await makePrivateKey();
            fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
            fs.writeFileSync(file, key, { mode: 0o600, flag: "wx" });
            io.err(`wrote ${file} (mode 0600); register the line below, then provision with --csr --key ${file}`);
            io.out(`${serial},${publicKeyFingerprint(key)},${template}`);
            return 0;
        }
        if (command === "register") {
            const regs = readRegistrations(required(flags, "csv"));
            const { dynamo } = (io.aws ?? realAwsClients)(required(flags, "region"));
            const r = await registerSerials(dynamo, required(flags, "table"), regs, (l) => io.err(l));
            for (const c of r.conflicts) io.err(`not changed: ${c.serial}: ${c.why}`);
            io.out(`${r.written.length} registered, ${r.unchanged.length} already registered, ${r.conflicts.length} conflicting`);
            return r.conflicts.length ? 1 : 0;
        }
        if (command === "quarantine" || command === "rearm") {
            const { iot, dynamo } = (io.aws ?? realAwsClients)(required(flags, "region"));
            const prefixes = thingPrefixes.get(flags);
            if (!prefixes && !flags.has("thing")) throw new UsageError("--thing is required without --stack or --stack-outputs (they name the Thing from the serial's registry item)");
            const target = {
                registryTable: required(flags, "table"), rotationTable: required(flags, "rotation-table"), serial: required(flags, "serial"),
                thingName: flags.get("thing"), thingPrefixes: prefixes,
            };
            if (command === "quarantine" && (flags.has("force") || flags.has("reason"))) throw new UsageError("--force and --reason are rearm's");
            if (command === "rearm" && flags.has("reason") !== flags.has("force")) throw new UsageError("rearm --force needs --reason \"<why>\", and --reason goes with --force");
            const force = command === "rearm" && flags.has("force") ? { reason: required(flags, "reason") } : undefined;
            if (force) io.err(`rearm --force: serial ${target.serial} may take a key it had before; reason (kept in the registry item): ${force.reason}`);
            const retired = command === "rearm"
                ? await rearm(iot, dynamo, { ...target, fingerprint: fingerprintOf(required(flags, "public-key"), "--public-key"), force }, io.settleMs)
                : await quarantine(iot, dynamo, target, io.settleMs);
            io.err(`serial ${target.serial}: ${retired.length} certificate(s) deactivated and detached; ${command === "rearm" ? "active for the new unit's key" : "revoked"}`);
            for (const arn of retired) io.out(arn);
            return 0;
        }
        if (command === "confirm") {
            // Connect (falling back to *.previous when the current certificate is refused) and confirm, retried.
            const r = await reconnect(unit("always", required(flags, "rule")));
            if (r.fellBack) io.err(fellBackLine(unit("always").files));
            io.err(`confirmed the certificate in ${unit("always").files.certificate} for ${flags.get("thing")}`);
            return 0;
        }
        if (command === "provision") {
            const result = await provision({
                ...common(),
                template: required(flags, "template"),
                serial: required(flags, "serial"),
                claimDir: required(flags, "claim-dir"),
                outDir: required(flags, "out"),
                clientIdPrefix: flags.get("client-id-prefix") ?? "claim-",
                csr: flags.get("csr") === "true",
                keyFile: flags.get("key"),
            });
            io.err(`provisioned ${result.thingName} (certificate ${result.certificateId}); wrote ${result.certificateFile} and ${result.privateKeyFile}`);
            io.out(result.thingName);
        } else if (command === "rotate") {
            // A Greengrass core: its nucleus' files in --core-root, and a client id of its own (<thing>#rotate).
            const coreRoot = flags.get("core-root");
            const thing = required(flags, "thing");
            // First connect as the device algorithm does: a refused certificate falls back to *.previous (confirmed again).
            const back = await reconnect(unit("after-fall-back", required(flags, "rule")));
            if (back.fellBack) io.err(fellBackLine(unit("after-fall-back").files));
            const options = {
                ...common(),
                thing,
                serial: required(flags, "serial"),
                template: required(flags, "template"),
                confirmRule: required(flags, "rule"),
                csr: flags.get("csr") === "true",
            };
            // A core: restart the nucleus on the new files, wait until it has connected, then confirm (coreRotation.ts).
            const result = coreRoot
                ? await rotateCore({
                    ...options, dir: coreRoot, files: CORE_FILES, clientId: coreRotationClientId(thing),
                    nucleus: logWatchingNucleus(coreRoot, () => (io.restartNucleus ?? systemctlRestart)(coreRoot)),
                    ...(flags.has("connect-timeout") ? { connectTimeoutMs: positive(flags, "connect-timeout", 300) * 1000 } : {}),
                })
                : await rotate({ ...options, dir: required(flags, "dir") });
            io.err(`rotated ${result.thingName} to certificate ${result.certificateId}; wrote ${result.certificateFile} and ${result.privateKeyFile} (the old ones are *.previous)`);
            if (coreRoot) io.err("the nucleus restarted and connected with the new certificate, then it was confirmed (the old one is retired after the grace period)");
            io.out(result.certificateId);
        } else {
            const rule = required(flags, "rule");
            const send = () => publishTelemetry({
                ...common(),
                certFile: required(flags, "cert"),
                keyFile: required(flags, "key"),
                thing: required(flags, "thing"),
                rule,
                topic: flags.get("topic") ?? `test-rule/${rule.split("_").pop()}`,
                count: positive(flags, "count", 1),
                intervalMs: positive(flags, "interval-ms", 0, 0),
                connectAttempts: positive(flags, "connect-attempts", 1),
                reconnectDelayMs: io.reconnectDelayMs,
            });
            const files = { certificate: required(flags, "cert"), privateKey: required(flags, "key") };
            let result: Awaited<ReturnType<typeof publishTelemetry>>;
            try {
                result = await send();
            } catch (err) {
                // Refused at connect with a previous certificate to go back to: the device algorithm, then publish again.
                if (!(err instanceof ConnectRefused) || !hasPrevious(files)) throw err;
                const thing = required(flags, "thing");
                const back = await reconnect({ ...common(), thing, clientId: thing, files, confirm: "after-fall-back", confirmRule: flags.get("confirm-rule"), clock: io.clock });
                if (back.fellBack) io.err(fellBackLine(files) + (back.confirmed ? "; confirmed it again" : ""));
                result = await send();
            }
            io.out(`${result.acknowledged}/${result.sent} messages acknowledged on ${result.topic}`);
        }
        return 0;
    } catch (err) {
        if (err instanceof UsageError) {
            io.err(`error: ${err.message}`);
            io.err(USAGE);
            return 2;
        }
        if (err instanceof EdgeConfigError || err instanceof RegistrationError || err instanceof FactoryError) {
            io.err(`error: ${err.message}`);
            return 2;
        }
        io.err(err instanceof ProvisioningRejected ? `error: provisioning ${err.message}` : `error: ${(err as Error).message}`);
        return 1;
    }
}

if (require.main === module) {
    run(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) }).then(
        (code) => process.exit(code),
        (err) => { console.error(`error: ${(err as Error).message}`); process.exit(1); },
    );
}
