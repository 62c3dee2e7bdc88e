import * as pulumi from "@pulumi/pulumi";

/**
 * A stack configuration value is wrong. Extends `pulumi.RunError`, which the Pulumi
 * runtime prints as its message alone (no stack trace): one line naming the key, the bad
 * value and what is allowed.
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly key: string, value: unknown, public readonly allowed: string) {
        super(`Invalid stack config ${key} = ${describe(value)}: ${allowed}`);
        this.name = "ConfigError";
    }
}

function describe(value: unknown): string {
    if (value === undefined) return "(missing)";
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
