/**
 * `provisioning.identity` defaults to `claim`: a stack without the section registers exactly the resources, with
 * exactly the inputs, it registers with `mode: claim` written out, and none of another mode's. (When the section was
 * added, the plans of dev, jp and kr were also compared with those of the commit before it, 214a5f7: byte for byte
 * the same resource URNs, inputs, dependencies and protect flags.)
 */
import * as assert from "assert";
import { ProgramRun, runStack } from "../plan/program";

const CLAIM_STACKS = ["dev", "jp", "kr"] as const;

const shape = (run: ProgramRun) => run.resources.map((r) => ({ urn: r.urn, inputs: r.inputs, dependencies: r.dependencies, protect: r.protect, retainOnDelete: r.retainOnDelete }));

describe("claim stacks plan as before: provisioning.identity absent is mode claim", function () {
    this.timeout(180_000);
    for (const stack of CLAIM_STACKS) {
        it(`${stack}: the same resources and inputs with identity.mode: claim written out; no CA registration, no JITR`, async () => {
            const absent = await runStack(stack);
            const explicit = await runStack(stack, {
                edit: (c) => {
                    const p = JSON.parse(c["fms-iot:provisioning"]);
                    assert.strictEqual(p.identity, undefined, `${stack} sets no identity section`);
                    p.identity = { mode: "claim" };
                    c["fms-iot:provisioning"] = JSON.stringify(p);
                },
            });
            assert.deepStrictEqual(shape(explicit), shape(absent));
            assert.strictEqual(absent.ofType("aws:iot/caCertificate:CaCertificate").length, 0);
            assert.ok(!absent.resources.some((r) => r.name.endsWith("-jitr")));
            assert.strictEqual(absent.outputs.identityMode, "claim");
            assert.strictEqual(absent.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate").length > 0, true);
        });
    }
});
