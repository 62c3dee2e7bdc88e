/**
 * The config classes issue 27 names, each checked as a class (many shapes of the mistake), not as the one
 * case in the bad-config table: a certificate request that is not whole, topic filters and topic depth AWS
 * IoT refuses, numbers YAML could not keep, a secure: value the offline plan only has a placeholder for.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { csrProblem } from "../config/csr";
import { describeValue, numberKeepsItsDigits, OFFLINE_PLACEHOLDER_PREFIX } from "../config/errors";
import { deviceRootProblem, MAX_TOPIC_SLASHES, topicFilterProblem } from "../config/mqttTopics";
import { yamlNumberProblem } from "../config/yamlNumbers";
import { makeCsr } from "./support/x509";

describe("config classes: certificate requests are parsed (RFC 2986 DER, signature verified)", () => {
    let pem = "";
    before(async () => { pem = (await makeCsr("CN=factory-hsm")).csrPem; });

    const body = (p: string) => p.split("\n").filter((l) => l && !l.startsWith("-----"));
    const wrap = (lines: string[]) => `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;

    it("a whole request passes", () => assert.strictEqual(csrProblem(pem), undefined));

    it("a request cut at any line, or at any 4-character boundary, is refused", () => {
        const lines = body(pem);
        for (let n = 1; n < lines.length; n++) assert.ok(csrProblem(wrap(lines.slice(0, n))), `the first ${n} of ${lines.length} lines`);
        const flat = lines.join("");
        for (let cut = 4; cut < flat.length; cut += 4) assert.ok(csrProblem(wrap([flat.slice(0, cut)])), `cut at ${cut} of ${flat.length}`);
    });

    it("a request with a line lost from the middle, or one character changed, is refused", () => {
        const lines = body(pem);
        for (let i = 0; i < lines.length - 1; i++) assert.ok(csrProblem(wrap(lines.filter((_, j) => j !== i))), `line ${i} lost`);
        const flat = lines.join("");
        for (let i = 8; i < flat.length - 4; i += 7) {
            const c = flat[i] === "A" ? "B" : "A";
            const edited = `${flat.slice(0, i)}${c}${flat.slice(i + 1)}`;
            // A changed character alters the DER; the structure or the signature gives it away.
            assert.ok(csrProblem(wrap([edited])), `character ${i} changed`);
        }
    });

    it("what is not a request is refused with what it is", () => {
        assert.match(String(csrProblem("-----BEGIN CERTIFICATE REQUEST-----\nnot base64!\n-----END CERTIFICATE REQUEST-----\n")), /not whole base64/);
        assert.match(String(csrProblem(pem.replace("REQUEST-----\n", "REQUEST-----\nAAAA"))), /./);
        assert.match(String(csrProblem("MIIB")), /not one PEM block/);
    });
});

describe("config classes: topic filters and topic depth as AWS IoT takes them", () => {
    // AWS IoT developer guide, "MQTT topics", Topic filters (https://docs.aws.amazon.com/iot/latest/developerguide/topics.html#topicfilters);
    // AWS IoT Core quotas: at most 7 '/' in a topic or topic filter (https://docs.aws.amazon.com/general/latest/gr/iot-core.html).
    const good = ["vehicles/+/status", "vehicles/#", "#", "+", "a/+/+/d", "test-rule/rule1", "a/b/c/d/e/f/g/h", "a/b/c/d/e/f/g/#"];
    const bad = ["vehicles/#/status", "#/a", "a/#b", "a/b#", "a/b/#/", "vehicles/+status", "a+/b", "a/+x/c", "a/b/c/d/e/f/g/h/i", "a/b/c/d/e/f/g/h/#", ""];
    for (const f of good) it(`accepted: '${f}'`, () => assert.strictEqual(topicFilterProblem(f), undefined));
    for (const f of bad) it(`refused: '${f}'`, () => assert.ok(topicFilterProblem(f)));

    it("a device root leaves room for <thingName>/<topic> within the limit", () => {
        for (let levels = 1; levels <= 10; levels++) {
            const root = Array.from({ length: levels }, (_, i) => `l${i}`).join("/");
            const deepestSlashes = levels + 1; // <root>/<thing>/<topic>
            assert.strictEqual(deviceRootProblem(root) === undefined, deepestSlashes <= MAX_TOPIC_SLASHES, root);
        }
    });
});

describe("config classes: numbers are shown only as they could have been written", () => {
    it("a number keeps its digits only up to 15 significant digits, no exponent", () => {
        for (const n of [0, 1, 297468, 123456789012, 999999999999999, 1.5, -42, 0.125]) assert.ok(numberKeepsItsDigits(n), String(n));
        for (const n of [29746912345678901234, 1234567890123456789, 12345678901234567, 0.12345678901234567, 1e21, 1.7976931348623157e308, NaN]) assert.ok(!numberKeepsItsDigits(n), String(n));
    });

    it("an error line never shows digits YAML made up, alone or inside a list or object", () => {
        for (const v of [29746912345678901234, [29746912345678901234], { Tier: 12345678901234567890 }]) {
            const shown = describeValue("fms-iot:x", v);
            assert.doesNotMatch(shown, /\d{16,}|e\+/, shown);
            assert.match(shown, /too long to keep its digits/);
        }
    });

    it("the stack file's own scan shows the number as written, for any long number anywhere", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-yamlnum-"));
        try {
            for (const written of ["29746912345678901234", "1234567890123456789", "0.12345678901234567891"]) {
                const file = path.join(dir, "Pulumi.x.yaml");
                fs.writeFileSync(file, `config:\n  fms-iot:provisioning:\n    serialPrefixes:\n      - ${written}\n`);
                const problem = String(yamlNumberProblem(file));
                assert.ok(problem.includes(`cannot hold ${written} digit for digit`), problem);
                const digits = problem.match(/\d{12,}/g) ?? [];
                for (const d of digits) assert.ok(written.replace(".", "").includes(d) || written.includes(d), `${d} was not written: ${problem}`);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("config classes: a secure: value the offline plan cannot decrypt", () => {
    it("is never echoed as the placeholder, whatever the key", () => {
        for (const key of ["fms-iot:namePrefix", "aws:allowedAccountIds", "fms-iot:routing", "fms-iot:country"]) {
            const shown = describeValue(key, `${OFFLINE_PLACEHOLDER_PREFIX}${key.replace(/[^A-Za-z0-9]/g, "-")}`);
            assert.ok(!shown.includes(OFFLINE_PLACEHOLDER_PREFIX), shown);
            assert.match(shown, /secure: encrypted in the stack file/);
        }
    });
});
