/**
 * The pre-provisioning hook in a process of its own, as a Lambda execution environment runs it (one handler, its
 * own event loop): the burst bench's hook. Started by ./hookProcess.ts over an IPC channel. Its DynamoDB is dynalite
 * at the endpoint it is given; its AWS IoT calls go back to the parent, whose broker double answers them. Each
 * invocation's time is measured here, from the handler's start to its answer, as Lambda bills a duration.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { configFromEnv, createHandler } from "../../components/provisioning/lambda/provisioningHook";
import { timeClientCalls } from "./clientTiming";

export type ToChild =
    | { type: "init"; env: Record<string, string>; endpoint: string; registryTimeoutMs: number; keepLogs: boolean }
    | { type: "invoke"; id: number; event: unknown }
    | { type: "iotResult"; id: number; result?: unknown; error?: { name: string; message: string } };
export type FromChild =
    | { type: "ready" }
    | { type: "result"; id: number; result?: unknown; error?: string; ms: number; dynamoMs: number[] }
    | { type: "iot"; id: number; name: string; input: unknown }
    | { type: "log"; line: string };

const send = (m: FromChild) => process.send!(m);
let handler: ((event: unknown) => Promise<unknown>) | undefined;
const dynamoMs: number[] = [];
let nextIot = 0;
const pendingIot = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

process.on("message", (m: ToChild) => {
    if (m.type === "init") {
        const dynamo = new DynamoDBClient({ endpoint: m.endpoint, region: "ap-northeast-2", credentials: { accessKeyId: "test", secretAccessKey: "test" } });
        // Every call's time; each answer carries those recorded since the last one (invocations overlap: the parent sums them).
        timeClientCalls(dynamo, dynamoMs, "hookChildTiming");
        const iot = {
            send: (command: { constructor: { name: string }; input: unknown }) => new Promise((resolve, reject) => {
                const id = nextIot++;
                pendingIot.set(id, { resolve, reject });
                send({ type: "iot", id, name: command.constructor.name, input: command.input });
            }),
        };
        handler = createHandler({
            config: configFromEnv(m.env), dynamo, iot: iot as never, now: () => new Date(),
            log: (line) => { if (m.keepLogs) send({ type: "log", line }); }, registryTimeoutMs: m.registryTimeoutMs,
        });
        send({ type: "ready" });
    } else if (m.type === "invoke") {
        const t = process.hrtime.bigint();
        handler!(m.event).then(
            (result) => send({ type: "result", id: m.id, result, ms: Number(process.hrtime.bigint() - t) / 1e6, dynamoMs: dynamoMs.splice(0) }),
            (err: Error) => send({ type: "result", id: m.id, error: err.message, ms: Number(process.hrtime.bigint() - t) / 1e6, dynamoMs: dynamoMs.splice(0) }),
        );
    } else if (m.type === "iotResult") {
        const p = pendingIot.get(m.id)!;
        pendingIot.delete(m.id);
        if (m.error) p.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
        else p.resolve(m.result);
    }
});
process.on("disconnect", () => process.exit(0));
