/**
 * Pictures: `npm run plan -- --mermaid` (a component view by default, resources behind `=resources`, one diagram per
 * stack with --all) and the README's rendered pictures. The referee is Mermaid's own parser (the `mermaid`
 * package, run by scripts/mermaidParse.mjs in its own process), not a pattern of ours.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT, stackNames } from "../config/stackFile";
import { main } from "../plan/cli";
import { DIAGRAM_DIR, DIAGRAMS_DOC, drawnStacks, hasRenderedSvg, readmeSection, README_MARKERS, sourceHash, StackDiagram, stackDiagrams, svgStamp } from "../plan/diagrams";
import { ProgramRun, runStack } from "../plan/program";
import { markedSection } from "../plan/readmeSection";
import { componentMermaid, resourceMermaid } from "../plan/report";

type Parsed = { ok: true; diagramType: string } | { ok: false; error: string };
function mermaidParse(texts: string[]): Parsed[] {
    const out = execFileSync(process.execPath, [path.join(PROJECT_ROOT, "scripts", "mermaidParse.mjs")], { input: JSON.stringify(texts), encoding: "utf8" });
    return JSON.parse(out);
}
const blocks = (markdown: string) => [...markdown.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);

describe("pictures of a stack", function () {
    this.timeout(60_000);
    const stacks = stackNames();
    const outputs: Record<string, string> = {};
    let diagrams: StackDiagram[];

    let kr: ProgramRun;
    let allRuns: Record<string, ProgramRun> = {};

    before(async () => {
        // The CLI once for all stacks (each block is what --stack <s> --mermaid prints), then each view from one run.
        outputs["--all"] = (await main(["--all", "--mermaid"])).stdout;
        const runs: Record<string, ProgramRun> = {};
        for (const s of stacks) {
            runs[s] = await runStack(s);
            outputs[`${s} components`] = `%% stack ${s}\n${componentMermaid(runs[s].resources)}\n`;
            outputs[`${s} resources`] = `%% stack ${s}\n${resourceMermaid(runs[s].resources)}\n`;
        }
        kr = runs.kr;
        allRuns = runs;
        // The stacks drawn in docs/diagrams: a stack added since has no picture until `npm run diagrams`, and needs none.
        diagrams = await stackDiagrams(runs, drawnStacks());
    });

    it("--stack <s> --mermaid prints the component view, --mermaid=resources the resource view", async () => {
        assert.strictEqual((await main(["--stack", "jp", "--mermaid"])).stdout, outputs["jp components"]);
        assert.strictEqual((await main(["--stack", "jp", "--mermaid=resources"])).stdout, outputs["jp resources"]);
    });

    it("Mermaid's parser accepts every diagram the plan prints and every one in the README and docs/, and refuses the old --all text", () => {
        const texts: [string, string][] = [
            ...stacks.flatMap((s) => [[`${s} components`, outputs[`${s} components`]], [`${s} resources`, outputs[`${s} resources`]]] as [string, string][]),
            ...blocks(outputs["--all"]).map((b, i) => [`--all block ${i}`, b] as [string, string]),
            ...["README.md", ...fs.readdirSync(path.join(PROJECT_ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)]
                .flatMap((f) => blocks(fs.readFileSync(path.join(PROJECT_ROOT, f), "utf8")).map((b, i) => [`${f} block ${i}`, b] as [string, string])),
        ];
        // The parser is a referee: it refuses the three flowcharts in one text that --all --mermaid used to print.
        const joined = stacks.map((s) => outputs[`${s} components`]).join("\n");
        const results = mermaidParse([...texts.map(([, t]) => t), joined]);
        texts.forEach(([what], i) => assert.ok(results[i].ok, `${what}: ${(results[i] as { error?: string }).error}`));
        assert.ok(results.filter((r) => r.ok && r.diagramType === "flowchart-v2").length >= stacks.length * 3);
        assert.strictEqual(results[texts.length].ok, false, "three flowcharts in one text");
    });

    it("--all --mermaid prints one heading and one diagram per stack", () => {
        const all = outputs["--all"];
        assert.deepStrictEqual([...all.matchAll(/^## (\S+)$/gm)].map((m) => m[1]), stacks);
        assert.strictEqual(blocks(all).length, stacks.length);
        stacks.forEach((s, i) => assert.strictEqual(blocks(all)[i], outputs[`${s} components`]));
    });

    it("the component view: one node per component index.ts builds, an edge where one needs another, no providers", () => {
        const run = kr;
        const text = componentMermaid(run.resources);
        const nodes = [...text.matchAll(/^ {2}(c\d+)\["([^<]+)<br\/>([^,"]+)/gm)].map((m) => ({ id: m[1], type: m[2], name: m[3] }));
        const tops = run.resources.filter((r) => r.parent === null || !run.resources.some((p) => p.urn === r.parent)).filter((r) => !r.type.startsWith("pulumi:providers:"));
        assert.deepStrictEqual(nodes.map((n) => n.name).sort(), tops.map((r) => r.name).sort());
        assert.ok(nodes.length <= 12, `${nodes.length} nodes`);
        const edges = [...text.matchAll(/^ {2}(c\d+) --> (c\d+)$/gm)].map((m) => [m[1], m[2]]);
        // A readable picture: 12 components at most and few arrows (GreengrassHealth adds three: the key, the operations topic, the dashboard).
        assert.ok(edges.length > 0 && edges.length <= 30, `${edges.length} edges`);
        const id = (name: string) => nodes.find((n) => n.name === name)!.id;
        const has = (from: string, to: string) => edges.some(([a, b]) => a === id(from) && b === id(to));
        // The destination watch reads the rule destination the routing component made.
        assert.ok(has("fms-kr-routing", "fms-kr-destination-watch"));
        assert.ok(has("fms-kr-key", "fms-kr-provisioning"), "the KMS key encrypts the registry");
        assert.ok(!has("fms-kr-destination-watch", "fms-kr-routing"), "arrows point from what is needed to what needs it");
    });

    it("docs/architecture.md's component table names every component type the stacks' plans create (and no other)", () => {
        const planned = new Set(Object.values(allRuns).flatMap((r) => r.resources.filter((x) => !x.custom && x.type.startsWith("fms:")).map((x) => x.type)));
        const doc = fs.readFileSync(DIAGRAMS_DOC, "utf8");
        const table = doc.slice(0, doc.indexOf("\n\n", doc.indexOf("\n|")));
        const listed = new Set([...table.matchAll(/`(fms:[\w]+:[\w]+)`/g)].map((m) => m[1]));
        assert.deepStrictEqual([...planned].filter((t) => !listed.has(t)).sort(), [], "component types the table lacks");
        // Every component type the code declares (a stack may not use one: cross-account peering), and no other.
        const declared = new Set(fs.readdirSync(path.join(PROJECT_ROOT, "components"), { recursive: true }).map(String).filter((f) => f.endsWith(".ts"))
            .flatMap((f) => [...fs.readFileSync(path.join(PROJECT_ROOT, "components", f), "utf8").matchAll(/"(fms:\w+:\w+)"/g)].map((m) => m[1])));
        assert.deepStrictEqual([...declared].filter((t) => !listed.has(t)).sort(), [], "component types declared in components/ the table lacks");
        assert.deepStrictEqual([...listed].filter((t) => !declared.has(t)).sort(), [], "types the table lists that the code does not declare");
    });

    it("docs/diagrams and docs/architecture.md hold what `npm run diagrams` makes of the stacks now", () => {
        for (const d of diagrams) {
            const hint = "stale: run npm run diagrams";
            assert.strictEqual(fs.readFileSync(path.join(DIAGRAM_DIR, `${d.stack}.mmd`), "utf8"), d.source, `${d.stack}.mmd ${hint}`);
            // A picture needs Chromium to render: none is fine, a stale one is not (npm run diagrams removes it without Chromium).
            if (!fs.existsSync(path.join(DIAGRAM_DIR, `${d.stack}.svg`))) continue;
            const svg = fs.readFileSync(path.join(DIAGRAM_DIR, `${d.stack}.svg`), "utf8");
            assert.strictEqual(svg.split("\n")[0], svgStamp(d.source), `${d.stack}.svg was rendered from another source (${sourceHash(d.source)}): ${hint}`);
            assert.match(svg, /<svg [^>]*aria-roledescription="flowchart-v2"/);
            // Every component's name is drawn.
            for (const m of d.source.matchAll(/<br\/>([^,"]+)/g)) assert.ok(svg.includes(m[1]), `${d.stack}.svg lacks ${m[1]}`);
        }
        const doc = fs.readFileSync(DIAGRAMS_DOC, "utf8");
        assert.strictEqual(markedSection(doc, README_MARKERS), readmeSection(diagrams, (d) => hasRenderedSvg(d)), "docs/architecture.md's diagrams section is stale: run npm run diagrams");
        // Nothing drawn for a stack whose file is gone.
        const orphans = fs.readdirSync(DIAGRAM_DIR).filter((f) => !stacks.includes(f.replace(/\.(mmd|svg)$/, "")));
        assert.deepStrictEqual(orphans, [], "pictures of stacks without a stack file: run npm run diagrams");
    });
});
