/**
 * The provisioning burst: N units, each with its own key and a registered serial, all powered on at once,
 * provisioning through the broker double of AWS IoT with the real pre-provisioning hook on DynamoDB (dynalite),
 * the double holding every request to AWS's per-account rates (config/awsQuotas.ts) and the units retrying as
 * the device retry policy says (device/retry.ts). Used by `npm run bench -- --burst N` and, small, by a test.
 *
 * The mix: the kr stack (registry mode, keys bound to serials, CSR) for 80% of the units, a tenth of them
 * Greengrass cores through the core template (which creates a per-core policy); and a staging variant of kr with
 * AWS-made keys (registry mode, nothing to bind) for the other 20%. Both stacks are in one account: one limiter.
 *
 * How the double is driven: in process (AwsIotDouble.connectInProcess): the CONNECT/SUBSCRIBE/PUBLISH
 * authorization with the stacks' real policies and the topic handlers are the double's own, but there is no TLS,
 * no MQTT framing and no socket (10,000 TLS connections would measure this machine, not the design).
 * The clock is real time: the hook and DynamoDB run at their own speed, and AWS's rates are per wall-clock second.
 */
import * as crypto from "crypto";
import { monitorEventLoopDelay } from "perf_hooks";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { certificateKeyFingerprint, publicKeyFingerprint } from "../components/runtime/keyFingerprint";
import { FLEET_PROVISIONING_RATES, RateLimitedOperation } from "../config/awsQuotas";
import { makeKeyAndCsr } from "../device/credentials";
import { registerSerials } from "../device/fleetOps";
import { claimClientId, Identity, obtainIdentity } from "../device/provision";
import { DEFAULT_RETRY, RetryPolicy } from "../device/retry";
import { runStack } from "../plan/program";
import { close, Fleet, fleet } from "../test/support/registryFleet";
import { AccountRateLimiter } from "../test/support/rateLimiter";
import { timeClientCalls } from "../test/support/clientTiming";

export interface BurstOptions {
    units: number;
    /** AWS's rates (default: AWS's defaults, config/awsQuotas.ts). */
    rates?: Partial<Record<RateLimitedOperation, number>>;
    retry?: RetryPolicy;
    progress?: (line: string) => void;
    /** dynalite in a child process (default true): the hook's DynamoDB is not queued behind the double's work. */
    dynamoInChildProcess?: boolean;
    /**
     * The hook in a Node process of its own (default true; test/support/hookProcess.ts), as a Lambda execution
     * environment runs it: its time is measured there, not as a wait for this process's loop.
     */
    hookInChildProcess?: boolean;
}

interface Unit { serial: string; kind: "vehicle" | "core"; keys: "device" | "aws"; key: string; fingerprint: string; csrPem?: string }

export interface BurstResult {
    units: number;
    provisionedOnce: number;
    gaveUp: { serial: string; why: string }[];
    /** Problems the checks found, one line each (empty: every check passed). */
    problems: string[];
    seconds: number;
    unitsPerSecond: number;
    identity: { p50: number; p99: number; max: number };
    /** The hook's own time (in its process, as Lambda bills it, or as the double waited when it runs here), and the double's wait. */
    hook: { p50: number; p99: number; invocations: number; where: "its own process" | "this process"; waited: { p50: number; p99: number } };
    requests: { admitted: Record<string, number>; throttled: Record<string, number> };
    retries: number;
    newCertificates: number;
    peakRssMiB: number;
    /**
     * The operation whose admitted rate came closest to its limit: `measured` over the whole run (first request to
     * last identity, the backoff's tail included), `saturated` over the seconds in which that operation's demand
     * was above its rate (AccountRateLimiter.saturatedRate): within 10% of the limit, AWS's rate is what held.
     */
    binding: { operation: string; limit: number; measured: number; share: number; saturated?: { perSecond: number; seconds: number } };
    /** Seconds from power-on to the first request. */
    startupSeconds: number;
    /** Before power-on, not in the measured window: the units' keys and CSRs, and the double's RSA keys for the AWS-key units. */
    prepared: { unitKeysSeconds: number; awsKeysSeconds: number };
    /** This process's event-loop delay during the burst (ms): how long ready work waited for the loop. */
    eventLoopDelay: { p50: number; p99: number; max: number };
    /** The hook's DynamoDB calls as its client saw them (ms), and where dynalite ran. */
    dynamo: { p50: number; p99: number; calls: number; where: "child process" | "this process" };
}

