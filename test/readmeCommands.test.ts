/**
 * The README's single-file test command runs that file only. mocha merges a positional file into the
 * `spec` of `.mocharc.json` (every test file) instead of replacing it (mocha lib/cli/options.js: config
 * file, package.json and CLI arguments are merged, arrays concatenated), so a plain `npx mocha <file>`
 * runs every test file; `npm run test:one -- <file>` passes `--no-config`.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../config/stackFile";

describe("the README's commands", function () {
    this.timeout(60_000);

    it("the single-file command runs that file and nothing else (mocha --dry-run, JSON reporter)", () => {
        const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
        const command = /`npm run test:one -- (test\/[\w.]+\.test\.ts)`/.exec(readme);
        assert.ok(command, "the README gives the single-file command");
        const script = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).scripts["test:one"] as string;
        assert.strictEqual(script, "node scripts/testOne.mjs", "type-check, then mocha --no-config (test/testOne.test.ts)");
        const file = "test/evaluators.test.ts"; // a small file; the README's own example is a larger one
        const out = execFileSync(process.execPath, [path.join(PROJECT_ROOT, "scripts", "testOne.mjs"), "--dry-run", "--reporter", "json", file], { cwd: PROJECT_ROOT, encoding: "utf8" });
        const report = JSON.parse(out.slice(out.indexOf("{"))) as { tests: { file: string }[] };
        assert.ok(report.tests.length > 0);
        assert.deepStrictEqual([...new Set(report.tests.map((t) => path.relative(PROJECT_ROOT, t.file)))], [file]);
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, command[1])), `${command[1]} exists`);
    });
});
