/**
 * npm run plan -- --stack <name> [--json | --mermaid[=components|resources]]
 * npm run plan -- --all [--json | --mermaid[=components|resources]]
 *
 * --mermaid: one stack prints one Mermaid flowchart; several print Markdown, a heading and a ```mermaid block per
 * stack (each block one valid diagram; a stack that could not be planned gets its error instead of a block).
 * --json: one stack prints its document; several print an array with `{stack, error}` for a stack that failed.
 *
 * npm run plan -- --stack <name> --import-file[=<path>] --cloudformation <describe-stack-resources.json> ...
 * writes a `pulumi import --file` document (to <path>, or stdout) adopting the CDK stacks' resources (plan/adopt.ts),
 * and prints on stderr what is adopted, what needs a config line first, and what stays with CloudFormation.
 *
 * Runs the real program for a stack on Pulumi mocks (no cloud account, no Pulumi CLI), runs the
 * guardrails over every resource, and prints the resource tree, the stack outputs and the findings.
 * Exit status: 0 clean, 1 a mandatory guardrail violation or an AWS quota exceeded (plan/quotaHeadroom.ts), 2 a config error,
 * 3 the plan itself failed.
 */
import { readStackFile, stackNames as listStacks } from "../config/stackFile";
import { OFFLINE_PLACEHOLDER_PREFIX } from "../config/errors";
import { Finding } from "../guardrails/rules";
import * as fs from "fs";
import { adopt, adoptionReport, CfnResource, readCfnResources } from "./adopt";
import { ProgramFailed, ProgramRun, runStack } from "./program";
import { quotaLines } from "./quotaHeadroom";
import { componentMermaid, guardrailFindings, planDocument, PlanDocument, quotaReport, resourceMermaid, SECRET_TEXT, tree } from "./report";

export const EXIT = { clean: 0, violation: 1, config: 2, failed: 3 } as const;

type MermaidView = "components" | "resources";
interface Args { stacks: string[]; json: boolean; mermaid: MermaidView | false; importFile?: string | true; cloudformation: string[] }

const USAGE = "usage: npm run plan -- (--stack <name> | --all) [--json | --mermaid[=components|resources]]\n" +
    "       npm run plan -- --stack <name> --import-file[=<path>] --cloudformation <describe-stack-resources.json> [--cloudformation ...]";

export function parseArgs(argv: string[], stackDir?: string): Args {
    const stackNames = () => listStacks(stackDir);
    const args: Args = { stacks: [], json: false, mermaid: false, cloudformation: [] };
    const view = (v: string): MermaidView => {
        if (v === "components" || v === "resources") return v;
        throw new Error(`--mermaid=${v}: the views are components (the default) and resources. ${USAGE}`);
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--stack" || a === "-s") {
            const name = argv[++i];
            if (!name || name.startsWith("-")) throw new Error(`--stack needs a stack name. ${USAGE}`);
            args.stacks.push(name);
        } else if (a.startsWith("--stack=")) args.stacks.push(a.slice(8));
        else if (a === "--all") args.stacks.push(...stackNames());
        else if (a === "--json") args.json = true;
        else if (a === "--mermaid") args.mermaid = "components";
        else if (a.startsWith("--mermaid=")) args.mermaid = view(a.slice(10));
        else if (a === "--import-file") args.importFile = true;
        else if (a.startsWith("--import-file=")) args.importFile = a.slice(14);
        else if (a === "--cloudformation") {
            const file = argv[++i];
            if (!file || file.startsWith("-")) throw new Error(`--cloudformation needs a file (aws cloudformation describe-stack-resources --output json). ${USAGE}`);
            args.cloudformation.push(file);
        } else if (a.startsWith("--cloudformation=")) args.cloudformation.push(a.slice(17));
        else if (a === "--help" || a === "-h") throw new Error(USAGE);
        else throw new Error(`unknown argument ${a}. ${USAGE}`);
    }
    if (args.stacks.length === 0) throw new Error(`no stack given. ${USAGE}`);
    if (args.json && args.mermaid) throw new Error(`--json and --mermaid do not go together. ${USAGE}`);
    if (args.importFile !== undefined) {
        if (args.json || args.mermaid) throw new Error(`--import-file goes alone (no --json or --mermaid). ${USAGE}`);
        if (args.cloudformation.length === 0) throw new Error(`--import-file needs the CDK stacks' resources: --cloudformation <file> for each (aws cloudformation describe-stack-resources --stack-name <stack> --output json > <file>). ${USAGE}`);
    } else if (args.cloudformation.length > 0) throw new Error(`--cloudformation goes with --import-file. ${USAGE}`);
    const unknown = args.stacks.filter((s) => !stackNames().includes(s));
    if (unknown.length > 0) throw new Error(`no Pulumi.${unknown[0]}.yaml; stacks are ${stackNames().join(", ")}`);
    args.stacks = [...new Set(args.stacks)];
    return args;
}

