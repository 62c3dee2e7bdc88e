/**
 * A double of EventBridge's event-pattern matcher (the metric filters after it: test/support/filterPattern.ts), for
 * the subset of syntax this program writes; anything else throws (never a silent match).
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
