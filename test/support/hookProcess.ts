/**
 * Parent side of ./hookChild.ts: starts the hook in its own Node process and invokes it over IPC. The burst bench
 * uses it so the hook's time is its own (a Lambda runs one invocation per execution environment), not a wait for
 * the event loop that also runs the broker double and thousands of units.
 */
import { ChildProcess, fork } from "child_process";
import type { FromChild, ToChild } from "./hookChild";

export interface HookProcessOptions {
    /** The hook Lambda's environment, as the stack's plan sets it. */
    env: Record<string, string>;
    /** dynalite's endpoint (LocalDynamo.endpoint). */
    endpoint: string;
    registryTimeoutMs: number;
    /** Answers the hook's AWS IoT calls (the double's iotApi). */
    iot: { send(command: { constructor: { name: string }; input: unknown }): Promise<unknown> };
    /** Each invocation's duration as the hook's process measured it (ms), and its DynamoDB calls'. */
    hookTimes?: number[];
    dynamoTimes?: number[];
    log?: (line: string) => void;
}

export class HookProcess {
    private next = 0;
    private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

    private constructor(private readonly child: ChildProcess, private readonly o: HookProcessOptions) {
        child.on("message", (m: FromChild) => this.receive(m));
    }

    static async start(o: HookProcessOptions): Promise<HookProcess> {
        const child = fork(require.resolve("./hookChild"), [], {
            execArgv: ["-r", "ts-node/register/transpile-only"], stdio: ["ignore", "inherit", "inherit", "ipc"],
            // Structured clone, not JSON: the double's answers keep their Dates and Buffers.
            serialization: "advanced",
        });
        const p = new HookProcess(child, o);
        await new Promise<void>((resolve, reject) => {
            child.once("error", reject);
            child.once("exit", (code) => reject(new Error(`the hook's process exited (${code}) before it was ready`)));
            child.on("message", (m: FromChild) => { if (m.type === "ready") resolve(); });
            p.post({ type: "init", env: o.env, endpoint: o.endpoint, registryTimeoutMs: o.registryTimeoutMs, keepLogs: o.log !== undefined });
        });
        child.removeAllListeners("exit");
        return p;
    }

    /** One invocation, as AWS IoT makes it. */
    invoke(event: unknown): Promise<unknown> {
        const id = this.next++;
        return new Promise((resolve, reject) => {
            this.pending.set(id, { resolve, reject });
            this.post({ type: "invoke", id, event });
        });
    }

    async stop(): Promise<void> {
        if (this.child.exitCode !== null) return;
        const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
        this.child.disconnect();
        await exited;
    }

    private post(m: ToChild): void {
        this.child.send(m);
    }

    private receive(m: FromChild): void {
        if (m.type === "result") {
            this.o.hookTimes?.push(m.ms);
            this.o.dynamoTimes?.push(...m.dynamoMs);
            const p = this.pending.get(m.id)!;
            this.pending.delete(m.id);
            if (m.error !== undefined) p.reject(new Error(m.error));
            else p.resolve(m.result);
        } else if (m.type === "iot") {
            this.o.iot.send({ constructor: { name: m.name }, input: m.input }).then(
                (result) => this.post({ type: "iotResult", id: m.id, result }),
                (err: Error) => this.post({ type: "iotResult", id: m.id, error: { name: err.name, message: err.message } }),
            );
        } else if (m.type === "log") this.o.log?.(m.line);
    }
}
