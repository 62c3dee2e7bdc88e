/**
 * npm run bench [-- --write]: prints figures and asserts nothing; with --write (only) it also writes them into the
 * bench section of BENCH_FILE (bench/figures.ts). Progress goes to stderr.
 * npm run bench -- --burst [N] [--no-backoff] [--write]: the provisioning burst instead (bench/burst.ts; N default 500):
 * its figures, the projection to 10,000 and 100,000 units, and a last line a script can read; with --write (only) they
 * also go into docs/scale.md's burst section. Exit 1 when a check fails.
 * - program evaluation on mocks per stack (median of several runs);
 * - routing with 100 vs 900 routes (and the ratio; 900 keeps dev with kr, which shares its account and region, under
 *   AWS's 1,000 topic rules per account and region, which the config checks: config/accountQuotas.ts);
 * - pre-provisioning hook latency p50/p99 over 10,000 warm invocations, registry mocked;
 * - hook bundle size;
 * - the longest dependency chain in each stack's resource graph.
 */
// Before any use of libuv's pool (it is sized on first use): the burst's emulated AWS signs certificates and makes
// RSA keys there, and must not queue the hook's work behind them on a pool of 4.
process.env.UV_THREADPOOL_SIZE ??= "16";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { PROJECT_ROOT, stackNames } from "../config/stackFile";
import { HOOK_ENTRY } from "../components/provisioning/fleetProvisioning";
import { bundleHandler } from "../components/lambdaBundle";
import { createHandler } from "../components/provisioning/lambda/provisioningHook";
import { runStack } from "../plan/program";
import { replaceMarkedSection } from "../plan/readmeSection";
import { runBurst } from "./burstReport";
import { BENCH_FILE, BENCH_MARKERS, benchSection, STACK_TABLE_HEADER, stackRow, StackShape, stackShape } from "./figures";
import { certificateKeyFingerprint } from "../components/runtime/keyFingerprint";
import { makeCertificate, makeKeys } from "../test/support/x509";

const progress = (what: string) => process.stderr.write(`bench: ${what}\n`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function timed(fn: () => Promise<unknown>): Promise<number> {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
}

/** The arguments: --write, --burst [N], --no-backoff (with --burst, not with --write); --no-readme is accepted (it is the default now). */
export function parseBenchArgs(argv: string[]): { write: boolean; burst?: number; backoff: boolean } {
    const args = { write: false, burst: undefined as number | undefined, backoff: true };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--write") args.write = true;
        else if (a === "--no-readme") continue;
        else if (a === "--no-backoff") args.backoff = false;
        else if (a === "--burst") {
            const n = argv[i + 1];
            if (n !== undefined && /^\d+$/.test(n)) { args.burst = Number(n); i++; } else args.burst = 500;
            if (args.burst < 1) throw new Error("--burst N: N is a whole number of units, at least 1");
        } else throw new Error(`unknown argument ${a}: npm run bench [-- --write] | npm run bench -- --burst [N] [--no-backoff | --write]`);
    }
    if (!args.backoff && args.burst === undefined) throw new Error("--no-backoff goes with --burst");
    if (!args.backoff && args.write) throw new Error("--no-backoff shows the burst failing; --write records runs of the device retry policy only");
    return args;
}

