/**
 * The pictures in docs/architecture.md: each stack's component view (plan/report.ts `componentMermaid`), kept as
 * docs/diagrams/<stack>.mmd and rendered to docs/diagrams/<stack>.svg by `npm run diagrams` (scripts/diagrams.ts).
 * The SVG carries the SHA-256 of the source it was rendered from, so a test can tell a stale picture.
 */
import { createHash } from "crypto";
import * as path from "path";
import { PROJECT_ROOT, stackNames } from "../config/stackFile";
import { ProgramRun, runStack } from "./program";
import { componentMermaid } from "./report";
import { Markers } from "./readmeSection";

export const DIAGRAM_DIR = path.join(PROJECT_ROOT, "docs", "diagrams");
/** The page that shows the pictures (README.md links to it). */
export const DIAGRAMS_DOC = path.join(PROJECT_ROOT, "docs", "architecture.md");
export const README_MARKERS: Markers = { start: "<!-- diagrams:start (npm run diagrams writes this) -->", end: "<!-- diagrams:end -->" };

export interface StackDiagram { stack: string; region: string; source: string }

export const sourceHash = (source: string) => createHash("sha256").update(source).digest("hex");
export const svgStamp = (source: string) => `<!-- rendered by npm run diagrams from a source with sha256 ${sourceHash(source)} -->`;

/** Each stack's component view; `runs` reuses plans already made (by stack name). */
export async function stackDiagrams(runs: Record<string, ProgramRun> = {}): Promise<StackDiagram[]> {
    const out: StackDiagram[] = [];
    for (const stack of stackNames()) {
        const run = runs[stack] ?? await runStack(stack);
        out.push({ stack, region: run.region, source: `${componentMermaid(run.resources)}\n` });
    }
    return out;
}

/** The docs/architecture.md section between the markers: a rendered picture per stack, its Mermaid source under it. */
export function readmeSection(diagrams: StackDiagram[]): string {
    const parts = diagrams.map((d) => [
        `**${d.stack}** (${d.region}): ![${d.stack} components](diagrams/${d.stack}.svg)`,
        "",
        "<details><summary>Mermaid source</summary>",
        "",
        "```mermaid",
        d.source.trimEnd(),
        "```",
        "",
        "</details>",
    ].join("\n"));
    return [README_MARKERS.start, ...parts, README_MARKERS.end].join("\n\n");
}
