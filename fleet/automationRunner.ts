import { ConcurrentUpdateError, EngineEvent, LocalWorkspace, OpMap, Stack, StackNotFoundError } from "@pulumi/pulumi/automation";
import { Changes, LastUpdate, OperationError, OperationOptions, Outcome, PlannedStep, StackLockedError, StackOutput, StackRunner, Violation } from "./runner";

/**
 * The fleet's stack operations on Pulumi's Automation API: a LocalWorkspace over the project directory,
 * the user's installed `pulumi` CLI doing the work. Stacks run in parallel in one directory safely:
 * every operation names its stack (`--stack <name>`, @pulumi/pulumi 3.248.0 automation/stack.js:1327).
 */
export class AutomationRunner implements StackRunner {
    private readonly stacks = new Map<string, Promise<Stack>>();

    /**
     * @param workDir the Pulumi project (Pulumi.yaml and the stack files)
     * @param envVars added to every CLI run (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, ...)
     */
    constructor(
        private readonly workDir: string,
        private readonly envVars: Record<string, string> = {},
        /** How a stack is selected (tests pass their own; the default never creates one). */
        private readonly select: (name: string, workDir: string, envVars: Record<string, string>) => Promise<Stack> =
            (stackName, workDir, envVars) => LocalWorkspace.selectStack({ stackName, workDir }, { envVars }),
    ) {}

    /** Selects an existing stack; never creates one (a typo must fail, not make an empty stack). */
    private stack(name: string): Promise<Stack> {
        let s = this.stacks.get(name);
        if (!s) {
            s = this.select(name, this.workDir, this.envVars);
            this.stacks.set(name, s);
            s.catch(() => this.stacks.delete(name));
        }
        return s;
    }

    async preview(name: string, o: OperationOptions): Promise<Outcome> {
        return this.operate(name, o, "pre", async (stack, onEvent) => (await stack.preview({
            policyPacks: o.policyPacks, onEvent, onOutput: o.log, onError: o.log, signal: o.signal, diff: true,
        })).changeSummary);
    }

    async up(name: string, o: OperationOptions): Promise<Outcome> {
        return this.operate(name, o, "pre", async (stack, onEvent) => (await stack.up({
            policyPacks: o.policyPacks, onEvent, onOutput: o.log, onError: o.log, signal: o.signal, diff: true,
        })).summary.resourceChanges ?? {});
    }

    async refresh(name: string, o: OperationOptions): Promise<Outcome> {
        return this.operate(name, o, "outputs", async (stack, onEvent) => (await stack.refresh({
            onEvent, onOutput: o.log, onError: o.log, signal: o.signal,
        })).summary.resourceChanges ?? {});
    }

    /**
     * `pulumi refresh --preview-only` (Stack.previewRefresh, @pulumi/pulumi automation/stack.js:601; the flag
     * since CLI 3.105.0, the Node method since 3.181.0, pulumi/pulumi CHANGELOG.md; defined at tag
     * pkg/v3.248.0 pkg/cmd/pulumi/operations/refresh.go:419). Unlike `preview --refresh`, it shows only what
     * changed outside Pulumi, not the program's own pending changes. Each refresh step's resOutputsEvent
     * carries its result op (update: AWS differs from the state; delete: gone; same) (pkg/engine/update.go:1311-1316
     * at the same tag); since 3.229.0 it takes no lock on a file backend (CHANGELOG.md).
     */
    async drift(name: string, o: OperationOptions): Promise<Outcome> {
        return this.operate(name, o, "outputs", async (stack, onEvent) => (await stack.previewRefresh({
            onEvent, onOutput: o.log, onError: o.log, signal: o.signal,
        })).changeSummary);
    }

    async outputs(name: string): Promise<Record<string, StackOutput>> {
        const outputs = await (await this.stack(name)).outputs();
        return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { value: v.secret ? "[secret]" : v.value, secret: v.secret }]));
    }

    async lastUpdate(name: string): Promise<LastUpdate | undefined> {
        // showSecrets false: the history's config stays encrypted.
        const [last] = await (await this.stack(name)).history(1, 1, false);
        if (!last) return undefined;
        const env = last.environment ?? {};
        // The environment keys the CLI records (pulumi/pulumi pkg/backend/updates.go: git.author, ci.system, ...).
        const who = [env["git.author"], env["ci.system"] && `via ${env["ci.system"]}`].filter(Boolean).join(" ") || undefined;
        return { kind: last.kind, result: last.result, startTime: new Date(last.startTime).toISOString(), endTime: last.endTime ? new Date(last.endTime).toISOString() : undefined, who };
    }

    async cancel(name: string): Promise<void> {
        await (await this.stack(name)).cancel();
    }

    private async operate(name: string, o: OperationOptions, stepsFrom: "pre" | "outputs",
        run: (stack: Stack, onEvent: (e: EngineEvent) => void) => Promise<OpMap>): Promise<Outcome> {
        const steps: PlannedStep[] = [];
        const violations: Violation[] = [];
        let summary: OpMap | undefined;
        const onEvent = (e: EngineEvent) => {
            const meta = stepsFrom === "pre" ? e.resourcePreEvent?.metadata : e.resOutputsEvent?.metadata;
            if (meta) steps.push({ urn: meta.urn, type: meta.type, op: meta.op, protect: Boolean(meta.old?.protect || meta.new?.protect) });
            const p = e.policyEvent;
            if (p) violations.push({ pack: p.policyPackName, policy: p.policyName, level: p.enforcementLevel === "mandatory" ? "mandatory" : "advisory", urn: p.resourceUrn, message: p.message.trim() });
            if (e.summaryEvent) summary = e.summaryEvent.resourceChanges;
        };
        const outcome = (map: OpMap | undefined): Outcome => ({ changes: changesOf(map), steps, violations });
        let stack: Stack;
        try {
            stack = await this.stack(name);
        } catch (err) {
            if (err instanceof StackNotFoundError) throw new OperationError(`no stack ${name} in the backend: create it once with pulumi stack init ${name}`, outcome(undefined));
            throw new OperationError(cliLine(err), outcome(undefined));
        }
        try {
            return outcome(await run(stack, onEvent));
        } catch (err) {
            const stderr = (err as { commandResult?: { stderr?: string } }).commandResult?.stderr ?? "";
            // The Automation API maps the CLI's "[409] Conflict: Another update is currently in progress." and
            // "the stack is currently locked by" to ConcurrentUpdateError (@pulumi/pulumi automation/errors.js:66-81).
            if (err instanceof ConcurrentUpdateError) throw new StackLockedError(name, stderr.split("\n").find((l) => /locked by|Conflict/.test(l))?.trim() ?? "another update is in progress");
            throw new OperationError(cliLine(err), outcome(summary));
        }
    }
}

/** The CLI's own `error:` line, else the first line of its stderr, else the error's message. */
export function cliLine(err: unknown): string {
    const stderr = (err as { commandResult?: { stderr?: string } }).commandResult?.stderr ?? "";
    const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
    return lines.find((l) => /^error:/.test(l)) ?? lines[0] ?? (err instanceof Error ? err.message : String(err));
}

export function changesOf(map: OpMap | undefined): Changes {
    const n = (k: keyof OpMap) => map?.[k] ?? 0;
    return { create: n("create"), update: n("update"), replace: n("replace"), delete: n("delete") };
}
