/**
 * `npm run bench -- --burst N --write`: the burst's printed figures go into docs/scale.md's burst section only when
 * asked (--write), with the run's date and whether its checks passed; nothing else on the page changes. A run
 * without --write writes nothing (the guide's rule: generated files only on request, never by a measurement).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../config/stackFile";
import { BURST_FILE, BURST_MARKERS, burstSection, writeBurstSection } from "../bench/burstReport";
import { parseBenchArgs } from "../bench/run";
import { markedSection } from "../plan/readmeSection";

describe("npm run bench -- --burst N --write", () => {
    it("arguments: --write goes with --burst (the burst section) or alone (the plan figures); not with --no-backoff", () => {
        assert.deepStrictEqual(parseBenchArgs(["--burst", "10000", "--write"]), { write: true, burst: 10000, backoff: true });
        assert.deepStrictEqual(parseBenchArgs(["--burst", "300"]), { write: false, burst: 300, backoff: true });
        assert.deepStrictEqual(parseBenchArgs(["--write"]), { write: true, burst: undefined, backoff: true });
        assert.throws(() => parseBenchArgs(["--burst", "300", "--no-backoff", "--write"]), /--no-backoff.*--write/);
        assert.throws(() => parseBenchArgs(["--no-backoff"]), /--no-backoff goes with --burst/);
    });

    it(`${BURST_FILE} has one burst section, and writing replaces that section only`, () => {
        const page = fs.readFileSync(path.join(PROJECT_ROOT, BURST_FILE), "utf8");
        assert.strictEqual(page.split(BURST_MARKERS.start).length, 2, "one start marker");
        assert.strictEqual(page.split(BURST_MARKERS.end).length, 2, "one end marker");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-burst-write-"));
        try {
            const file = path.join(dir, "scale.md");
            fs.writeFileSync(file, page);
            const lines = ["Burst: 3 units", "burst: 3 units, 3 provisioned exactly once, 1.00 units/s, identity p99 1.0 s, hook p99 5.0 ms, binding limit: RegisterThing 10/s (AWS)"];
            const when = new Date("2026-12-06T02:30:00Z");
            writeBurstSection(file, lines, when, 0);
            const written = fs.readFileSync(file, "utf8");
            const section = markedSection(written, BURST_MARKERS);
            assert.strictEqual(section, burstSection(lines, when, 0));
            assert.ok(section.includes("2026-12-06 02:30 UTC; every check passed") && section.includes(lines[1]));
            const outside = (text: string) => text.replace(markedSection(text, BURST_MARKERS), "");
            assert.strictEqual(outside(written), outside(page), "nothing outside the section changes");
            writeBurstSection(file, lines, when, 1);
            assert.ok(markedSection(fs.readFileSync(file, "utf8"), BURST_MARKERS).includes("a check failed"));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
