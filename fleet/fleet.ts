import * as fs from "fs";
import * as path from "path";
import { gateReason } from "./gates";
import { Changes, NO_CHANGES, OperationError, Outcome, PlannedStep, StackLockedError, StackRunner, Violation } from "./runner";

export type Command = "preview" | "up" | "refresh" | "drift";

/**
 * succeeded; drifted (drift found changes made outside Pulumi); failed (the operation failed);
 * blocked (a gate stopped it: a mandatory guardrail, a protected replacement); locked (another update
 * holds the stack); cancelled (Ctrl-C while it ran); skipped (never started: an earlier wave or a stack
 * of its own wave did not succeed, or Ctrl-C came first).
 */
export type Result = "succeeded" | "drifted" | "failed" | "blocked" | "locked" | "cancelled" | "skipped";

export interface StackReport {
    stack: string;
    wave: number;
    region: string;
    account: string;
    changes: Changes;
    durationSeconds: number;
    result: Result;
    /** Why it did not succeed (one line). */
    reason?: string;
    /** The stack's engine log; "" for a stack never started. */
    logFile: string;
    /** drift: the resources whose state differs from what AWS has now (update) or that are gone (delete). */
    drift?: { urn: string; op: string }[];
    violations: Violation[];
}

export interface FleetReport {
    command: Command;
    waves: string[][];
    stacks: StackReport[];
    exitCode: number;
}

export interface StackPlace {
    region: string;
    account: string;
}

export interface FleetOptions {
    command: Command;
    waves: string[][];
    runner: StackRunner;
    /** Most stacks running at once inside a wave. */
    parallel: number;
    /** URNs whose replacement or deletion is intended (`--allow-replace`). */
    allowReplace: string[];
    /** Policy packs every preview and update applies (the guardrails). */
    policyPacks: string[];
    /** Where the per-stack engine logs go (`<logDir>/<stack>.log`). */
    logDir: string;
    /** Region and account of a stack, for the table. */
    place: (stack: string) => StackPlace;
    /** One line per stack state change. */
    progress: (line: string) => void;
    /** Ctrl-C: running stacks are cancelled, none is started. */
    signal: AbortSignal;
    /** How long a cancelled operation may take to stop before its stack is cancelled regardless. */
    cancelGraceMs?: number;
    /** How long to wait for the CLI's own "^C received; cancelling" before sending it SIGINT (default 3 s). */
    sigintDelayMs?: number;
    protectedTypes?: readonly string[];
    now?: () => number;
}

const SUCCESS: Result[] = ["succeeded"];

/** Exit code: 0 when every stack succeeded (drift: and none drifted), 1 otherwise. */
export function exitCodeOf(stacks: StackReport[]): number {
    return stacks.every((s) => SUCCESS.includes(s.result)) ? 0 : 1;
}

const count = (c: Changes) => `+${c.create} ~${c.update} ±${c.replace} -${c.delete}`;

/** Runs one command over the stacks, wave after wave; a wave starts only when every stack of the one before succeeded. */
export async function runFleet(o: FleetOptions): Promise<FleetReport> {
    const now = o.now ?? Date.now;
    const parallel = Math.max(1, Math.floor(o.parallel));
    fs.mkdirSync(o.logDir, { recursive: true });
    const reports = new Map<string, StackReport>();
    const blank = (stack: string, wave: number): StackReport => ({
        stack, wave, ...o.place(stack), changes: { ...NO_CHANGES }, durationSeconds: 0, result: "skipped",
        logFile: path.join(o.logDir, `${stack}.log`), violations: [],
    });
    o.waves.forEach((w, i) => w.forEach((s) => reports.set(s, blank(s, i + 1))));

    /** Stacks whose operation is running, with the controller that stops it. */
    const running = new Map<string, { abort: AbortController; done: Promise<void>; cliCancelling: boolean }>();
    const cancelled = new Set<string>();
    const cancels: Promise<void>[] = [];
    const onCancel = () => {
        for (const [stack, r] of running) {
            cancelled.add(stack);
            o.progress(`${stack}: cancelling`);
            // Ctrl-C in a terminal reaches the CLI too (one process group): it says "^C received; cancelling"
            // (pulumi/pulumi pkg/backend/cancellation_scope.go:88 at pkg/v3.248.0) and stops at a safe point. A
            // second SIGINT would make it terminate at once ("press ^C again"), so it gets one only if it did not
            // say so (the fleet was signalled alone: kill -INT, a CI runner).
            const sigint = new Promise<void>((resolve) => setTimeout(() => {
                if (!r.cliCancelling) r.abort.abort();
                resolve();
            }, o.sigintDelayMs ?? 3_000).unref());
            // Then the Automation API's cancel releases whatever lock is left (or ends the update the backend still
            // has in progress), once the operation stopped or the grace period is over.
            const grace = sigint.then(() => new Promise<void>((resolve) => setTimeout(resolve, o.cancelGraceMs ?? 60_000).unref()));
            cancels.push(Promise.race([r.done, grace]).then(() => o.runner.cancel(stack)).then(
                () => o.progress(`${stack}: cancelled; its lock is released`),
                (err) => o.progress(`${stack}: cancel failed (${oneLine(err)}); check the stack's lock: pulumi cancel --stack ${stack}`)));
        }
    };
    if (o.signal.aborted) onCancel();
    else o.signal.addEventListener("abort", onCancel, { once: true });

    let blockedBy: string | undefined;
    const started = new Set<string>();
    for (let w = 0; w < o.waves.length; w++) {
        const wave = o.waves[w];
        if (blockedBy || o.signal.aborted) {
            for (const s of wave) reports.get(s)!.reason = o.signal.aborted ? "not started: cancelled (Ctrl-C)" : `not started: ${blockedBy}`;
            continue;
        }
        o.progress(`wave ${w + 1}: ${wave.join(", ")}`);
        const queue = [...wave];
        let waveFailed = false;
        const worker = async () => {
            for (let stack = queue.shift(); stack !== undefined; stack = queue.shift()) {
                if (o.signal.aborted || waveFailed) {
                    reports.get(stack)!.reason = o.signal.aborted ? "not started: cancelled (Ctrl-C)" : `not started: another stack of wave ${w + 1} did not succeed`;
                    continue;
                }
                started.add(stack);
                const abort = new AbortController();
                let settle!: () => void;
                const done = new Promise<void>((resolve) => { settle = resolve; });
                const entry = { abort, done, cliCancelling: false };
                running.set(stack, entry);
                try {
                    await runOne(o, reports.get(stack)!, abort.signal, now, () => { entry.cliCancelling = true; });
                } finally {
                    running.delete(stack);
                    settle();
                }
                const r = reports.get(stack)!;
                // An operation that finished before SIGINT reached it keeps its result.
                if (cancelled.has(stack) && r.result !== "succeeded") {
                    r.result = "cancelled";
                    r.reason = `cancelled (Ctrl-C)${r.reason ? `: ${r.reason}` : ""}`;
                }
                o.progress(`${stack}: ${r.result} in ${r.durationSeconds}s ${count(r.changes)}${r.reason ? ` — ${r.reason}` : ""}`);
                if (!SUCCESS.includes(r.result) && o.command !== "drift") waveFailed = true;
            }
        };
        await Promise.all(Array.from({ length: Math.min(parallel, wave.length) }, worker));
        const failed = wave.filter((s) => !SUCCESS.includes(reports.get(s)!.result));
        if (failed.length && o.command !== "drift") blockedBy = `wave ${w + 1} did not succeed (${failed.join(", ")})`;
    }
    o.signal.removeEventListener("abort", onCancel);
    // Every cancelled stack's lock is released before the command returns.
    await Promise.all(cancels);
    const stacks = o.waves.flat().map((s) => reports.get(s)!);
    // A stack never started has no log.
    for (const s of stacks) if (!started.has(s.stack)) s.logFile = "";
    return { command: o.command, waves: o.waves, stacks, exitCode: exitCodeOf(stacks) };
}

