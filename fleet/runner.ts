/**
 * What the fleet commands ask of one stack. The Automation API implementation (automationRunner.ts)
 * drives the user's Pulumi CLI; tests inject their own. Everything above this interface (waves, gates,
 * parallelism, cancel, the summary) is the same code in both.
 */

/** Resource changes of one operation, as the engine counts them (its summary's OpMap). */
export interface Changes {
    create: number;
    update: number;
    replace: number;
    delete: number;
}

/** One step the engine planned or took (a `resourcePreEvent`, or for a refresh its result). */
export interface PlannedStep {
    urn: string;
    type: string;
    /** The engine's OpType: create, update, replace, create-replacement, delete-replaced, delete, same, ... */
    op: string;
    /** The resource's `protect` flag, old or new state. */
    protect: boolean;
}

/** One policy pack finding (a `policyEvent`). */
export interface Violation {
    pack: string;
    policy: string;
    level: "mandatory" | "advisory";
    urn?: string;
    message: string;
}

export interface Outcome {
    changes: Changes;
    steps: PlannedStep[];
    violations: Violation[];
}

export interface OperationOptions {
    /** Engine output (stdout, stderr): the stack's log file, never the terminal. */
    log: (text: string) => void;
    /** Aborted on Ctrl-C: the running CLI gets SIGINT and stops at a safe point. */
    signal: AbortSignal;
    /** Policy packs (directories) the engine applies. */
    policyPacks: string[];
}

/** The stack's last update, from its history. */
export interface LastUpdate {
    kind: string;
    result: string;
    startTime: string;
    endTime?: string;
    /** Who ran it: the git author, the CI system, or the CLI's user, as far as the history says. */
    who?: string;
}

export interface StackOutput {
    value: unknown;
    secret: boolean;
}

export interface StackRunner {
    preview(stack: string, opts: OperationOptions): Promise<Outcome>;
    up(stack: string, opts: OperationOptions): Promise<Outcome>;
    refresh(stack: string, opts: OperationOptions): Promise<Outcome>;
    /** A refresh that changes nothing (`pulumi refresh --preview-only`): what changed outside Pulumi. */
    drift(stack: string, opts: OperationOptions): Promise<Outcome>;
    outputs(stack: string): Promise<Record<string, StackOutput>>;
    lastUpdate(stack: string): Promise<LastUpdate | undefined>;
    /** Ends the stack's current update and releases its lock. */
    cancel(stack: string): Promise<void>;
}

/** Another update holds the stack's lock: reported at once, never waited on. */
export class StackLockedError extends Error {
    constructor(stack: string, detail: string) {
        super(`${stack} is locked by another update (${detail}); nothing was changed. Wait for it, or if it is dead: pulumi cancel --stack ${stack}`);
        this.name = "StackLockedError";
    }
}

/** An operation that failed; what the engine reported before it did (policy findings, steps) comes with it. */
export class OperationError extends Error {
    constructor(message: string, public readonly outcome: Outcome) {
        super(message);
        this.name = "OperationError";
    }
}

export const NO_CHANGES: Changes = { create: 0, update: 0, replace: 0, delete: 0 };
