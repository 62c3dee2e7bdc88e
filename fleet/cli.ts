/**
 * npm run fleet -- <preview|up|refresh|drift|status> [--stacks a,b] [--waves "dev;kr,jp;rest"] [--parallel N]
 *                  [--json] [--allow-replace <urn>]... [--log-dir <dir>] [--policy-pack <dir>]
 *
 * Every stack of the project (one per Pulumi.<stack>.yaml) through Pulumi's Automation API, in waves.
 * docs/operations.md ("Operating many countries") is the manual.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../config/stackFile";
import { AutomationRunner } from "./automationRunner";
import { Command, runFleet } from "./fleet";
import { StackRunner } from "./runner";
import { AlarmReader, CloudWatchAlarms, fleetStatus, statusText } from "./status";
import { describeStack, fleetStacks, workflowStacks } from "./stacks";
import { summaryJson, summaryMarkdown, summaryText } from "./summary";
import { planWaves, UsageError } from "./waves";

export const COMMANDS = ["preview", "up", "refresh", "drift", "status", "list"] as const;
export const USAGE = 'usage: npm run fleet -- <preview|up|refresh|drift|status> [--stacks a,b] [--waves "dev;kr,jp;rest"] [--parallel N] [--json] [--allow-replace <urn>]... [--log-dir <dir>] [--policy-pack <dir>]\n       npm run fleet -- list [--canary a,b]   (the stacks and their regions as JSON: the deploy workflow\'s matrices)';

export interface Args {
    command: (typeof COMMANDS)[number];
    stacks?: string[];
    waves?: string;
    parallel: number;
    json: boolean;
    allowReplace: string[];
    /** list: the canary stacks (the deploy workflow's first wave). */
    canary?: string[];
    logDir?: string;
    policyPack: string;
}

export function parseArgs(argv: string[]): Args {
    const [command, ...rest] = argv;
    if (!COMMANDS.includes(command as Args["command"])) throw new UsageError(command ? `unknown command ${command}\n${USAGE}` : USAGE);
    const args: Args = { command: command as Args["command"], parallel: 4, json: false, allowReplace: [], policyPack: path.join(PROJECT_ROOT, "guardrails") };
    for (let i = 0; i < rest.length; i++) {
        const flag = rest[i];
        const value = () => {
            const v = rest[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${flag} needs a value\n${USAGE}`);
            return v;
        };
        switch (flag) {
            case "--stacks": args.stacks = value().split(",").map((s) => s.trim()).filter(Boolean); break;
            case "--waves": args.waves = value(); break;
            case "--parallel": {
                const v = value();
                if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--parallel ${v}: a whole number of stacks, at least 1`);
                args.parallel = Number(v);
                break;
            }
            case "--json": args.json = true; break;
            case "--allow-replace": {
                const urn = value();
                if (!urn.startsWith("urn:pulumi:")) throw new UsageError(`--allow-replace ${urn}: a resource URN (urn:pulumi:<stack>::<project>::<type>::<name>, as the preview names it)`);
                args.allowReplace.push(urn);
                break;
            }
            case "--log-dir": args.logDir = value(); break;
            case "--canary": {
                // May be empty (a repository without a canary variable): then every stack is in the rest.
                const v = rest[++i];
                if (v === undefined || v.startsWith("--")) throw new UsageError(`--canary needs a value (it may be "")\n${USAGE}`);
                args.canary = v.split(",").map((s) => s.trim()).filter(Boolean);
                break;
            }
            case "--policy-pack": args.policyPack = path.resolve(value()); break;
            default: throw new UsageError(`unknown flag ${flag}\n${USAGE}`);
        }
    }
    if (args.command === "status" && (args.waves || args.allowReplace.length || args.canary)) throw new UsageError("status takes --stacks, --parallel and --json only");
    if (args.command !== "list" && args.canary) throw new UsageError("--canary is list's (the deploy workflow's waves); the other commands take --waves");
    if (args.command === "list" && (args.waves || args.stacks || args.allowReplace.length)) throw new UsageError("list takes --canary only");
    return args;
}

/** Whether `pulumi` runs here (the Automation API's LocalWorkspace needs it). */
function pulumiOnPath(): boolean {
    try {
        execFileSync("pulumi", ["version"], { stdio: "ignore", timeout: 60_000 });
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code !== "ENOENT";
    }
}

