import * as assert from "assert";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { AutomationRunner } from "../fleet/automationRunner";
import { OperationError, OperationOptions, StackLockedError } from "../fleet/runner";

/**
 * The SDK's own error mapping from the CLI's stderr (@pulumi/pulumi 3.248.0 automation/errors.js:64-82,
 * createCommandError: "[409] Conflict: Another update is currently in progress." (Pulumi Cloud) and "the stack is
 * currently locked by" (file/S3 backends) become ConcurrentUpdateError; "no stack named ... found", StackNotFoundError).
 */
const { createCommandError } = require("@pulumi/pulumi/automation/errors") as { createCommandError: (r: unknown) => Error };
const { CommandResult } = require("@pulumi/pulumi/automation/cmd") as { CommandResult: new (stdout: string, stderr: string, code: number) => unknown };
const cliError = (stderr: string) => createCommandError(new CommandResult("", stderr, 255));

type Call = { method: string; opts: Record<string, any> };

/** A Stack double: records what the runner asks of the Automation API and plays engine events back. */
function fakeStack(behaviour: Partial<Record<"preview" | "up" | "refresh" | "previewRefresh", (opts: any) => Promise<unknown>>>, calls: Call[], extra: Partial<Stack> = {}): Stack {
    const op = (method: keyof typeof behaviour) => async (opts: any) => {
        calls.push({ method, opts });
        return behaviour[method]!(opts);
    };
    return { preview: op("preview"), up: op("up"), refresh: op("refresh"), previewRefresh: op("previewRefresh"), ...extra } as unknown as Stack;
}

const ev = (e: Partial<EngineEvent>): EngineEvent => ({ sequence: 0, timestamp: 0, ...e });
const step = (op: string, urn: string, type: string, protect: boolean, planning = true) => ({
    metadata: { op, urn, type, provider: "", old: { type, urn, protect, id: "x", parent: "", inputs: {}, outputs: {}, provider: "" } }, planning,
});
const policy = (level: "mandatory" | "warning") => ({ policyEvent: { resourceUrn: "urn:pulumi:kr::fms-iot::aws:iot/policy:Policy::p", message: "iot:* on *\n", color: "never", policyName: "iot-least-privilege", policyPackName: "fms-iot-guardrails", policyPackVersion: "0.2.0", policyPackVersionTag: "0.2.0", enforcementLevel: level } });

function options(): OperationOptions & { lines: string[] } {
    const lines: string[] = [];
    return { log: (t) => lines.push(t), signal: new AbortController().signal, policyPacks: ["/repo/guardrails"], lines };
}

