import { LastUpdate, OperationOptions, Outcome, StackOutput, StackRunner } from "../../fleet/runner";

type Op = "preview" | "up" | "refresh" | "drift";
/** What one operation of one stack does: its outcome, or throws; may wait on `gate` first. */
export type Behaviour = (stack: string, o: OperationOptions) => Promise<Outcome>;

export const outcome = (partial: Partial<Outcome> = {}): Outcome => ({
    changes: { create: 0, update: 0, replace: 0, delete: 0 }, steps: [], violations: [], ...partial,
});

/**
 * A StackRunner double: records every call in order, the most operations it saw running at once, and
 * lets a test hold an operation open (`hold`) until it releases or the fleet aborts it.
 */
export class FakeRunner implements StackRunner {
    readonly calls: string[] = [];
    running = 0;
    maxRunning = 0;
    readonly cancelled: string[] = [];
    readonly behaviours = new Map<string, Behaviour>();
    readonly outputsOf = new Map<string, Record<string, StackOutput>>();
    readonly updates = new Map<string, LastUpdate>();
    private readonly holds = new Map<string, () => void>();
    /** Operations waiting on a hold (`<op> <stack>`), so a test can wait until they run. */
    readonly held = new Set<string>();

    on(op: Op, stack: string, b: Behaviour): this {
        this.behaviours.set(`${op} ${stack}`, b);
        return this;
    }

    /** The operation waits until `release(key)` or its signal aborts (then it throws, as the CLI does on SIGINT). */
    hold(op: Op, stack: string): this {
        return this.on(op, stack, (s, o) => new Promise<Outcome>((resolve, reject) => {
            const key = `${op} ${s}`;
            this.held.add(key);
            this.holds.set(key, () => resolve(outcome()));
            o.signal.addEventListener("abort", () => reject(new Error("error: update canceled")));
        }));
    }

    release(op: Op, stack: string): void {
        this.holds.get(`${op} ${stack}`)?.();
    }

    private async op(op: Op, stack: string, o: OperationOptions): Promise<Outcome> {
        this.calls.push(`${op} ${stack}`);
        this.running++;
        this.maxRunning = Math.max(this.maxRunning, this.running);
        try {
            o.log(`engine output of ${op} ${stack}`);
            // A turn of the event loop, so that operations started together overlap.
            await new Promise((r) => setImmediate(r));
            const b = this.behaviours.get(`${op} ${stack}`);
            return b ? await b(stack, o) : outcome();
        } finally {
            this.running--;
            this.calls.push(`end ${op} ${stack}`);
        }
    }

    preview(stack: string, o: OperationOptions) { return this.op("preview", stack, o); }
    up(stack: string, o: OperationOptions) { return this.op("up", stack, o); }
    refresh(stack: string, o: OperationOptions) { return this.op("refresh", stack, o); }
    drift(stack: string, o: OperationOptions) { return this.op("drift", stack, o); }
    async outputs(stack: string) { return this.outputsOf.get(stack) ?? {}; }
    async lastUpdate(stack: string) { return this.updates.get(stack); }
    async cancel(stack: string) { this.cancelled.push(stack); }
}
