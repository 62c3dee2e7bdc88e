import * as assert from "assert";
import { DeleteProvisioningTemplateVersionCommand, ListProvisioningTemplateVersionsCommand } from "@aws-sdk/client-iot";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { iot } from "./support/iotMock";
import { sts } from "./support/sts";
import { bodyHash, PrunerInputs, TemplateVersionPruner, templateVersionPrunerProvider as provider } from "../components/provisioning/templateVersionPruner";
import { OPERATION_BUDGET } from "../components/iotSdk";
import { engineUpdate, nextStep, withCode } from "./support/dynamicEngine";
import { runStack } from "../plan/program";

const inputs: PrunerInputs = { region: "ap-northeast-2", templateName: "fms-kr-vehicle", bodyHash: "h1", keepPrevious: 2 };
const notFound = Object.assign(new Error("no such template"), { name: "ResourceNotFoundException" });
const versions = (ids: number[], defaultId: number) => ids.map((versionId) => ({ versionId, isDefaultVersion: versionId === defaultId }));

describe("provisioning template version pruner", () => {
    beforeEach(() => iot.reset());

    it("before a template's next version, deletes the oldest non-default versions, keeping the default and two others", async () => {
        iot.on(ListProvisioningTemplateVersionsCommand).resolves({ versions: versions([1, 2, 3, 4, 5], 5) });
        const r = await provider.update!("fms-kr-vehicle", { ...inputs, deleted: [] }, { ...inputs, bodyHash: "h2" });
        assert.deepStrictEqual(r.outs?.deleted, [2, 1]);
        assert.deepStrictEqual(iot.commandCalls(DeleteProvisioningTemplateVersionCommand).map((c) => c.args[0].input), [
            { templateName: "fms-kr-vehicle", versionId: 2 }, { templateName: "fms-kr-vehicle", versionId: 1 },
        ]);
    });

    it("reads every page, and leaves the default even when it is not the newest", async () => {
        iot.on(ListProvisioningTemplateVersionsCommand, { templateName: "fms-kr-vehicle", nextToken: undefined }).resolves({ versions: versions([1, 2, 3], 2), nextToken: "p2" });
        iot.on(ListProvisioningTemplateVersionsCommand, { templateName: "fms-kr-vehicle", nextToken: "p2" }).resolves({ versions: versions([4, 5], 2) });
        const r = await provider.create(inputs);
        assert.deepStrictEqual(r.outs?.deleted, [3, 1]);
        assert.ok(!iot.commandCalls(DeleteProvisioningTemplateVersionCommand).some((c) => c.args[0].input.versionId === 2));
    });

    it("refresh (read) reports the template's versions as AWS IoT has them; a template deleted by hand drops the pruner too", async () => {
        iot.on(ListProvisioningTemplateVersionsCommand).resolves({ versions: versions([4, 2, 3, 5, 1], 5) });
        const r = await provider.read!("fms-kr-vehicle", { ...inputs, deleted: [] });
        assert.deepStrictEqual(r.props?.versions, [1, 2, 3, 4, 5], "five versions: the next body change prunes first");
        assert.strictEqual(r.id, "fms-kr-vehicle");
        iot.reset();
        iot.on(ListProvisioningTemplateVersionsCommand).rejects(notFound);
        assert.deepStrictEqual(await provider.read!("fms-kr-vehicle", { ...inputs, deleted: [] }), {});
    });

    it("does nothing for a template that does not exist yet, or has room", async () => {
        iot.on(ListProvisioningTemplateVersionsCommand).rejects(notFound);
        assert.deepStrictEqual((await provider.create(inputs)).outs?.deleted, []);
        iot.reset();
        iot.on(ListProvisioningTemplateVersionsCommand).resolves({ versions: versions([1, 2], 2) });
        assert.deepStrictEqual((await provider.create(inputs)).outs?.deleted, []);
        assert.strictEqual(iot.commandCalls(DeleteProvisioningTemplateVersionCommand).length, 0);
    });

    it("tolerates a version already gone; other failures name the operation", async () => {
        iot.on(ListProvisioningTemplateVersionsCommand).resolves({ versions: versions([1, 2, 3, 4], 4) });
        iot.on(DeleteProvisioningTemplateVersionCommand).rejects(notFound);
        await provider.create(inputs);
        iot.on(DeleteProvisioningTemplateVersionCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
        await assert.rejects(provider.create(inputs), /^Error: TemplateVersionPruner: DeleteProvisioningTemplateVersion failed in ap-northeast-2: AccessDeniedException: denied\. The identity running Pulumi needs iot:DeleteProvisioningTemplateVersion/);
    });

    it("runs again whenever the body changes; a renamed template is a new pruner", async () => {
        const olds = { ...inputs, deleted: [] };
        assert.strictEqual((await provider.diff!("x", olds, inputs)).changes, false);
        assert.deepStrictEqual(await provider.diff!("x", olds, { ...inputs, bodyHash: "h2" }), { changes: true, replaces: [], deleteBeforeReplace: false });
        assert.deepStrictEqual((await provider.diff!("x", olds, { ...inputs, templateName: "other" })).replaces, ["templateName"]);
    });

    it("every template in the program has a pruner keyed on its body, and waits for it", async () => {
        const run = await runStack("kr");
        const templates = run.ofType("aws:iot/provisioningTemplate:ProvisioningTemplate");
        assert.strictEqual(templates.length, 4, "vehicle, vehicle rotation, core and core rotation templates");
        for (const t of templates) {
            const pruner = run.resources.find((r) => r.type === "pulumi-nodejs:dynamic/iot:TemplateVersionPruner" && r.inputs.templateName === t.inputs.name)!;
            assert.ok(pruner, t.inputs.name);
            assert.strictEqual(pruner.inputs.bodyHash, bodyHash(t.inputs.templateBody));
            assert.strictEqual(pruner.inputs.region, "ap-northeast-2");
            assert.ok(t.dependencies.includes(pruner.urn), "the template's new version waits for the pruning");
        }
    });
});

describe("template version pruner: the account check (aws:allowedAccountIds)", () => {
    beforeEach(() => { iot.reset(); sts.reset(); });

    it("stops on credentials for another account before listing or deleting a version; the stack's account proceeds", async () => {
        const guarded = { ...inputs, allowedAccountIds: ["123456789012"] };
        sts.on(GetCallerIdentityCommand).resolves({ Account: "210987654321" });
        await assert.rejects(provider.create(guarded), /^Error: TemplateVersionPruner: the credentials are for account 210987654321, not one this stack allows/);
        assert.strictEqual(iot.calls().length, 0);
        sts.on(GetCallerIdentityCommand).resolves({ Account: "123456789012" });
        iot.on(ListProvisioningTemplateVersionsCommand).resolves({ versions: versions([1], 1) });
        await provider.create(guarded);
        assert.strictEqual(iot.commandCalls(ListProvisioningTemplateVersionsCommand).length, 1);
    });
});

describe("template version pruner: day two with the real engine", () => {
    beforeEach(() => { iot.reset(); sts.reset(); });

    // A wrong account has no such template: read would answer {} and the engine drop the pruner from state
    // (pulumi/pulumi v3.248.0 sdk/nodejs/cmd/dynamic-provider/index.ts L268-298). Refused first, like the explicit providers.
    it("refresh with credentials for another account is refused before anything is read", async () => {
        sts.on(GetCallerIdentityCommand).resolves({ Account: "210987654321" });
        iot.on(ListProvisioningTemplateVersionsCommand).rejects(notFound);
        await assert.rejects(provider.read!("fms-kr-vehicle", { ...inputs, allowedAccountIds: ["123456789012"], deleted: [] }), /TemplateVersionPruner: the credentials are for account 210987654321/);
        assert.strictEqual(iot.calls().length, 0);
    });

    // index.ts L200-208: the host takes no action when the code changed; the state's code runs read and delete.
    it("a change of the provider code is a diff, and its update deletes nothing and calls nothing", async () => {
        const state = { id: "fms-kr-vehicle", outputs: { ...inputs, deleted: [3], __provider: "code-1" } as Record<string, unknown>, initErrors: [] };
        assert.strictEqual(await nextStep(provider, state, withCode(inputs, "code-1") as never), "same");
        assert.strictEqual(await nextStep(provider, state, withCode(inputs, "code-2") as never), "update");
        const r = await engineUpdate(provider, state, withCode(inputs, "code-2") as never);
        assert.strictEqual(r.error, undefined);
        assert.strictEqual(iot.calls().length, 0);
        assert.deepStrictEqual([r.state.outputs.deleted, r.state.outputs.__provider], [[3], "code-2"]);
    });

    it("a call that never answers ends the prune within the budget, naming the versions it deleted and those still there", async function () {
        this.timeout(10_000);
        const saved = { ...OPERATION_BUDGET };
        Object.assign(OPERATION_BUDGET, { totalMs: 300, cleanupMs: 100 });
        try {
            iot.on(ListProvisioningTemplateVersionsCommand).resolves({ versions: versions([1, 2, 3, 4, 5], 5) });
            iot.on(DeleteProvisioningTemplateVersionCommand, { templateName: "fms-kr-vehicle", versionId: 2 }).resolves({});
            iot.on(DeleteProvisioningTemplateVersionCommand, { templateName: "fms-kr-vehicle", versionId: 1 }).callsFake(() => new Promise(() => undefined));
            const started = Date.now();
            const err = await provider.update!("fms-kr-vehicle", { ...inputs, deleted: [] }, { ...inputs, bodyHash: "h2" }).then(() => undefined, (e: Error) => e);
            assert.ok(Date.now() - started < 1_500, `ended after ${Date.now() - started} ms`);
            assert.match(String(err?.message), /DeleteProvisioningTemplateVersion failed .*TimeoutError.*Template fms-kr-vehicle: versions 2 deleted, versions 1 still there/);
        } finally {
            Object.assign(OPERATION_BUDGET, saved);
        }
    });

    it("pulumi import (the import option) is refused with this resource's reason", () => {
        assert.throws(() => new TemplateVersionPruner("p", inputs, { import: "fms-kr-vehicle" }), /TemplateVersionPruner: import is not supported; pulumi up creates it/);
    });
});