/** 1 when any finding is mandatory, else 0: advisories do not fail a plan. */
export function exitCodeFor(findings: Finding[]): number {
    return findings.some((f) => f.level === "mandatory") ? EXIT.violation : EXIT.clean;
}

export interface StackPlan {
    stack: string;
    document?: PlanDocument;
    run?: ProgramRun;
    configError?: string;
    /** Why the program could not be planned (not a config error): the program threw. */
    error?: string;
    /** Keys an ESC environment provides, planned with a stand-in because the Pulumi CLI is not here. */
    esc?: { key: string; value: string; from: string }[];
    exit: number;
}

/** Plans one stack: `secure:` values become placeholder secrets, since they cannot be decrypted offline. */
export async function planStack(stack: string, stackDir?: string): Promise<StackPlan> {
    let placeholders: string[];
    let esc: ReturnType<typeof readStackFile>["placeholders"];
    try {
        ({ secureKeys: placeholders, placeholders: esc } = readStackFile(stack, stackDir));
    } catch (err) {
        if ((err as { name?: string })?.name === "ConfigError") return { stack, configError: (err as Error).message, exit: EXIT.config };
        throw err;
    }
    try {
        const run = await runStack(stack, {
            edit: (c) => { for (const k of placeholders) c[k] = `${OFFLINE_PLACEHOLDER_PREFIX}${k.replace(/[^A-Za-z0-9]/g, "-")}`; },
            secretKeys: placeholders,
            stackDir,
        });
        const findings = guardrailFindings(run);
        const quotas = quotaReport(run);
        const document = planDocument(run, findings, placeholders, quotas);
        return { stack, run, document, esc, exit: exitCodeFor([...findings, ...quotas.findings]) };
    } catch (err) {
        const cause = err instanceof ProgramFailed ? err.cause : err;
        if ((cause as { name?: string })?.name === "ConfigError") return { stack, configError: (cause as Error).message, exit: EXIT.config };
        return { stack, error: `Pulumi.${stack}.yaml: the program failed: ${(cause as Error)?.message ?? String(cause)}`, exit: EXIT.failed };
    }
}

function text(plan: StackPlan): string {
    const d = plan.document!;
    const lines = [`Stack ${d.stack} (${d.region}): ${d.resources.length} resources, offline plan on mocks (account 123456789012)`];
    for (const k of d.placeholders) lines.push(`note: ${k} is encrypted (secure:) and cannot be decrypted offline; planned with a placeholder secret`);
    for (const p of plan.esc ?? []) lines.push(`note: ${p.key} comes from ${p.from}, which only the Pulumi CLI can open (pulumi login); planned with ${p.value}`);
    lines.push("", "Credentials (each provider, and each dynamic resource, calls AWS as):");
    for (const r of plan.run!.resources) {
        const isProvider = r.type.startsWith("pulumi:providers:aws");
        if (!isProvider && !(r.type.startsWith("pulumi-nodejs:dynamic/") && typeof r.inputs.region === "string")) continue;
        const accounts = typeof r.inputs.allowedAccountIds === "string" ? JSON.parse(r.inputs.allowedAccountIds) : r.inputs.allowedAccountIds;
        lines.push(`  ${r.type}  ${r.name}: region ${r.inputs.region}, profile ${r.inputs.profile ?? "(ambient)"}, allowed accounts ${Array.isArray(accounts) ? accounts.join(", ") : "(any)"}`);
    }
    lines.push("", tree(plan.run!.resources), "", "Outputs:");
    for (const [k, v] of Object.entries(d.outputs)) lines.push(`  ${k}: ${v === SECRET_TEXT ? v : JSON.stringify(v)}`);
    const over = d.quotas.findings.filter((f) => f.level === "mandatory").length;
    lines.push("", `AWS quotas (config/awsQuotas.ts; the fullest use of each): ${over} over, ${d.quotas.findings.length - over} within 10%`, ...quotaLines(d.quotas.uses));
    for (const f of d.quotas.findings) lines.push(`  [${f.level}] ${f.message}`);
    const mandatory = d.violations.filter((v) => v.level === "mandatory").length;
    lines.push("", `Guardrails: ${mandatory} mandatory, ${d.violations.length - mandatory} advisory`);
    for (const v of d.violations) lines.push(`  [${v.level}] ${v.policy}: ${v.message}\n      ${v.urn}`);
    return lines.join("\n");
}

