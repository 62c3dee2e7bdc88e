/**
 * The Pulumi engine and dynamic-provider host, as far as a dynamic resource's day two depends on them:
 * what a create or update leaves in state, and which step the next `up` takes from that state.
 * Read in pulumi/pulumi v3.248.0:
 * - host (sdk/nodejs/cmd/dynamic-provider/index.ts): create/update results get the `__provider` of
 *   the props they ran with (resultIncludingProvider L434-438); an error with `id` becomes
 *   ErrorResourceInitFailed{id, properties, reasons: e.reasons || []} (grpcResponseFromError L447-470);
 *   any other error records nothing; diff is the provider's, given the old OUTPUTS and the new inputs
 *   (L195-232);
 * - engine: a create or update that fails with an init error records its properties as the state's
 *   outputs and its reasons as the state's init errors (pkg/resource/deploy/step.go L362, L1002); the
 *   next `up` takes an update step when the diff says DIFF_SOME, or when the old state has init errors
 *   even without a diff (pkg/resource/deploy/step_generator.go L1823, L2053-2065, L2915); else "same".
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";

export interface RecordedState {
    id: string;
    /** What the engine hands the provider as `olds` at the next diff and update. */
    outputs: Record<string, unknown>;
    initErrors: string[];
}

export type Step = "same" | "update" | "replace";

/** The serialized provider code the program carries (`__provider`). */
export const withCode = <T extends object>(inputs: T, code: string): T => ({ ...inputs, __provider: code });

/** Runs a create through the host: the state it leaves (undefined when nothing is recorded) and its error. */
export async function engineCreate(provider: dynamic.ResourceProvider, inputs: Record<string, unknown>): Promise<{ state?: RecordedState; error?: Error }> {
    try {
        const r = await provider.create(inputs);
        return { state: { id: r.id, outputs: { ...(r.outs ?? {}), __provider: inputs.__provider }, initErrors: [] } };
    } catch (e) {
        return { ...recordFailure(e), error: e as Error };
    }
}

/** Runs an update through the host from a recorded state. */
export async function engineUpdate(provider: dynamic.ResourceProvider, state: RecordedState, news: Record<string, unknown>): Promise<{ state: RecordedState; error?: Error }> {
    try {
        const r = await provider.update!(state.id, state.outputs, news);
        return { state: { id: state.id, outputs: { ...((r ?? {}).outs ?? {}), __provider: news.__provider }, initErrors: [] } };
    } catch (e) {
        return { state: recordFailure(e).state ?? state, error: e as Error };
    }
}

function recordFailure(e: unknown): { state?: RecordedState } {
    const err = e as { id?: string; properties?: Record<string, unknown>; reasons?: string[] };
    if (!err?.id) return {};
    return { state: { id: err.id, outputs: err.properties ?? {}, initErrors: err.reasons ?? [] } };
}

/** The step the next `up` takes for a resource in `state` when the program registers `news`. */
export async function nextStep(provider: dynamic.ResourceProvider, state: RecordedState, news: Record<string, unknown>): Promise<Step> {
    const diff = provider.diff ? await provider.diff(state.id, state.outputs, news) : { changes: false };
    if ((diff.replaces ?? []).length > 0) return "replace";
    if (diff.changes === true || state.initErrors.length > 0) return "update";
    return "same";
}
