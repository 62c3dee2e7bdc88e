/**
 * npm run bench [-- --no-readme]: prints figures, asserts nothing, and writes them into docs/benchmarks.md's bench section
 * (unless --no-readme). Progress goes to stderr.
 * - program evaluation on mocks per stack (median of several runs);
 * - routing with 100 vs 1,000 routes (and the ratio);
 * - pre-provisioning hook latency p50/p99 over 10,000 warm invocations, registry mocked;
 * - hook bundle size;
 * - the longest dependency chain in each stack's resource graph.
 */
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
import { BENCH_MARKERS, benchSection, STACK_TABLE_HEADER, stackRow, StackShape, stackShape } from "./figures";
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

async function main(): Promise<void> {
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
    for (const count of [100, 1000]) {
        progress(`routing with ${count} routes`);
        const times: number[] = [];
        for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) times.push(await timed(() => withRoutes(count)));
        routeTimes[count] = median(times);
    }
    out.push("", `Routing (dev, create mode): 100 routes ${routeTimes[100].toFixed(0)} ms, 1,000 routes ${routeTimes[1000].toFixed(0)} ms, ratio ${(routeTimes[1000] / routeTimes[100]).toFixed(2)}`);

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
    if (!process.argv.includes("--no-readme")) {
        const readme = path.join(PROJECT_ROOT, "docs", "benchmarks.md");
        fs.writeFileSync(readme, replaceMarkedSection(fs.readFileSync(readme, "utf8"), BENCH_MARKERS, benchSection(output)));
        progress("wrote the figures into docs/benchmarks.md");
    }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