describe("AutomationRunner (the Automation API implementation, on a Stack double)", () => {
    it("preview: the policy packs, the abort signal and the log go to the Automation API; steps, protect flags and findings come back", async () => {
        const calls: Call[] = [];
        const stack = fakeStack({
            preview: async (opts) => {
                opts.onOutput("engine says hello\n");
                opts.onEvent(ev({ resourcePreEvent: step("replace", "urn:a", "aws:dynamodb/table:Table", true) as never }));
                opts.onEvent(ev({ resourcePreEvent: step("same", "urn:b", "aws:iot/policy:Policy", false) as never }));
                opts.onEvent(ev(policy("mandatory") as never));
                opts.onEvent(ev(policy("warning") as never));
                return { stdout: "", stderr: "", changeSummary: { replace: 1, same: 1 } };
            },
        }, calls);
        const selected: string[] = [];
        const runner = new AutomationRunner("/repo", { PULUMI_BACKEND_URL: "file:///tmp/x" }, async (name, dir, env) => { selected.push(`${name} ${dir} ${env.PULUMI_BACKEND_URL}`); return stack; });
        const o = options();
        const outcome = await runner.preview("kr", o);
        assert.deepStrictEqual(selected, ["kr /repo file:///tmp/x"]);
        assert.deepStrictEqual(calls[0].opts.policyPacks, ["/repo/guardrails"]);
        assert.strictEqual(calls[0].opts.signal, o.signal);
        assert.deepStrictEqual(o.lines, ["engine says hello\n"]);
        assert.deepStrictEqual(outcome.changes, { create: 0, update: 0, replace: 1, delete: 0 });
        assert.deepStrictEqual(outcome.steps, [
            { urn: "urn:a", type: "aws:dynamodb/table:Table", op: "replace", protect: true },
            { urn: "urn:b", type: "aws:iot/policy:Policy", op: "same", protect: false },
        ]);
        assert.deepStrictEqual(outcome.violations.map((v) => [v.policy, v.level, v.urn, v.message]), [
            ["iot-least-privilege", "mandatory", "urn:pulumi:kr::fms-iot::aws:iot/policy:Policy::p", "iot:* on *"],
            ["iot-least-privilege", "advisory", "urn:pulumi:kr::fms-iot::aws:iot/policy:Policy::p", "iot:* on *"],
        ]);
        // The stack is selected once and reused.
        await runner.preview("kr", options());
        assert.strictEqual(selected.length, 1);
    });

    it("drift is previewRefresh (refresh --preview-only), its steps the refresh's result ops from resOutputsEvent", async () => {
        const calls: Call[] = [];
        const stack = fakeStack({
            previewRefresh: async (opts) => {
                // A refresh step's pre-event says "refresh"; its outputs event carries the result op (update: drifted).
                opts.onEvent(ev({ resourcePreEvent: step("refresh", "urn:a", "aws:iot/policy:Policy", false) as never }));
                opts.onEvent(ev({ resOutputsEvent: step("update", "urn:a", "aws:iot/policy:Policy", false) as never }));
                opts.onEvent(ev({ resOutputsEvent: step("same", "urn:b", "aws:sns/topic:Topic", false) as never }));
                return { stdout: "", stderr: "", changeSummary: { update: 1, same: 1 } };
            },
        }, calls);
        const outcome = await new AutomationRunner("/repo", {}, async () => stack).drift("kr", options());
        assert.deepStrictEqual(calls.map((c) => c.method), ["previewRefresh"]);
        assert.strictEqual(calls[0].opts.policyPacks, undefined, "a refresh runs no policy pack");
        assert.deepStrictEqual(outcome.steps.map((s) => [s.urn, s.op]), [["urn:a", "update"], ["urn:b", "same"]]);
        assert.deepStrictEqual(outcome.changes, { create: 0, update: 1, replace: 0, delete: 0 });
    });

    it("up: the update's summary counts; refresh likewise", async () => {
        const calls: Call[] = [];
        const summary = { kind: "update", result: "succeeded", resourceChanges: { create: 3, update: 1, delete: 2 } };
        const stack = fakeStack({ up: async () => ({ summary }), refresh: async () => ({ summary: { ...summary, resourceChanges: { update: 4 } } }) }, calls);
        const runner = new AutomationRunner("/repo", {}, async () => stack);
        assert.deepStrictEqual((await runner.up("kr", options())).changes, { create: 3, update: 1, replace: 0, delete: 2 });
        assert.deepStrictEqual(calls[0].opts.policyPacks, ["/repo/guardrails"]);
        assert.deepStrictEqual((await runner.refresh("kr", options())).changes, { create: 0, update: 4, replace: 0, delete: 0 });
    });

    it("the CLI's lock messages (Pulumi Cloud and file/S3 backends) become StackLockedError; other failures OperationError with the CLI's error line and the findings so far", async () => {
        for (const stderr of ["error: [409] Conflict: Another update is currently in progress.", "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`."]) {
            const stack = fakeStack({ preview: async () => { throw cliError(stderr); } }, []);
            await assert.rejects(new AutomationRunner("/repo", {}, async () => stack).preview("kr", options()), (e: Error) => e instanceof StackLockedError && /kr is locked by another update/.test(e.message));
        }
        const failing = fakeStack({
            preview: async (opts) => {
                opts.onEvent(ev(policy("mandatory") as never));
                throw cliError("Updating (kr):\nerror: preview failed: 1 mandatory policy violation\n");
            },
        }, []);
        await assert.rejects(new AutomationRunner("/repo", {}, async () => failing).preview("kr", options()), (e: Error) =>
            e instanceof OperationError && e.message === "error: preview failed: 1 mandatory policy violation" && e.outcome.violations[0].level === "mandatory");
    });

    it("a stack missing from the backend says how to create it (the fleet never creates one)", async () => {
        const runner = new AutomationRunner("/repo", {}, async () => { throw cliError("error: no stack named 'mx' found"); });
        await assert.rejects(runner.up("mx", options()), /no stack mx in the backend: create it once with pulumi stack init mx/);
    });

    it("lastUpdate reads one history entry without secrets; who is the git author and CI system the CLI recorded", async () => {
        const asked: unknown[][] = [];
        const stack = fakeStack({}, [], {
            history: async (...args: unknown[]) => {
                asked.push(args);
                return [{ kind: "update", result: "succeeded", startTime: new Date("2026-12-01T10:00:00Z"), endTime: new Date("2026-12-01T10:05:00Z"), environment: { "git.author": "Ana Kim", "ci.system": "GitHub" }, message: "", config: {}, version: 7 }];
            },
            cancel: async () => { asked.push(["cancel"]); },
        } as never);
        const runner = new AutomationRunner("/repo", {}, async () => stack);
        assert.deepStrictEqual(await runner.lastUpdate("kr"), { kind: "update", result: "succeeded", startTime: "2026-12-01T10:00:00.000Z", endTime: "2026-12-01T10:05:00.000Z", who: "Ana Kim via GitHub" });
        assert.deepStrictEqual(asked[0], [1, 1, false]);
        await runner.cancel("kr");
        assert.deepStrictEqual(asked[1], ["cancel"]);
    });
});
