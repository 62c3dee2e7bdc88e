/**
 * Evaluates AWS IoT policy documents for the MQTT actions a broker authorizes: iot:Connect on
 * `client/<clientId>`, iot:Publish / iot:Receive on `topic/<topic>`, iot:Subscribe on
 * `topicfilter/<filter>`. As in AWS IoT: an explicit Deny wins; only `*` is a wildcard (`+` and `#`
 * are literal); `${iot:Connection.Thing.ThingName}` resolves only when the client id names the
 * Thing the certificate is attached to (else the statement does not apply); an unknown condition
 * key never matches.
 */
import { PolicyDocument } from "../../policies/document";

export interface PrincipalContext {
    region: string;
    accountId: string;
    clientId: string;
    /** The Thing the certificate is attached to, if any. */
    attachedThing?: string;
}

const THING = "${iot:Connection.Thing.ThingName}";

function resolve(pattern: string, ctx: PrincipalContext): string | undefined {
    const thingResolved = ctx.attachedThing !== undefined && ctx.attachedThing === ctx.clientId;
    if (pattern.includes(THING) && !thingResolved) return undefined;
    return pattern.split(THING).join(ctx.attachedThing ?? "").split("${iot:ClientId}").join(ctx.clientId);
}

function matches(pattern: string, value: string): boolean {
    const regex = new RegExp(`^${pattern.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\#]/g, "\\$&")).join(".*")}$`);
    return regex.test(value);
}

function conditionHolds(condition: Record<string, Record<string, string | string[]>> | undefined, ctx: PrincipalContext): boolean {
    for (const [operator, entries] of Object.entries(condition ?? {})) {
        for (const [key, expected] of Object.entries(entries)) {
            if (operator !== "Bool" || key !== "iot:Connection.Thing.IsAttached") return false;
            const attached = ctx.attachedThing !== undefined && ctx.attachedThing === ctx.clientId;
            if ([expected].flat().map(String).indexOf(String(attached)) < 0) return false;
        }
    }
    return true;
}

export function isAllowed(policies: PolicyDocument[], action: string, resource: string, ctx: PrincipalContext): boolean {
    const arn = `arn:aws:iot:${ctx.region}:${ctx.accountId}:${resource}`;
    let allowed = false;
    for (const s of policies.flatMap((p) => p.Statement)) {
        if (!s.Action.some((a) => matches(a, action))) continue;
        if (!conditionHolds(s.Condition, ctx)) continue;
        const hit = (s.Resource ?? []).some((r) => {
            const pattern = resolve(r, ctx);
            return pattern !== undefined && matches(pattern, arn);
        });
        if (!hit) continue;
        if (s.Effect === "Deny") return false;
        allowed = true;
    }
    return allowed;
}
