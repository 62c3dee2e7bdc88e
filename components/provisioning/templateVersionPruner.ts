/**
 * Keeps a provisioning template within AWS IoT's limit of 5 versions. Every change of a template's
 * body adds a version and the `aws` provider never removes one, so the sixth change would fail in
 * the middle of a `pulumi up`. This dynamic resource changes with the body, and the template depends
 * on it: before the template gets its new version, the pruner deletes the oldest non-default
 * versions, keeping the default and `keepPrevious` others (rollback targets).
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { providerCodeChanged, refuseImport } from "../dynamicResource";
import { assertAllowedAccount, AwsTarget, errorName, explain, iotClient, OPERATION_BUDGET } from "../iotSdk";

/** AWS IoT keeps at most this many versions of a provisioning template. */
export const MAX_TEMPLATE_VERSIONS = 5;

export interface PrunerInputs extends AwsTarget {
    templateName: string;
    /** Hash of the template body: a new value means a new version is about to be created. */
    bodyHash: string;
    keepPrevious: number;
}

export interface PrunerOutputs extends PrunerInputs {
    /** Versions deleted by the last run. */
    deleted: number[];
    /** The template's versions as of the last refresh (`pulumi refresh` reads them). */
    versions?: number[];
}

const RESOURCE = "TemplateVersionPruner";

/** The template's versions, or undefined when the template does not exist. */
async function listVersions(inputs: PrunerInputs, deadline: number): Promise<{ versionId: number; isDefaultVersion: boolean }[] | undefined> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const iot = iotClient(inputs, "fms-template-pruner", { deadline });
    const versions: { versionId: number; isDefaultVersion: boolean }[] = [];
    let nextToken: string | undefined;
    try {
        do {
            const page = await iot.send(new sdk.ListProvisioningTemplateVersionsCommand({ templateName: inputs.templateName, nextToken }));
            for (const v of page.versions ?? []) versions.push({ versionId: v.versionId ?? 0, isDefaultVersion: v.isDefaultVersion === true });
            nextToken = page.nextToken;
        } while (nextToken);
    } catch (err) {
        if (errorName(err) === "ResourceNotFoundException") return undefined;
        throw explain(RESOURCE, "ListProvisioningTemplateVersions", inputs.region, err);
    }
    return versions;
}

/** Deletes the oldest non-default versions so that, after one more, there are at most `keepPrevious` + 2. */
async function prune(inputs: PrunerInputs): Promise<number[]> {
    // The whole operation is bounded (iotSdk OPERATION_BUDGET); what it deleted before a call hung is named.
    const deadline = Date.now() + OPERATION_BUDGET.totalMs;
    await assertAllowedAccount(inputs, RESOURCE, deadline);
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const iot = iotClient(inputs, "fms-template-pruner", { deadline });
    const versions = await listVersions(inputs, deadline);
    if (!versions) return []; // the template is about to be created
    const keep = Math.max(0, Math.min(inputs.keepPrevious, MAX_TEMPLATE_VERSIONS - 2));
    const obsolete = versions.filter((v) => !v.isDefaultVersion).sort((a, b) => b.versionId - a.versionId).slice(keep).map((v) => v.versionId);
    const done: number[] = [];
    for (const versionId of obsolete) {
        try {
            await iot.send(new sdk.DeleteProvisioningTemplateVersionCommand({ templateName: inputs.templateName, versionId }));
            done.push(versionId);
        } catch (err) {
            if (errorName(err) === "ResourceNotFoundException") continue;
            const e = explain(RESOURCE, "DeleteProvisioningTemplateVersion", inputs.region, err);
            const left = obsolete.filter((v) => !done.includes(v));
            throw new Error(`${e.message} Template ${inputs.templateName}: ${done.length ? `versions ${done.join(", ")} deleted, ` : ""}versions ${left.join(", ")} still there; the next pulumi up prunes them.`);
        }
    }
    return obsolete;
}

export const templateVersionPrunerProvider: dynamic.ResourceProvider<PrunerInputs, PrunerOutputs> = {
    async diff(_id, olds, news) {
        const replaces = olds.templateName !== news.templateName ? ["templateName"] : [];
        const changes = replaces.length > 0 || settingsChanged(olds, news) || providerCodeChanged(olds, news);
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async create(inputs) {
        return { id: inputs.templateName, outs: { ...inputs, deleted: await prune(inputs) } };
    },
    async update(_id, olds, news) {
        // Only the provider code changed: record it (the host stores the new `__provider`), call nothing.
        if (!settingsChanged(olds, news)) return { outs: { ...news, deleted: olds.deleted ?? [], ...(olds.versions ? { versions: olds.versions } : {}) } };
        return { outs: { ...news, deleted: await prune(news) } };
    },
    /**
     * `pulumi refresh`: the template's versions as AWS IoT has them (versions added by hand show up; the
     * next body change prunes them). A template deleted by hand drops the pruner from the state too, so
     * the next `up` creates both again. Without `read` the host hands back the old state unchanged
     * (@pulumi/pulumi v3.248.0 sdk/nodejs/cmd/dynamic-provider/index.ts:288-291, read).
     */
    async read(id, props) {
        if (!props) throw new Error(`${RESOURCE}: import is not supported; pulumi up creates it`);
        const deadline = Date.now() + OPERATION_BUDGET.totalMs;
        // Wrong credentials find no such template: refused before the answer could drop the pruner from state.
        await assertAllowedAccount(props, RESOURCE, deadline);
        const versions = await listVersions(props, deadline);
        if (!versions) return {};
        return { id, props: { ...props, versions: versions.map((v) => v.versionId).sort((a, b) => a - b) } };
    },
    async delete() {
        // Nothing to undo: deleting the template deletes its versions.
    },
};

/** What the pruner is configured with changed (not the record, nor the provider code). */
function settingsChanged(olds: PrunerInputs, news: PrunerInputs): boolean {
    return olds.bodyHash !== news.bodyHash || olds.keepPrevious !== news.keepPrevious || olds.region !== news.region
        || (olds.profile ?? "") !== (news.profile ?? "") || (olds.assumeRoleArn ?? "") !== (news.assumeRoleArn ?? "");
}

export function bodyHash(body: string): string {
    return crypto.createHash("sha256").update(body).digest("hex");
}

export class TemplateVersionPruner extends pulumi.dynamic.Resource {
    declare public readonly deleted: pulumi.Output<number[]>;

    constructor(name: string, args: { [K in keyof PrunerInputs]: pulumi.Input<PrunerInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
        refuseImport(RESOURCE, opts, "pulumi up creates it");
        super(templateVersionPrunerProvider, name, { ...args, deleted: undefined, versions: undefined }, opts, "iot", "TemplateVersionPruner");
    }
}
