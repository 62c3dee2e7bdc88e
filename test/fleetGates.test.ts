import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { PROTECTED_TYPES, protectedChanges } from "../fleet/gates";
import { PROJECT_ROOT, stackNames } from "../config/stackFile";
import { runStack } from "../plan/program";

describe("fleet gates", function () {
    this.timeout(120_000);

    it("PROTECTED_TYPES is exactly the custom resource types the program protects in the stack files' plans", async () => {
        const protectedTypes = new Set<string>();
        for (const stack of stackNames()) {
            for (const r of (await runStack(stack)).resources) if (r.custom && r.protect) protectedTypes.add(r.type);
        }
        assert.ok(protectedTypes.size > 0, "no stack file plans a protected resource: nothing to hold the list to");
        assert.deepStrictEqual([...PROTECTED_TYPES].sort(), [...protectedTypes].sort());
    });

    it("replace, create-replacement, delete-replaced, delete and discard are destructive; create, update, same, read are not; one finding per URN", () => {
        const urn = "urn:pulumi:kr::fms-iot::aws:kms/key:Key::k";
        for (const op of ["replace", "create-replacement", "delete-replaced", "delete", "discard", "discard-replaced"]) {
            assert.strictEqual(protectedChanges([{ urn, type: "aws:iot/policy:Policy", op, protect: true }], []).length, 1, op);
        }
        for (const op of ["create", "update", "same", "read", "refresh"]) {
            assert.strictEqual(protectedChanges([{ urn, type: "aws:kms/key:Key", op, protect: true }], []).length, 0, op);
        }
        const replaced = ["replace", "create-replacement", "delete-replaced"].map((op) => ({ urn, type: "aws:kms/key:Key", op, protect: true }));
        assert.deepStrictEqual(protectedChanges(replaced, []), [{ urn, type: "aws:kms/key:Key", op: "replace", why: "protect" }]);
        assert.deepStrictEqual(protectedChanges(replaced, [urn]), [], "--allow-replace names it");
        assert.strictEqual(protectedChanges(replaced, ["urn:pulumi:kr::fms-iot::aws:kms/key:Key::other"]).length, 1, "another URN allows nothing here");
    });

    it("fleet/ is a room above the program: nothing in components/, config/, plan/, policies/ or index.ts imports it", () => {
        const offenders: string[] = [];
        const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
            e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []);
        for (const room of ["components", "config", "plan", "policies"]) {
            for (const file of [...walk(path.join(PROJECT_ROOT, room)), path.join(PROJECT_ROOT, "index.ts")]) {
                if (/from "(\.\.?\/)+fleet\/|require\("(\.\.?\/)+fleet\//.test(fs.readFileSync(file, "utf8"))) offenders.push(path.relative(PROJECT_ROOT, file));
            }
        }
        assert.deepStrictEqual(offenders, []);
    });
});
