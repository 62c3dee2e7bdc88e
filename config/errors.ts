import * as pulumi from "@pulumi/pulumi";

/**
 * A stack configuration value is wrong. Extends `pulumi.RunError`, which the Pulumi
 * runtime prints as its message alone (no stack trace): one line naming the file, the key,
 * the bad value and what is allowed:
 *
 *     Pulumi.kr.yaml: Invalid stack config fms-iot:namePrefix = "FMS-KR": 3-20 characters: ...
 */
export class ConfigError extends pulumi.RunError {
    constructor(public readonly key: string, public readonly value: unknown, public readonly allowed: string, public readonly file?: string) {
        super(`${file ? `${file}: ` : ""}Invalid stack config ${key} = ${describe(value)}: ${allowed}`);
        this.name = "ConfigError";
    }

    /** The same error, naming the file the value came from. */
    in(file: string): ConfigError {
        return this.file ? this : new ConfigError(this.key, this.value, this.allowed, file);
    }
}

function describe(value: unknown): string {
    if (value === undefined) return "(missing)";
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
