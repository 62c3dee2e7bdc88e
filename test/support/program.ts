import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_ROOT, readStackFile } from "../../config/stackFile";
import { AwsMocks, RecordedResource } from "./mocks";

export interface ProgramRun {
    resources: RecordedResource[];
    /** Stack outputs, resolved. */
    outputs: Record<string, unknown>;
    /** Names of stack outputs that are Pulumi secrets. */
    secretOutputs: Set<string>;
    /** The resources of one type (token such as `aws:iot/policy:Policy`). */
    ofType(type: string): RecordedResource[];
    /** The single resource of this type whose name ends with `suffix`. */
    one(type: string, suffix?: string): RecordedResource;
    /** The module's exports as the program left them (Outputs unresolved). */
    exports: Record<string, unknown>;
}

export class ProgramFailed extends Error {
    constructor(public readonly cause: unknown, public readonly resources: RecordedResource[]) {
        super(cause instanceof Error ? cause.message : String(cause));
    }
}

const INDEX = path.join(PROJECT_ROOT, "index.ts");

/** Resolves an Output's value and secretness (test-only use of the SDK's internal promises). */
export async function unwrap<T>(output: pulumi.Output<T> | T): Promise<{ value: T; secret: boolean }> {
    if (!pulumi.Output.isInstance(output)) return { value: output as T, secret: false };
    const o = output as unknown as { promise(): Promise<T>; isSecret: Promise<boolean> };
    return { value: await o.promise(), secret: await o.isSecret };
}

function purgeProjectModules(): void {
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(PROJECT_ROOT) && !id.includes(`${path.sep}node_modules${path.sep}`) && !id.includes(`${path.sep}test${path.sep}`)) {
            delete require.cache[id];
        }
    }
}

/** Waits until no new resource has been registered for a few turns of the event loop. */
async function settle(mocks: AwsMocks): Promise<void> {
    let seen = -1;
    let quiet = 0;
    while (quiet < 5) {
        await new Promise((r) => setTimeout(r, 10));
        if (mocks.resources.length === seen) quiet++;
        else { quiet = 0; seen = mocks.resources.length; }
    }
}

/**
 * Runs the real program (`index.ts`) on Pulumi mocks with the config of `Pulumi.<stack>.yaml`,
 * optionally edited, and returns every registered resource with its inputs.
 */
export async function runStack(stack: string, edit?: (config: Record<string, string>) => void, secretKeys: string[] = []): Promise<ProgramRun> {
    const file = readStackFile(stack);
    edit?.(file.config);
    const mocks = new AwsMocks(file.config["aws:region"] ?? "us-east-1");
    await pulumi.runtime.setMocks(mocks, file.project, stack, false);
    pulumi.runtime.setAllConfig(file.config, secretKeys);
    purgeProjectModules();
    // Pulumi takes a stack trace for every resource and promise; ts-node's source-map rewriting of
    // deep traces dominates evaluation time. Short, plain traces while the program runs.
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
    Error.stackTraceLimit = 3;
    const restore = () => { Error.prepareStackTrace = prepare; Error.stackTraceLimit = limit; };
    let exportsObj: Record<string, unknown>;
    try {
        exportsObj = require(INDEX);
    } catch (err) {
        await settle(mocks);
        restore();
        throw new ProgramFailed(err, mocks.resources);
    }
    const outputs: Record<string, unknown> = {};
    const secretOutputs = new Set<string>();
    try {
        for (const [k, v] of Object.entries(exportsObj)) {
            const { value, secret } = await unwrap(pulumi.output(v));
            outputs[k] = value;
            if (secret) secretOutputs.add(k);
        }
        await settle(mocks);
    } finally {
        restore();
    }
    const resources = mocks.resources;
    return {
        resources,
        outputs,
        secretOutputs,
        exports: exportsObj,
        ofType: (type) => resources.filter((r) => r.type === type),
        one(type, suffix = "") {
            const found = resources.filter((r) => r.type === type && r.name.endsWith(suffix));
            if (found.length !== 1) throw new Error(`expected one ${type} named *${suffix}, found ${found.map((r) => r.name).join(", ") || "none"}`);
            return found[0];
        },
    };
}
