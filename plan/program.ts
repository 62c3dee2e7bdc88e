import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT_ROOT, readStackFile } from "../config/stackFile";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { AwsMocks } from "./mocks";
import { keepTranspiledModules } from "./transpileCache";

/**
 * URNs as the engine makes them. The SDK's mock monitor prefixes a child's type with its parent's own type only
 * (`SecureBucket$aws:s3/bucket:Bucket`); the engine prefixes the parent's whole qualified type, unless the parent
 * is the stack (pulumi/pulumi sdk/go/common/resource/urn.go, NewURN:
 * `if parentType != "" && parentType != RootStackType { typ = string(parentType) + URNTypeDelimiter + typ }`,
 * with parentType = parent URN's QualifiedType()), as the Node SDK's own `createUrn` does. A grandchild's URN in a
 * plan, a guardrail finding or an import file must be the one `pulumi up` will use.
 */
(MockMonitor.prototype as unknown as { newUrn: (parent: string, type: string, name: string) => string }).newUrn = function newUrn(parent, type, name) {
    const qualified = parent ? parent.split("::")[2] : "";
    const full = qualified && qualified !== "pulumi:pulumi:Stack" ? `${qualified}$${type}` : type;
    return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${full}::${name}`;
};

/** One resource the program registered, as the engine would receive it. */
export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent resource (the stack for top-level components). */
    parent: string | null;
    custom: boolean;
    /** Inputs as registered; a secret is `{<sig>: "1b47061264138c4ac30d75fd1eb44270", value}`. */
    inputs: Record<string, any>;
    /** What the mocks answered. */
    state: Record<string, any>;
    /** Provider reference (`<urn>::<id>`) of a custom resource. */
    provider?: string;
    /** URNs this resource depends on (explicit `dependsOn` and through its inputs). */
    dependencies: string[];
    protect: boolean;
    retainOnDelete: boolean;
    additionalSecretOutputs: string[];
    /** Input properties whose changes the engine ignores once the resource is in the state (`ignoreChanges`). */
    ignoreChanges: string[];
}

export interface ProgramRun {
    stack: string;
    region: string;
    resources: RecordedResource[];
    /** Stack outputs, resolved (secrets keep their secret marker only in `secretOutputs`). */
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

export interface RunOptions {
    /** Run the program again even where a shared plan of this stack exists (a test that watches the run itself). */
    fresh?: boolean;
    /** Edits the stack's config (engine form: objects as JSON strings) before the run. */
    edit?: (config: Record<string, string>) => void;
    /** Config keys to treat as secrets. */
    secretKeys?: string[];
    /** Where `Pulumi.yaml` and `Pulumi.<stack>.yaml` are read from (default: the project). */
    stackDir?: string;
    /** A preview of an update (dry run): dynamic resources keep their id and compute nothing (plan/mocks.ts). */
    previewUpdate?: boolean;
}

export class ProgramFailed extends Error {
    constructor(public readonly cause: unknown, public readonly resources: RecordedResource[]) {
        super(cause instanceof Error ? cause.message : String(cause));
    }
}

/** Resolves an Output's value and secretness (uses the SDK's internal promises). */
export async function unwrap<T>(output: pulumi.Output<T> | T): Promise<{ value: T; secret: boolean }> {
    if (!pulumi.Output.isInstance(output)) return { value: output as T, secret: false };
    const o = output as unknown as { promise(): Promise<T>; isSecret: Promise<boolean> };
    return { value: await o.promise(), secret: await o.isSecret };
}

function purgeProjectModules(root: string): void {
    const sep = path.sep;
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(root) && !id.includes(`${sep}node_modules${sep}`) && !id.includes(`${sep}test${sep}`) && !id.includes(`${sep}plan${sep}`) && !id.includes(`${sep}guardrails${sep}`)) {
            delete require.cache[id];
        }
    }
}

/** Waits until no new resource has been registered for a few turns of the event loop. */
async function settle(resources: RecordedResource[]): Promise<void> {
    let seen = -1;
    let quiet = 0;
    while (quiet < 5) {
        await new Promise((r) => setTimeout(r, 10));
        if (resources.length === seen) quiet++;
        else { quiet = 0; seen = resources.length; }
    }
}

type Request = {
    getType(): string; getName(): string; getParent(): string; getCustom(): boolean; getObject(): unknown; getProvider(): string;
    getDependenciesList(): string[]; getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
    getProtect(): boolean; getRetainondelete(): boolean; getAdditionalsecretoutputsList(): string[]; getIgnorechangesList(): string[];
};
type Response = { getUrn(): string; getObject(): { toJavaScript(): Record<string, any> } | undefined };

/** Records every registration the mock monitor receives, with its URN, parent and dependencies. */
function recordRegistrations(resources: RecordedResource[]): void {
    const settings = require("@pulumi/pulumi/runtime/settings");
    const rpc = require("@pulumi/pulumi/runtime/rpc");
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: Request, callback: (err: unknown, resp?: Response) => void) => {
        register(req, (err: unknown, resp?: Response) => {
            if (!err && resp) {
                const dependencies = new Set(req.getDependenciesList());
                req.getPropertydependenciesMap().forEach((deps) => deps.getUrnsList().forEach((u) => dependencies.add(u)));
                resources.push({
                    urn: resp.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent() || null,
                    custom: req.getCustom(),
                    inputs: rpc.deserializeProperties(req.getObject()),
                    state: resp.getObject()?.toJavaScript() ?? {},
                    provider: req.getProvider() || undefined,
                    dependencies: [...dependencies],
                    protect: req.getProtect(),
                    retainOnDelete: req.getRetainondelete(),
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    ignoreChanges: req.getIgnorechangesList(),
                });
            }
            callback(err, resp);
        });
    };
}

/** Plans of shipped stacks as they are (no options), per process: a plan is data, and every test file reads the same ones. */
const plainRuns = new Map<string, Promise<ProgramRun>>();

/**
 * Runs the real program (`index.ts`) on Pulumi mocks with the config of `Pulumi.<stack>.yaml`,
 * and returns every registered resource with its inputs, parent and dependencies. A run without
 * options is made once per process and shared (treat it as read-only; copy before editing).
 */
export async function runStack(stack: string, options: RunOptions = {}): Promise<ProgramRun> {
    if (Object.values(options).every((v) => v === undefined || v === false)) {
        let run = plainRuns.get(stack);
        if (!run) {
            run = planStackOnce(stack, options);
            plainRuns.set(stack, run);
            run.catch(() => plainRuns.delete(stack));
        }
        return run;
    }
    return planStackOnce(stack, options);
}

async function planStackOnce(stack: string, options: RunOptions): Promise<ProgramRun> {
    const root = PROJECT_ROOT;
    const file = readStackFile(stack, options.stackDir ?? root);
    options.edit?.(file.config);
    const region = file.config["aws:region"] ?? "us-east-1";
    await pulumi.runtime.setMocks(new AwsMocks(region, options.previewUpdate), file.project, stack, options.previewUpdate === true);
    pulumi.runtime.setAllConfig(file.config, options.secretKeys ?? []);
    const resources: RecordedResource[] = [];
    recordRegistrations(resources);
    keepTranspiledModules();
    purgeProjectModules(root);

    // Pulumi takes a stack trace for every resource and promise; ts-node's source-map rewriting of
    // deep traces dominates evaluation time. Short, plain traces while the program runs.
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
    Error.stackTraceLimit = 3;
    const restore = () => { Error.prepareStackTrace = prepare; Error.stackTraceLimit = limit; };

    let exportsObj: Record<string, unknown>;
    // Pulumi runs the program in the project directory, where it reads the stack files beside its own (the YAML
    // number checks, the rules across stack files): here, the directory the stack file came from. The program reads
    // them while index.ts is first evaluated (synchronously), so the directory is restored right after.
    const cwd = process.cwd();
    try {
        if (options.stackDir) process.chdir(options.stackDir);
        exportsObj = require(path.join(root, "index.ts"));
    } catch (err) {
        process.chdir(cwd);
        await settle(resources);
        restore();
        throw new ProgramFailed(err, resources);
    }
    process.chdir(cwd);
    const outputs: Record<string, unknown> = {};
    const secretOutputs = new Set<string>();
    try {
        for (const [k, v] of Object.entries(exportsObj)) {
            const { value, secret } = await unwrap(pulumi.output(v));
            // The engine omits a stack output whose value is undefined (a stack without routing or greengrass has
            // none of theirs): @pulumi/pulumi 3.248.0 runtime/rpc.js:524, sdk/nodejs/runtime/rpc.ts serializeProperty,
            // "When serializing an object, we omit any keys with undefined values".
            if (value === undefined) continue;
            outputs[k] = value;
            if (secret) secretOutputs.add(k);
        }
        await settle(resources);
    } finally {
        restore();
    }
    // A snapshot: resources a later test registers on the same mock monitor are not this run's (shared runs).
    const recorded = [...resources];
    return {
        stack,
        region,
        resources: recorded,
        outputs,
        secretOutputs,
        exports: exportsObj,
        ofType: (type) => recorded.filter((r) => r.type === type),
        one(type, suffix = "") {
            const found = recorded.filter((r) => r.type === type && r.name.endsWith(suffix));
            if (found.length !== 1) throw new Error(`expected one ${type} named *${suffix}, found ${found.map((r) => r.name).join(", ") || "none"}`);
            return found[0];
        },
    };
}
