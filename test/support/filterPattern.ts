/**
 * CloudWatch Logs JSON filter patterns, as metric filters evaluate them on a log event, for the subset this project's
 * patterns use: `{ <selector> <op> <value> }` terms joined by `&&` / `||` and grouped by parentheses, where the
 * selector is `$.a.b` or `$.a[0].b` (an array element by index), the op `=` or
 * `!=` with a string (quoted or not; `*` is a wildcard: `"*"` matches any string value, never a missing field or a
 * number), `=` `!=` `<` `>` `<=` `>=` with a number, or `IS TRUE` / `IS FALSE` / `IS NULL` / `NOT EXISTS`.
 * AWS CloudWatch Logs user guide, "Filter pattern syntax for metric filters", Using filter patterns to match terms in
 * JSON log events: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntaxForMetricFilters.html
 * A line that is not a JSON object matches no JSON pattern.
 */
type Term = (event: Record<string, unknown>) => boolean;

function select(event: Record<string, unknown>, selector: string): { found: boolean; value: unknown } {
    let value: unknown = event;
    const rest = selector.replace(/^\$/, "");
    const parts = rest.match(/\.\w+|\[\d+\]/g) ?? [];
    if (parts.join("") !== rest) throw new Error(`filter pattern selector not understood: ${selector}`);
    for (const part of parts) {
        const key = part.startsWith("[") ? Number(part.slice(1, -1)) : part.slice(1);
        if (value === null || typeof value !== "object" || Array.isArray(value) !== (typeof key === "number") || !(key in (value as object))) return { found: false, value: undefined };
        value = (value as Record<string | number, unknown>)[key];
    }
    return { found: true, value };
}

function term(text: string): Term {
    const is = /^(\$[\w.[\]]*)\s+(IS TRUE|IS FALSE|IS NULL|NOT EXISTS)$/.exec(text);
    if (is) {
        const [, selector, test] = is;
        return (e) => {
            const { found, value } = select(e, selector);
            if (test === "NOT EXISTS") return !found;
            return found && value === { "IS TRUE": true, "IS FALSE": false, "IS NULL": null }[test];
        };
    }
    const m = /^(\$[\w.[\]]*)\s*(=|!=|<=|>=|<|>)\s*(.+)$/.exec(text);
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
    const matches = evaluate(tokenize(body[1], pattern), pattern);
    let event: unknown;
    try {
        event = JSON.parse(line);
    } catch {
        return false;
    }
    if (event === null || typeof event !== "object" || Array.isArray(event)) return false;
    return matches(event as Record<string, unknown>);
}

/** `(`, `)`, `&&`, `||` and the terms between them (a quoted string may hold any of those). */
function tokenize(body: string, pattern: string): string[] {
    const tokens: string[] = [];
    let term = "";
    const flush = () => { if (term.trim()) tokens.push(term.trim()); term = ""; };
    for (let i = 0; i < body.length; i++) {
        const c = body[i];
        if (c === "\"") {
            const end = body.indexOf("\"", i + 1);
            if (end < 0) throw new Error(`unterminated string in filter pattern: ${pattern}`);
            term += body.slice(i, end + 1);
            i = end;
        } else if (c === "(" || c === ")") {
            flush();
            tokens.push(c);
        } else if ((c === "&" || c === "|") && body[i + 1] === c) {
            flush();
            tokens.push(c + c);
            i++;
        } else term += c;
    }
    flush();
    return tokens;
}

/** `||` binds looser than `&&`; parentheses group. */
function evaluate(tokens: string[], pattern: string): Term {
    let pos = 0;
    const or = (): Term => {
        const any = [and()];
        while (tokens[pos] === "||") { pos++; any.push(and()); }
        return (e) => any.some((t) => t(e));
    };
    const and = (): Term => {
        const all = [primary()];
        while (tokens[pos] === "&&") { pos++; all.push(primary()); }
        return (e) => all.every((t) => t(e));
    };
    const primary = (): Term => {
        const t = tokens[pos++];
        if (t === "(") {
            const inner = or();
            if (tokens[pos++] !== ")") throw new Error(`unbalanced parentheses in filter pattern: ${pattern}`);
            return inner;
        }
        if (t === undefined || t === ")" || t === "&&" || t === "||") throw new Error(`filter pattern: a term expected at ${t ?? "the end"}: ${pattern}`);
        return term(t);
    };
    const result = or();
    if (pos !== tokens.length) throw new Error(`filter pattern: trailing ${tokens.slice(pos).join(" ")}: ${pattern}`);
    return result;
}
