/**
 * npm run country -- new <stack> --from <stack> --region <region> --account <id> [--country CC]
 *   writes Pulumi.<stack>.yaml from Pulumi.<from>.yaml (fleet/newStack.ts), after the program's own checks pass on it
 *   beside every other stack file (config validation, the rules across stack files); prints what is still to decide.
 *   Refuses a stack name that exists, and a stack whose names would collide with another's in that account and region.
 * npm run country -- list [--json | --github-matrix]
 *   the stack files (config/stackFile.ts stackNames) with region, environment and pinned accounts;
 *   --github-matrix prints `matrix=<json>` for $GITHUB_OUTPUT (the PR workflow's preview matrix).
 * Exit status: 0 done, 2 refused (one line on stderr).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkAcrossStacks, otherStacks } from "../config/crossStack";
import { stackConfigFromEngine } from "../config/stackConfig";
import { PROJECT_ROOT, readStackFile, stackNames } from "../config/stackFile";
import { workflowStacks } from "./stacks";
import { checkRequest, NewStackError, NewStackRequest, newStackFile } from "./newStack";

const USAGE = "usage: npm run country -- new <stack> --from <stack> --region <region> --account <12-digit id> [--country CC]\n" +
    "       npm run country -- list [--json | --github-matrix]";

export interface Result { stdout: string; stderr: string; exit: number }

export interface StackRow { stack: string; region: string; environment: string; accounts: string[] }

/** Every stack file with its region (as the file or, without the Pulumi CLI, the placeholder says), environment and pin. */
export function stackRows(root = PROJECT_ROOT): StackRow[] {
    return stackNames(root).map((stack) => {
        const c = readStackFile(stack, root, () => undefined).config;
        const accounts = c["aws:allowedAccountIds"] ? (JSON.parse(c["aws:allowedAccountIds"]) as unknown[]).map(String) : [];
        return { stack, region: c["aws:region"] ?? "", environment: c[`${readStackFile(stack, root, () => undefined).project}:environment`] ?? "", accounts };
    });
}

function list(args: string[], root: string): Result {
    const rows = stackRows(root);
    if (args.includes("--github-matrix")) {
        // The same list as deploy.yml's `fleet list` (fleet/stacks.ts workflowStacks).
        return { stdout: `matrix=${JSON.stringify({ include: workflowStacks(root) })}\n`, stderr: "", exit: 0 };
    }
    if (args.includes("--json")) return { stdout: `${JSON.stringify(rows, null, 2)}\n`, stderr: "", exit: 0 };
    const lines = rows.map((r) => `${r.stack.padEnd(12)} ${r.region.padEnd(16)} ${r.environment.padEnd(11)} ${r.accounts.join(", ") || "(no account pinned)"}`);
    return { stdout: `${lines.join("\n")}\n`, stderr: "", exit: 0 };
}

function parseNew(args: string[]): NewStackRequest {
    const [stack, ...rest] = args;
    if (!stack || stack.startsWith("-")) throw new NewStackError(`new needs the new stack's name. ${USAGE}`);
    const flags: Record<string, string> = {};
    for (let i = 0; i < rest.length; i++) {
        const [flag, inline] = rest[i].split("=", 2);
        if (!["--from", "--region", "--account", "--country"].includes(flag)) throw new NewStackError(`unknown argument ${rest[i]}. ${USAGE}`);
        const value = inline ?? rest[++i];
        if (!value || value.startsWith("-")) throw new NewStackError(`${flag} needs a value. ${USAGE}`);
        flags[flag.slice(2)] = value;
    }
    for (const f of ["from", "region", "account"]) if (!flags[f]) throw new NewStackError(`--${f} is required. ${USAGE}`);
    return { stack, from: flags.from, region: flags.region, account: flags.account, country: flags.country };
}

function createStack(args: string[], root: string): Result {
    const request = parseNew(args);
    const existing = stackNames(root);
    const country = checkRequest(request, existing);
    const file = `Pulumi.${request.stack}.yaml`;
    const source = readStackFile(request.from, root, () => undefined);
    const sourceConfig = stackConfigFromEngine(source.project, request.from, source.config, `Pulumi.${request.from}.yaml`, { stacks: existing });
    const made = newStackFile(request, country, fs.readFileSync(path.join(root, `Pulumi.${request.from}.yaml`), "utf8"), sourceConfig, otherStacks(request.stack, root));
    // The program's checks on the new file beside every other one, in a scratch directory: nothing is written unless they pass.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "fms-country-"));
    let warnings: string[];
    try {
        for (const f of ["Pulumi.yaml", ...existing.map((s) => `Pulumi.${s}.yaml`)]) fs.copyFileSync(path.join(root, f), path.join(scratch, f));
        fs.writeFileSync(path.join(scratch, file), made.text);
        const written = readStackFile(request.stack, scratch, () => undefined);
        const config = stackConfigFromEngine(written.project, request.stack, written.config, file, { stacks: stackNames(scratch) });
        warnings = checkAcrossStacks(config, scratch);
    } catch (err) {
        throw new NewStackError(`not written: ${(err as Error).message}`);
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
    fs.writeFileSync(path.join(root, file), made.text, { flag: "wx" });
    const out = [
        `wrote ${file} from Pulumi.${request.from}.yaml: ${country}, ${request.region}, account ${request.account}, namePrefix ${made.namePrefix}`,
        ...warnings.map((w) => `warning: ${w}`),
        "still yours to decide:",
        ...made.decide.map((d) => `- ${d}`),
        `then: npm run plan -- --stack ${request.stack}; pulumi stack init ${request.stack}; pulumi up --stack ${request.stack}`,
    ];
    return { stdout: `${out.join("\n")}\n`, stderr: "", exit: 0 };
}

export function main(argv: string[], root = PROJECT_ROOT): Result {
    const [command, ...args] = argv;
    try {
        if (command === "list") return list(args, root);
        if (command === "new") return createStack(args, root);
        if (command === "--help" || command === "-h" || command === undefined) return { stdout: `${USAGE}\n`, stderr: "", exit: command === undefined ? 2 : 0 };
        throw new NewStackError(`unknown command ${command}. ${USAGE}`);
    } catch (err) {
        const e = err as Error;
        if (e.name === "NewStackError" || e.name === "ConfigError") return { stdout: "", stderr: `npm run country: ${e.message}\n`, exit: 2 };
        throw err;
    }
}

if (require.main === module) {
    const { stdout, stderr, exit } = main(process.argv.slice(2));
    if (stderr) process.stderr.write(stderr);
    process.stdout.write(stdout, () => process.exit(exit));
}
