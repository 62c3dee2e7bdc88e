/**
 * What this project's dynamic providers share about the Pulumi engine and its dynamic-provider host
 * (read in pulumi/pulumi v3.248.0):
 * - the host keeps the serialized provider in each resource's state under `__provider`
 *   (sdk/nodejs/cmd/dynamic-provider/index.ts L37, resultIncludingProvider L434-438) and runs the one
 *   in the STATE for read and delete (L253, L273, L336), the new one for diff, create and update
 *   (L147, L210, L317). Its diff takes no special action when the code changed (L200-208), so a fix to
 *   a provider reaches a deployed stack's refresh and destroy only through an update that records the
 *   new `__provider`: providerCodeChanged makes the diff report one;
 * - a create or update that fails after changing something is recorded as partial state only when the
 *   thrown error carries `id` and `properties` (grpcResponseFromError L447-470, ErrorResourceInitFailed),
 *   and the engine retries it at the next `up` only when the error also carries `reasons`: they become
 *   the state's init errors (pkg/resource/deploy/step.go L362 CreateStep.Apply, L1002 UpdateStep.Apply:
 *   `s.new.InitErrors = initErr.Reasons`), and an old state with init errors gets an update step even without a diff
 *   (pkg/resource/deploy/step_generator.go L1823, L2053-2065). Pulumi's own partial-state test sets them
 *   (tests/integration/partial_state/step1/resource.ts L21-24, L35-38);
 * - `pulumi import` and the `import` resource option read the resource with no state at all, so the
 *   host finds no `__provider` and fails before any code of ours runs ("code must be a string, not
 *   undefined": getProvider L69-73 -> requireFromString): refuseImport says so in the program first.
 */
import * as pulumi from "@pulumi/pulumi";

/** Where the host keeps the serialized provider (index.ts L37). */
export const PROVIDER_KEY = "__provider";

/** What the engine passes for a value not known during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when the program's provider code differs from the code recorded in state. */
export function providerCodeChanged(olds: object, news: object): boolean {
    const o = (olds as Record<string, unknown>)[PROVIDER_KEY];
    const n = (news as Record<string, unknown>)[PROVIDER_KEY];
    return typeof o === "string" && typeof n === "string" && n !== UNKNOWN && o !== n;
}

/** The inputs of `o` without the serialized provider code (for diffs that compare everything else). */
export function withoutProviderCode<T extends object>(o: T): Omit<T, typeof PROVIDER_KEY> {
    const { [PROVIDER_KEY]: _code, ...rest } = o as T & Record<string, unknown>;
    return rest as Omit<T, typeof PROVIDER_KEY>;
}

/**
 * A failure after the resource exists in some form: `id` and `properties` make the host record them as
 * partial state, and `reasons` make the engine retry at the next `up` (module comment).
 */
export function initFailed(err: unknown, id: string, properties: object): Error & { id: string; properties: object; reasons: string[] } {
    const e = err instanceof Error ? err : new Error(String(err));
    return Object.assign(e, { id, properties, reasons: [e.message] });
}

/** Stops a program that asks to import one of these resources, with the resource's own reason. */
export function refuseImport(resource: string, opts: pulumi.CustomResourceOptions | undefined, instead: string): void {
    if (opts?.import !== undefined) throw new Error(`${resource}: import is not supported; ${instead}`);
}
