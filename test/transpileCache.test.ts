import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { keepOutputs, keepTranspiledModules } from "../plan/transpileCache";

describe("plans reuse transpiled modules (plan/transpileCache.ts)", () => {
    it("keeps one output per file while its text is unchanged; an edited text is compiled again", () => {
        const compiled: string[] = [];
        const compile = keepOutputs((code, file) => { compiled.push(`${file}:${code}`); return `out(${code})`; });
        assert.strictEqual(compile("a", "/x.ts"), "out(a)");
        assert.strictEqual(compile("a", "/x.ts"), "out(a)");
        assert.strictEqual(compile("a", "/y.ts"), "out(a)");
        assert.strictEqual(compile("b", "/x.ts"), "out(b)");
        assert.strictEqual(compile("b", "/x.ts"), "out(b)");
        assert.deepStrictEqual(compiled, ["/x.ts:a", "/y.ts:a", "/x.ts:b"]);
    });

    it("under ts-node, a module required again after an edit has the edit", function () {
        // The tests run under ts-node/register (.mocharc.json); ts-node 10.9.2 keeps its service on this symbol
        // (dist/index.js:131) and its require hook calls service.compile on every load (dist/index.js:856).
        if (!(process as unknown as Record<symbol, unknown>)[Symbol.for("ts-node.register.instance")]) this.skip();
        keepTranspiledModules();
        keepTranspiledModules(); // a second call does not wrap twice
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-transpile-"));
        const file = path.join(dir, "value.ts");
        const load = () => { delete require.cache[require.resolve(file)]; return (require(file) as { value: number }).value; };
        fs.writeFileSync(file, "export const value: number = 1;\n");
        assert.strictEqual(load(), 1);
        assert.strictEqual(load(), 1);
        fs.writeFileSync(file, "export const value: number = 2;\n");
        assert.strictEqual(load(), 2, "an edited file is not served from the memo");
    });
});