export async function main(argv: string[], stackDir?: string): Promise<{ stdout: string; stderr: string; exit: number }> {
    let args: Args;
    try {
        args = parseArgs(argv, stackDir);
    } catch (err) {
        return { stdout: "", stderr: `${(err as Error).message}\n`, exit: EXIT.config };
    }
    if (args.importFile !== undefined) return importFile(args, stackDir);
    const plans: StackPlan[] = [];
    for (const stack of args.stacks) plans.push(await planStack(stack, stackDir));
    const exit = Math.max(...plans.map((p) => p.exit));
    // A config error names its file (Pulumi.<stack>.yaml) already.
    const failure = (p: StackPlan) => p.configError ?? p.error;
    const stderr = plans.filter(failure).map((p) => `${failure(p)}\n`).join("");
    const ok = plans.filter((p) => p.document);
    const several = args.stacks.length > 1;
    let stdout: string;
    if (args.json) {
        const entries = plans.map((p) => p.document ?? { stack: p.stack, error: failure(p)! });
        stdout = several ? `${JSON.stringify(entries, null, 2)}\n` : ok.length === 0 ? "" : `${JSON.stringify(ok[0].document, null, 2)}\n`;
    } else if (args.mermaid) {
        const draw = args.mermaid === "resources" ? resourceMermaid : componentMermaid;
        const diagram = (p: StackPlan) => `%% stack ${p.stack}\n${draw(p.run!.resources)}\n`;
        stdout = !several
            ? ok.map(diagram).join("")
            : plans.map((p) => `## ${p.stack}\n\n${p.document ? `\`\`\`mermaid\n${diagram(p)}\`\`\`` : `Not planned: ${failure(p)}`}\n`).join("\n");
    } else {
        stdout = ok.map((p) => `${text(p)}\n`).join("\n");
    }
    return { stdout, stderr, exit };
}

async function importFile(args: Args, stackDir?: string): Promise<{ stdout: string; stderr: string; exit: number }> {
    if (args.stacks.length !== 1) return { stdout: "", stderr: `--import-file adopts into one stack: name it with --stack. ${USAGE}\n`, exit: EXIT.config };
    let cfn: CfnResource[] = [];
    try {
        for (const f of args.cloudformation) {
            let json: unknown;
            try {
                json = JSON.parse(fs.readFileSync(f, "utf8"));
            } catch (err) {
                throw new Error(`${f}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : `not JSON (${(err as Error).message})`}`);
            }
            cfn = cfn.concat(readCfnResources(json, f));
        }
    } catch (err) {
        return { stdout: "", stderr: `${(err as Error).message}\n`, exit: EXIT.config };
    }
    const plan = await planStack(args.stacks[0], stackDir);
    if (!plan.run) return { stdout: "", stderr: `${plan.configError ?? plan.error}\n`, exit: plan.exit };
    const adoption = adopt(plan.run, cfn);
    const document = `${JSON.stringify(adoption.file, null, 2)}\n`;
    const report = `${adoptionReport(adoption, plan.stack)}\n`;
    if (typeof args.importFile === "string") {
        try {
            fs.writeFileSync(args.importFile, document);
        } catch (err) {
            return { stdout: "", stderr: `${report}\n--import-file=${args.importFile}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`, exit: EXIT.failed };
        }
        return { stdout: "", stderr: `${report}\nwrote ${args.importFile}: pulumi import --file ${args.importFile} --generate-code=false (docs/adoption.md)\n`, exit: EXIT.clean };
    }
    return { stdout: document, stderr: report, exit: EXIT.clean };
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        ({ stdout, stderr, exit }) => {
            if (stderr) process.stderr.write(stderr);
            process.stdout.write(stdout, () => process.exit(exit));
        },
        (err) => {
            process.stderr.write(`plan failed: ${(err as Error)?.stack ?? err}\n`);
            process.exit(EXIT.failed);
        },
    );
}
