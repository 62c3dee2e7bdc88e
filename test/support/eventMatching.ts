/**
 * Doubles of the two matchers an EventBridge-to-metric path goes through, for the subset of syntax this program
 * writes; anything else throws (never a silent match).
 *
 * EventBridge event patterns (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):
 * every field of the pattern must match; a leaf is an array of values, any of which matches; `{ "prefix": "..." }`
 * matches a string's start (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-prefix-matching);
 * where the event's value is an array, the field matches when any element does
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html).
 */
export function matchesEventPattern(pattern: Record<string, unknown>, event: unknown): boolean {
    return Object.entries(pattern).every(([key, want]) => matchField(want, (event as Record<string, unknown> | undefined)?.[key]));
}

function matchField(want: unknown, value: unknown): boolean {
    if (Array.isArray(value)) return value.some((v) => matchField(want, v));
    if (Array.isArray(want)) return want.some((w) => matchLeaf(w, value));
    if (want && typeof want === "object") return value !== null && typeof value === "object" && matchesEventPattern(want as Record<string, unknown>, value);
    throw new Error(`event pattern: a leaf must be an array of values, not ${JSON.stringify(want)}`);
}

function matchLeaf(w: unknown, value: unknown): boolean {
    if (w !== null && typeof w === "object") {
        const keys = Object.keys(w);
        if (keys.length === 1 && keys[0] === "prefix") return typeof value === "string" && value.startsWith((w as { prefix: string }).prefix);
        throw new Error(`event pattern: operator ${JSON.stringify(w)} is not one this double knows`);
    }
    return value === w;
}

/**
 * CloudWatch Logs JSON filter patterns (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html,
 * "Using filter patterns to match terms in JSON log events"): `{ <expr> }`, where expr is `$.a.b[0].c = "value"`
 * (a quoted string; `*` is a wildcard, so `"*"` is any string value), combined with `&&`, `||` and parentheses.
 * A selector that names nothing, or a non-string, does not match a string.
 */
export function matchesFilterPattern(pattern: string, message: string): boolean {
    const m = /^\{(.*)\}$/s.exec(pattern.trim());
    if (!m) throw new Error(`filter pattern: not a JSON pattern: ${pattern}`);
    let json: unknown;
    try { json = JSON.parse(message); } catch { return false; }
    const tokens = m[1].match(/\s*(\(|\)|&&|\|\||\$[\w.[\]]+\s*(?:!=|=)\s*"[^"]*")/g);
    if (!tokens || tokens.join("").replace(/\s/g, "") !== m[1].replace(/\s/g, "")) throw new Error(`filter pattern: syntax this double does not read: ${pattern}`);
    let pos = 0;
    const peek = () => tokens[pos]?.trim();
    const or = (): boolean => {
        let v = and();
        while (peek() === "||") { pos++; const r = and(); v = v || r; }
        return v;
    };
    const and = (): boolean => {
        let v = term();
        while (peek() === "&&") { pos++; const r = term(); v = v && r; }
        return v;
    };
    const term = (): boolean => {
        const t = peek();
        if (t === "(") {
            pos++;
            const v = or();
            if (peek() !== ")") throw new Error(`filter pattern: unbalanced parentheses: ${pattern}`);
            pos++;
            return v;
        }
        pos++;
        const c = /^\$([\w.[\]]+)\s*(!=|=)\s*"([^"]*)"$/.exec(t ?? "");
        if (!c) throw new Error(`filter pattern: expected a comparison at ${t}: ${pattern}`);
        const value = select(json, c[1]);
        const glob = new RegExp(`^${c[3].split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
        const equal = typeof value === "string" && glob.test(value);
        return c[2] === "=" ? equal : typeof value === "string" && !equal;
    };
    const result = or();
    if (pos !== tokens.length) throw new Error(`filter pattern: trailing tokens: ${pattern}`);
    return result;
}

/** `.a.b[0].c` of a JSON value. */
function select(json: unknown, path: string): unknown {
    let v: unknown = json;
    for (const part of path.match(/\.\w+|\[\d+\]/g) ?? []) {
        if (v === null || typeof v !== "object") return undefined;
        v = part.startsWith("[") ? (v as unknown[])[Number(part.slice(1, -1))] : (v as Record<string, unknown>)[part.slice(1)];
    }
    return v;
}
