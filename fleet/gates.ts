import { PlannedStep, Violation } from "./runner";

/**
 * Resource types that hold state a replacement or deletion loses (the registry table, the stack key and
 * its alias, the claim certificate's bucket and its settings, the Greengrass log groups other stacks write
 * to): exactly the custom resource types the program marks `protect` on a protected stack
 * (test/fleetGates.test.ts holds this list to every shipped stack's plan).
 * On a stack that is not protected (dev) the engine would replace them silently; the fleet stops.
 */
export const PROTECTED_TYPES: readonly string[] = [
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:dynamodb/table:Table",
    // The maker's CA registered with AWS IoT (oemCa, privateCa): replacing it would strand every unit it signed.
    "aws:iot/caCertificate:CaCertificate",
    "aws:kms/alias:Alias",
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
];

/**
 * Steps that replace or delete (the engine's OpTypes, @pulumi/pulumi automation/stack.d.ts `OpType`:
 * replace, create-replacement, delete-replaced, delete, discard, discard-replaced).
 */
const DESTRUCTIVE_OPS = new Set(["replace", "create-replacement", "delete-replaced", "delete", "discard", "discard-replaced", "import-replacement"]);

export interface ProtectedChange {
    urn: string;
    type: string;
    op: string;
    why: "protect" | "protected type";
}

/** Replacements and deletions of protected resources in a preview, less those `--allow-replace` names. */
export function protectedChanges(steps: PlannedStep[], allowReplace: string[], protectedTypes: readonly string[] = PROTECTED_TYPES): ProtectedChange[] {
    const seen = new Map<string, ProtectedChange>();
    for (const s of steps) {
        if (!DESTRUCTIVE_OPS.has(s.op) || allowReplace.includes(s.urn) || seen.has(s.urn)) continue;
        if (s.protect) seen.set(s.urn, { urn: s.urn, type: s.type, op: s.op, why: "protect" });
        else if (protectedTypes.includes(s.type)) seen.set(s.urn, { urn: s.urn, type: s.type, op: s.op, why: "protected type" });
    }
    return [...seen.values()];
}

export function mandatoryViolations(violations: Violation[]): Violation[] {
    return violations.filter((v) => v.level === "mandatory");
}

/** Why a preview stops its stack (and so its wave), or undefined when it may go on. */
export function gateReason(steps: PlannedStep[], violations: Violation[], allowReplace: string[], protectedTypes?: readonly string[]): string | undefined {
    const mandatory = mandatoryViolations(violations);
    if (mandatory.length) {
        return `mandatory guardrail violation: ${mandatory.map((v) => `${v.policy}${v.urn ? ` on ${v.urn}` : ""}`).join("; ")}`;
    }
    const changes = protectedChanges(steps, allowReplace, protectedTypes);
    if (changes.length) {
        return `would ${changes.map((c) => `${c.op} ${c.urn} (${c.why})`).join("; ")}: if intended, rerun with --allow-replace <urn> for each`;
    }
    return undefined;
}
