/**
 * npm run schema: writes schema/stack-config.schema.json, the JSON Schema of Pulumi.<stack>.yaml,
 * from the one config declaration (config/stackConfig.ts). Editors with yaml-language-server use it
 * through the modeline at the top of each stack file; a test fails when the file is out of date.
 */
import * as fs from "fs";
import * as path from "path";
import { stackFileJsonSchema } from "../config/stackConfig";
import { PROJECT_ROOT, projectName } from "../config/stackFile";

export const SCHEMA_FILE = path.join(PROJECT_ROOT, "schema", "stack-config.schema.json");

export function schemaText(): string {
    return `${JSON.stringify(stackFileJsonSchema(projectName()), null, 2)}\n`;
}

if (require.main === module) {
    fs.mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
    fs.writeFileSync(SCHEMA_FILE, schemaText());
    process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
}