const percentile = (sorted: number[], p: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/** The AWS-keys stack: kr as staging, deviceKeys aws, names of its own (it shares kr's account). */
const awsKeysVariant = (c: Record<string, string>) => {
    const p = JSON.parse(c["fms-iot:provisioning"]);
    Object.assign(p, { deviceKeys: "aws", templateName: "fms-kra-vehicle", thingNamePrefix: "kra-vehicle-", claimClientIdPrefix: "kra-claim-" });
    c["fms-iot:provisioning"] = JSON.stringify(p);
    const g = JSON.parse(c["fms-iot:greengrass"]);
    g.templateName = "fms-kra-edge-core";
    c["fms-iot:greengrass"] = JSON.stringify(g);
    Object.assign(c, { "fms-iot:environment": "staging", "fms-iot:namePrefix": "fms-kra" });
};

export async function burst(o: BurstOptions): Promise<BurstResult> {
    const say = o.progress ?? (() => undefined);
    const policy = o.retry ?? DEFAULT_RETRY;
    const limiter = new AccountRateLimiter({ ...FLEET_PROVISIONING_RATES, ...(o.rates ?? {}) });
    const hookTimes: number[] = [];
    const hookWaitTimes: number[] = [];
    const dynamoTimes: number[] = [];
    const dynamoInChildProcess = o.dynamoInChildProcess ?? true;
    const hookInChildProcess = o.hookInChildProcess ?? true;
    // With the hook in its own process, its DynamoDB calls are timed by its own client there.
    const measured = { limiter, keepLogs: false, hookTimes, hookWaitTimes, hookInChildProcess, hookDynamoTimes: dynamoTimes, dynamoInChildProcess };
    const warmCertificates = new Set<string>();
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 250);
    const fleets: Record<Unit["keys"], Fleet> = {
        device: await fleet(await runStack("kr"), measured),
        aws: await fleet(await runStack("kr", { edit: awsKeysVariant }), measured),
    };
    // In process, the fleet's client is the hook's (and the bench's): time its calls here.
    if (!hookInChildProcess) for (const f of Object.values(fleets)) timeClientCalls(f.local.client, dynamoTimes, "burstTiming");
    const loop = monitorEventLoopDelay({ resolution: 10 });
    try {
        const preparing = Date.now();
        const units: Unit[] = Array.from({ length: o.units }, (_, i) => {
            const kind = i % 10 === 9 ? "core" : "vehicle";
            const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
            return {
                serial: `${kind === "core" ? "297469" : "297468"}${String(i).padStart(6, "0")}`, kind, keys: i % 5 === 2 ? "aws" : "device",
                key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), fingerprint: publicKeyFingerprint(publicKey),
            };
        });
        // The units' CSRs are made before power-on: a unit makes its own on its own CPU, which this process would
        // otherwise share with the emulated AWS and the hook.
        for (const u of units) if (u.keys === "device") u.csrPem = (await makeKeyAndCsr(`CN=${u.serial}`, u.key)).csrPem;
        const unitKeysSeconds = (Date.now() - preparing) / 1000;
        say(`made ${units.length} keys and ${units.filter((u) => u.csrPem).length} CSRs in ${unitKeysSeconds.toFixed(1)} s`);
        // AWS makes the AWS-key units' RSA keys on its own fleet: the double makes them now (about 170 ms of CPU
        // each here), so that it does not spend this machine's cores on them while it emulates AWS's rates.
        const awsKeysAt = Date.now();
        await fleets.aws.double.ca.prepareRsaKeys(units.filter((u) => u.keys === "aws").length);
        const awsKeysSeconds = (Date.now() - awsKeysAt) / 1000;
        say(`the double made ${units.filter((u) => u.keys === "aws").length} RSA keys in ${awsKeysSeconds.toFixed(1)} s`);
        const templateOf = (u: Unit) => String(u.kind === "core" ? fleets[u.keys].run.outputs.edgeCoreTemplateName : fleets[u.keys].run.outputs.provisioningTemplateName);
        const thingOf = (u: Unit) => `${u.kind === "core" ? fleets[u.keys].run.outputs.edgeCoreThingNamePrefix : fleets[u.keys].run.outputs.thingNamePrefix}${u.serial}`;
        for (const keys of ["device", "aws"] as const) {
            const mine = units.filter((u) => u.keys === keys);
            const f = fleets[keys];
            await registerSerials(f.local.client, f.env.REGISTRY_TABLE, mine.map((u) => ({ serial: u.serial, fingerprint: u.fingerprint, templates: [templateOf(u)] })));
            say(`registered ${mine.length} serials (${keys} keys)`);
        }
        const claimIds = {
            device: idOf(fleets.device.claim.cert),
            aws: idOf(fleets.aws.claim.cert),
        };

        // One unit per stack provisioned before power-on (not counted): the hook's first invocations pay module
        // loading and connection set-up, as a Lambda's cold start does; the burst measures it warm.
        for (const keys of ["device", "aws"] as const) {
            const f = fleets[keys];
            const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
            const warm = { serial: "297468999999", key: privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
            await registerSerials(f.local.client, f.env.REGISTRY_TABLE, [{ serial: warm.serial, fingerprint: publicKeyFingerprint(publicKey), templates: [String(f.run.outputs.provisioningTemplateName)] }]);
            await obtainIdentity(() => f.double.connectInProcess(claimClientId(String(f.run.outputs.claimClientIdPrefix), warm.serial), idOf(f.claim.cert)),
                { template: String(f.run.outputs.provisioningTemplateName), serial: warm.serial, csr: keys === "device", unitKey: keys === "device" ? warm.key : undefined }, policy);
            warmCertificates.add([...f.double.things.get(`${f.run.outputs.thingNamePrefix}${warm.serial}`)!.principals][0]);
        }
        hookTimes.length = 0;
        hookWaitTimes.length = 0;
        dynamoTimes.length = 0;
        limiter.reset();
        say(`${o.units} units power on at once`);
        loop.enable();
        const t0 = Date.now();
        let firstRequest = 0;
        const done: { unit: Unit; at: number; got?: Identity; error?: Error }[] = [];
        const progress = setInterval(() => say(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${done.filter((d) => d.got).length} provisioned, ${done.filter((d) => d.error).length} gave up; admitted ${JSON.stringify(limiter.admitted)}, throttled ${JSON.stringify(limiter.throttled)}`), 30_000);
        await Promise.all(units.map(async (unit) => {
            const f = fleets[unit.keys];
            const connect = () => {
                firstRequest ||= Date.now();
                return f.double.connectInProcess(claimClientId(String(f.run.outputs.claimClientIdPrefix), unit.serial), claimIds[unit.keys]);
            };
            try {
                const got = await obtainIdentity(connect, { template: templateOf(unit), serial: unit.serial, csr: unit.keys === "device", unitKey: unit.keys === "device" ? unit.key : undefined, csrPem: unit.csrPem }, policy);
                done.push({ unit, at: Date.now(), got });
            } catch (error) {
                done.push({ unit, at: Date.now(), error: error as Error });
            }
        }));
        clearInterval(progress);
        loop.disable();
        const calls = [...dynamoTimes].sort((a, b) => a - b);
        const seconds = (Math.max(...done.map((d) => d.at)) - t0) / 1000;

        // The checks: every unit one Thing with one ACTIVE certificate bound to its own key; its serial
        // provisioned with that certificate; no certificate beside the units' and the claim certificates.
        const problems: string[] = [];
        let provisionedOnce = 0;
        const registry = new Map<string, Record<string, { S?: string }>>();
        for (const f of Object.values(fleets)) {
            let start: Record<string, any> | undefined;
            do {
                const page = await f.local.client.send(new ScanCommand({ TableName: f.env.REGISTRY_TABLE, ExclusiveStartKey: start, ConsistentRead: true }));
                for (const item of page.Items ?? []) registry.set(item.serialNumber.S!, item as never);
                start = page.LastEvaluatedKey;
            } while (start);
        }
        for (const d of done) {
            if (!d.got) continue;
            const f = fleets[d.unit.keys];
            const thing = f.double.things.get(thingOf(d.unit));
            const cert = f.double.certificates.get(d.got.certificateId);
            const item = registry.get(d.unit.serial);
            const own = d.unit.keys === "device" ? d.unit.fingerprint : publicKeyFingerprint(d.got.privateKeyPem);
            const why = !thing ? "no Thing"
                : thing.principals.length !== 1 || thing.principals[0] !== d.got.certificateId ? `Thing has ${thing.principals.length} certificates`
                : cert?.status !== "ACTIVE" ? `certificate ${cert?.status ?? "missing"}`
                : certificateKeyFingerprint(cert.certificatePem) !== own ? "certificate not bound to the unit's key"
                : item?.status?.S !== "provisioned" || item?.certificateId?.S !== d.got.certificateId ? `registry says ${item?.status?.S} with ${item?.certificateId?.S?.slice(0, 8)}`
                : undefined;
            if (why) problems.push(`${d.unit.serial}: ${why}`);
            else provisionedOnce++;
        }
        const held = new Set(done.filter((d) => d.got).map((d) => d.unit.serial));
        for (const [keys, f] of Object.entries(fleets)) {
            const unitCerts = new Set(done.filter((d) => d.got && d.unit.keys === keys).map((d) => d.got!.certificateId));
            const orphans = [...f.double.certificates.values()].filter((c) => c.certificateId !== claimIds[keys as Unit["keys"]] && !warmCertificates.has(c.certificateId) && !unitCerts.has(c.certificateId));
            if (orphans.length) problems.push(`${keys} keys: ${orphans.length} certificates no unit holds (${orphans.filter((c) => c.status === "PENDING_ACTIVATION").length} pending, AWS deletes those when their token expires)`);
            const burnt = units.filter((u) => u.keys === keys && registry.get(u.serial)?.status?.S === "provisioned" && !held.has(u.serial));
            if (burnt.length) problems.push(`${keys} keys: ${burnt.length} serials marked provisioned that no unit holds (burnt)`);
        }
        const gaveUp = done.filter((d) => d.error).map((d) => ({ serial: d.unit.serial, why: d.error!.message }));
        for (const g of gaveUp.slice(0, 5)) problems.push(`${g.serial} gave up: ${g.why}`);
        if (gaveUp.length > 5) problems.push(`... and ${gaveUp.length - 5} more units gave up`);

        const identity = done.filter((d) => d.got).map((d) => (d.at - t0) / 1000).sort((a, b) => a - b);
        const hooks = [...hookTimes].sort((a, b) => a - b);
        const waits = hookInChildProcess ? [...hookWaitTimes].sort((a, b) => a - b) : hooks;
        const elapsed = seconds - (firstRequest - t0) / 1000;
        const binding = (Object.keys(limiter.rates) as RateLimitedOperation[])
            .map((operation) => ({ operation, limit: limiter.rates[operation]!, measured: (limiter.admitted[operation] ?? 0) / elapsed }))
            .map((b) => ({ ...b, share: b.measured / b.limit, saturated: limiter.saturatedRate(b.operation) }))
            .sort((a, b) => b.share - a.share)[0];
        return {
            units: o.units, provisionedOnce, gaveUp, problems, seconds, unitsPerSecond: provisionedOnce / seconds,
            identity: { p50: percentile(identity, 50), p99: percentile(identity, 99), max: identity.at(-1) ?? NaN },
            hook: {
                p50: percentile(hooks, 50), p99: percentile(hooks, 99), invocations: hooks.length, where: hookInChildProcess ? "its own process" : "this process",
                waited: { p50: percentile(waits, 50), p99: percentile(waits, 99) },
            },
            requests: { admitted: { ...limiter.admitted }, throttled: { ...limiter.throttled } },
            retries: done.reduce((n, d) => n + (d.got?.counts.retries ?? 0), 0),
            newCertificates: done.reduce((n, d) => n + (d.got?.counts.newCertificates ?? 0), 0),
            peakRssMiB: peakRss / 2 ** 20, binding, startupSeconds: (firstRequest - t0) / 1000,
            prepared: { unitKeysSeconds, awsKeysSeconds },
            eventLoopDelay: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
            dynamo: { p50: percentile(calls, 50), p99: percentile(calls, 99), calls: calls.length, where: dynamoInChildProcess ? "child process" : "this process" },
        };
    } finally {
        clearInterval(sampler);
        await close(fleets.device);
        await close(fleets.aws);
    }
}


/** A certificate's id as AWS IoT computes it: the SHA-256 of its DER, in hex. */
function idOf(pem: string): string {
    return new crypto.X509Certificate(pem).fingerprint256.replace(/:/g, "").toLowerCase();
}
