import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export const PROJECT_ROOT = path.join(__dirname, "..");

export interface StackFile {
    project: string;
    stack: string;
    /** Config as the Pulumi engine hands it to the program: objects as JSON, scalars as strings. */
    config: Record<string, string>;
    /** Keys whose value is `secure:` (encrypted; cannot be read without the stack's secrets provider). */
    secureKeys: string[];
}

export function projectName(root = PROJECT_ROOT): string {
    const doc = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name?: unknown };
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

/** Reads `Pulumi.<stack>.yaml` the way the Pulumi engine presents it to a program. */
export function readStackFile(stack: string, root = PROJECT_ROOT): StackFile {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    const secureKeys: string[] = [];
    for (const [key, value] of Object.entries(doc.config ?? {})) {
        if (value !== null && typeof value === "object" && "secure" in (value as object)) {
            secureKeys.push(key);
            continue;
        }
        config[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    return { project: projectName(root), stack, config, secureKeys };
}
