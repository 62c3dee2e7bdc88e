// Parses Mermaid diagrams with Mermaid's own parser (the `mermaid` package's `mermaid.parse`, the same code that
// renders them on GitHub and in mermaid-cli). Reads a JSON array of diagram texts on stdin and prints a JSON array
// of {ok, diagramType} or {ok: false, error}. Its own process: Mermaid's sanitiser (DOMPurify) needs a DOM window,
// given here by jsdom, and a global `window` must not leak into other code (mqtt.js, for one, takes it for a browser).
import { JSDOM } from "jsdom";

const { window } = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const text of JSON.parse(input)) {
    try {
        const { diagramType } = await mermaid.parse(text);
        results.push({ ok: true, diagramType });
    } catch (err) {
        results.push({ ok: false, error: String(err?.message ?? err) });
    }
}
process.stdout.write(JSON.stringify(results));
