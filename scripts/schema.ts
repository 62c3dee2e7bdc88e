/**
 * npm run schema: writes schema/stack-config.schema.json, the JSON Schema of Pulumi.<stack>.yaml,
 * from the one config declaration (config/stackConfig.ts). Editors with yaml-language-server use it
 * through the modeline at the top of each stack file; it also writes the config reference table of
 * docs/configuration.md from the same schema. A test fails when either is out of date.
 */
import * as fs from "fs";
import * as path from "path";
import { stackFileJsonSchema } from "../config/stackConfig";
import { PROJECT_ROOT, projectName } from "../config/stackFile";
import { replaceMarkedSection } from "../plan/readmeSection";

export const SCHEMA_FILE = path.join(PROJECT_ROOT, "schema", "stack-config.schema.json");

export function schemaText(): string {
    return `${JSON.stringify(stackFileJsonSchema(projectName()), null, 2)}\n`;
}

/** The config reference in docs/configuration.md, between these markers: one row per key of the schema above. */
export const CONFIG_DOC = path.join(PROJECT_ROOT, "docs", "configuration.md");
export const REFERENCE_MARKERS = { start: "<!-- config-reference:start (npm run schema writes this from the config declaration) -->", end: "<!-- config-reference:end -->" };

interface SchemaNode { type?: string | string[]; description?: string; enum?: unknown[]; properties?: Record<string, SchemaNode>; items?: SchemaNode; anyOf?: SchemaNode[]; oneOf?: SchemaNode[]; allOf?: SchemaNode[]; default?: unknown }

/** Every key path of the stack file's schema (sections and their fields, list items as `[]`), each once. */
export function referenceRows(schema = stackFileJsonSchema(projectName()) as unknown as { properties: { config: SchemaNode } }): [string, string][] {
    const rows = new Map<string, string>();
    const kind = (n: SchemaNode): string => {
        const alts = [...(n.anyOf ?? []), ...(n.oneOf ?? [])];
        if (n.properties) return "a section";
        if (n.enum) return `one of ${n.enum.join(", ")}`;
        if (alts.length) return [...new Set(alts.map(kind))].join(" or ");
        return Array.isArray(n.type) ? n.type.join(" or ") : n.type ?? "a value";
    };
    const walk = (node: SchemaNode, at: string) => {
        for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) walk(alt, at);
        for (const [key, child] of Object.entries(node.properties ?? {})) {
            const p = at ? `${at}.${key}` : key;
            const text = `${child.description ?? kind(child)}${child.default !== undefined ? ` (default ${JSON.stringify(child.default)})` : ""}`;
            if (!rows.has(p) || !rows.get(p)) rows.set(p, text);
            walk(child, p);
        }
        if (node.items) walk(node.items, `${at}[]`);
    };
    walk(schema.properties.config, "");
    return [...rows];
}

export function referenceSection(): string {
    const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
    const table = ["| key | what it takes |", "|---|---|", ...referenceRows().map(([k, d]) => `| \`${cell(k)}\` | ${cell(d)} |`)];
    return [REFERENCE_MARKERS.start, table.join("\n"), REFERENCE_MARKERS.end].join("\n");
}

if (require.main === module) {
    fs.mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
    fs.writeFileSync(SCHEMA_FILE, schemaText());
    fs.writeFileSync(CONFIG_DOC, replaceMarkedSection(fs.readFileSync(CONFIG_DOC, "utf8"), REFERENCE_MARKERS, referenceSection()));
    process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)} and the reference table of ${path.relative(process.cwd(), CONFIG_DOC)}\n`);
}