/** The CLI's own words on its first SIGINT or SIGTERM (pulumi/pulumi pkg/backend/cancellation_scope.go:88-90). */
const CLI_CANCELLING = /(\^C|SIGTERM) received; cancelling/;

async function runOne(o: FleetOptions, r: StackReport, signal: AbortSignal, now: () => number, cliCancelling: () => void): Promise<void> {
    const started = now();
    const log = fs.createWriteStream(r.logFile, { flags: "w" });
    const write = (text: string) => {
        if (CLI_CANCELLING.test(text)) cliCancelling();
        log.write(text.endsWith("\n") ? text : `${text}\n`);
    };
    const opts = { log: write, signal, policyPacks: o.policyPacks };
    const step = (what: string) => { o.progress(`${r.stack}: ${what}`); write(`# fleet: ${what}`); };
    const take = (outcome: Outcome) => {
        r.changes = outcome.changes;
        r.violations = outcome.violations;
    };
    try {
        switch (o.command) {
            case "preview":
            case "up": {
                step("preview");
                const preview = await o.runner.preview(r.stack, opts);
                take(preview);
                const gate = gateReason(preview.steps, preview.violations, o.allowReplace, o.protectedTypes);
                if (gate) {
                    r.result = "blocked";
                    r.reason = gate;
                    break;
                }
                if (o.command === "up") {
                    if (signal.aborted || o.signal.aborted) throw new Error("cancelled before the update started");
                    step(`update ${count(preview.changes)}`);
                    take(await o.runner.up(r.stack, opts));
                }
                r.result = "succeeded";
                break;
            }
            case "refresh":
                step("refresh");
                take(await o.runner.refresh(r.stack, opts));
                r.result = "succeeded";
                break;
            case "drift": {
                step("drift (refresh --preview-only)");
                const drift = await o.runner.drift(r.stack, opts);
                take(drift);
                r.drift = driftedSteps(drift.steps);
                r.result = r.drift.length ? "drifted" : "succeeded";
                if (r.drift.length) r.reason = `${r.drift.length} resource(s) changed outside Pulumi`;
                break;
            }
        }
    } catch (err) {
        if (err instanceof OperationError) take(err.outcome);
        if (err instanceof StackLockedError) {
            r.result = "locked";
        } else {
            r.result = "failed";
            const gate = err instanceof OperationError ? gateReason([], err.outcome.violations, []) : undefined;
            if (gate) r.result = "blocked";
            r.reason = gate ?? oneLine(err);
        }
        r.reason ??= oneLine(err);
        write(`# fleet: ${r.result}: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    } finally {
        r.durationSeconds = Math.round((now() - started) / 1000);
        write(`# fleet: ${r.result}${r.reason ? `: ${r.reason}` : ""}`);
        await new Promise<void>((resolve) => log.end(resolve));
    }
}

/** A refresh preview's steps that found AWS differing from the state (the engine's result op: update or delete). */
export function driftedSteps(steps: PlannedStep[]): { urn: string; op: string }[] {
    return steps.filter((s) => s.op === "update" || s.op === "delete").map((s) => ({ urn: s.urn, op: s.op }));
}

export function oneLine(err: unknown): string {
    const text = err instanceof Error ? err.message : String(err);
    const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
    // The CLI's own error line is the useful one (`error: ...`); else the first line.
    return (lines.find((l) => /^error:/.test(l)) ?? lines[0] ?? "failed").slice(0, 300);
}
