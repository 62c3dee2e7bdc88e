/**
 * The filter-pattern evaluator the alarm tests use (test/support/filterPattern.ts), held to AWS's documented semantics
 * (CloudWatch Logs user guide, "Filter pattern syntax for metric filters", JSON log events:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntaxForMetricFilters.html), and every
 * alarm pattern of the stack against the exact lines its Lambdas write for the paths that must and must not alarm.
 */
import * as assert from "assert";
import { ALLOWED_PATTERN, DENIED_PATTERN, EVICTION_SIGNAL_PATTERN } from "../components/operations/operations";
import { matchesFilter } from "./support/filterPattern";

describe("metric filter patterns against the Lambdas' log lines", () => {
    it("evaluates JSON patterns as CloudWatch Logs does: wildcards on strings only, IS TRUE/FALSE on booleans, && and ||", () => {
        assert.ok(matchesFilter('{ $.eventType = "Update*" }', '{"eventType":"UpdateTrail"}'));
        assert.ok(!matchesFilter('{ $.eventType = "Update*" }', '{"eventType":"DeleteTrail"}'));
        assert.ok(!matchesFilter('{ $.a = "*" }', '{"b":"x"}'), "a missing field never matches a string");
        assert.ok(!matchesFilter('{ $.a = "*" }', '{"a":1}'), "a number is not a string");
        assert.ok(matchesFilter("{ $.n >= 2 }", '{"n":3}') && !matchesFilter("{ $.n >= 2 }", '{"n":"3"}'));
        assert.ok(matchesFilter("{ $.ok IS FALSE || $.n = 1 }", '{"ok":true,"n":1}'));
        assert.ok(!matchesFilter("{ $.ok IS TRUE }", "plain text"), "a line that is not JSON matches no JSON pattern");
    });

    // The same page's compound examples: array elements by index (`$.users[0].email`), parentheses grouping, `||`
    // looser than `&&`.
    it("reads array indexes and parentheses as the JSON examples do", () => {
        const event = JSON.stringify({ user: { id: 1 }, users: [{ email: "John.Doe@example.com" }], actions: ["GET", "PUT", "DELETE"] });
        assert.ok(matchesFilter('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', event));
        assert.ok(!matchesFilter('{ $.users[1].email = "*" }', event), "an index past the end names nothing");
        assert.ok(!matchesFilter('{ $.user[0] = "*" }', event), "an index into an object names nothing");
        assert.ok(matchesFilter('{ ($.user.id = 2 && $.users[0].email = "*") || $.actions[2] = "DELETE" }', event));
        assert.ok(!matchesFilter('{ $.user.id = 2 && ($.users[0].email = "*" || $.actions[2] = "DELETE") }', event));
        assert.ok(matchesFilter('{ $.actions[0] = "GET" && $.users[0].email = "*(x)*" || $.user.id = 1 }', event), "parentheses inside a string are text");
        assert.throws(() => matchesFilter('{ ($.user.id = 1 }', event), /unbalanced/);
    });

    // Lines in the shape provisioningHook.ts (createHandler) and certificateRotation.ts (confirm) write; the real lines, as
    // the Lambdas wrote them, are matched against the same pattern in test/attacks.thief.test.ts.
    const hookLine = (o: Record<string, unknown>) => JSON.stringify({ event: "provisioning-decision", time: "2026-12-05T15:00:00.000Z", certificateId: "a".repeat(64), claimCertificateId: "b".repeat(64), templateArn: "arn:aws:iot:ap-northeast-2:123456789012:provisioningtemplate/fms-kr-vehicle", clientId: "claim-1", serial: "297468000001", ...o });
    const confirmLine = (o: Record<string, unknown>) => JSON.stringify({ event: "rotation-confirm", time: "2026-12-05T15:00:00.000Z", thingName: "kr-vehicle-297468000001", certificateId: "c".repeat(64), ...o });

    it("the eviction alarm counts both signals and nothing else", () => {
        assert.ok(matchesFilter(EVICTION_SIGNAL_PATTERN, hookLine({ allowProvisioning: true, reason: "allowed", evictionSignal: "same-key-re-registration" })));
        assert.ok(matchesFilter(EVICTION_SIGNAL_PATTERN, hookLine({ allowProvisioning: false, reason: "too-many-certificates", evictionSignal: "replaced-certificate-in-use" })));
        assert.ok(matchesFilter(EVICTION_SIGNAL_PATTERN, confirmLine({ confirmed: true, thingName: "kr-vehicle-297468000001", retiring: [], current: false, evictionSignal: "replaced-certificate-in-use" })));
        assert.ok(!matchesFilter(EVICTION_SIGNAL_PATTERN, hookLine({ allowProvisioning: true, reason: "allowed" })));
        assert.ok(!matchesFilter(EVICTION_SIGNAL_PATTERN, confirmLine({ confirmed: true, retiring: [], current: true })));
    });

    it("the hook's allowed and denied counts split every decision", () => {
        const allowed = hookLine({ allowProvisioning: true, reason: "allowed" });
        const denied = hookLine({ allowProvisioning: false, reason: "device-key-mismatch" });
        assert.deepStrictEqual([matchesFilter(ALLOWED_PATTERN, allowed), matchesFilter(DENIED_PATTERN, allowed)], [true, false]);
        assert.deepStrictEqual([matchesFilter(ALLOWED_PATTERN, denied), matchesFilter(DENIED_PATTERN, denied)], [false, true]);
    });
});