async function main(): Promise<void> {
    const args = parseBenchArgs(process.argv.slice(2));
    if (args.burst !== undefined) {
        process.exitCode = await runBurst(args.burst, args.backoff, progress, args.write);
        return;
    }
    const runs = Number(process.env.BENCH_RUNS ?? 5);
    const out: string[] = [];
    const cpu = os.cpus();
    out.push(`Machine: ${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`);
    out.push("", ...STACK_TABLE_HEADER(runs));
    const stacks = stackNames();
    for (const [i, stack] of stacks.entries()) {
        progress(`${stack} (${i + 1}/${stacks.length}): warm-up, then ${runs} timed evaluations`);
        const shape: StackShape = await stackShape(stack); // also the warm-up: module loading and the TypeScript compile
        const times: number[] = [];
        for (let r = 0; r < runs; r++) times.push(await timed(() => runStack(stack, { fresh: true })));
        out.push(stackRow(shape, median(times)));
    }

    const withRoutes = (count: number) => runStack("dev", { edit: (c) => {
        const r = JSON.parse(c["fms-iot:routing"]);
        r.routes = Array.from({ length: count }, (_, i) => ({ key: i === 0 ? "rule1" : `r${i}` })); // greengrass telemetry uses rule1
        c["fms-iot:routing"] = JSON.stringify(r);
    } });
    const routeTimes: Record<number, number> = {};
    for (const count of [100, 900]) {
        progress(`routing with ${count} routes`);
        const times: number[] = [];
        for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) times.push(await timed(() => withRoutes(count)));
        routeTimes[count] = median(times);
    }
    out.push("", `Routing (dev, create mode): 100 routes ${routeTimes[100].toFixed(0)} ms, 900 routes ${routeTimes[900].toFixed(0)} ms, ratio ${(routeTimes[900] / routeTimes[100]).toFixed(2)}`);

    // As production runs it: the key binding parses the new certificate's PEM on every decision.
    const pem = await makeCertificate(await makeKeys());
    const ddb = mockClient(DynamoDBClient);
    ddb.on(GetItemCommand).resolves({ Item: { status: { S: "active" }, templates: { SS: ["fms-kr-vehicle"] }, publicKeyFingerprint: { S: certificateKeyFingerprint(pem)! } } });
    ddb.on(UpdateItemCommand).resolves({});
    const hook = createHandler({
        config: {
            mode: "registry", tableName: "registry", allowReprovisioning: false, bindKeys: true, rotationTable: "rotation", gracePeriodHours: 24, confirmTimeoutHours: 24,
            templates: { "fms-kr-vehicle": { purpose: "provision", thingNamePrefix: "test-thing-", serialPrefixes: ["297468"], deviceParameters: ["SerialNumber"] } },
        },
        dynamo: new DynamoDBClient({ region: "ap-northeast-2", credentials: { accessKeyId: "x", secretAccessKey: "y" } }),
        iot: { send: async () => ({}) },
        now: () => new Date(),
        log: () => undefined,
        registryTimeoutMs: 1500,
    });
    const event = (i: number) => ({
        certificateId: "a".repeat(64), claimCertificateId: "b".repeat(64), templateArn: "arn:aws:iot:ap-northeast-2:123456789012:provisioningtemplate/fms-kr-vehicle", certificatePem: pem,
        parameters: { SerialNumber: `297468${String(i).padStart(6, "0")}` },
    });
    progress("pre-provisioning hook: 10,000 warm invocations");
    for (let i = 0; i < 1000; i++) await hook(event(i));
    const latencies: number[] = [];
    for (let i = 0; i < 10_000; i++) latencies.push(await timed(() => hook(event(i))));
    latencies.sort((a, b) => a - b);
    out.push(`Hook (registry mode with key binding, DynamoDB mocked, 10,000 warm invocations): p50 ${(percentile(latencies, 50) * 1000).toFixed(0)} µs, p99 ${(percentile(latencies, 99) * 1000).toFixed(0)} µs (AWS allows 5 s)`);
    out.push(`Hook bundle: ${Buffer.byteLength(bundleHandler(HOOK_ENTRY))} bytes (AWS SDK left to the Node.js 22 runtime)`);
    const output = out.join("\n");
    console.log(output);
    if (args.write) {
        const file = path.join(PROJECT_ROOT, BENCH_FILE);
        fs.writeFileSync(file, replaceMarkedSection(fs.readFileSync(file, "utf8"), BENCH_MARKERS, benchSection(output)));
        progress(`wrote the figures into ${BENCH_FILE}`);
    } else progress(`not written anywhere (npm run bench -- --write puts them into ${BENCH_FILE})`);
}

if (require.main === module) {
    main().then(() => process.exit(process.exitCode ?? 0), (err) => { console.error(err instanceof Error ? `bench: ${err.message}` : err); process.exit(1); });
}
