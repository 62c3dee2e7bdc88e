import * as assert from "assert";
import { PolicyDocument, Statement } from "../../policies/document";

/** The marker Pulumi puts on a secret value in registered inputs. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretValue(v: unknown): boolean {
    return typeof v === "object" && v !== null && Object.values(v).includes(SECRET_SIG);
}

export function parsePolicy(text: unknown): PolicyDocument {
    assert.strictEqual(typeof text, "string", "policy documents are registered as JSON strings");
    return JSON.parse(text as string) as PolicyDocument;
}

export function statement(doc: PolicyDocument, sid: string): Statement {
    const s = doc.Statement.find((x) => x.Sid === sid);
    assert.ok(s, `statement ${sid} in ${JSON.stringify(doc)}`);
    return s;
}

/** No Allow with `*` or a service-wide `svc:*` action, and no Allow on resource `*` (key policies aside). */
export function assertLeastPrivilege(doc: PolicyDocument): void {
    for (const s of doc.Statement.filter((x) => x.Effect === "Allow")) {
        for (const a of s.Action) assert.ok(a !== "*" && !/^[a-z0-9-]+:\*$/.test(a), `wildcard action ${a} in ${s.Sid}`);
        for (const r of s.Resource ?? []) assert.notStrictEqual(r, "*", `resource * in ${s.Sid}`);
    }
}
