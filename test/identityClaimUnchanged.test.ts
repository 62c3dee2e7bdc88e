/**
 * `provisioning.identity` defaults to `claim`: a stack without the section resolves to the same configuration as with
 * `mode: claim` written out (kr: the same resources with the same inputs, planned both ways), and has none of
 * another mode's resources. (When the section was
 * added, the plans of dev, jp and kr were also compared with those of the commit before it, 214a5f7: byte for byte
 * the same resource URNs, inputs, dependencies and protect flags.)
 */
import * as assert from "assert";
import { stackConfigFromEngine } from "../config/stackConfig";
import { readStackFile, stackNames } from "../config/stackFile";
import { ProgramRun, runStack } from "../plan/program";

const CLAIM_STACKS = ["dev", "jp", "kr"] as const;

const shape = (run: ProgramRun) => run.resources.map((r) => ({ urn: r.urn, inputs: r.inputs, dependencies: r.dependencies, protect: r.protect, retainOnDelete: r.retainOnDelete }));

const withClaim = (c: Record<string, string>) => {
    const p = JSON.parse(c["fms-iot:provisioning"]);
    assert.strictEqual(p.identity, undefined, "the shipped claim stacks set no identity section");
    p.identity = { mode: "claim" };
    c["fms-iot:provisioning"] = JSON.stringify(p);
};

describe("claim stacks plan as before: provisioning.identity absent is mode claim", function () {
    this.timeout(180_000);
    for (const stack of CLAIM_STACKS) {
        it(`${stack}: the resolved configuration is the same with identity.mode: claim written out (the program reads nothing else)`, () => {
            const file = readStackFile(stack);
            const absent = stackConfigFromEngine(file.project, stack, { ...file.config }, undefined, { stacks: stackNames() });
            const explicit = { ...file.config };
            withClaim(explicit);
            assert.deepStrictEqual(stackConfigFromEngine(file.project, stack, explicit, undefined, { stacks: stackNames() }), absent);
        });
    }
    // One whole plan (kr: registry, routing, Greengrass) written out both ways; the others share the cached plan below.
    for (const stack of ["kr"] as const) {
        it(`${stack}: the same resources and inputs with identity.mode: claim written out; no CA registration, no JITR`, async () => {
            const absent = await runStack(stack);
            const explicit = await runStack(stack, { edit: withClaim });
            assert.deepStrictEqual(shape(explicit), shape(absent));
            assert.strictEqual(absent.ofType("aws:iot/caCertificate:CaCertificate").length, 0);
            assert.ok(!absent.resources.some((r) => r.name.endsWith("-jitr")));
            assert.strictEqual(absent.outputs.identityMode, "claim");
            assert.strictEqual(absent.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate").length > 0, true);
        });
    }
    for (const stack of CLAIM_STACKS) {
        it(`${stack}: no CA registration, no JITR function, the claim side in place`, async () => {
            const run = await runStack(stack);
            assert.strictEqual(run.ofType("aws:iot/caCertificate:CaCertificate").length, 0);
            assert.ok(!run.resources.some((r) => r.name.endsWith("-jitr")));
            assert.strictEqual(run.outputs.identityMode, "claim");
            assert.ok(run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate").length > 0 && run.resources.some((r) => r.name.endsWith("-provisioning-hook")));
        });
    }
});
