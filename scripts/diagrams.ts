/**
 * npm run diagrams: writes each stack file's component view to docs/diagrams/<stack>.mmd and the diagrams section of
 * docs/architecture.md (no browser needed), and, where Chromium is here (CHROME_PATH, or /usr/bin/chromium; Debian:
 * apt-get install chromium), renders each to docs/diagrams/<stack>.svg with Mermaid itself (its browser bundle in
 * headless Chromium, as mermaid-cli does). Without Chromium, a picture no longer rendered from its source is removed
 * (the section then shows the Mermaid source, which GitHub draws itself), and the command says so.
 */
import * as fs from "fs";
import * as path from "path";
import puppeteer from "puppeteer-core";
import { stackNames } from "../config/stackFile";
import { DIAGRAM_DIR, DIAGRAMS_DOC, hasRenderedSvg, readmeSection, README_MARKERS, StackDiagram, stackDiagrams, svgStamp } from "../plan/diagrams";
import { replaceMarkedSection } from "../plan/readmeSection";

async function render(executablePath: string, diagrams: StackDiagram[]): Promise<void> {
    const browser = await puppeteer.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    try {
        const page = await browser.newPage();
        await page.setContent("<!DOCTYPE html><html><body></body></html>");
        await page.addScriptTag({ path: require.resolve("mermaid/dist/mermaid.min.js") });
        for (const d of diagrams) {
            process.stderr.write(`rendering ${d.stack}\n`);
            const svg = await page.evaluate(async (source: string, id: string) => {
                const m = (globalThis as unknown as { mermaid: { initialize(c: object): void; render(id: string, text: string): Promise<{ svg: string }> } }).mermaid;
                // Plain SVG text, no HTML in foreignObject: the picture shows wherever SVG does (an <img> on GitHub too).
                m.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default", htmlLabels: false, flowchart: { htmlLabels: false, wrappingWidth: 400 } });
                const { svg } = await m.render(id, source);
                // Through the DOM and back as XML, as mermaid-cli does: the string Mermaid returns is HTML (<br>).
                // (This runs in the page: DOM globals, typed here by hand to keep DOM types out of the Node project.)
                const page = globalThis as unknown as { document: { body: { innerHTML: string; querySelector(s: string): unknown } }; XMLSerializer: new () => { serializeToString(n: unknown): string } };
                page.document.body.innerHTML = svg;
                return new page.XMLSerializer().serializeToString(page.document.body.querySelector("svg"));
            }, d.source, `fms-${d.stack}`);
            fs.writeFileSync(path.join(DIAGRAM_DIR, `${d.stack}.svg`), `${svgStamp(d.source)}\n${svg}\n`);
        }
    } finally {
        await browser.close();
    }
}

async function main(): Promise<void> {
    const diagrams = await stackDiagrams();
    fs.mkdirSync(DIAGRAM_DIR, { recursive: true });
    for (const d of diagrams) fs.writeFileSync(path.join(DIAGRAM_DIR, `${d.stack}.mmd`), d.source);
    // Pictures of stacks whose file is gone.
    for (const f of fs.readdirSync(DIAGRAM_DIR)) {
        const stack = /^(.+)\.(mmd|svg)$/.exec(f)?.[1];
        if (stack && !stackNames().includes(stack)) fs.rmSync(path.join(DIAGRAM_DIR, f));
    }
    const executablePath = process.env.CHROME_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => fs.existsSync(p));
    if (executablePath) await render(executablePath, diagrams.filter((d) => !hasRenderedSvg(d)));
    else {
        for (const d of diagrams.filter((x) => !hasRenderedSvg(x))) fs.rmSync(path.join(DIAGRAM_DIR, `${d.stack}.svg`), { force: true });
        process.stderr.write("no Chromium found (CHROME_PATH, or Debian: apt-get install chromium): pictures not rendered; the Mermaid sources stand in\n");
    }
    fs.writeFileSync(DIAGRAMS_DOC, replaceMarkedSection(fs.readFileSync(DIAGRAMS_DOC, "utf8"), README_MARKERS, readmeSection(diagrams, (d) => hasRenderedSvg(d))));
    process.stderr.write(`wrote ${diagrams.map((d) => `docs/diagrams/${d.stack}.mmd${hasRenderedSvg(d) ? " and .svg" : ""}`).join(", ")} and docs/architecture.md's diagrams section\n`);
}

main().then(() => process.exit(0), (err) => { process.stderr.write(`npm run diagrams: ${(err as Error)?.message ?? err}\n`); process.exit(1); });
