/**
 * The quota table (config/awsQuotas.ts) and the cross-stack rules check (config/accountQuotas.ts): each row says
 * whether a stored copy of an AWS page confirmed it; the topic-slash limit config validates is the table's row; a
 * set of stacks over AWS's topic rules per account and region fails with one line naming the file, the key, the
 * quota and its AWS page.
 */
import * as assert from "assert";
import { AccountShare, checkRulesPerAccount } from "../config/accountQuotas";
import { AWS_QUOTAS } from "../config/awsQuotas";
import { ConfigError } from "../config/errors";
import { MAX_TOPIC_SLASHES } from "../config/mqttTopics";

const share = (stack: string, rules: number, over: Partial<AccountShare> = {}): AccountShare =>
    ({ stack, region: "ap-northeast-2", accounts: ["123456789012"], owner: "kr", rules, ...over });

describe("AWS's quotas as data", () => {
    it("every row names its AWS page and says whether a copy of an AWS page confirmed it (never a value without a source)", () => {
        for (const [id, q] of Object.entries(AWS_QUOTAS)) {
            assert.match(q.source, /^https:\/\/docs\.aws\.amazon\.com\//, id);
            assert.match(q.verified, /^(unverified|partly: https:\/\/docs\.aws\.amazon\.com\/|https:\/\/docs\.aws\.amazon\.com\/)/, id);
        }
    });

    it("the topic-slash limit config validates is the table's row (one source)", () => {
        assert.strictEqual(MAX_TOPIC_SLASHES, AWS_QUOTAS.topicSlashes.value);
    });

    describe("topic rules per account and region, across the stacks that share them", () => {
        const limit = AWS_QUOTAS.rulesPerAccount.value;
        it("stacks within the quota pass", () => {
            assert.doesNotThrow(() => checkRulesPerAccount("fms-iot", share("kr", limit / 2), [share("dev", limit / 2)]));
        });

        it("stacks in other accounts or regions do not count", () => {
            assert.doesNotThrow(() => checkRulesPerAccount("fms-iot", share("kr", limit), [share("jp", limit, { accounts: ["210987654321"] }), share("us", limit, { region: "us-east-1" })]));
        });

        it("over the quota: one line naming both stack files, the key, the quota and its AWS page", () => {
            let err: unknown;
            try {
                checkRulesPerAccount("fms-iot", share("kr", 600), [share("dev", 401)]);
            } catch (e) {
                err = e;
            }
            assert.ok(err instanceof ConfigError);
            const line = (err as Error).message;
            assert.ok(!line.includes("\n"), line);
            for (const part of ["Pulumi.kr.yaml", "Pulumi.dev.yaml", "fms-iot:routing.routes", AWS_QUOTAS.rulesPerAccount.name, AWS_QUOTAS.rulesPerAccount.source, "1001"]) {
                assert.ok(line.includes(part), `${part} in: ${line}`);
            }
        });

        it("without account ids, the same regionSettingsOwner means the same account and region", () => {
            assert.throws(() => checkRulesPerAccount("fms-iot", share("kr", 600, { accounts: undefined }), [share("dev", 401, { accounts: undefined })]), ConfigError);
            assert.doesNotThrow(() => checkRulesPerAccount("fms-iot", share("kr", 600, { accounts: undefined }), [share("dev", 401, { accounts: undefined, owner: "dev" })]));
        });
    });
});
