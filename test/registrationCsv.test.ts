import * as assert from "assert";
import { parseRegistrations } from "../device/fleetOps";

const KEY_A = "a".repeat(64);
const KEY_B = "b".repeat(64);

describe("registration CSV: what keygen prints, what edge-config writes, and both concatenated", () => {
    it("bare lines (keygen ... >> registration.csv) and a header (edge-config's registration.csv) read alike", () => {
        const bare = parseRegistrations(`297468000001,${KEY_A},fms-kr-vehicle\n297468000002,${KEY_B},fms-kr-vehicle\n`, "keygen.csv");
        const headed = parseRegistrations(`serial,publicKey,template\n297468000001,${KEY_A},fms-kr-vehicle\n297468000002,${KEY_B},fms-kr-vehicle\n`, "edge.csv");
        assert.deepStrictEqual(bare, headed);
        assert.deepStrictEqual(bare.map((r) => r.serial), ["297468000001", "297468000002"]);
    });

    it("files concatenated with their headers (cat core-*/registration.csv): every header line is skipped", () => {
        const regs = parseRegistrations(`serial,publicKey,template\n297469000001,${KEY_A},fms-kr-edge-core\nserial,publicKey,template\n297469000002,${KEY_B},fms-kr-edge-core\n`, "all.csv");
        assert.deepStrictEqual(regs.map((r) => r.serial), ["297469000001", "297469000002"]);
    });

    it("another header is refused (the columns are fixed), and errors keep the file's own line numbers", () => {
        assert.throws(() => parseRegistrations(`serial,key,template\n297468000001,${KEY_A},fms-kr-vehicle\n`, "x.csv"), /^Error: x\.csv:1: the header must be serial,publicKey,template \(or none\)$|x\.csv:1: the header must be serial,publicKey,template \(or none\)/);
        assert.throws(() => parseRegistrations(`serial,publicKey,template\n297468000001,${KEY_A}\n`, "y.csv"), /y\.csv:2: expected 3 columns/);
        assert.throws(() => parseRegistrations(`297468000001,${KEY_A}\n`, "z.csv"), /z\.csv:1: expected 3 columns/);
    });
});
