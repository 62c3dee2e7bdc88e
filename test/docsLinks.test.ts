/**
 * The README is the front door and docs/ holds the reference: every relative link between them must land on a file
 * that exists and, with a `#fragment`, on a heading of that file (anchors as GitHub makes them from headings:
 * lower case, punctuation other than '-' and '_' dropped, spaces to '-'; duplicates get -1, -2 ...).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../config/stackFile";

const pages = (): string[] => ["README.md", ...fs.readdirSync(path.join(PROJECT_ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** A page's text without fenced code blocks (a link-looking string in a code block is not a link). */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, "");

export function anchors(markdown: string): Set<string> {
    const seen = new Map<string, number>();
    const out = new Set<string>();
    for (const m of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
        const base = m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, "").replace(/ /g, "-");
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        out.add(n === 0 ? base : `${base}-${n}`);
    }
    return out;
}

describe("README and docs/: the front door and its links", () => {
    it("every relative link lands on a file that exists, and every #fragment on one of its headings", () => {
        const broken: string[] = [];
        let links = 0;
        for (const page of pages()) {
            const text = prose(fs.readFileSync(path.join(PROJECT_ROOT, page), "utf8"));
            for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                const target = m[1];
                if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
                links++;
                const [file, fragment] = target.split("#");
                const resolved = file ? path.join(path.dirname(path.join(PROJECT_ROOT, page)), file) : path.join(PROJECT_ROOT, page);
                if (!fs.existsSync(resolved)) { broken.push(`${page}: ${target} (no such file)`); continue; }
                if (fragment && resolved.endsWith(".md") && !anchors(fs.readFileSync(resolved, "utf8")).has(fragment)) broken.push(`${page}: ${target} (no such heading)`);
            }
        }
        assert.ok(links > 30, `${links} links found: the check reads the pages`);
        assert.deepStrictEqual(broken, []);
    });

    it("the anchor rule is GitHub's for the headings this project writes", () => {
        const a = anchors("# On a fresh clone: the two commands\n## `pulumi destroy`: what stays\n## Rollout and abort\n## Rollout and abort\n```\n# not a heading\n```\n");
        assert.deepStrictEqual([...a], ["on-a-fresh-clone-the-two-commands", "pulumi-destroy-what-stays", "rollout-and-abort", "rollout-and-abort-1"]);
    });

    it("the README stays a front door (about 300 lines; reference lives in docs/) and links every page in docs/", () => {
        const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
        const lines = readme.split("\n").length;
        assert.ok(lines <= 330, `README.md has ${lines} lines: move reference material into docs/<topic>.md and link it`);
        const unlinked = pages().filter((p) => p.startsWith("docs/") && !readme.includes(`](${p})`));
        assert.deepStrictEqual(unlinked, [], "pages in docs/ the README's table does not link");
    });
});