export interface Io {
    out: (text: string) => void;
    err: (text: string) => void;
    env: Record<string, string | undefined>;
    /** Aborted on Ctrl-C. */
    signal: AbortSignal;
    root?: string;
    runner?: StackRunner;
    alarms?: AlarmReader;
    now?: () => number;
    cancelGraceMs?: number;
}

/** Runs one fleet command; returns the exit code (0 all succeeded, 1 a stack did not, 2 bad usage). */
export async function main(argv: string[], io: Io): Promise<number> {
    let args: Args;
    const root = io.root ?? PROJECT_ROOT;
    let waves: string[][];
    try {
        args = parseArgs(argv);
        const known = fleetStacks(root);
        waves = planWaves(known, args.waves, args.stacks ?? known);
    } catch (err) {
        if (err instanceof UsageError) {
            io.err(err.message);
            return 2;
        }
        throw err;
    }
    if (args.command === "list") {
        // The deploy workflow's two waves: {canary: [{stack, region}], rest: [...]}, in stack-file order.
        const known = fleetStacks(root);
        try {
            planWaves(known, undefined, args.canary ?? []);
        } catch (err) {
            io.err(`--canary: ${(err as Error).message.replace(/^--stacks: /, "")}`);
            return 2;
        }
        // The same list as preview.yml's `country list --github-matrix` (fleet/stacks.ts workflowStacks), split in two.
        const canary = args.canary ?? [];
        const all = workflowStacks(root);
        io.out(JSON.stringify({ canary: canary.map((s) => all.find((w) => w.stack === s)!), rest: all.filter((w) => !canary.includes(w.stack)) }));
        return 0;
    }
    const info = new Map(waves.flat().map((s) => [s, describeStack(s, root)]));
    if (!io.runner && !pulumiOnPath()) {
        io.err("the pulumi CLI is not on PATH: the fleet drives it through Pulumi's Automation API (install: https://www.pulumi.com/docs/install/)");
        return 2;
    }
    const runner = io.runner ?? new AutomationRunner(root);
    if (args.command === "status") {
        const report = await fleetStatus([...info.values()], runner, io.alarms ?? new CloudWatchAlarms(), args.parallel);
        io.out(args.json ? JSON.stringify(report, null, 2) : statusText(report));
        return report.exitCode;
    }
    const command: Command = args.command;
    if (command !== "refresh" && command !== "drift" && !fs.existsSync(path.join(args.policyPack, "node_modules"))) {
        io.err(`${args.policyPack}: the policy pack's dependencies are not installed: npm ci --prefix ${path.relative(process.cwd(), args.policyPack) || "."}`);
        return 2;
    }
    const logDir = args.logDir ?? path.join(root, ".fleet-logs", `${new Date(io.now?.() ?? Date.now()).toISOString().replace(/[:.]/g, "-")}-${command}`);
    const report = await runFleet({
        command, waves, runner, parallel: args.parallel, allowReplace: args.allowReplace,
        policyPacks: [args.policyPack], logDir,
        place: (s) => ({ region: info.get(s)!.region, account: info.get(s)!.account }),
        // Progress goes to stderr with --json, so stdout stays one JSON document.
        progress: (line) => (args.json ? io.err : io.out)(line),
        signal: io.signal, now: io.now, cancelGraceMs: io.cancelGraceMs,
    });
    io.out(args.json ? summaryJson(report) : `\n${summaryText(report)}`);
    // In GitHub Actions the table is also the job's summary.
    if (io.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(io.env.GITHUB_STEP_SUMMARY, `${summaryMarkdown(report)}\n`);
    return report.exitCode;
}

if (require.main === module) {
    const abort = new AbortController();
    let interrupts = 0;
    process.on("SIGINT", () => {
        if (++interrupts > 1) {
            process.stderr.write("second Ctrl-C: exiting without waiting; check the running stacks' locks (pulumi cancel --stack <stack>)\n");
            process.exit(130);
        }
        process.stderr.write("Ctrl-C: cancelling the running stacks (no new ones start); Ctrl-C again to exit at once\n");
        abort.abort();
    });
    main(process.argv.slice(2), {
        out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`), env: process.env, signal: abort.signal,
    }).then((code) => process.exit(abort.signal.aborted && code === 0 ? 130 : code), (err) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
    });
}
