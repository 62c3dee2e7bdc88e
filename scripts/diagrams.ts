/**
 * npm run diagrams: renders each stack's component view to docs/diagrams/<stack>.svg with Mermaid itself (its
 * browser bundle in headless Chromium, as mermaid-cli does), writes the sources next to them, and rewrites the
 * diagrams section of docs/architecture.md. Needs Chromium: CHROME_PATH, or /usr/bin/chromium (Debian: apt-get install chromium).
 */
import * as fs from "fs";
import * as path from "path";
import puppeteer from "puppeteer-core";
import { DIAGRAM_DIR, DIAGRAMS_DOC, readmeSection, README_MARKERS, stackDiagrams, svgStamp } from "../plan/diagrams";
import { replaceMarkedSection } from "../plan/readmeSection";

async function main(): Promise<void> {
    const executablePath = process.env.CHROME_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) => fs.existsSync(p));
    if (!executablePath) throw new Error("no Chromium found: set CHROME_PATH (Debian: apt-get install chromium)");
    const diagrams = await stackDiagrams();
    const browser = await puppeteer.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    try {
        const page = await browser.newPage();
        await page.setContent("<!DOCTYPE html><html><body></body></html>");
        await page.addScriptTag({ path: require.resolve("mermaid/dist/mermaid.min.js") });
        fs.mkdirSync(DIAGRAM_DIR, { recursive: true });
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
            fs.writeFileSync(path.join(DIAGRAM_DIR, `${d.stack}.mmd`), d.source);
            fs.writeFileSync(path.join(DIAGRAM_DIR, `${d.stack}.svg`), `${svgStamp(d.source)}\n${svg}\n`);
        }
    } finally {
        await browser.close();
    }
    const readmePath = DIAGRAMS_DOC;
    fs.writeFileSync(readmePath, replaceMarkedSection(fs.readFileSync(readmePath, "utf8"), README_MARKERS, readmeSection(diagrams)));
    process.stderr.write(`wrote ${diagrams.map((d) => `docs/diagrams/${d.stack}.svg`).join(", ")} and docs/architecture.md's diagrams section\n`);
}

main().then(() => process.exit(0), (err) => { process.stderr.write(`npm run diagrams: ${(err as Error)?.message ?? err}\n`); process.exit(1); });
