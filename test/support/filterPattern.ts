/**
 * CloudWatch Logs JSON filter patterns, as metric filters evaluate them on a log event, for the subset this project's
 * patterns use: `{ <selector> <op> <value> }` terms joined by `&&` / `||`, where the selector is `$.a.b`, the op `=` or
 * `!=` with a string (quoted or not; `*` is a wildcard: `"*"` matches any string value, never a missing field or a
 * number), `=` `!=` `<` `>` `<=` `>=` with a number, or `IS TRUE` / `IS FALSE` / `IS NULL` / `NOT EXISTS`.
 * AWS CloudWatch Logs user guide, "Filter pattern syntax for metric filters", Using filter patterns to match terms in
 * JSON log events: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntaxForMetricFilters.html
 * A line that is not a JSON object matches no JSON pattern.
 */
type Term = (event: Record<string, unknown>) => boolean;

function select(event: Record<string, unknown>, selector: string): { found: boolean; value: unknown } {
    let value: unknown = event;
    for (const part of selector.replace(/^\$\.?/, "").split(".").filter(Boolean)) {
        if (value === null || typeof value !== "object" || !(part in (value as object))) return { found: false, value: undefined };
        value = (value as Record<string, unknown>)[part];
    }
    return { found: true, value };
}

function term(text: string): Term {
    const is = /^(\$[\w.]*)\s+(IS TRUE|IS FALSE|IS NULL|NOT EXISTS)$/.exec(text);
    if (is) {
        const [, selector, test] = is;
        return (e) => {
            const { found, value } = select(e, selector);
            if (test === "NOT EXISTS") return !found;
            return found && value === { "IS TRUE": true, "IS FALSE": false, "IS NULL": null }[test];
        };
    }
    const m = /^(\$[\w.]*)\s*(=|!=|<=|>=|<|>)\s*(.+)$/.exec(text);
    if (!m) throw new Error(`filter pattern term not understood: ${text}`);
    const [, selector, op, raw] = m;
    const number = Number(raw);
    if (raw.trim() !== "" && !raw.startsWith("\"") && Number.isFinite(number)) {
        return (e) => {
            const { value } = select(e, selector);
            if (typeof value !== "number") return false;
            return { "=": value === number, "!=": value !== number, "<": value < number, ">": value > number, "<=": value <= number, ">=": value >= number }[op]!;
        };
    }
    if (op !== "=" && op !== "!=") throw new Error(`a string compares with = or != only: ${text}`);
    const str = raw.startsWith("\"") ? JSON.parse(raw) as string : raw.trim();
    const re = new RegExp(`^${str.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
    return (e) => {
        const { value } = select(e, selector);
        if (typeof value !== "string") return false;
        return op === "=" ? re.test(value) : !re.test(value);
    };
}

/** Whether a log event (one line, as the Lambda wrote it) matches the JSON filter pattern. */
export function matchesFilter(pattern: string, line: string): boolean {
    const body = /^\{\s*(.*?)\s*\}$/s.exec(pattern.trim());
    if (!body) throw new Error(`not a JSON filter pattern: ${pattern}`);
    let event: unknown;
    try {
        event = JSON.parse(line);
    } catch {
        return false;
    }
    if (event === null || typeof event !== "object" || Array.isArray(event)) return false;
    const e = event as Record<string, unknown>;
    return body[1].split("||").some((any) => any.split("&&").every((all) => term(all.trim())(e)));
}
