/**
 * The figures `npm run bench` writes into docs/benchmarks.md. The resource counts and dependency chains are
 * deterministic (a test holds docs/benchmarks.md to them); times are what the machine that ran the bench measured.
 */
import { runStack } from "../plan/program";
import { longestDependencyChain } from "../plan/report";
import { Markers } from "../plan/readmeSection";

/** The file (from the project root) whose bench section `npm run bench -- --write` rewrites. */
export const BENCH_FILE = "docs/benchmarks.md";

export const BENCH_MARKERS: Markers = { start: "<!-- bench:start (npm run bench writes this) -->", end: "<!-- bench:end -->" };

export interface StackShape { stack: string; resources: number; chain: string[] }

/** What a stack's plan registers: every resource (components and providers included) and its longest chain. */
export async function stackShape(stack: string): Promise<StackShape> {
    const run = await runStack(stack);
    return { stack, resources: run.resources.length, chain: longestDependencyChain(run.resources).map((u) => u.split("::").pop()!) };
}

export const STACK_TABLE_HEADER = (runs: number) => [
    `| stack | resources | evaluation on mocks (median of ${runs}) | longest dependency chain |`,
    "|---|---|---|---|",
];

export const stackRow = (s: StackShape, medianMs: number) =>
    `| ${s.stack} | ${s.resources} | ${medianMs.toFixed(0)} ms | ${s.chain.length}: ${s.chain.join(" → ")} |`;

/** The stack rows of a bench section, read back: stack, resources, chain. */
export function parseStackRows(section: string): StackShape[] {
    return [...section.matchAll(/^\| (\S+) \| (\d+) \| \d+ ms \| (\d+): (.*) \|$/gm)].map((m) => ({
        stack: m[1], resources: Number(m[2]), chain: m[4].split(" → "),
    }));
}

export const benchSection = (output: string) => [BENCH_MARKERS.start, "", "```", output, "```", "", BENCH_MARKERS.end].join("\n");
