import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { StackFileError } from "./errors";
import { checkYamlNumbers } from "./yamlNumbers";

export { StackFileError };

export const PROJECT_ROOT = path.join(__dirname, "..");

export interface StackFile {
    project: string;
    stack: string;
    /** Config as the Pulumi engine hands it to the program: objects as JSON, scalars as strings. */
    config: Record<string, string>;
    /** Keys whose value is `secure:` (encrypted; cannot be read without the stack's secrets provider). */
    secureKeys: string[];
    /** Pulumi ESC environments the stack file imports (`environment:`). */
    environments: string[];
    /**
     * Keys given a stand-in value because an ESC environment provides them and the Pulumi CLI (which
     * alone can open it) is not here: each with the value used and where the real one comes from.
     */
    placeholders: { key: string; value: string; from: string }[];
}

function readYaml(file: string): unknown {
    try {
        return parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        const e = err as { linePos?: { line: number; col: number }[]; message: string };
        if (!e.linePos) throw err;
        const [{ line, col }] = e.linePos;
        const what = e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        throw new StackFileError(`${path.basename(file)}:${line}:${col}: ${what}`);
    }
}

export function projectName(root = PROJECT_ROOT): string {
    const doc = readYaml(path.join(root, "Pulumi.yaml")) as { name?: unknown };
    if (typeof doc?.name !== "string") throw new Error("Pulumi.yaml has no project name");
    return doc.name;
}

/** Stacks that have a `Pulumi.<stack>.yaml` file. */
export function stackNames(root = PROJECT_ROOT): string[] {
    return fs.readdirSync(root)
        .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

const engineValue = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

/**
 * Project-level config in Pulumi.yaml, as Pulumi applies it: a plain value, or a declaration's
 * `default`, is every stack's value unless the stack file sets the key. Keys without a namespace
 * are the project's.
 */
export function projectDefaults(root = PROJECT_ROOT): Record<string, string> {
    const doc = readYaml(path.join(root, "Pulumi.yaml")) as { name: string; config?: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        const full = key.includes(":") ? key : `${doc.name}:${key}`;
        if (value !== null && typeof value === "object" && !Array.isArray(value)) {
            const decl = value as { default?: unknown; value?: unknown };
            const v = decl.value ?? decl.default;
            if (v !== undefined) out[full] = engineValue(v);
        } else if (value !== null && value !== undefined) {
            out[full] = engineValue(value);
        }
    }
    return out;
}

/** `pulumi config --json` through the CLI: what ESC environments provide; undefined without the CLI. */
export type ConfigReader = (stack: string, root: string) => Record<string, { value?: unknown; secret?: boolean }> | undefined;

export const pulumiCli: ConfigReader = (stack, root) => {
    try {
        return JSON.parse(execFileSync("pulumi", ["config", "--json", "--stack", stack], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 }));
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        const detail = ((err as { stderr?: string }).stderr ?? String(err)).trim().split("\n")[0];
        throw new StackFileError(`Pulumi.${stack}.yaml: its ESC environment could not be read (pulumi config --json --stack ${stack}): ${detail}`);
    }
};

/** Where the offline plan and the tests plan an ESC-provided region without the CLI (named in every note). */
export const PLACEHOLDER_REGION = "us-east-1";

/**
 * Reads `Pulumi.<stack>.yaml` the way the Pulumi engine presents it to a program: project-level
 * defaults from Pulumi.yaml, then the stack file's values; with ESC imports (`environment:`) the
 * values the environments provide come from `pulumi config --json` when the CLI is here, and are
 * named placeholders when it is not.
 */
/** What a stack file may hold at its top level (Pulumi's stack-file format). */
const STACK_FILE_KEYS = ["config", "environment", "secretsprovider", "encryptionsalt", "encryptedkey"];

export function readStackFile(stack: string, root = PROJECT_ROOT, readConfig: ConfigReader = pulumiCli): StackFile {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    const doc = (readYaml(file) ?? {}) as { config?: Record<string, unknown>; environment?: unknown };
    // A key outside config: (indentation lost) is not config at all: say so, rather than "missing".
    const stray = Object.keys(doc).find((k) => !STACK_FILE_KEYS.includes(k));
    if (stray) {
        throw new StackFileError(`${path.basename(file)}: ${stray} is outside config: (Pulumi reads only config, environment and the secrets settings at the top level); indent it under config:`);
    }
    checkYamlNumbers(file);
    const config: Record<string, string> = projectDefaults(root);
    const secureKeys: string[] = [];
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (value !== null && typeof value === "object" && "secure" in (value as object)) {
            secureKeys.push(key);
            delete config[key];
            continue;
        }
        config[key] = engineValue(value);
    }
    const imports = doc.environment;
    const environments = Array.isArray(imports) ? imports.map(String)
        : imports && typeof imports === "object" && Array.isArray((imports as { imports?: unknown }).imports) ? ((imports as { imports: unknown[] }).imports).map(String) : [];
    const placeholders: StackFile["placeholders"] = [];
    if (environments.length > 0) {
        const resolved = readConfig(stack, root);
        const from = `ESC environment ${environments.join(", ")}`;
        if (resolved) {
            for (const [key, entry] of Object.entries(resolved)) {
                if (key in config || secureKeys.includes(key)) continue;
                if (entry.secret && entry.value === undefined) secureKeys.push(key);
                else if (entry.value !== undefined) config[key] = engineValue(entry.value);
            }
        } else if (config["aws:region"] === undefined) {
            // Without the CLI the environment cannot be opened: plan in a stand-in region, and say so.
            config["aws:region"] = PLACEHOLDER_REGION;
            placeholders.push({ key: "aws:region", value: PLACEHOLDER_REGION, from });
        }
    }
    return { project: projectName(root), stack, config, secureKeys, environments, placeholders };
}
