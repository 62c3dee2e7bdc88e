import * as assert from "assert";
import { PolicyDocument, Statement } from "../../policies/document";
import { stackConfigFromEngine } from "../../config/stackConfig";
import { readStackFile } from "../../config/stackFile";
import { ProgramFailed, ProgramRun } from "../../plan/program";
export { isSecretValue } from "../../plan/report";

export function parsePolicy(text: unknown): PolicyDocument {
    assert.strictEqual(typeof text, "string", "policy documents are registered as JSON strings");
    return JSON.parse(text as string) as PolicyDocument;
}

export function statement(doc: PolicyDocument, sid: string): Statement {
    const s = doc.Statement.find((x) => x.Sid === sid);
    assert.ok(s, `statement ${sid} in ${JSON.stringify(doc)}`);
    return s;
}

/** No Allow with `*` or a service-wide `svc:*` action, and no Allow on resource `*` (key policies aside). */
/**
 * Actions the Service Authorization Reference lists with no resource types (only `*` can name them),
 * and only under a condition where one exists.
 */
const NO_RESOURCE_LEVEL = new Set(["iot:ListAuditTasks", "iot:DescribeAuditTask", "cloudwatch:PutMetricData"]);

export function assertLeastPrivilege(doc: PolicyDocument): void {
    for (const s of doc.Statement.filter((x) => x.Effect === "Allow")) {
        for (const a of s.Action) assert.ok(a !== "*" && !/^[a-z0-9-]+:\*$/.test(a), `wildcard action ${a} in ${s.Sid}`);
        const unscopable = s.Action.every((a) => NO_RESOURCE_LEVEL.has(a));
        for (const r of s.Resource ?? []) if (!unscopable) assert.notStrictEqual(r, "*", `resource * in ${s.Sid}`);
        if (unscopable && s.Action.includes("cloudwatch:PutMetricData")) assert.ok(s.Condition?.StringEquals?.["cloudwatch:namespace"], `${s.Sid}: PutMetricData limited to a namespace`);
    }
}

/**
 * The run fails before registering any resource, with the one-line ConfigError the Pulumi runtime
 * prints without a stack trace: `Invalid stack config <key> = <value>: <what is allowed>`.
 */
export async function assertConfigError(run: Promise<ProgramRun>, key: string, allowed: RegExp): Promise<void> {
    await assert.rejects(run, (err: unknown) => {
        assert.ok(err instanceof ProgramFailed, String(err));
        const cause = err.cause as Error & { __pulumiRunError?: boolean };
        assert.strictEqual(cause.name, "ConfigError");
        assert.ok(cause.__pulumiRunError, "a RunError: Pulumi prints it without a stack trace");
        assert.ok(!cause.message.includes("\n"), `one line: ${cause.message}`);
        // One line naming the file, then the key and value: `Pulumi.<stack>.yaml: Invalid stack config <key> = ...`.
        assert.match(cause.message, /^Pulumi\.[\w-]+\.yaml: Invalid stack config /, cause.message);
        assert.ok(cause.message.replace(/^Pulumi\.[\w-]+\.yaml: /, "").startsWith(`Invalid stack config ${key} = `), cause.message);
        assert.match(cause.message, allowed);
        assert.strictEqual(err.resources.length, 0, "validated before any resource is registered");
        return true;
    });
}

/**
 * The same check without running the program: the stack file, edited, through the config schema
 * the program validates with (config/stackConfig.ts). Fast; `assertConfigError` (on a real run)
 * proves, for a few cases, that the program stops before registering a resource.
 */
export function assertStackConfigError(stack: string, edit: (c: Record<string, string>) => void, key: string, allowed: RegExp): void {
    const file = readStackFile(stack);
    edit(file.config);
    assert.throws(() => stackConfigFromEngine(file.project, stack, file.config), (err: unknown) => {
        const e = err as Error;
        assert.strictEqual(e.name, "ConfigError", String(err));
        assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
        assert.ok(e.message.startsWith(`Pulumi.${stack}.yaml: Invalid stack config ${key} = `), e.message);
        assert.match(e.message, allowed);
        return true;
    });
}
