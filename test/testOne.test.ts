/**
 * `npm run test:one` type-checks the file it runs: a typo in a policy's Effect (a string the Statement type does not
 * allow) stops it before mocha runs, where mocha's transpile-only loader alone would have run the test.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../config/stackFile";

describe("npm run test:one", function () {
    this.timeout(120_000);

    it("is scripts/testOne.mjs, and a type error in the file it runs stops it before any test", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
        assert.strictEqual(pkg.scripts["test:one"], "node scripts/testOne.mjs");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-typo-"));
        try {
            const file = path.join(dir, "typo.test.ts");
            fs.writeFileSync(file, [
                `import { policyDocument } from ${JSON.stringify(path.join(PROJECT_ROOT, "policies", "document"))};`,
                `describe("typo", () => { it("runs", () => { policyDocument({ Sid: "A", Effect: "Alow", Action: ["iot:Connect"], Resource: ["*"] }); console.log("TEST BODY RAN"); }); });`,
            ].join("\n"));
            const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "scripts", "testOne.mjs"), file], { cwd: PROJECT_ROOT, encoding: "utf8" });
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stdout + r.stderr, /error TS\d+: Type '"Alow"' is not assignable to type 'Effect'/);
            assert.match(r.stderr, /test:one: type errors in .*typo\.test\.ts or what they import: no test run/);
            assert.doesNotMatch(r.stdout, /TEST BODY RAN/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
