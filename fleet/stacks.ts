import { PROJECT_ROOT, readStackFile, stackNames } from "../config/stackFile";
import type { AwsTarget } from "../components/iotSdk";

/** What the fleet needs to know of a stack without running it: where it lives, from its stack file. */
export interface StackInfo {
    stack: string;
    region: string;
    /** `aws:allowedAccountIds`, comma-separated; "-" when the stack file does not pin its account. */
    account: string;
    /** Where the stack's AWS calls go: its region, and its `aws:profile` when it has one. */
    target: AwsTarget;
    namePrefix: string;
}

/** The stacks of the project: one per `Pulumi.<stack>.yaml` (never a list of our own). */
export function fleetStacks(root = PROJECT_ROOT): string[] {
    return stackNames(root);
}

export function describeStack(stack: string, root = PROJECT_ROOT): StackInfo {
    const file = readStackFile(stack, root);
    const c = file.config;
    const accounts: string[] = c["aws:allowedAccountIds"] ? JSON.parse(c["aws:allowedAccountIds"]) : [];
    const region = c["aws:region"] ?? "-";
    return {
        stack,
        region,
        account: accounts.length ? accounts.join(",") : "-",
        target: { region, ...(c["aws:profile"] ? { profile: c["aws:profile"] } : {}), ...(accounts.length ? { allowedAccountIds: accounts } : {}) },
        namePrefix: c[`${file.project}:namePrefix`] ?? stack,
    };
}

/** One stack as both GitHub workflows' matrices name it: the preview's (`country list --github-matrix`) and the deploy's (`fleet list`). */
export interface WorkflowStack { stack: string; region: string }

/**
 * The stacks both workflows run, in stack-file order, each with the region its stack file sets: the one list
 * `npm run country -- list --github-matrix` (preview.yml) and `npm run fleet -- list --canary` (deploy.yml) print,
 * so the PR previews and the deploy cover the same stacks. Read without the Pulumi CLI (a stack file's region is
 * plain config; CI lists stacks before installing the CLI).
 */
export function workflowStacks(root = PROJECT_ROOT): WorkflowStack[] {
    return stackNames(root).map((stack) => ({ stack, region: readStackFile(stack, root, () => undefined).config["aws:region"] ?? "" }));
}
