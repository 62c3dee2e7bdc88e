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
import { assertAllowedAccount, AwsTarget, errorName, explain, iotClient } from "../iotSdk";

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
async function listVersions(inputs: PrunerInputs): Promise<{ versionId: number; isDefaultVersion: boolean }[] | undefined> {
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const iot = iotClient(inputs, "fms-template-pruner");
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
    await assertAllowedAccount(inputs, RESOURCE);
    const sdk: typeof import("@aws-sdk/client-iot") = require("@aws-sdk/client-iot");
    const iot = iotClient(inputs, "fms-template-pruner");
    const versions = await listVersions(inputs);
    if (!versions) return []; // the template is about to be created
    const keep = Math.max(0, Math.min(inputs.keepPrevious, MAX_TEMPLATE_VERSIONS - 2));
    const obsolete = versions.filter((v) => !v.isDefaultVersion).sort((a, b) => b.versionId - a.versionId).slice(keep).map((v) => v.versionId);
    for (const versionId of obsolete) {
        try {
            await iot.send(new sdk.DeleteProvisioningTemplateVersionCommand({ templateName: inputs.templateName, versionId }));
        } catch (err) {
            if (errorName(err) !== "ResourceNotFoundException") throw explain(RESOURCE, "DeleteProvisioningTemplateVersion", inputs.region, err);
        }
    }
    return obsolete;
}

export const templateVersionPrunerProvider: dynamic.ResourceProvider<PrunerInputs, PrunerOutputs> = {
    async diff(_id, olds, news) {
        const replaces = olds.templateName !== news.templateName ? ["templateName"] : [];
        const changes = replaces.length > 0 || olds.bodyHash !== news.bodyHash || olds.keepPrevious !== news.keepPrevious
            || (olds.profile ?? "") !== (news.profile ?? "") || (olds.assumeRoleArn ?? "") !== (news.assumeRoleArn ?? "") || olds.region !== news.region;
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async create(inputs) {
        return { id: inputs.templateName, outs: { ...inputs, deleted: await prune(inputs) } };
    },
    async update(_id, _olds, news) {
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
        const versions = await listVersions(props);
        if (!versions) return {};
        return { id, props: { ...props, versions: versions.map((v) => v.versionId).sort((a, b) => a - b) } };
    },
    async delete() {
        // Nothing to undo: deleting the template deletes its versions.
    },
};

export function bodyHash(body: string): string {
    return crypto.createHash("sha256").update(body).digest("hex");
}

export class TemplateVersionPruner extends pulumi.dynamic.Resource {
    declare public readonly deleted: pulumi.Output<number[]>;

    constructor(name: string, args: { [K in keyof PrunerInputs]: pulumi.Input<PrunerInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
        super(templateVersionPrunerProvider, name, { ...args, deleted: undefined, versions: undefined }, opts, "iot", "TemplateVersionPruner");
    }
}
