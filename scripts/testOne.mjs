// npm run test:one -- <test files> [mocha options]: type-checks the files it runs, and everything they import, with
// the project's compiler options (tsconfig.json), then runs them with mocha in one process (--no-config: only these
// files, no parallel workers; a debugger can attach). A type error stops it before any test runs.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fileURLToPath } from "url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith("-") && /\.(ts|tsx)$/.test(a)).map((f) => path.resolve(f));

if (files.length > 0) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-test-one-"));
    try {
        const config = {
            extends: path.join(root, "tsconfig.json"),
            // typeRoots from the project (the generated config lives elsewhere); only these files and their imports.
            compilerOptions: { noEmit: true, typeRoots: [path.join(root, "node_modules", "@types")] },
            files,
            include: [],
        };
        fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(config));
        const tsc = spawnSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(dir, "tsconfig.json")], { stdio: "inherit" });
        if (tsc.status !== 0) {
            process.stderr.write(`test:one: type errors in ${files.map((f) => path.relative(root, f)).join(", ")} or what they import: no test run\n`);
            process.exit(tsc.status ?? 1);
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
const mocha = spawnSync(process.execPath, [path.join(root, "node_modules", "mocha", "bin", "mocha.js"), "--no-config", "-r", "ts-node/register/transpile-only", "--extension", "ts", "--timeout", "60000", "--exit", ...args], { stdio: "inherit" });
process.exit(mocha.status ?? 1);
