import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fromIni } from "@aws-sdk/credential-providers";
import { PROJECT_ROOT } from "../config/stackFile";
import { ciProfileSection, writeCiProfile } from "../scripts/ciAwsProfile";

/**
 * `aws:profile` in a stack file and OIDC credentials in the PR job, both working: the profile is made on the
 * runner with `credential_process` reading the job's environment. Resolved here by the AWS SDK for JavaScript v3's
 * shared-config provider (what the dynamic providers use with `profile`: components/iotSdk.ts); the Go SDK the aws
 * provider is built on reads the same key (AWS SDKs and Tools reference guide, "Process credential provider":
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html).
 */
describe("CI: a stack's aws:profile answered by the job's OIDC credentials", () => {
    let dir = "";
    const saved = { ...process.env };
    beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "fms-ciprofile-")); });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]) {
            if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
        }
    });

    function stackWithProfile(profile?: string): string {
        fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        const text = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.kr.yaml"), "utf8");
        fs.writeFileSync(path.join(dir, "Pulumi.kr.yaml"), profile ? text.replace(/^config:\n/m, `config:\n  aws:profile: ${profile}\n`) : text);
        return dir;
    }

    it("the profile the stack names resolves, through the SDK, to the credentials in the environment; no secret is written", async () => {
        const configFile = path.join(dir, "aws-config");
        assert.strictEqual(writeCiProfile("kr", stackWithProfile("fms-kr-admin"), configFile), "fms-kr-admin");
        const written = fs.readFileSync(configFile, "utf8");
        process.env.AWS_ACCESS_KEY_ID = "ASIAEXAMPLEEXAMPLE01";
        process.env.AWS_SECRET_ACCESS_KEY = "example-secret-from-oidc";
        process.env.AWS_SESSION_TOKEN = "example-session-token";
        assert.ok(!written.includes("example-secret-from-oidc") && !written.includes("ASIAEXAMPLE"), "the file holds a command, not credentials");
        process.env.AWS_CONFIG_FILE = configFile;
        process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, "no-credentials");
        const creds = await fromIni({ profile: "fms-kr-admin", ignoreCache: true })();
        assert.deepStrictEqual([creds.accessKeyId, creds.secretAccessKey, creds.sessionToken], ["ASIAEXAMPLEEXAMPLE01", "example-secret-from-oidc", "example-session-token"]);
    });

    it("a stack without aws:profile gets nothing written (the environment's credentials are used as they are)", () => {
        const configFile = path.join(dir, "aws-config");
        assert.strictEqual(writeCiProfile("kr", stackWithProfile(), configFile), undefined);
        assert.ok(!fs.existsSync(configFile));
        assert.strictEqual(ciProfileSection(undefined, "ap-northeast-2"), undefined);
    });

    it("never overwrites a profile the runner already has", () => {
        const configFile = path.join(dir, "aws-config");
        fs.writeFileSync(configFile, "[profile fms-kr-admin]\nregion = us-east-1\n");
        assert.throws(() => writeCiProfile("kr", stackWithProfile("fms-kr-admin"), configFile), /already has \[profile fms-kr-admin\]/);
    });
});
