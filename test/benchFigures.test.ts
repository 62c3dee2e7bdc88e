import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { BENCH_FILE, BENCH_MARKERS, parseStackRows, stackShape } from "../bench/figures";
import { PROJECT_ROOT, stackNames } from "../config/stackFile";
import { markedSection } from "../plan/readmeSection";

describe("the bench figures in docs/benchmarks.md", function () {
    this.timeout(60_000);

    it("match a fresh plan of every stack measured: resource count and longest dependency chain (npm run bench -- --write rewrites them)", async () => {
        const section = markedSection(fs.readFileSync(path.join(PROJECT_ROOT, BENCH_FILE), "utf8"), BENCH_MARKERS);
        const rows = parseStackRows(section);
        // A row per stack file measured, in stack-file order; a stack added since has none until the next measurement.
        assert.ok(rows.length > 0, "figures measured");
        assert.deepStrictEqual(rows.map((r) => r.stack), stackNames().filter((s) => rows.some((r) => r.stack === s)), "rows of stack files only (a row for a stack whose file is gone is stale: run npm run bench -- --write)");
        for (const row of rows) assert.deepStrictEqual(row, await stackShape(row.stack), `${row.stack}: stale, run npm run bench -- --write`);
    });
});
