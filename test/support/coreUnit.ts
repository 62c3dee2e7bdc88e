/**
 * The core unit's side of bring-up: the scripts edge-config ships, run as the unit would run them (POSIX sh,
 * openssl, sha256sum), in a directory standing in for its root (FMS_CORE_ROOT).
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { CORE_SCRIPTS } from "../../device/coreScripts";

export function runCoreScript(root: string, script: keyof typeof CORE_SCRIPTS): { code: number; stdout: string; stderr: string } {
    try {
        const stdout = execFileSync("sh", [path.join(root, CORE_SCRIPTS[script])], { env: { ...process.env, FMS_CORE_ROOT: root }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return { code: 0, stdout, stderr: "" };
    } catch (err) {
        const e = err as { status?: number; stdout?: string; stderr?: string };
        return { code: e.status ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
}

/** fms-core-keygen.sh on the unit: the registration line it prints. */
export function keygenOnUnit(root: string): string {
    const r = runCoreScript(root, "keygen");
    if (r.code !== 0) throw new Error(`fms-core-keygen.sh failed (${r.code}): ${r.stderr}`);
    return r.stdout.trim();
}
