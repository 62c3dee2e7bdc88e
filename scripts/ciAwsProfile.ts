/**
 * npm run ci-profile -- --stack <stack>: in CI, makes the stack's `aws:profile` (a workstation profile such as
 * `fms-kr-admin`) exist on the runner and answer with the job's own credentials (GitHub OIDC, exported as
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN by aws-actions/configure-aws-credentials).
 *
 * Why: the program gives `aws:profile` to its explicit providers and dynamic providers alike
 * (components/providers.ts), and a configured profile is what the AWS provider uses, failing when the
 * profile is missing ("failed to get shared config profile") instead of falling back to the environment's
 * credentials. Dropping the profile in CI would make the preview differ from a workstation's `up` (every
 * provider and dynamic resource would show the profile removed); a profile of the same name that reads the
 * environment keeps the preview exactly what `up` will do, and both ways of authenticating work.
 *
 * The profile holds no secret: `credential_process` (AWS SDKs and CLI, "Sourcing credentials with an
 * external process", shared config and credentials files reference) runs a command that prints the
 * environment's credentials as `{"Version": 1, ...}` when a credential is needed. A stack without
 * `aws:profile` needs nothing, and nothing is written.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readStackFile } from "../config/stackFile";

/** The command credential_process runs: the job's credentials from the environment, in the process-credentials format. */
export const ENV_CREDENTIALS_COMMAND = `node -e "const e=process.env;if(!e.AWS_ACCESS_KEY_ID||!e.AWS_SECRET_ACCESS_KEY){console.error('no AWS credentials in the environment');process.exit(1)}process.stdout.write(JSON.stringify({Version:1,AccessKeyId:e.AWS_ACCESS_KEY_ID,SecretAccessKey:e.AWS_SECRET_ACCESS_KEY,...(e.AWS_SESSION_TOKEN?{SessionToken:e.AWS_SESSION_TOKEN}:{})}))"`;

/** The shared-config section for a profile, or undefined when the stack names none. */
export function ciProfileSection(profile: string | undefined, region: string | undefined): string | undefined {
    if (!profile) return undefined;
    if (!/^[A-Za-z0-9_.+=,@-]{1,128}$/.test(profile)) throw new Error(`aws:profile ${JSON.stringify(profile)}: not a profile name this script writes`);
    return `[profile ${profile}]\n${region ? `region = ${region}\n` : ""}credential_process = ${ENV_CREDENTIALS_COMMAND}\n`;
}

export function writeCiProfile(stack: string, root?: string, configFile = process.env.AWS_CONFIG_FILE ?? path.join(os.homedir(), ".aws", "config")): string | undefined {
    const config = readStackFile(stack, root).config;
    const section = ciProfileSection(config["aws:profile"], config["aws:region"]);
    if (!section) return undefined;
    const existing = fs.existsSync(configFile) ? fs.readFileSync(configFile, "utf8") : "";
    const profile = config["aws:profile"]!;
    if (new RegExp(`^\\[profile ${profile.replace(/[.+]/g, "\\$&")}\\]`, "m").test(existing)) throw new Error(`${configFile} already has [profile ${profile}]: not overwritten`);
    fs.mkdirSync(path.dirname(configFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(configFile, `${existing}${existing && !existing.endsWith("\n") ? "\n" : ""}${section}`, { mode: 0o600 });
    return profile;
}

if (require.main === module) {
    const i = process.argv.indexOf("--stack");
    const stack = i > 0 ? process.argv[i + 1] : undefined;
    if (!stack) {
        process.stderr.write("usage: npm run ci-profile -- --stack <stack>\n");
        process.exit(2);
    }
    const written = writeCiProfile(stack);
    process.stdout.write(written ? `aws:profile ${written} reads this job's credentials from the environment\n` : `${stack} names no aws:profile: the environment's credentials are used as they are\n`);
}
